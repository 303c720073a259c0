# METADATA
# title: Service passes the account's active Service Standards
# description: >-
#   Reports the failing standards from PagerDuty's own Service Standards scores
#   (GET /standards/scores/technical_services), including any custom or account-specific
#   standards, so they show up next to pdguard's findings and can gate CI.
# custom:
#   id: PDG-STD-002
#   severity: low
#   remediation: >-
#     Open the service in PagerDuty (Service Directory > the service > Service Standards) to
#     see what each failing standard requires and fix the service accordingly; the
#     standards themselves are managed under Service Directory > Service Standards
#     (GET/PUT /standards). Fixes are reflected after PagerDuty recomputes the scores.
package pdguard.standards.account_scores

services_by_id := {svc.id: svc | some svc in input.services}

deny contains f if {
	some entry in input.standards_scores
	failing := [s |
		some s in object.get(entry, "standards", [])
		object.get(s, "active", true) == true
		object.get(s, "pass", true) == false
	]
	count(failing) > 0
	id := entry.resource_id
	name := object.get(object.get(services_by_id, id, {}), "name", id)
	names := sort({object.get(s, "name", object.get(s, "type", s.id)) | some s in failing})
	f := {
		"msg": sprintf("service %q fails %d active PagerDuty Service Standard(s): %s", [name, count(names), concat(", ", names)]),
		"resource": {"type": "service", "id": id, "name": name},
		"details": {"failed": sort({object.get(s, "type", object.get(s, "id", "")) | some s in failing})},
	}
}
