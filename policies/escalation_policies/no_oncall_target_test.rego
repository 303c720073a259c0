package pdguard.escalation_policies.no_oncall_target_test

import data.pdguard.escalation_policies.no_oncall_target as policy

user_rule := {"id": "R1", "targets": [{"id": "PUSER01", "type": "user_reference"}]}

sched_rule := {"id": "R2", "targets": [{"id": "PSCH001", "type": "schedule_reference"}]}

empty_rule := {"id": "R3", "targets": []}

test_empty_level_denied if {
	inp := {"escalation_policies": [
		{"id": "PEP0001", "name": "gap", "escalation_rules": [user_rule, empty_rule, {"id": "R4"}]},
		{"id": "PEP0002", "name": "ok", "escalation_rules": [user_rule, sched_rule]},
	]}
	d := policy.deny with input as inp with data.pdguard.config as {}
	count(d) == 1
	some f in d
	f.resource == {"type": "escalation_policy", "id": "PEP0001", "name": "gap"}
	f.details == {"levels": [2, 3]}
}

test_no_rules_denied if {
	inp := {"escalation_policies": [{"id": "PEP0003", "name": "none", "escalation_rules": []}, {"id": "PEP0004", "name": "missing"}]}
	d := policy.deny with input as inp with data.pdguard.config as {}
	count(d) == 2
	{f.resource.id | some f in d} == {"PEP0003", "PEP0004"}
}

test_expanded_targets_pass if {
	inp := {"escalation_policies": [{"id": "PEP0002", "name": "ok", "escalation_rules": [
		{"id": "R1", "targets": [{"id": "PUSER01", "type": "user", "name": "Ann"}]},
		{"id": "R2", "targets": [{"id": "PSCH001", "type": "schedule", "name": "Primary"}]},
	]}]}
	d := policy.deny with input as inp with data.pdguard.config as {}
	count(d) == 0
}

test_unknown_target_type_denied if {
	inp := {"escalation_policies": [{"id": "PEP0005", "name": "odd", "escalation_rules": [{"id": "R1", "targets": [{"id": "X", "type": "webhook"}]}]}]}
	count(policy.deny) == 1 with input as inp with data.pdguard.config as {}
}

test_message_lists_levels if {
	inp := {"escalation_policies": [{"id": "PEP0001", "name": "gap", "escalation_rules": [empty_rule, user_rule, empty_rule]}]}
	d := policy.deny with input as inp with data.pdguard.config as {}
	count(d) == 1
	some f in d
	f.msg == "escalation policy \"gap\" has escalation levels with no user or schedule target: level 1, 3"
}
