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

email := testing.contact_method("email", "PCM0002")

phone := testing.contact_method("phone", "PCM0003")

# issue 10 #6: observers and read-only users cannot be paged; email does not wake anyone up.
test_only_pageable_users_and_email_is_not_enough if {
	inp := testing.snapshot({"users": [
		testing.user("PUSR001", {"role": "observer", "notification_rules": []}),
		testing.user("PUSR002", {"role": "read_only_user", "notification_rules": []}),
		testing.user("PUSR003", {"role": "read_only_limited_user", "notification_rules": []}),
		testing.user("PUSR004", {"notification_rules": [testing.notification_rule("high", email)]}),
		testing.user("PUSR005", {"notification_rules": [testing.notification_rule("high", email), testing.notification_rule("high", phone)]}),
	]})
	d := policy.deny with input as inp
	testing.assert_ids(d, {"PUSR004"})
	testing.assert_finding(d, "PUSR004", {"msg": "user \"PUSR004\" is notified of high-urgency incidents only by email: no rule reaches a phone (call, SMS or push)"})
}

# On-call users are PDG-USR-002's, users an escalation policy targets without any contact
# method PDG-EP-003's: one finding each.
test_responders_are_left_to_their_policies if {
	quiet := testing.user("PUSR001", {"contact_methods": [], "notification_rules": []})
	email_only := testing.user("PUSR002", {"notification_rules": [testing.notification_rule("high", email)]})
	inp := testing.snapshot({
		"users": [quiet, email_only, object.union(email_only, {"id": "PUSR003", "name": "PUSR003"})],
		"escalation_policies": [testing.escalation_policy("PEP0001", [[testing.user_ref("PUSR001")]])],
		"oncalls": [testing.oncall("PEP0009", 1, "PUSR002", "PSCH009")],
	})
	testing.assert_ids(policy.deny, {"PUSR003"}) with input as inp
}
