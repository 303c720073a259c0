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

import data.pdguard.lib

deny contains lib.finding(msg, "business_service", bs) if {
	lib.collected("service_dependencies")
	some bs in input.business_services
	count(lib.supporters(bs.id)) == 0
	msg := sprintf("business service %q has no supporting services", [lib.name(bs)])
}
