package pdguard.schedules.coverage_gap_test

import data.pdguard.lib.testing
import data.pdguard.schedules.coverage_gap as policy

cfg := {"min_schedule_coverage_percent": 100}

# Rendered over the fixtures' window (7 days from 2026-11-26T09:00Z): round the clock; 08:00-23:00
# UTC (62.5%); the two halves of a follow-the-sun pair (Europe 06:00-18:00, Americas 18:00-06:00).
schedules := [
	testing.daily_schedule("PSCH001", ["PUSR001", "PUSR002"], 0, 24),
	testing.daily_schedule("PSCH002", ["PUSR001", "PUSR002"], 8, 15),
	testing.daily_schedule("PSCHEUR", ["PUSR003", "PUSR004"], 6, 12),
	testing.daily_schedule("PSCHAME", ["PUSR005", "PUSR006"], 18, 12),
]

sched(id) := testing.schedule_ref(id)

account(levels) := testing.snapshot({
	"schedules": schedules,
	"escalation_policies": [testing.escalation_policy("PEP0001", levels)],
	"services": [testing.service("PSVC001", {})],
})

test_a_gap_in_a_level_the_schedule_serves_alone_denied if {
	d := policy.deny with input as account([[sched("PSCH001")], [sched("PSCH002")]]) with data.pdguard.config as cfg
	testing.assert_ids(d, {"PSCH002"})
	testing.assert_finding(d, "PSCH002", {
		"msg": "schedule \"PSCH002\", alone on its escalation level, has nobody on call for 63h: 2026-11-26 23:00 - 2026-11-27 08:00 UTC, 2026-11-27 23:00 - 2026-11-28 08:00 UTC (+5 more) over the next 7 days (62.5% covered, minimum 100%)",
		"resource": {"type": "schedule", "id": "PSCH002", "name": "PSCH002"},
		"details": {"min_coverage_percent": 100},
	})
}

# issue 10 #3: PagerDuty's own follow-the-sun pattern - two restricted schedules on one level
# that cover the day together - is no gap (the old policy reported each schedule, high).
test_follow_the_sun_pair_passes if {
	inp := account([[sched("PSCHEUR"), sched("PSCHAME")]])
	testing.assert_empty(policy.deny) with input as inp with data.pdguard.config as cfg
}

# a user target beside the schedule covers its gaps; the gaps of several targets together are
# the level's (PDG-EP-008)
test_shared_levels_are_not_the_schedule_s if {
	inp := account([[sched("PSCH002"), testing.user_ref("PUSR009")], [sched("PSCH002"), sched("PSCHEUR")]])
	testing.assert_empty(policy.deny) with input as inp with data.pdguard.config as cfg
}

# once per schedule, whatever the levels it serves alone
test_reported_once if {
	inp := account([[sched("PSCH001")], [sched("PSCH002")], [sched("PSCH002")]])
	testing.assert_count(policy.deny, 1) with input as inp with data.pdguard.config as cfg
}

test_threshold_is_configurable if {
	inp := account([[sched("PSCH001")], [sched("PSCH002")]])
	testing.assert_empty(policy.deny) with input as inp with data.pdguard.config as {"min_schedule_coverage_percent": 60}
	testing.assert_ids(policy.deny, {"PSCH002"}) with input as inp with data.pdguard.config as {"min_schedule_coverage_percent": 62.6}
}

# Not judged: a schedule without a rendering (unknown), one no escalation policy targets
# (PDG-SCH-003), one only an unused escalation policy targets (PDG-EP-006), the first level
# with nobody on call right now (PDG-EP-007), escalation policies not collected.
test_left_to_others_or_unknown if {
	unrendered := testing.snapshot({
		"schedules": [testing.schedule("PSCH003", [testing.layer(["PUSR001"], null)])],
		"escalation_policies": [testing.escalation_policy("PEP0001", [[sched("PSCH003")]])],
		"services": [testing.service("PSVC001", {})],
	})
	testing.assert_empty(policy.deny) with input as unrendered with data.pdguard.config as cfg
	unpaged := testing.snapshot({"schedules": schedules, "services": [testing.service("PSVC001", {})]})
	testing.assert_empty(policy.deny) with input as unpaged with data.pdguard.config as cfg
	unused := testing.snapshot({"schedules": schedules, "escalation_policies": [testing.escalation_policy("PEP0001", [[sched("PSCH002")]])]})
	testing.assert_empty(policy.deny) with input as unused with data.pdguard.config as cfg
	silent_now := object.union(account([[sched("PSCH002")]]), {"oncalls": []})
	testing.assert_empty(policy.deny) with input as silent_now with data.pdguard.config as cfg
	no_eps := testing.snapshot_without({"schedules": schedules}, ["escalation_policies"])
	testing.assert_empty(policy.deny) with input as no_eps with data.pdguard.config as cfg
}

