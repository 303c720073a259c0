package pdguard.users.oncall_notification_test

import data.pdguard.lib.testing
import data.pdguard.users.oncall_notification as policy

email := testing.contact_method("email", "PCM0001")

sms := testing.contact_method("sms", "PCM0002")

email_only(id) := testing.user(id, {"notification_rules": [testing.notification_rule("high", email), testing.notification_rule("low", sms)]})

# PUSR001 on PSCH001's rotation, PUSR002 targeted directly, PUSR003 on call now (an override
# /oncalls shows), PUSR004 in no rotation
account(users) := testing.snapshot({
	"users": users,
	"schedules": [testing.schedule("PSCH001", [testing.layer(["PUSR001"], null)])],
	"escalation_policies": [testing.escalation_policy("PEP0001", [[testing.schedule_ref("PSCH001")], [testing.user_ref("PUSR002")]])],
	"oncalls": [testing.oncall("PEP0001", 1, "PUSR003", "PSCH001"), testing.oncall("PEP0001", 2, "PUSR002", null)],
})

test_on_call_users_only_emailed_denied if {
	inp := account([email_only("PUSR001"), email_only("PUSR002"), email_only("PUSR003"), email_only("PUSR004")])
	d := policy.deny with input as inp
	testing.assert_ids(d, {"PUSR001", "PUSR002", "PUSR003"})
	testing.assert_finding(d, "PUSR001", {"msg": "user \"PUSR001\" is in an on-call rotation but is notified of high-urgency incidents only by email"})
	testing.assert_finding(d, "PUSR003", {"msg": "user \"PUSR003\" is on call right now but is notified of high-urgency incidents only by email"})
}

test_no_high_urgency_rule_denied if {
	inp := account([testing.user("PUSR002", {"notification_rules": [testing.notification_rule("low", sms)]})])
	testing.assert_finding(policy.deny, "PUSR002", {"msg": "user \"PUSR002\" is on call right now but has no high-urgency notification rule"}) with input as inp
}

test_phone_sms_or_push_pass if {
	push := testing.contact_method("push_notification", "PCM0003")
	inp := account([
		testing.user("PUSR001", {}),
		testing.user("PUSR002", {"notification_rules": [testing.notification_rule("high", sms)]}),
		testing.user("PUSR003", {"notification_rules": [testing.notification_rule("high", email), testing.notification_rule("high", push)]}),
	])
	testing.assert_empty(policy.deny) with input as inp
}

# One root cause, one finding: a pending invitation is PDG-USR-003's, a directly targeted user
# without contact methods PDG-EP-003's; observers cannot be paged at all.
test_left_to_their_owners if {
	inp := account([
		object.union(email_only("PUSR001"), {"invitation_sent": true}),
		testing.user("PUSR002", {"contact_methods": [], "notification_rules": []}),
		object.union(email_only("PUSR003"), {"role": "observer"}),
	])
	testing.assert_empty(policy.deny) with input as inp
}
