# METADATA
# title: Service passes the account's active Service Standards
# description: >-
#   Reports the failing standards from PagerDuty's own Service Standards scores
#   (GET /standards/scores/technical_services), including any custom or account-specific
#   standards, so they show up next to pdguard's findings and can gate CI. One root cause, one
#   finding: a standard PDG-STD-001 judges from the live configuration (description, escalation
#   depth, outbound integrations) and that the live configuration fails too is left to it (or
#   to the policy owning the root cause); reported here are the other standards, a score the
#   live configuration contradicts, and what pdguard could not judge (a collection not scanned).
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
	scored_service_known(entry)
	failing := [s | some s in entry.standards; s.pass == false; active(s); not reported_by_pdguard(s, entry.resource_id)]
	count(failing) > 0
	service := {"id": entry.resource_id, "name": lib.asset_name("service", entry.resource_id)}
	names := sort({standard_name(s) | some s in failing})
	msg := sprintf(
		"service %q fails %d active PagerDuty Service Standard(s): %s%s",
		[service.name, count(names), concat(", ", names), stale_note(failing)],
	)
}

# a score of a service the scan did not list (deleted since) is not judged; without the services
# collection every score is
scored_service_known(entry) if lib.service[entry.resource_id]

scored_service_known(_) if not lib.collected("services")

# One root cause, one finding: a standard PDG-STD-001 judges, failed by the live configuration
# too, is reported by it or by the policy owning the root cause.
reported_by_pdguard(s, service_id) if {
	lib.judges_standard(standard_id(s))
	lib.fails_standard(standard_id(s), lib.service[service_id])
}

# a score the live configuration contradicts: PagerDuty recomputes scores periodically
stale_note(failing) := " (PagerDuty's score: the live configuration passes, the score may predate the last change)" if {
	some s in failing
	lib.judges_standard(standard_id(s))
} else := ""

# scores list the account's standards with their own `active`; a missing flag counts as active
active(s) if not inactive(s)

inactive(s) if s.active == false

# a score names each standard by id and type (snapshot 2.0): its name is in input.standards
standard_name(s) := lib.standard[s.id].name

standard_name(s) := object.get(s, "name", standard_id(s)) if not lib.standard[object.get(s, "id", "")].name

standard_id(s) := object.get(s, "type", object.get(s, "id", ""))
