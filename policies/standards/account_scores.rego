# METADATA
# title: Service passes the account's active Service Standards
# description: >-
#   Reports the failing standards from PagerDuty's own Service Standards scores
#   (GET /standards/scores/technical_services), including any custom or account-specific
#   standards, so they show up next to pdguard's findings and can gate CI. The standards
#   PDG-STD-001 judges from the live configuration (description, escalation depth, outbound
#   integrations) are left to it when the collections it needs were scanned: one root cause,
#   one finding.
# custom:
#   id: PDG-STD-002
#   severity: low
#   remediation: >-
#     Open the service in PagerDuty (Service Directory > the service > Service Standards) to
#     see what each failing standard requires and fix the service accordingly; the
#     standards themselves are managed under Service Directory > Service Standards
#     (GET/PUT /standards). Fixes are reflected after PagerDuty recomputes the scores.
package pdguard.standards.account_scores

import data.pdguard.lib

deny contains lib.finding_with(msg, "service", service, {"failed": sort({standard_id(s) | some s in failing})}) if {
	some entry in input.standards_scores
	failing := [s | some s in entry.standards; active(s); s.pass == false; not lib.judges_standard(standard_id(s))]
	count(failing) > 0
	service := {"id": entry.resource_id, "name": lib.asset_name("service", entry.resource_id)}
	names := sort({standard_name(s) | some s in failing})
	msg := sprintf(
		"service %q fails %d active PagerDuty Service Standard(s): %s",
		[service.name, count(names), concat(", ", names)],
	)
}

# scores list the account's standards with their own `active`; a missing flag counts as active
active(s) if not inactive(s)

inactive(s) if s.active == false

# a score names each standard by id and type (snapshot 2.0): its name is in input.standards
standard_name(s) := lib.standard[s.id].name

standard_name(s) := object.get(s, "name", standard_id(s)) if not lib.standard[object.get(s, "id", "")].name

standard_id(s) := object.get(s, "type", object.get(s, "id", ""))
