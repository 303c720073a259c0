package pdguard.escalation_policies.level_coverage_test

import data.pdguard.escalation_policies.level_coverage as policy
import data.pdguard.lib.testing

cfg := {"min_schedule_coverage_percent": 100}

# 7 days from 2026-11-26T09:00Z: Europe 06:00-18:00, Americas 18:00-06:00 (together: the whole
# day), a night shift 20:00-04:00 that leaves 04:00-06:00 open next to Europe, a flexible
# schedule 08:00-20:00.
schedules := [
	testing.daily_schedule("PSCHEUR", ["PUSR001", "PUSR002"], 6, 12),
	testing.daily_schedule("PSCHAME", ["PUSR003", "PUSR004"], 18, 12),
	testing.daily_schedule("PSCHNGT", ["PUSR005", "PUSR006"], 20, 8),
]

flexible := [testing.flexible_daily("PFLX001", ["PUSR007", "PUSR008"], 8, 12)]

sched(id) := testing.schedule_ref(id)

account(eps) := testing.snapshot({
	"schedules": schedules, "flexible_schedules": flexible, "escalation_policies": eps,
	"services": [testing.service("PSVC001", {"escalation_policy": testing.escalation_policy_ref("PEP0001")})],
})

ep(levels) := testing.escalation_policy("PEP0001", levels)

test_a_gap_the_level_s_targets_leave_together_denied if {
	d := policy.deny with input as account([ep([[sched("PSCHEUR"), sched("PSCHAME")], [sched("PSCHEUR"), sched("PSCHNGT")]])])
		with data.pdguard.config as cfg
	testing.assert_ids(d, {"PEP0001"})
	testing.assert_finding(d, "PEP0001", {
		"msg": "level 2 of escalation policy \"PEP0001\" has nobody on call for 28h: 2026-11-26 18:00 - 2026-11-26 20:00 UTC, 2026-11-27 04:00 - 2026-11-27 06:00 UTC (+12 more) over the next 7 days (83.3% covered, minimum 100%)",
		"details": {"level": 2, "min_coverage_percent": 100},
	})
}

# issue 10 #3: follow the sun (two restricted schedules covering the day together), a user
# target (always on call), a flexible schedule's shifts with a schedule covering the rest
test_covered_levels_pass if {
	inp := account([ep([
		[sched("PSCHEUR"), sched("PSCHAME")],
		[sched("PSCHNGT"), testing.user_ref("PUSR009")],
		[testing.flexible_schedule_ref("PFLX001"), sched("PSCHNGT")],
	])])
	d := policy.deny with input as inp with data.pdguard.config as cfg
	testing.assert_ids(d, {"PEP0001"})
	testing.assert_finding(d, "PEP0001", {"details": {"level": 3, "min_coverage_percent": 100}})
	covered := account([ep([[sched("PSCHEUR"), sched("PSCHAME")], [sched("PSCHNGT"), testing.user_ref("PUSR009")]])])
	testing.assert_empty(policy.deny) with input as covered with data.pdguard.config as cfg
}

# Left to their owners: a schedule alone on its level (PDG-SCH-002), an empty level (PDG-EP-002),
# the first level with nobody on call now (PDG-EP-007), an unused policy (PDG-EP-006); a target
# without a rendering makes the level unknown.
test_left_to_others_or_unknown if {
	alone := account([ep([[sched("PSCHEUR")], []])])
	testing.assert_empty(policy.deny) with input as alone with data.pdguard.config as cfg
	silent_now := object.union(account([ep([[sched("PSCHEUR"), sched("PSCHNGT")]])]), {"oncalls": []})
	testing.assert_empty(policy.deny) with input as silent_now with data.pdguard.config as cfg
	unused := testing.snapshot({"schedules": schedules, "escalation_policies": [ep([[sched("PSCHEUR"), sched("PSCHNGT")]])]})
	testing.assert_empty(policy.deny) with input as unused with data.pdguard.config as cfg
	unknown := account([ep([[sched("PSCHEUR"), sched("PGONE01")]])])
	testing.assert_empty(policy.deny) with input as unknown with data.pdguard.config as cfg
}

# schema 2.1: the same level judged from /oncalls over the window
test_judged_the_same_from_oncalls_over_the_window if {
	inp := testing.oncall_form(account([ep([[sched("PSCHEUR"), sched("PSCHAME")], [sched("PSCHEUR"), sched("PSCHNGT")]])]))
	d := policy.deny with input as inp with data.pdguard.config as cfg
	testing.assert_ids(d, {"PEP0001"})
	testing.assert_finding(d, "PEP0001", {"msg": "level 2 of escalation policy \"PEP0001\" has nobody on call for 28h: 2026-11-26 18:00 - 2026-11-26 20:00 UTC, 2026-11-27 04:00 - 2026-11-27 06:00 UTC (+12 more) over the next 7 days (83.3% covered, minimum 100%)"})
}
