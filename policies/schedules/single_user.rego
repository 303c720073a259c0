# METADATA
# title: Schedule rotates between enough people
# description: >-
#   A schedule with a single person puts them on call 24/7 - burnout, no cover for
#   holidays or sickness, and nobody to hand over to. Rotations need at least the
#   configured number of distinct users across their layers.
# custom:
#   id: PDG-SCH-001
#   severity: medium
#   settings: [min_schedule_users]
#   remediation: >-
#     Add more responders to the rotation: in the PagerDuty web UI open People > On-Call
#     Schedules > the schedule > Edit and add users to a layer; via the REST API
#     PUT /schedules/{id} with more schedule_layers[].users; with Terraform add user ids to
#     the users list of the pagerduty_schedule layer. The minimum is the setting
#     min_schedule_users.
package pdguard.schedules.single_user

import data.pdguard.lib

# Users of ended layers do not rotate any more: only current layers count. A schedule no
# escalation policy targets is PDG-SCH-003's finding (its rotation pages nobody).
deny contains lib.finding_with(msg, "schedule", s, {"users": sort(users), "min_users": min_users}) if {
	min_users := lib.setting("min_schedule_users")
	some s in input.schedules
	not lib.unpaged_schedule(s)
	users := lib.schedule_users[s.id]
	count(users) < min_users
	msg := sprintf("schedule %q has %d distinct user(s), fewer than %d", [lib.name(s), count(users), min_users])
}
