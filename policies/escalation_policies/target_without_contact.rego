# METADATA
# title: Escalation targets users who can be paged
# description: >-
#   A user targeted directly by an escalation rule who cannot receive the page - no contact
#   method at all, or a role that cannot be paged (observer, read-only user) - leaves the level
#   looking staffed while it is silent.
# custom:
#   id: PDG-EP-003
#   severity: high
#   remediation: >-
#     Ask the user to add contact methods and notification rules (web UI - My Profile >
#     Contact Information / Notification Rules; REST API POST /users/{id}/contact_methods;
#     Terraform pagerduty_user_contact_method), give them a role that can respond (People >
#     Users > the user > Edit role; PUT /users/{id}), or replace the user target with a
#     schedule: People > Escalation Policies > the policy > Edit.
package pdguard.escalation_policies.target_without_contact

import data.pdguard.lib

deny contains lib.finding_with(msg, "escalation_policy", ep, {"user": {"id": user.id, "name": lib.name(user)}}) if {
	some ep in input.escalation_policies
	some t in lib.targets(ep)
	lib.is_user_target(t)
	user := lib.user[t.id]
	reason := why_not_paged(user)
	msg := sprintf("escalation policy %q targets user %q who %s", [lib.name(ep), lib.name(user), reason])
}

why_not_paged(user) := sprintf("cannot be paged (role %s)", [user.role]) if {
	not lib.can_be_paged(user)
} else := "has no contact methods" if {
	not lib.has_contact_method(user)
}
