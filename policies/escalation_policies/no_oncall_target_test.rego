package pdguard.escalation_policies.no_oncall_target_test

import data.pdguard.escalation_policies.no_oncall_target as policy
import data.pdguard.lib.testing

user := [testing.user_ref("PUSR001")]

schedule := [testing.schedule_ref("PSCH001")]

flexible := [testing.flexible_schedule_ref("PFLX001")]

test_empty_level_denied if {
	gap := testing.escalation_policy("PEP0001", [user, [], flexible, []])
	ok := testing.escalation_policy("PEP0002", [user, schedule, flexible])
	inp := testing.snapshot({"escalation_policies": [gap, ok]})
	d := policy.deny with input as inp
	testing.assert_ids(d, {"PEP0001"})
	testing.assert_finding(d, "PEP0001", {
		"msg": "escalation policy \"PEP0001\" has escalation levels with no user or schedule target: level 2, 4",
		"details": {"levels": [2, 4]},
	})
}

test_no_rules_denied if {
	inp := testing.snapshot({"escalation_policies": [
		testing.escalation_policy("PEP0003", []),
		{"id": "PEP0004", "type": "escalation_policy", "name": "missing"},
	]})
	d := policy.deny with input as inp
	testing.assert_ids(d, {"PEP0003", "PEP0004"})
	testing.assert_finding(d, "PEP0003", {
		"msg": "escalation policy \"PEP0003\" has no escalation rules: it pages nobody",
		"details": {"levels": []},
	})
}

test_every_kind_of_target_pages if {
	inp := testing.snapshot({"escalation_policies": [testing.escalation_policy("PEP0002", [user, schedule, flexible])]})
	testing.assert_empty(policy.deny) with input as inp
}

test_other_target_type_pages_nobody if {
	odd := testing.escalation_policy("PEP0005", [[testing.team_ref("PTM0001")]])
	inp := testing.snapshot({"escalation_policies": [odd]})
	testing.assert_ids(policy.deny, {"PEP0005"}) with input as inp
}
