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

import data.pdguard.lib

deny contains lib.finding_with(msg, "escalation_policy", ep, {"levels": []}) if {
	some ep in input.escalation_policies
	count(lib.levels(ep)) == 0
	msg := sprintf("escalation policy %q has no escalation rules: it pages nobody", [lib.name(ep)])
}

deny contains lib.finding_with(msg, "escalation_policy", ep, {"levels": silent}) if {
	some ep in input.escalation_policies
	silent := lib.silent_levels(ep)
	count(silent) > 0
	msg := sprintf(
		"escalation policy %q has escalation levels with no user or schedule target: level %s",
		[lib.name(ep), concat(", ", [sprintf("%d", [n]) | some n in silent])],
	)
}
