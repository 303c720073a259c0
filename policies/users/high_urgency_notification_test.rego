package pdguard.users.high_urgency_notification_test

import data.pdguard.users.high_urgency_notification as policy

rule(urgency) := {"id": "PNR", "type": "assignment_notification_rule", "urgency": urgency, "start_delay_in_minutes": 0}

test_missing_high_rule_denied if {
	inp := {"users": [
		{"id": "PUSER01", "name": "Ann", "notification_rules": [rule("low")]},
		{"id": "PUSER02", "name": "Bob", "notification_rules": [rule("low"), rule("high")]},
	]}
	d := policy.deny with input as inp with data.pdguard.config as {}
	count(d) == 1
	some f in d
	f.resource == {"type": "user", "id": "PUSER01", "name": "Ann"}
}

test_high_rule_passes if {
	inp := {"users": [{"id": "PUSER02", "name": "Bob", "notification_rules": [rule("high")]}]}
	d := policy.deny with input as inp with data.pdguard.config as {}
	count(d) == 0
}

test_missing_or_empty_rules_denied if {
	inp := {"users": [{"id": "PUSER03", "name": "Cid"}, {"id": "PUSER04", "name": "Dee", "notification_rules": []}, {"id": "PUSER05", "notification_rules": [{"id": "X"}]}]}
	d := policy.deny with input as inp with data.pdguard.config as {}
	count(d) == 3
}