# schema 2.1: a schedule's shifts are what GET /oncalls lists for it over the window - the same
# findings as from its rendering
test_judged_the_same_from_oncalls_over_the_window if {
	gap := testing.oncall_form(account([[sched("PSCH001")], [sched("PSCH002")]]))
	d := policy.deny with input as gap with data.pdguard.config as cfg
	testing.assert_ids(d, {"PSCH002"})
	testing.assert_finding(d, "PSCH002", {"msg": "schedule \"PSCH002\", alone on its escalation level, has nobody on call for 63h: 2026-11-26 23:00 - 2026-11-27 08:00 UTC, 2026-11-27 23:00 - 2026-11-28 08:00 UTC (+5 more) over the next 7 days (62.5% covered, minimum 100%)"})
	sun := testing.oncall_form(account([[sched("PSCHEUR"), sched("PSCHAME")]]))
	testing.assert_empty(policy.deny) with input as sun with data.pdguard.config as cfg
}

# a schedule /oncalls lists no shift for pages nobody over the whole window; on-calls not read
# in full (past the offset cap) or not collected leave its coverage unknown
test_oncalls_over_the_window_decide_what_is_known if {
	inp := testing.oncall_form(account([[sched("PSCH001")], [sched("PSCH001")], [sched("PSCH002")]]))
	no_shift := object.union(inp, {"oncalls": [o | some o in inp.oncalls; o.schedule.id != "PSCH002"]})
	d := policy.deny with input as no_shift with data.pdguard.config as cfg
	testing.assert_finding(d, "PSCH002", {"msg": "schedule \"PSCH002\", alone on its escalation level, has nobody on call for 168h: 2026-11-26 09:00 - 2026-12-03 09:00 UTC over the next 7 days (0% covered, minimum 100%)"})
	incomplete := object.union(no_shift, {"meta": {"collections_status": {"oncalls": {"status": "incomplete"}}}})
	testing.assert_empty(policy.deny) with input as incomplete with data.pdguard.config as cfg
	not_collected := object.union(no_shift, {"meta": {"collections": [c | some c in testing.collections; c != "oncalls"]}})
	testing.assert_empty(policy.deny) with input as not_collected with data.pdguard.config as cfg
}

# check --tfplan: /oncalls lists the shifts of the schedules escalation policies targeted at the
# scan. A schedule the plan creates, or one on no policy at the scan that the plan puts alone on
# a level, has no shift there: its coverage is unknown, not 0% (a 2.0 snapshot had no render of
# the first and a render of the second).
test_a_schedule_no_policy_targeted_at_the_scan_is_unknown_from_oncalls if {
	live := testing.oncall_form(account([[sched("PSCH001")]]))
	new := object.remove(testing.daily_schedule("tf:pagerduty_schedule.new", ["PUSR001"], 0, 24), ["final_schedule"])
	before := live.escalation_policies[0]
	after := testing.escalation_policy("PEP0001", [[sched("PSCH001")], [sched("PSCH002")], [sched(new.id)]])
	changes := [testing.change("update", "escalation_policy", before, after), testing.change("create", "schedule", null, new)]
	inp := object.union(live, {
		"escalation_policies": [after],
		"schedules": array.concat(live.schedules, [new]),
		"plan": {"source": "plan.json", "format_version": "1.2", "terraform_version": "1.9.5", "complete": true, "changes": changes},
	})
	testing.assert_empty(policy.deny) with input as inp with data.pdguard.config as cfg

	# a schedule a policy targeted at the scan is judged from its shifts, whatever the plan adds
	live2 := testing.oncall_form(account([[sched("PSCH001")], [sched("PSCH002")]]))
	after2 := testing.escalation_policy("PEP0001", [[sched("PSCH001")], [sched("PSCH002")], [sched("PSCH002")]])
	changes2 := [testing.change("update", "escalation_policy", live2.escalation_policies[0], after2)]
	inp2 := object.union(live2, {
		"escalation_policies": [after2],
		"plan": {"source": "plan.json", "format_version": "1.2", "terraform_version": "1.9.5", "complete": true, "changes": changes2},
	})
	testing.assert_ids(policy.deny, {"PSCH002"}) with input as inp2 with data.pdguard.config as cfg
}
