package pdguard.escalation_policies.target_without_contact_test

import data.pdguard.escalation_policies.target_without_contact as policy

users := [
	{"id": "PUSER01", "name": "Ann", "contact_methods": [{"id": "PC1", "type": "email_contact_method"}]},
	{"id": "PUSER02", "name": "Bob", "contact_methods": []},
	{"id": "PUSER03", "name": "Cid"},
]

ep(id, targets) := {"id": id, "name": id, "escalation_rules": [{"id": "R1", "targets": targets}]}

test_user_without_contact_denied if {
	inp := {"users": users, "escalation_policies": [
		ep("PEP0001", [{"id": "PUSER01", "type": "user_reference"}, {"id": "PUSER02", "type": "user_reference"}]),
		ep("PEP0002", [{"id": "PUSER01", "type": "user"}]),
	]}
	d := policy.deny with input as inp with data.pdguard.config as {}
	count(d) == 1
	some f in d
	f.resource == {"type": "escalation_policy", "id": "PEP0001", "name": "PEP0001"}
	f.details == {"user": {"id": "PUSER02", "name": "Bob"}}
}

test_missing_contact_methods_field_denied_once_per_user if {
	inp := {"users": users, "escalation_policies": [{"id": "PEP0003", "name": "x", "escalation_rules": [
		{"id": "R1", "targets": [{"id": "PUSER03", "type": "user_reference"}]},
		{"id": "R2", "targets": [{"id": "PUSER03", "type": "user_reference"}]},
	]}]}
	d := policy.deny with input as inp with data.pdguard.config as {}
	count(d) == 1
}

test_contactable_unknown_and_schedules_pass if {
	inp := {"users": users, "escalation_policies": [
		ep("PEP0002", [{"id": "PUSER01", "type": "user"}]),
		ep("PEP0004", [{"id": "PUNKNOWN", "type": "user_reference"}]),
		ep("PEP0005", [{"id": "PUSER02", "type": "schedule_reference"}]),
		{"id": "PEP0006", "name": "norules"},
	]}
	d := policy.deny with input as inp with data.pdguard.config as {}
	count(d) == 0
}
