package pdguard.escalation_policies.single_level_test

import data.pdguard.escalation_policies.single_level as policy

rule(id) := {"id": id, "escalation_delay_in_minutes": 30, "targets": [{"id": "PUSER01", "type": "user_reference"}]}

test_single_level_denied if {
	inp := {"escalation_policies": [
		{"id": "PEP0001", "name": "one", "escalation_rules": [rule("R1")]},
		{"id": "PEP0002", "name": "two", "escalation_rules": [rule("R1"), rule("R2")]},
	]}
	d := policy.deny with input as inp with data.pdguard.config as {"min_escalation_levels": 2}
	count(d) == 1
	some f in d
	f.resource == {"type": "escalation_policy", "id": "PEP0001", "name": "one"}
	f.details == {"levels": 1, "min_levels": 2}
	contains(f.msg, "single escalation level")
}

test_enough_levels_pass if {
	inp := {"escalation_policies": [{"id": "PEP0002", "name": "two", "escalation_rules": [rule("R1"), rule("R2")]}]}
	d := policy.deny with input as inp with data.pdguard.config as {"min_escalation_levels": 2}
	count(d) == 0
}

test_min_is_configurable if {
	inp := {"escalation_policies": [{"id": "PEP0002", "name": "two", "escalation_rules": [rule("R1"), rule("R2")]}]}
	d := policy.deny with input as inp with data.pdguard.config as {"min_escalation_levels": 3}
	count(d) == 1
	some f in d
	f.msg == "escalation policy \"two\" has 2 escalation levels, fewer than 3"
}

test_no_rules_denied if {
	inp := {"escalation_policies": [{"id": "PEP0003", "name": "empty"}, {"id": "PEP0004", "name": "empty2", "escalation_rules": []}]}
	d := policy.deny with input as inp with data.pdguard.config as {"min_escalation_levels": 2}
	count(d) == 2
	every f in d { f.details.levels == 0 }
}
