package pdguard.users.high_urgency_notification_test

import data.pdguard.lib.testing
import data.pdguard.users.high_urgency_notification as policy

rule(urgency) := {
	"id": "PNR0001", "type": "assignment_notification_rule", "urgency": urgency, "start_delay_in_minutes": 0,
	"contact_method": {"id": "PCM0001", "type": "phone_contact_method_reference", "summary": "Mobile"},
}

user(id, rules) := {"id": id, "type": "user", "name": id, "role": "user", "contact_methods": [], "notification_rules": rules}

test_missing_high_rule_denied if {
	inp := testing.snapshot({"users": [user("PUSR001", [rule("low")]), user("PUSR002", [rule("low"), rule("high")])]})
	d := policy.deny with input as inp
	testing.assert_ids(d, {"PUSR001"})
	testing.assert_finding(d, "PUSR001", {
		"msg": "user \"PUSR001\" has no high-urgency notification rule",
		"resource": {"type": "user", "id": "PUSR001", "name": "PUSR001"},
	})
}

test_missing_or_empty_rules_denied if {
	inp := testing.snapshot({"users": [
		{"id": "PUSR003", "type": "user", "name": "Cid"},
		user("PUSR004", []),
		user("PUSR005", [{"id": "X", "type": "assignment_notification_rule"}]),
	]})
	testing.assert_ids(policy.deny, {"PUSR003", "PUSR004", "PUSR005"}) with input as inp
}
