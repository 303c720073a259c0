# METADATA
# title: Service has an escalation policy
# description: >-
#   A service without an escalation policy cannot notify anyone. Incidents triggered on it
#   are created but nobody is paged, so outages go unnoticed until a customer reports them.
# custom:
#   id: PDG-SVC-002
#   severity: high
#   remediation: >-
#     Assign an escalation policy to the service: in the PagerDuty web UI open the service >
#     Settings > Assign escalation policy; via the REST API PUT /services/{id} with
#     {"service": {"escalation_policy": {"id": "PXXXXXX", "type": "escalation_policy_reference"}}};
#     with Terraform set escalation_policy on the pagerduty_service resource.
package pdguard.services.escalation_policy

import data.pdguard.lib

deny contains lib.finding(msg, "service", svc) if {
	some svc in input.services
	not lib.has_escalation_policy(svc)
	msg := sprintf("service %q has no escalation policy: its incidents page nobody", [lib.name(svc)])
}
