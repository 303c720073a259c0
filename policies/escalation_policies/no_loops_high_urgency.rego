# METADATA
# title: Escalation policy for high-urgency services repeats
# description: >-
#   With num_loops = 0 an escalation policy stops after its last level. If nobody
#   acknowledges a high-urgency incident by then, it stays triggered with no further
#   notifications. Repeating the policy keeps paging until someone responds.
# custom:
#   id: PDG-EP-005
#   severity: medium
#   remediation: >-
#     Make the policy repeat: in the PagerDuty web UI open People > Escalation Policies >
#     the policy > Edit and set "If no one acknowledges, repeat this policy N times"; via
#     the REST API PUT /escalation_policies/{id} with {"escalation_policy": {"num_loops": 2}};
#     with Terraform set num_loops on the pagerduty_escalation_policy resource.
package pdguard.escalation_policies.no_loops_high_urgency

high_urgency(svc) if {
	rule := object.get(svc, "incident_urgency_rule", {})
	object.get(rule, "type", "") == "constant"
	object.get(rule, "urgency", "") == "high"
}

high_urgency(svc) if {
	rule := object.get(svc, "incident_urgency_rule", {})
	object.get(rule, "type", "") == "use_support_hours"
	some part in ["during_support_hours", "outside_support_hours"]
	object.get(object.get(rule, part, {}), "urgency", "") == "high"
}

# escalation policy id -> ids of the high-urgency services using it
high_urgency_services[ep_id] contains svc.id if {
	some svc in input.services
	high_urgency(svc)
	ep_id := svc.escalation_policy.id
}

deny contains f if {
	some ep in input.escalation_policies
	object.get(ep, "num_loops", 0) == 0
	svcs := high_urgency_services[ep.id]
	name := object.get(ep, "name", "")
	f := {
		"msg": sprintf("escalation policy %q does not repeat (num_loops = 0) but is used by %d high-urgency service(s)", [name, count(svcs)]),
		"resource": {"type": "escalation_policy", "id": ep.id, "name": name},
		"details": {"num_loops": 0},
	}
}
