# METADATA
# title: On-call users have accepted their invitation
# description: >-
#   A user who has not accepted the invitation to PagerDuty (invitation_sent) has never logged
#   in: no phone, no push app, no notification rules of their own - yet an escalation policy
#   pages them (targeted directly, through a schedule, or on call now according to
#   GET /oncalls). Their pages reach at best the invitation's e-mail address.
# custom:
#   id: PDG-USR-003
#   severity: high
#   remediation: >-
#     Ask the user to accept the invitation and set up their contact methods and high-urgency
#     notification rules (re-send it from People > Users > the user), or take them out of the
#     rotation until they have (People > On-Call Schedules > the schedule > Edit; REST API
#     PUT /schedules/{id}; Terraform the users of the pagerduty_schedule layer).
package pdguard.users.pending_invitation

import data.pdguard.lib

deny contains lib.finding(msg, "user", user) if {
	some user in input.users
	lib.invitation_pending(user)
	user.id in lib.responders
	lib.can_be_paged(user)
	not lib.unreachable_target(user) # PDG-EP-003's finding
	msg := sprintf("user %q is on call but has not accepted their invitation to PagerDuty", [lib.name(user)])
}
