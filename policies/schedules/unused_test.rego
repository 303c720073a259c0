package pdguard.schedules.unused_test

import data.pdguard.lib.testing
import data.pdguard.schedules.unused as policy

eps := [
	testing.escalation_policy("PEP0001", [[testing.schedule_ref("PSCH001")], [testing.user_ref("PUSR001")]]),
	testing.escalation_policy("PEP0002", [[testing.user_ref("PUSR002")], [testing.schedule_ref("PSCH002")]]),
	{"id": "PEP0003", "type": "escalation_policy", "name": "bare"},
]

schedules := [testing.schedule("PSCH001", []), testing.schedule("PSCH002", []), testing.schedule("PSCH003", [])]

test_unused_denied if {
	inp := testing.snapshot({"escalation_policies": eps, "schedules": schedules})
	d := policy.deny with input as inp
	testing.assert_ids(d, {"PSCH003"})
	testing.assert_finding(d, "PSCH003", {
		"msg": "schedule \"PSCH003\" is not targeted by any escalation policy",
		"resource": {"type": "schedule", "id": "PSCH003", "name": "PSCH003"},
	})
}

test_no_escalation_policies_at_all if {
	inp := testing.snapshot({"schedules": schedules})
	testing.assert_ids(policy.deny, {"PSCH001", "PSCH002", "PSCH003"}) with input as inp
}

test_escalation_policies_not_collected_judges_nothing if {
	inp := testing.snapshot_without({"schedules": schedules}, ["escalation_policies"])
	testing.assert_empty(policy.deny) with input as inp
}
