package pdguard.teams.ownerless_test

import data.pdguard.lib.testing
import data.pdguard.teams.ownerless as policy

team := [testing.team_ref("PTM0001")]

eps := [
	object.union(testing.escalation_policy("PEP0001", [[testing.schedule_ref("PSCH001")]]), {"teams": team}),
	testing.escalation_policy("PEP0002", [[testing.schedule_ref("PSCH002")]]),
	testing.escalation_policy("PEP0003", [[testing.user_ref("PUSR001")]]), # used by no service
	testing.escalation_policy("PEP0004", [[testing.user_ref("PUSR001")]]), # one service: PDG-SVC-003 reports it
]

schedules := [
	object.union(testing.schedule("PSCH001", []), {"teams": team}),
	testing.schedule("PSCH002", []),
	testing.schedule("PSCH003", []), # targeted by no escalation policy
]

services := [
	testing.service("PSVC001", {"name": "api", "escalation_policy": testing.escalation_policy_ref("PEP0001"), "teams": team}),
	testing.service("PSVC002", {"name": "web", "escalation_policy": testing.escalation_policy_ref("PEP0002"), "teams": []}),
	testing.service("PSVC003", {"name": "db", "escalation_policy": testing.escalation_policy_ref("PEP0002"), "teams": []}),
	testing.service("PSVC004", {"name": "cache", "escalation_policy": testing.escalation_policy_ref("PEP0004"), "teams": []}),
]

test_ownerless_policy_and_schedule_denied_once if {
	inp := testing.snapshot({"escalation_policies": eps, "schedules": schedules, "services": services})
	d := policy.deny with input as inp
	testing.assert_ids(d, {"PEP0002", "PSCH002"})
	testing.assert_finding(d, "PEP0002", {
		"msg": "escalation policy \"PEP0002\" belongs to no team, so neither do the 2 service(s) using it: db, web",
		"resource": {"type": "escalation_policy", "id": "PEP0002", "name": "PEP0002"},
	})
	testing.assert_finding(d, "PSCH002", {"msg": "schedule \"PSCH002\" belongs to no team", "resource": {"type": "schedule", "id": "PSCH002", "name": "PSCH002"}})
}

# Unused objects are reported as unused (PDG-EP-006, PDG-SCH-003), not for their team; when
# services or escalation policies were not collected, use is unknown and the team is judged.
test_unknown_use_judges_the_team if {
	inp := testing.snapshot_without({"escalation_policies": eps, "schedules": schedules}, ["services"])
	d := policy.deny with input as inp
	testing.assert_ids(d, {"PEP0002", "PEP0003", "PEP0004", "PSCH002"})
	testing.assert_finding(d, "PEP0003", {"msg": "escalation policy \"PEP0003\" belongs to no team"})
	no_eps := testing.snapshot_without({"schedules": schedules}, ["escalation_policies"])
	testing.assert_ids(policy.deny, {"PSCH002", "PSCH003"}) with input as no_eps
}

test_owned_pass if {
	inp := testing.snapshot({"escalation_policies": [eps[0]], "schedules": [schedules[0]], "services": [services[0]]})
	testing.assert_empty(policy.deny) with input as inp
}
