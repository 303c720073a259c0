package pdguard.escalation_policies.target_without_contact_test

import data.pdguard.escalation_policies.target_without_contact as policy
import data.pdguard.lib.testing

email := {
	"id": "PCM0001", "type": "email_contact_method", "summary": "Work",
	"label": "Work", "address": "ann@example.com",
}

users := [
	{"id": "PUSR001", "type": "user", "name": "Ann", "contact_methods": [email], "notification_rules": []},
	{"id": "PUSR002", "type": "user", "name": "Bob", "contact_methods": [], "notification_rules": []},
]

test_user_without_contact_denied if {
	inp := testing.snapshot({"users": users, "escalation_policies": [
		testing.escalation_policy("PEP0001", [[testing.user_ref("PUSR001"), testing.user_ref("PUSR002")]]),
		testing.escalation_policy("PEP0002", [[testing.user_ref("PUSR001")]]),
	]})
	d := policy.deny with input as inp
	testing.assert_ids(d, {"PEP0001"})
	testing.assert_finding(d, "PEP0001", {
		"msg": "escalation policy \"PEP0001\" targets user \"Bob\" who has no contact methods",
		"details": {"user": {"id": "PUSR002", "name": "Bob"}},
	})
}

test_same_user_on_two_levels_reported_once if {
	bob := testing.user_ref("PUSR002")
	inp := testing.snapshot({"users": users, "escalation_policies": [testing.escalation_policy("PEP0003", [[bob], [bob]])]})
	testing.assert_count(policy.deny, 1) with input as inp
}

test_unknown_users_and_schedules_pass if {
	inp := testing.snapshot({"users": users, "escalation_policies": [
		testing.escalation_policy("PEP0004", [[testing.user_ref("PGONE01")]]),
		testing.escalation_policy("PEP0005", [[testing.schedule_ref("PUSR002")]]),
		{"id": "PEP0006", "type": "escalation_policy", "name": "norules"},
	]})
	testing.assert_empty(policy.deny) with input as inp
}

test_users_not_collected_judges_nothing if {
	inp := testing.snapshot_without(
		{"escalation_policies": [testing.escalation_policy("PEP0001", [[testing.user_ref("PUSR002")]])]},
		["users"],
	)
	testing.assert_empty(policy.deny) with input as inp
}

# Observers and read-only users cannot be paged (behaviour notes): targeting one directly is a
# silent target too.
test_user_who_cannot_be_paged_denied if {
	inp := testing.snapshot({
		"users": [
			testing.user("PUSR003", {"name": "Olga", "role": "observer"}),
			testing.user("PUSR004", {"name": "Rudy", "role": "read_only_user", "contact_methods": []}),
			testing.user("PUSR005", {"name": "Lim", "role": "limited_user"}),
		],
		"escalation_policies": [
			testing.escalation_policy("PEP0007", [[testing.user_ref("PUSR003")]]),
			testing.escalation_policy("PEP0008", [[testing.user_ref("PUSR004")]]),
			testing.escalation_policy("PEP0009", [[testing.user_ref("PUSR005")]]),
		],
	})
	d := policy.deny with input as inp
	testing.assert_ids(d, {"PEP0007", "PEP0008"})
	testing.assert_finding(d, "PEP0007", {
		"msg": "escalation policy \"PEP0007\" targets user \"Olga\" who cannot be paged (role observer)",
		"details": {"user": {"id": "PUSR003", "name": "Olga"}},
	})
	testing.assert_count(d, 2)
}
