# METADATA
# title: Escalation policy does not depend on a single person
# description: >-
#   When every level of an escalation policy - directly or through its schedules - ends
#   up at the same one user, that person is a single point of failure. Escalation does
#   not help when they are asleep, sick or on holiday, and the on-call load never rotates.
#   (A single level that pages a single person is reported here, not by PDG-EP-001.)
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
deny contains lib.finding_with(message(ep, uid), "escalation_policy", ep, {"user_id": uid}) if {
	some ep in input.escalation_policies
	uid := lib.sole_responder(ep)
}

message(ep, uid) := sprintf(
	"escalation policy %q pages only %q (%s), on its single level: a single point of failure",
	[lib.name(ep), lib.asset_name("user", uid), uid],
) if {
	count(lib.levels(ep)) == 1
} else := sprintf(
	"every level of escalation policy %q pages the same single user %q (%s): a single point of failure",
	[lib.name(ep), lib.asset_name("user", uid), uid],
)
