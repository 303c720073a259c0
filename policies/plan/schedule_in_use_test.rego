package pdguard.plan.schedule_in_use_test

import data.pdguard.lib.testing
import data.pdguard.plan.schedule_in_use as policy

users := [
	{"id": "PU1", "type": "user", "name": "Ann"},
	{"id": "PU2", "type": "user", "name": "Bob"},
]

primary := testing.schedule("PS1", [testing.layer(["PU1"], null)])

secondary := testing.schedule("PS2", [testing.layer(["PU2"], null)])

# one level, the schedule alone on it
one_level := testing.escalation_policy("PEP1", [[testing.schedule_ref("PS1")]])

# two levels: the provider would take the schedule out of it
two_levels := testing.escalation_policy("PEP2", [
	[testing.schedule_ref("PS1"), testing.user_ref("PU2")],
	[testing.user_ref("PU2")],
])

# two levels, each targeting PS1 only
all_levels := testing.escalation_policy("PEP3", [[testing.schedule_ref("PS1")], [testing.schedule_ref("PS1")]])

delete_primary := testing.change("delete", "schedule", primary, null)

reasons(findings) := {[f.resource.id, f.details.escalation_policy, f.details.reason] | some f in findings}

test_deleting_a_schedule_escalation_policies_use_is_refused if {
	inp := testing.planned(
		{"users": users, "schedules": [secondary], "escalation_policies": [one_level, two_levels, all_levels]},
		[delete_primary],
	)
	d := policy.deny with input as inp
	testing.assert_equal(reasons(d), {
		["PS1", "PEP1", "only_level"],
		["PS1", "PEP3", "only_level"],
		["PS1", "PEP2", "escalation_policy_changed_outside_terraform"],
	})
	testing.assert_finding(d, "PS1", {
		"msg": "schedule \"PS1\" is deleted while escalation policy \"PEP1\" pages through it and cannot lose it: PagerDuty refuses (\"Schedule can't be deleted if it's being used by escalation policies\") and the provider does not take a schedule out of a one-level policy",
		"resource": {"type": "schedule", "id": "PS1", "name": "PS1"},
		"details": {"reason": "only_level", "escalation_policy": "PEP1"},
	})
}

# terraform-provider-pagerduty #1081: the plan moves the one-level policy to another schedule,
# but Terraform deletes the schedule first: still refused.
test_one_level_policy_changed_by_the_same_plan_still_refuses if {
	after := testing.escalation_policy("PEP1", [[testing.schedule_ref("PS2")]])
	inp := testing.planned(
		{"users": users, "schedules": [secondary], "escalation_policies": [after]},
		[delete_primary, testing.change("update", "escalation_policy", one_level, after)],
	)
	testing.assert_equal(reasons(policy.deny), {["PS1", "PEP1", "only_level"]}) with input as inp
}

# A policy with two levels that the plan takes the schedule out of ends up as planned.
test_multi_level_policy_the_plan_updates_is_fine if {
	after := testing.escalation_policy("PEP2", [[testing.user_ref("PU2")], [testing.user_ref("PU2")]])
	inp := testing.planned(
		{"users": users, "schedules": [secondary], "escalation_policies": [after]},
		[delete_primary, testing.change("update", "escalation_policy", two_levels, after)],
	)
	testing.assert_empty(policy.deny) with input as inp
}

# Terraform deletes the escalation policies that depend on the schedule first.
test_policy_deleted_by_the_same_plan_is_fine if {
	inp := testing.planned(
		{"users": users, "schedules": [secondary], "escalation_policies": []},
		[delete_primary, testing.change("delete", "escalation_policy", one_level, null)],
	)
	testing.assert_empty(policy.deny) with input as inp
}

test_open_incidents_on_a_policy_that_used_the_schedule_refuse if {
	after := testing.escalation_policy("PEP2", [[testing.user_ref("PU2")], [testing.user_ref("PU2")]])
	incidents := [
		testing.incident("Q1", "acknowledged", "PSVC1", "PEP2", ["PU1"]),
		testing.incident("Q2", "triggered", "PSVC1", "PEP2", ["PU1"]),
		testing.incident("Q3", "resolved", "PSVC1", "PEP1", ["PU1"]),
	]
	inp := testing.planned(
		{"users": users, "schedules": [secondary], "escalation_policies": [after], "incidents": incidents},
		[delete_primary, testing.change("update", "escalation_policy", two_levels, after)],
	)
	d := policy.deny with input as inp
	testing.assert_equal(reasons(d), {["PS1", "PEP2", "open_incidents"]})
	testing.assert_finding(d, "PS1", {"msg": "schedule \"PS1\" is deleted while escalation policy \"PEP2\", which uses it, has 2 open incident(s): PagerDuty refuses (\"Schedule can't be deleted if it's being used by an escalation policy snapshot with open incidents\")"})
}

test_replaced_schedule_is_named_by_its_old_id if {
	new := object.union(primary, {"id": "tf:pagerduty_schedule.ps1"})
	inp := testing.planned(
		{"users": users, "schedules": [secondary, new], "escalation_policies": [one_level]},
		[testing.change("replace", "schedule", primary, new)],
	)
	testing.assert_equal(reasons(policy.deny), {["PS1", "PEP1", "only_level"]}) with input as inp
}

test_flexible_schedule_in_use_is_refused if {
	flex := {"id": "PF1", "type": "schedule_v3", "name": "follow the sun", "users": [testing.user_ref("PU1")]}
	ep := testing.escalation_policy("PEP4", [[testing.flexible_schedule_ref("PF1")], [testing.user_ref("PU1")]])
	inp := testing.planned(
		{"users": users, "escalation_policies": [ep]},
		[testing.change("delete", "flexible_schedule", flex, null)],
	)
	testing.assert_equal(reasons(policy.deny), {["PF1", "PEP4", "in_use"]}) with input as inp
}

test_unused_schedule_and_other_changes_are_fine if {
	inp := testing.planned(
		{"users": users, "schedules": [primary], "escalation_policies": [one_level]},
		[testing.change("delete", "schedule", secondary, null), testing.change("update", "schedule", primary, primary)],
	)
	testing.assert_empty(policy.deny) with input as inp
}

test_no_plan_no_finding if {
	inp := testing.snapshot({"users": users, "schedules": [primary], "escalation_policies": [one_level]})
	testing.assert_empty(policy.deny) with input as inp
}
