# METADATA
# title: Every escalation level targets a user or a schedule
# description: >-
#   An escalation level without a user or schedule target notifies nobody; an escalation
#   policy without any level cannot page anyone at all. Incidents routed through it sit
#   unacknowledged until they are noticed by chance.
# custom:
#   id: PDG-EP-002
#   severity: high
#   remediation: >-
#     Give every level at least one on-call target (preferably a schedule): in the PagerDuty
#     web UI open People > Escalation Policies > the policy > Edit and add a user or
#     schedule to each level, or remove empty levels; via the REST API
#     PUT /escalation_policies/{id} with targets on every escalation_rules entry; with
#     Terraform add target blocks (type user_reference or schedule_reference) to every rule
#     of the pagerduty_escalation_policy resource.
package pdguard.escalation_policies.no_oncall_target

oncall_types := {"user", "user_reference", "schedule", "schedule_reference"}

has_oncall_target(r) if {
	some t in object.get(r, "targets", [])
	object.get(t, "type", "") in oncall_types
}

deny contains f if {
	some ep in input.escalation_policies
	count(object.get(ep, "escalation_rules", [])) == 0
	name := object.get(ep, "name", "")
	f := {
		"msg": sprintf("escalation policy %q has no escalation rules: it pages nobody", [name]),
		"resource": {"type": "escalation_policy", "id": ep.id, "name": name},
		"details": {"levels": []},
	}
}

deny contains f if {
	some ep in input.escalation_policies
	empty := [level |
		some i, r in object.get(ep, "escalation_rules", [])
		not has_oncall_target(r)
		level := i + 1
	]
	count(empty) > 0
	name := object.get(ep, "name", "")
	f := {
		"msg": sprintf("escalation policy %q has escalation levels with no user or schedule target: level %s", [name, concat(", ", [sprintf("%d", [l]) | some l in empty])]),
		"resource": {"type": "escalation_policy", "id": ep.id, "name": name},
		"details": {"levels": empty},
	}
}
