# METADATA
# title: Service urgency follows the alert's severity or support hours
# description: >-
#   A service with constant high urgency pages someone immediately for every alert, a warning
#   as much as an outage - the alert fatigue that makes responders miss the page that matters.
#   Dynamic urgency (severity_based: critical and error alerts open high-urgency incidents,
#   warnings low-urgency ones) or support-hours urgency (high in working hours, low outside)
#   keep high urgency for what needs it.
# custom:
#   id: PDG-SVC-008
#   severity: low
#   remediation: >-
#     Use dynamic urgency: the service > Settings > Assign and Notify > Notification Urgency >
#     "Dynamic notifications" (based on alert severity), or "Based on support hours"; via the
#     REST API PUT /services/{id} with {"service": {"incident_urgency_rule": {"type":
#     "constant", "urgency": "severity_based"}}}; with Terraform an incident_urgency_rule block
#     with urgency = "severity_based" on the pagerduty_service.
package pdguard.services.urgency

import data.pdguard.lib

deny contains lib.finding(msg, "service", svc) if {
	some svc in input.services
	lib.urgencies(svc) == {"high"}
	not lib.is_parked(svc)
	msg := sprintf(
		"service %q opens every incident at high urgency: every alert, a warning too, pages someone at once",
		[lib.name(svc)],
	)
}
