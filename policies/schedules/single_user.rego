# METADATA
# title: Schedule rotates between enough people
# description: >-
#   A schedule with a single person puts them on call 24/7 - burnout, no cover for
#   holidays or sickness, and nobody to hand over to. Rotations need at least the
#   configured number of distinct users across their layers.
# custom:
#   id: PDG-SCH-001
#   severity: medium
#   remediation: >-
#     Add more responders to the rotation: in the PagerDuty web UI open People > On-Call
#     Schedules > the schedule > Edit and add users to a layer; via the REST API
#     PUT /schedules/{id} with more schedule_layers[].users; with Terraform add user ids to
#     the users list of the pagerduty_schedule layer. The minimum is the setting
#     min_schedule_users.
package pdguard.schedules.single_user

deny contains f if {
	min_users := data.pdguard.config.min_schedule_users
	some s in input.schedules
	users := {u.user.id |
		some layer in object.get(s, "schedule_layers", [])
		some u in object.get(layer, "users", [])
	}
	count(users) < min_users
	name := object.get(s, "name", "")
	f := {
		"msg": sprintf("schedule %q has %d distinct user(s), fewer than %d", [name, count(users), min_users]),
		"resource": {"type": "schedule", "id": s.id, "name": name},
		"details": {"users": sort(users), "min_users": min_users},
	}
}
