package pdguard.plan.user_in_use_test

import data.pdguard.lib.testing
import data.pdguard.plan.user_in_use as policy

ann := {"id": "PU1", "type": "user", "name": "Ann"}

bob := {"id": "PU2", "type": "user", "name": "Bob"}

rota := testing.schedule("PS1", [testing.layer(["PU1", "PU2"], null)])

rota_without_bob := testing.schedule("PS1", [testing.layer(["PU1"], null)])

# Bob was on an old layer only: he is not on the schedule any more
old_rota := testing.schedule("PS2", [testing.layer(["PU1"], null), testing.layer(["PU2"], "2026-01-01T00:00:00Z")])

ep := testing.escalation_policy("PEP1", [[testing.schedule_ref("PS1")], [testing.user_ref("PU2")]])

ep_without_bob := testing.escalation_policy("PEP1", [[testing.schedule_ref("PS1")], [testing.user_ref("PU1")]])

delete_bob := testing.change("delete", "user", bob, null)

reasons(findings) := {[f.resource.id, f.details] | some f in findings}

test_user_still_in_a_schedule_and_a_policy_is_refused if {
	inp := testing.planned({"users": [ann], "schedules": [rota, old_rota], "escalation_policies": [ep]}, [delete_bob])
	d := policy.deny with input as inp
	testing.assert_equal(reasons(d), {
		["PU2", {"reason": "schedule", "schedule": "PS1"}],
		["PU2", {"reason": "escalation_policy", "escalation_policy": "PEP1"}],
	})
	testing.assert_finding(d, "PU2", {
		"msg": "user \"Bob\" is deleted while still on schedule \"PS1\": Terraform deletes the user before it updates the schedule, and PagerDuty refuses to delete a user who is on a schedule",
		"resource": {"type": "user", "id": "PU2", "name": "Bob"},
	})
}

# terraform-provider-pagerduty #833: the same plan takes Bob out, but deletes him first.
test_removing_the_user_in_the_same_plan_is_still_refused if {
	inp := testing.planned({"users": [ann], "schedules": [rota_without_bob], "escalation_policies": [ep_without_bob]}, [
		delete_bob,
		testing.change("update", "schedule", rota, rota_without_bob),
		testing.change("update", "escalation_policy", ep, ep_without_bob),
	])
	testing.assert_count(policy.deny, 2) with input as inp
}

test_open_incidents_assigned_refuse if {
	incidents := [
		testing.incident("Q1", "triggered", "PSVC1", "PEP9", ["PU2"]),
		testing.incident("Q2", "resolved", "PSVC1", "PEP9", ["PU2"]),
	]
	inp := testing.planned({"users": [ann], "incidents": incidents}, [delete_bob])
	d := policy.deny with input as inp
	testing.assert_equal(reasons(d), {["PU2", {"reason": "open_incidents"}]})
	testing.assert_finding(d, "PU2", {"msg": "user \"Bob\" is deleted with 1 open incident(s) assigned: PagerDuty refuses to delete a user with assigned incidents (DELETE /users/{id} returns 400)"})
}

# Terraform deletes the schedules and policies that depend on the user first.
test_schedule_and_policy_deleted_by_the_same_plan_are_fine if {
	inp := testing.planned({"users": [ann], "schedules": [], "escalation_policies": []}, [
		delete_bob,
		testing.change("delete", "schedule", rota, null),
		testing.change("delete", "escalation_policy", ep, null),
	])
	testing.assert_empty(policy.deny) with input as inp
}

test_user_on_nothing_is_fine if {
	inp := testing.planned({"users": [ann], "schedules": [rota_without_bob, old_rota]}, [delete_bob])
	testing.assert_empty(policy.deny) with input as inp
}

test_flexible_schedule_member_is_refused if {
	flex := {"id": "PF1", "type": "schedule_v3", "name": "sun", "users": [testing.user_ref("PU2")]}
	inp := testing.planned({"users": [ann], "flexible_schedules": [flex]}, [delete_bob])
	testing.assert_equal(reasons(policy.deny), {["PU2", {"reason": "schedule", "schedule": "PF1"}]}) with input as inp
}
