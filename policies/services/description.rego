# METADATA
# title: Service has a description
# description: >-
#   The service description is shown to responders on every incident and in the service
#   directory. Without it, an on-call engineer woken at night has no context on what the
#   service does, what depends on it, or where its runbooks live.
# custom:
#   id: PDG-SVC-004
#   severity: low
#   remediation: >-
#     Describe what the service does, its impact and a runbook link: in the PagerDuty web UI
#     open the service > Settings > Edit > Description; via the REST API PUT /services/{id}
#     with {"service": {"description": "..."}}; with Terraform set description on the
#     pagerduty_service resource.
package pdguard.services.description

import data.pdguard.lib

deny contains lib.finding(msg, "service", svc) if {
	some svc in input.services
	lib.blank(svc, "description")
	msg := sprintf("service %q has no description", [lib.name(svc)])
}
