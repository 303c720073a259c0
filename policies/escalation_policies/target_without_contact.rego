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

user_types := {"user", "user_reference"}

users_by_id := {u.id: u | some u in input.users}

deny contains f if {
	some ep in input.escalation_policies
	some r in object.get(ep, "escalation_rules", [])
	some t in object.get(r, "targets", [])
	object.get(t, "type", "") in user_types
	user := users_by_id[t.id]
	count(object.get(user, "contact_methods", [])) == 0
	name := object.get(ep, "name", "")
	user_name := object.get(user, "name", t.id)
	f := {
		"msg": sprintf("escalation policy %q targets user %q who has no contact methods", [name, user_name]),
		"resource": {"type": "escalation_policy", "id": ep.id, "name": name},
		"details": {"user": {"id": t.id, "name": user_name}},
	}
}
