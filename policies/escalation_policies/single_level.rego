# METADATA
# title: Escalation policy has enough escalation levels
# description: >-
#   With a single escalation level, an incident that the first responder misses (asleep,
#   phone dead, out of signal) is never escalated to anyone else. A second level - a
#   secondary on-call or a manager - is the safety net that bounds time to acknowledge.
#   Levels count when they page someone new: a level repeating an earlier level's targets
#   adds nothing (PagerDuty's "unique levels"). A policy with an empty level is reported by
#   PDG-EP-002, one that only ever pages one person by PDG-EP-004.
# custom:
#   id: PDG-EP-001
#   severity: high
#   settings: [min_escalation_levels]
#   remediation: >-
#     Add an escalation rule (for example a secondary schedule or the team lead) that fires
#     after the first level's escalation delay: in the PagerDuty web UI open People >
#     Escalation Policies > the policy > Edit > Add Level; via the REST API
#     PUT /escalation_policies/{id} with an extra entry in escalation_rules; with Terraform
#     add another rule block to the pagerduty_escalation_policy resource. The minimum is the
#     setting min_escalation_levels.
package pdguard.escalation_policies.single_level

import data.pdguard.lib

deny contains lib.finding_with(message(ep, unique, min_levels), "escalation_policy", ep, details) if {
	some ep in input.escalation_policies
	lib.too_few_levels(ep)
	unique := lib.unique_levels(ep)
	min_levels := lib.setting("min_escalation_levels")
	details := {"levels": unique, "min_levels": min_levels}
}

message(ep, unique, min_levels) := sprintf(
	"escalation policy %q has %d escalation levels but only %d pages someone new (the others repeat its targets), fewer than %d",
	[lib.name(ep), count(lib.levels(ep)), unique, min_levels],
) if {
	count(lib.levels(ep)) > unique
} else := sprintf(
	"escalation policy %q has a single escalation level: a missed page is never escalated",
	[lib.name(ep)],
) if {
	unique == 1
} else := sprintf("escalation policy %q has %d escalation levels, fewer than %d", [lib.name(ep), unique, min_levels])
