package pdguard.plan.team_membership_in_use_test

import data.pdguard.lib.testing
import data.pdguard.plan.team_membership_in_use as policy

users := [
	{"id": "PU1", "type": "user", "name": "Ann"},
	{"id": "PU2", "type": "user", "name": "Bob"},
	{"id": "PU3", "type": "user", "name": "Cid"},
]

platform := {"id": "PT1", "type": "team", "name": "Platform"}

rota := testing.schedule("PS1", [testing.layer(["PU2"], null)])

# the team's policy: Ann directly, Bob through the rota
team_ep := object.union(
	testing.escalation_policy("PEP1", [[testing.user_ref("PU1")], [testing.schedule_ref("PS1")]]),
	{"teams": [testing.team_ref("PT1")]},
)

# a policy of no team targets Cid
other_ep := testing.escalation_policy("PEP2", [[testing.user_ref("PU3")]])

membership(uid) := {
	"id": sprintf("%s:PT1", [uid]), "type": "team_membership",
	"user": testing.user_ref(uid), "team": testing.team_ref("PT1"), "role": "responder",
}

world := {"users": users, "teams": [platform], "schedules": [rota], "escalation_policies": [team_ep, other_ep]}

test_member_paged_by_the_teams_policy_cannot_leave if {
	inp := testing.planned(world, [
		testing.change("delete", "team_membership", membership("PU1"), null),
		testing.change("delete", "team_membership", membership("PU2"), null),
		testing.change("delete", "team_membership", membership("PU3"), null),
	])
	d := policy.deny with input as inp
	testing.assert_ids(d, {"PU1:PT1", "PU2:PT1"})
	testing.assert_finding(d, "PU1:PT1", {
		"msg": "user \"Ann\" is removed from team \"Platform\" while the team's escalation policy \"PEP1\" pages them directly: PagerDuty refuses (\"User cannot be removed as they belong to an escalation policy on this team\")",
		"details": {"reason": "escalation_policy", "escalation_policy": "PEP1"},
	})
	testing.assert_finding(d, "PU2:PT1", {"msg": "user \"Bob\" is removed from team \"Platform\" while the team's escalation policy \"PEP1\" pages them through schedule \"PS1\": PagerDuty refuses (\"User cannot be removed as they belong to an escalation policy on this team\")"})
}

# A replace that moves the membership (delete first) removes it too.
test_replaced_membership_is_removed_first if {
	inp := testing.planned(world, [testing.change("replace", "team_membership", membership("PU1"), membership("PU3"))])
	testing.assert_ids(policy.deny, {"PU1:PT1"}) with input as inp
}

# Removing the user from the policy in the same plan does not help (the membership goes first or
# at the same time); deleting the policy does: Terraform deletes it first.
test_policy_changes_of_the_same_plan if {
	ep_without_ann := object.union(
		testing.escalation_policy("PEP1", [[testing.schedule_ref("PS1")]]),
		{"teams": [testing.team_ref("PT1")]},
	)
	updated := testing.planned(object.union(world, {"escalation_policies": [ep_without_ann, other_ep]}), [
		testing.change("delete", "team_membership", membership("PU1"), null),
		testing.change("update", "escalation_policy", team_ep, ep_without_ann),
	])
	testing.assert_ids(policy.deny, {"PU1:PT1"}) with input as updated
	deleted := testing.planned(object.union(world, {"escalation_policies": [other_ep]}), [
		testing.change("delete", "team_membership", membership("PU1"), null),
		testing.change("delete", "escalation_policy", team_ep, null),
	])
	testing.assert_empty(policy.deny) with input as deleted
}

test_membership_of_another_team_is_fine if {
	m := {"id": "PU1:PT9", "type": "team_membership", "user": testing.user_ref("PU1"), "team": testing.team_ref("PT9")}
	inp := testing.planned(world, [testing.change("delete", "team_membership", m, null)])
	testing.assert_empty(policy.deny) with input as inp
}
