package pdguard.schedules.unused_test

import data.pdguard.schedules.unused as policy

eps := [
	{"id": "PEP0001", "escalation_rules": [
		{"id": "R1", "targets": [{"id": "PSCH001", "type": "schedule_reference"}]},
		{"id": "R2", "targets": [{"id": "PSCH003", "type": "user_reference"}]},
	]},
	{"id": "PEP0002", "escalation_rules": [{"id": "R1", "targets": [{"id": "PSCH002", "type": "schedule"}]}]},
	{"id": "PEP0003"},
]

test_unused_denied if {
	inp := {"escalation_policies": eps, "schedules": [
		{"id": "PSCH001", "name": "used"},
		{"id": "PSCH003", "name": "orphan"},
	]}
	d := policy.deny with input as inp with data.pdguard.config as {}
	count(d) == 1
	some f in d
	f.resource == {"type": "schedule", "id": "PSCH003", "name": "orphan"}
}

test_used_pass if {
	inp := {"escalation_policies": eps, "schedules": [{"id": "PSCH001", "name": "a"}, {"id": "PSCH002", "name": "b"}]}
	d := policy.deny with input as inp with data.pdguard.config as {}
	count(d) == 0
}

test_no_escalation_policies if {
	inp := {"schedules": [{"id": "PSCH001", "name": "a"}, {"id": "PSCH002"}]}
	d := policy.deny with input as inp with data.pdguard.config as {}
	count(d) == 2
}
