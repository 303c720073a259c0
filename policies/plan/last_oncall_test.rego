package pdguard.plan.last_oncall_test

import data.pdguard.lib.testing
import data.pdguard.plan.last_oncall as policy

ann := {"id": "PU1", "type": "user", "name": "Ann"}

bob := {"id": "PU2", "type": "user", "name": "Bob"}

rota := testing.schedule("PS1", [testing.layer(["PU1"], null)])

# the rota's only layer ends before the scan: the schedule is empty
ended_rota := testing.schedule("PS1", [testing.layer(["PU1"], "2026-11-20T00:00:00Z")])

# level 1: Bob and the rota; level 2: Ann
ep := testing.escalation_policy("PEP1", [
	[testing.user_ref("PU2"), testing.schedule_ref("PS1")],
	[testing.user_ref("PU1")],
])

levels(findings) := {[f.resource.id, f.details.level] | some f in findings}

test_removing_the_user_target_of_a_level_whose_schedule_is_emptied if {
	after := testing.escalation_policy("PEP1", [[testing.schedule_ref("PS1")], [testing.user_ref("PU1")]])
	inp := testing.planned({"users": [ann, bob], "schedules": [ended_rota], "escalation_policies": [after]}, [
		testing.change("update", "escalation_policy", ep, after),
		testing.change("update", "schedule", rota, ended_rota),
	])
	d := policy.deny with input as inp
	testing.assert_equal(levels(d), {["PEP1", 1]})
	testing.assert_finding(d, "PEP1", {
		"msg": "level 1 of escalation policy \"PEP1\" pages Ann, Bob today and no one after the apply",
		"resource": {"type": "escalation_policy", "id": "PEP1", "name": "PEP1"},
		"details": {"level": 1},
	})
}

# One of the two is enough.
test_a_level_that_keeps_someone_is_fine if {
	after := testing.escalation_policy("PEP1", [[testing.schedule_ref("PS1")], [testing.user_ref("PU1")]])
	inp := testing.planned({"users": [ann, bob], "schedules": [rota], "escalation_policies": [after]}, [testing.change("update", "escalation_policy", ep, after)])
	testing.assert_empty(policy.deny) with input as inp
}

# Deleting the users and the schedule a level relies on (the policy itself is not in the plan).
test_deleting_what_levels_rely_on if {
	inp := testing.planned({"users": [bob], "schedules": [], "escalation_policies": [ep]}, [
		testing.change("delete", "user", ann, null),
		testing.change("delete", "schedule", rota, null),
	])
	d := policy.deny with input as inp
	testing.assert_equal(levels(d), {["PEP1", 2]}) # level 1 still has Bob
	testing.assert_finding(d, "PEP1", {"msg": "level 2 of escalation policy \"PEP1\" pages Ann today and no one after the apply"})
}

test_a_level_that_was_already_empty_is_not_the_plans_doing if {
	empty := testing.schedule("PS9", [testing.layer(["PU1"], "2026-01-01T00:00:00Z")])
	before := testing.escalation_policy("PEP2", [[testing.schedule_ref("PS9")]])
	after := object.union(before, {"description": "renamed"})
	inp := testing.planned({"users": [ann], "schedules": [empty], "escalation_policies": [after]}, [testing.change("update", "escalation_policy", before, after)])
	testing.assert_empty(policy.deny) with input as inp
}

# Without users or schedules in the scan nobody can be counted: no finding.
test_not_collected if {
	after := testing.escalation_policy("PEP1", [[testing.schedule_ref("PS1")], [testing.user_ref("PU1")]])
	base := testing.planned({"schedules": [ended_rota], "escalation_policies": [after]}, [testing.change("update", "escalation_policy", ep, after)])
	inp := object.union(base, {"meta": {"collections": ["escalation_policies", "schedules"]}})
	testing.assert_empty(policy.deny) with input as inp
}

test_no_plan_no_finding if {
	inp := testing.snapshot({"users": [ann, bob], "schedules": [ended_rota], "escalation_policies": [ep]})
	testing.assert_empty(policy.deny) with input as inp
}
