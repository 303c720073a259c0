# METADATA
# title: Service meets PagerDuty's Service Standards
# description: >-
#   Mirrors PagerDuty's Service Standards for technical services so they are enforced on
#   every account and plan, in CI, before changes land - a description responders can read,
#   an escalation policy with at least two unique levels (distinct targets, so escalation
#   actually reaches someone else), and an outbound integration (an extension or add-on such
#   as a webhook, chat or ticketing tool) so incidents reach the places teams work.
# custom:
#   id: PDG-STD-001
#   severity: medium
#   remediation: >-
#     Fix each failed standard listed in the finding. has_technical_service_description -
#     set the service description (service > Settings > Edit; PUT /services/{id};
#     Terraform description). minimum_escalation_policy_rule_depth - give the service's escalation policy
#     at least two levels with different targets (People > Escalation Policies > Edit;
#     PUT /escalation_policies/{id}; Terraform rule blocks). minimum_outbound_integrations -
#     add an extension for the service (service > Integrations > Add an extension, e.g. Slack
#     or a generic webhook; POST /extensions with the service in extension_objects;
#     Terraform pagerduty_extension with extension_objects). The level threshold is the
#     setting min_escalation_levels.
package pdguard.standards.parity

import data.pdguard.lib

deny contains lib.finding_with(msg, "service", svc, {"failed": failed}) if {
	some svc in input.services
	failed := [name | some name in standards; fails(name, svc)]
	count(failed) > 0
	msg := sprintf("service %q fails PagerDuty Service Standards: %s", [lib.name(svc), concat(", ", failed)])
}

# PagerDuty's standards for technical services, in the order findings list them
standards := [
	"has_technical_service_description",
	"minimum_escalation_policy_rule_depth",
	"minimum_outbound_integrations",
]

# A standard is judged only when what it looks at was collected.
fails("has_technical_service_description", svc) if lib.blank(svc, "description")

fails("minimum_escalation_policy_rule_depth", svc) if {
	lib.collected("escalation_policies")
	not deep_enough(svc)
}

fails("minimum_outbound_integrations", svc) if {
	lib.all_collected(["extensions", "addons"])
	not lib.has_outbound_integration(svc)
}

deep_enough(svc) if unique_levels(lib.escalation_policy_of(svc)) >= lib.setting("min_escalation_levels")

# number of levels with distinct, non-empty target sets (a level that pages nobody is no level)
unique_levels(ep) := count({targets |
	some level in lib.levels(ep)
	targets := {t.id | some t in level.targets}
	count(targets) > 0
})
