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

import data.pdguard.lib

deny contains lib.finding_with(msg, "escalation_policy", ep, {"num_loops": loops}) if {
	some ep in input.escalation_policies
	not repeats(ep)
	services := lib.services_using(ep) & lib.high_urgency_services
	count(services) > 0
	loops := object.get(ep, "num_loops", null)
	msg := sprintf(
		"escalation policy %q does not repeat (num_loops = %v) but is used by %d high-urgency service(s)",
		[lib.name(ep), loops, count(services)],
	)
}

# num_loops 0, null or missing: the policy stops after its last level
repeats(ep) if ep.num_loops > 0
