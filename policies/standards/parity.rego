# METADATA
# title: Service meets the account's Service Standards
# description: >-
#   Mirrors PagerDuty's Service Standards for technical services from the live configuration,
#   where the account's own standards apply (GET /standards: active, exclusions, inclusions) -
#   so they are enforced in CI and on Terraform plans, before changes land: a description
#   responders can read ("Managed by Terraform" is none), an escalation policy with at least
#   two unique levels, and an outbound integration (an extension or add-on such as a webhook,
#   chat or ticketing tool). One root cause, one finding: a shallow escalation is reported on
#   the escalation policy (PDG-EP-001, PDG-EP-002, PDG-EP-004) or as a missing one
#   (PDG-SVC-002), and only here when none of them reports it; PagerDuty's own scores of these
#   standards are not repeated by PDG-STD-002.
# custom:
#   id: PDG-STD-001
#   severity: medium
#   settings: [min_escalation_levels]
#   remediation: >-
#     Fix each failed standard listed in the finding. has_technical_service_description -
#     set the service description (service > Settings > Edit; PUT /services/{id};
#     Terraform description). minimum_escalation_policy_rule_depth - give the service's
#     escalation policy at least two levels with different targets (People > Escalation
#     Policies > Edit; PUT /escalation_policies/{id}; Terraform rule blocks).
#     minimum_outbound_integrations - add an extension for the service (service >
#     Integrations > Add an extension, e.g. Slack or a generic webhook; POST /extensions with
#     the service in extension_objects; Terraform pagerduty_extension with extension_objects).
#     Where a standard should not apply, scope it in Service Directory > Service Standards
#     (PUT /standards/{id} exclusions/inclusions).
package pdguard.standards.parity

import data.pdguard.lib

deny contains lib.finding_with(msg, "service", svc, {"failed": failed}) if {
	some svc in input.services
	failed := sort([stype |
		some stype in judged
		lib.fails_standard(stype, svc)
		not owned_elsewhere(stype, svc)
		lib.standard_applies_to(stype, svc)
	])
	count(failed) > 0
	applying := lib.standards_applying_to(svc)
	names := [object.get(applying[stype], "name", stype) | some stype in failed]
	msg := sprintf("service %q fails the account's Service Standards: %s", [lib.name(svc), concat(", ", names)])
}

# judged: the standard types this snapshot lets PDG-STD-001 judge (computed once, not per service).
judged contains stype if {
	some stype, _ in lib.judged_standards
	lib.judges_standard(stype)
}

# A service without an escalation policy is PDG-SVC-002's finding; a shallow escalation
# policy is reported on the policy (PDG-EP-001, -002, -004) unless min_escalation_levels lets it
# pass - PagerDuty still asks for two unique levels.
owned_elsewhere("minimum_escalation_policy_rule_depth", svc) if not lib.has_escalation_policy(svc)

owned_elsewhere("minimum_escalation_policy_rule_depth", svc) if {
	object.get(svc, ["escalation_policy", "id"], null) in lib.shallow_escalation_policies
}
