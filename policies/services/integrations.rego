# METADATA
# title: Service has at least one integration
# description: >-
#   A service with no integration receives no events from monitoring tools or email, so it
#   can never open an incident by itself; its on-call setup gives a false sense of coverage.
# custom:
#   id: PDG-SVC-006
#   severity: medium
#   remediation: >-
#     Connect the service to its monitoring: in the PagerDuty web UI open the service >
#     Integrations > Add an integration (for example Events API V2); via the REST API
#     POST /services/{id}/integrations; with Terraform add a pagerduty_service_integration
#     resource for the service. Delete the service if it is no longer used.
package pdguard.services.integrations

import data.pdguard.lib

deny contains lib.finding(msg, "service", svc) if {
	some svc in input.services
	not lib.has_integration(svc)
	msg := sprintf("service %q has no integrations: no events can reach it", [lib.name(svc)])
}
