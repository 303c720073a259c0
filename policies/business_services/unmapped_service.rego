# METADATA
# title: High-urgency technical service supports a business service
# description: >-
#   Business services show stakeholders the impact of an outage (status pages, impact,
#   notifications) only through the technical services that support them. A technical service
#   that can open high-urgency incidents but supports no business service - directly or through
#   the services it supports - breaks silently for everyone but its responders. Judged only on
#   accounts that use business services, and only when the scan read every technical service's
#   dependencies (scan.service_dependencies: all in pdguard.yaml; one request per service): with
#   the default - the business services' dependencies only - a service that supports a business
#   service through another technical service cannot be told from one that supports none.
# custom:
#   id: PDG-BS-002
#   severity: low
#   remediation: >-
#     Attach the service to the business service it supports: Service Directory > Business
#     Services > the business service > Add supporting services; REST API
#     POST /service_dependencies/associate; Terraform a pagerduty_service_dependency with the
#     technical service as supporting_service.
package pdguard.business_services.unmapped_service

import data.pdguard.lib

deny contains lib.finding(msg, "service", svc) if {
	lib.collected("business_services")
	lib.technical_dependencies_collected
	count(input.business_services) > 0
	some svc in input.services
	svc.id in lib.high_urgency_services
	not lib.is_parked(svc)
	not lib.supports_business_service(svc)
	msg := sprintf(
		"service %q can open high-urgency incidents but supports no business service: its outages show no business impact",
		[lib.name(svc)],
	)
}
