# METADATA
# title: Business service is supported by technical services
# description: >-
#   A business service only reflects reality (status page, impact, stakeholder
#   notifications) when the technical services it depends on are attached to it. Without
#   supporting services it never shows impact, so stakeholders are not informed.
# custom:
#   id: PDG-BS-001
#   severity: medium
#   remediation: >-
#     Add the supporting technical (or business) services: in the PagerDuty web UI open
#     Service Directory > Business Services > the service > Add supporting services; via the
#     REST API POST /service_dependencies/associate; with Terraform add a
#     pagerduty_service_dependency with the business service as dependent_service.
package pdguard.business_services.no_supporting

supported := {dep.dependent_service.id | some dep in input.service_dependencies}

deny contains f if {
	some bs in input.business_services
	not bs.id in supported
	name := object.get(bs, "name", "")
	f := {
		"msg": sprintf("business service %q has no supporting services", [name]),
		"resource": {"type": "business_service", "id": bs.id, "name": name},
	}
}
