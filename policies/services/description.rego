# METADATA
# title: Service has a description
# description: >-
#   The service description is shown to responders on every incident and in the service
#   directory. Without it, an on-call engineer woken at night has no context on what the
#   service does, what depends on it, or where its runbooks live. "Managed by Terraform" (what
#   terraform-provider-pagerduty sets when the code gives none) is no description.
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

# Where the account's own description standard applies, PDG-STD-001 reports the missing
# description (one root cause, one finding); this policy covers every other service.
deny contains lib.finding(message(svc), "service", svc) if {
	some svc in input.services
	not lib.has_description(svc)
	not lib.standard_applies_to("has_technical_service_description", svc)
}

message(svc) := sprintf("service %q has no description (%q is the Terraform provider's placeholder)", [
	lib.name(svc),
	lib.terraform_placeholder_description,
]) if {
	lib.has_text(svc.description)
} else := sprintf("service %q has no description", [lib.name(svc)])
