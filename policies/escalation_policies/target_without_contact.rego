# METADATA
# title: Escalation targets users who can be contacted
# description: >-
#   A user targeted directly by an escalation rule but with no contact method (no email,
#   phone, SMS or push) cannot receive the page. The level looks staffed but is silent.
# custom:
#   id: PDG-EP-003
#   severity: high
#   remediation: >-
#     Ask the user to add contact methods and notification rules (web UI - My Profile >
#     Contact Information / Notification Rules; REST API POST /users/{id}/contact_methods;
#     Terraform pagerduty_user_contact_method), or replace the user target with a schedule:
#     People > Escalation Policies > the policy > Edit.
package pdguard.escalation_policies.target_without_contact

import data.pdguard.lib

deny contains lib.finding_with(msg, "escalation_policy", ep, {"user": {"id": user.id, "name": lib.name(user)}}) if {
	some ep in input.escalation_policies
	some t in lib.targets(ep)
	lib.is_user_target(t)
	user := lib.user[t.id]
	not has_contact_method(user)
	msg := sprintf("escalation policy %q targets user %q who has no contact methods", [lib.name(ep), lib.name(user)])
}

has_contact_method(user) if count(user.contact_methods) > 0
