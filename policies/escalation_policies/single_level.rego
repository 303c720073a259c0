# METADATA
# title: Escalation policy has enough escalation levels
# description: >-
#   With a single escalation level, an incident that the first responder misses (asleep,
#   phone dead, out of signal) is never escalated to anyone else. A second level - a
#   secondary on-call or a manager - is the safety net that bounds time to acknowledge.
# custom:
#   id: PDG-EP-001
#   severity: high
#   remediation: >-
#     Add an escalation rule (for example a secondary schedule or the team lead) that fires
#     after the first level's escalation delay: in the PagerDuty web UI open People >
#     Escalation Policies > the policy > Edit > Add Level; via the REST API
#     PUT /escalation_policies/{id} with an extra entry in escalation_rules; with Terraform
#     add another rule block to the pagerduty_escalation_policy resource. The minimum is the
#     setting min_escalation_levels.
package pdguard.escalation_policies.single_level

deny contains f if {
	min_levels := data.pdguard.config.min_escalation_levels
	some ep in input.escalation_policies
	levels := count(object.get(ep, "escalation_rules", []))
	levels < min_levels
	name := object.get(ep, "name", "")
	f := {
		"msg": message(name, levels, min_levels),
		"resource": {"type": "escalation_policy", "id": ep.id, "name": name},
		"details": {"levels": levels, "min_levels": min_levels},
	}
}

message(name, 1, _) := sprintf("escalation policy %q has a single escalation level: a missed page is never escalated", [name])

message(name, levels, min_levels) := sprintf("escalation policy %q has %d escalation levels, fewer than %d", [name, levels, min_levels]) if levels != 1
