# METADATA
# title: Escalation policy is used by a service
# description: >-
#   An escalation policy that no service uses never pages anyone. It is usually left over from
#   a reorganisation or a migration; it keeps people in rotations that mean nothing and
#   invites assigning a new service to a policy nobody maintains.
# custom:
#   id: PDG-EP-006
#   severity: low
#   remediation: >-
#     Assign the policy to the services it is meant for (the service > Settings > Assign
#     escalation policy; REST API PUT /services/{id} with its escalation_policy; Terraform
#     escalation_policy on the pagerduty_service), or delete it (People > Escalation Policies >
#     the policy > Delete; REST API DELETE /escalation_policies/{id}; remove the
#     pagerduty_escalation_policy).
package pdguard.escalation_policies.unused

import data.pdguard.lib

deny contains lib.finding(msg, "escalation_policy", ep) if {
	some ep in input.escalation_policies
	lib.unused_escalation_policy(ep)
	msg := sprintf("escalation policy %q is used by no service: it pages nobody", [lib.name(ep)])
}
