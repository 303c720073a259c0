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

import data.pdguard.lib

# Schedules count with the users of their current layers (ended layers are not a rotation).
deny contains lib.finding_with(msg, "escalation_policy", ep, {"user_id": uid}) if {
	some ep in input.escalation_policies
	targets := lib.targets(ep)
	count(targets) > 0
	every t in targets {
		count(lib.users_of_target(t)) == 1
	}
	users := {id | some t in targets; some id in lib.users_of_target(t)}
	count(users) == 1
	some uid in users
	msg := sprintf(
		"every level of escalation policy %q pages the same single user %q (%s): a single point of failure",
		[lib.name(ep), lib.asset_name("user", uid), uid],
	)
}
