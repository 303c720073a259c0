package pdguard.escalation_policies.single_user_test

import data.pdguard.escalation_policies.single_user as policy
import data.pdguard.lib.testing

schedules := [
	testing.schedule("PSOLO01", [testing.layer(["PUSR001"], null), testing.layer(["PUSR001"], null)]),
	testing.schedule("PTEAM01", [testing.layer(["PUSR001", "PUSR002"], null)]),
	testing.schedule("PEMPTY1", []),
	# Bob left the rotation: his layer ended before the scan
	testing.schedule("PWASTWO", [testing.layer(["PUSR001"], null), testing.layer(["PUSR002"], "2026-10-01T00:00:00Z")]),
]

flexible_schedules := [{"id": "PFLX001", "type": "schedule_v3", "name": "flex", "users": [testing.user_ref("PUSR001")]}]

users := [{"id": "PUSR001", "type": "user", "name": "Ann"}, {"id": "PUSR002", "type": "user", "name": "Bob"}]

ann := testing.user_ref("PUSR001")

bob := testing.user_ref("PUSR002")

account(eps) := testing.snapshot({
	"schedules": schedules, "flexible_schedules": flexible_schedules, "users": users,
	"escalation_policies": eps,
})

test_same_user_everywhere_denied if {
	inp := account([
		testing.escalation_policy("PEP0001", [[ann], [testing.schedule_ref("PSOLO01")]]),
		testing.escalation_policy("PEP0002", [[testing.schedule_ref("PTEAM01")], [ann]]),
	])
	d := policy.deny with input as inp
	testing.assert_ids(d, {"PEP0001"})
	testing.assert_finding(d, "PEP0001", {
		"msg": "every level of escalation policy \"PEP0001\" pages the same single user \"Ann\" (PUSR001): a single point of failure",
		"details": {"user_id": "PUSR001"},
	})
}

test_ended_layers_do_not_count if {
	inp := account([testing.escalation_policy("PEP0002", [[testing.schedule_ref("PWASTWO")], [ann]])])
	testing.assert_ids(policy.deny, {"PEP0002"}) with input as inp
}

test_flexible_schedule_members_count if {
	inp := account([testing.escalation_policy("PEP0003", [[testing.flexible_schedule_ref("PFLX001")], [ann]])])
	testing.assert_ids(policy.deny, {"PEP0003"}) with input as inp
}

test_unknown_user_named_by_id if {
	inp := account([testing.escalation_policy("PEP0004", [[testing.user_ref("PUSR009")], [testing.user_ref("PUSR009")]])])
	testing.assert_finding(policy.deny, "PEP0004", {"msg": "every level of escalation policy \"PEP0004\" pages the same single user \"PUSR009\" (PUSR009): a single point of failure"}) with input as inp
}

test_several_people_pass if {
	inp := account([
		testing.escalation_policy("PEP0002", [[testing.schedule_ref("PTEAM01")], [ann]]),
		testing.escalation_policy("PEP0004", [[ann], [bob]]),
		testing.escalation_policy("PEP0005", [[ann, bob]]),
	])
	testing.assert_empty(policy.deny) with input as inp
}

test_unknown_or_empty_schedules_and_no_targets_skipped if {
	inp := account([
		testing.escalation_policy("PEP0006", [[ann], [testing.schedule_ref("PGONE01")]]),
		testing.escalation_policy("PEP0007", [[ann], [testing.schedule_ref("PEMPTY1")]]),
		testing.escalation_policy("PEP0008", [[]]),
		{"id": "PEP0009", "type": "escalation_policy", "name": "bare"},
	])
	testing.assert_empty(policy.deny) with input as inp
}

test_schedules_not_collected_judges_only_user_targets if {
	inp := testing.snapshot_without(
		{"escalation_policies": [
			testing.escalation_policy("PEP0001", [[ann], [testing.schedule_ref("PSOLO01")]]),
			testing.escalation_policy("PEP0004", [[ann], [ann]]),
		]},
		["schedules"],
	)
	testing.assert_ids(policy.deny, {"PEP0004"}) with input as inp
}

test_a_single_level_is_named_as_such if {
	inp := account([testing.escalation_policy("PEP0010", [[ann]])])
	testing.assert_finding(policy.deny, "PEP0010", {
		"msg": "escalation policy \"PEP0010\" pages only \"Ann\" (PUSR001), on its single level: a single point of failure",
		"details": {"user_id": "PUSR001"},
	}) with input as inp
}
