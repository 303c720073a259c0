package pdguard.escalation_policies.single_level_test

import data.pdguard.escalation_policies.single_level as policy
import data.pdguard.lib.testing

level := [testing.user_ref("PUSR001")]

cfg := {"min_escalation_levels": 2}

test_single_level_denied if {
	inp := testing.snapshot({"escalation_policies": [
		testing.escalation_policy("PEP0001", [level]),
		testing.escalation_policy("PEP0002", [level, level]),
	]})
	d := policy.deny with input as inp with data.pdguard.config as cfg
	testing.assert_ids(d, {"PEP0001"})
	testing.assert_finding(d, "PEP0001", {
		"msg": "escalation policy \"PEP0001\" has a single escalation level: a missed page is never escalated",
		"resource": {"type": "escalation_policy", "id": "PEP0001", "name": "PEP0001"},
		"details": {"levels": 1, "min_levels": 2},
	})
}

test_enough_levels_pass if {
	inp := testing.snapshot({"escalation_policies": [testing.escalation_policy("PEP0002", [level, level])]})
	testing.assert_empty(policy.deny) with input as inp with data.pdguard.config as cfg
}

test_min_is_configurable if {
	inp := testing.snapshot({"escalation_policies": [testing.escalation_policy("PEP0002", [level, level])]})
	d := policy.deny with input as inp with data.pdguard.config as {"min_escalation_levels": 3}
	testing.assert_finding(d, "PEP0002", {"msg": "escalation policy \"PEP0002\" has 2 escalation levels, fewer than 3"})
}

test_no_rules_denied if {
	inp := testing.snapshot({"escalation_policies": [
		{"id": "PEP0003", "type": "escalation_policy", "name": "empty"},
		testing.escalation_policy("PEP0004", []),
	]})
	d := policy.deny with input as inp with data.pdguard.config as cfg
	testing.assert_ids(d, {"PEP0003", "PEP0004"})
	testing.assert_finding(d, "PEP0003", {"details": {"levels": 0, "min_levels": 2}})
}
