# METADATA
# title: Escalation policy does not depend on a single person
# description: >-
#   When every level of an escalation policy - directly or through its schedules - ends
#   up at the same one user, that person is a single point of failure. Escalation does
#   not help when they are asleep, sick or on holiday, and the on-call load never rotates.
# custom:
#   id: PDG-EP-004
#   severity: high
#   remediation: >-
#     Add other people to the rotation: target a schedule with at least two users (People >
#     On-Call Schedules > the schedule > Edit > add users to a layer) and/or add a level
#     targeting a different user or a secondary schedule (People > Escalation Policies > the
#     policy > Edit). Via the REST API PUT /schedules/{id} and PUT /escalation_policies/{id};
#     with Terraform add users to the pagerduty_schedule layer and targets to the
#     pagerduty_escalation_policy rules.
package pdguard.escalation_policies.single_user

user_types := {"user", "user_reference"}

schedule_types := {"schedule", "schedule_reference"}

users_by_id := {u.id: u | some u in input.users}

# distinct user ids of each schedule, across all its layers
schedule_users := {s.id: ids |
	some s in input.schedules
	ids := {u.user.id |
		some layer in object.get(s, "schedule_layers", [])
		some u in object.get(layer, "users", [])
	}
}

# the users a target resolves to; undefined for unknown schedules and other target types
target_users(t) := {t.id} if object.get(t, "type", "") in user_types

target_users(t) := schedule_users[t.id] if object.get(t, "type", "") in schedule_types

deny contains f if {
	some ep in input.escalation_policies
	targets := [t |
		some r in object.get(ep, "escalation_rules", [])
		some t in object.get(r, "targets", [])
	]
	count(targets) > 0
	every t in targets {
		count(target_users(t)) == 1
	}
	users := {uid | some t in targets; some uid in target_users(t)}
	count(users) == 1
	some uid in users
	name := object.get(ep, "name", "")
	user_name := object.get(object.get(users_by_id, uid, {}), "name", uid)
	f := {
		"msg": sprintf("every level of escalation policy %q pages the same single user %q (%s): a single point of failure", [name, user_name, uid]),
		"resource": {"type": "escalation_policy", "id": ep.id, "name": name},
		"details": {"user_id": uid},
	}
}
