# METADATA
# title: Timeouts do not hide high-urgency incidents
# description: >-
#   Two service settings decide whether a high-urgency incident can fall through the cracks.
#   Without an acknowledgement timeout, an incident acknowledged and then forgotten never pages
#   again. An auto-resolve timeout that fires before the acknowledgement timeout re-triggers an
#   acknowledged incident, or before the escalation policy has reached its last level, resolves
#   the incident unfixed: it disappears from every dashboard while the outage goes on.
# custom:
#   id: PDG-SVC-009
#   severity: medium
#   remediation: >-
#     Set an acknowledgement timeout (PagerDuty's default is 30 minutes) and make auto-resolve
#     longer than both that timeout and one pass of the escalation policy - or turn
#     auto-resolve off: the service > Settings > Incident Behavior / Acknowledgement timeout;
#     REST API PUT /services/{id} with acknowledgement_timeout and auto_resolve_timeout
#     (seconds, null to disable); Terraform acknowledgement_timeout and auto_resolve_timeout on
#     the pagerduty_service.
package pdguard.services.incident_timeouts

import data.pdguard.lib

deny contains lib.finding_with(msg, "service", svc, {"problem": "no_acknowledgement_timeout"}) if {
	some svc in judged
	object.get(svc, "acknowledgement_timeout", "not returned") in {null, 0}
	msg := sprintf(
		"service %q has no acknowledgement timeout: a high-urgency incident acknowledged and forgotten never pages again",
		[lib.name(svc)],
	)
}

deny contains lib.finding_with(msg, "service", svc, {"problem": "auto_resolve_before_acknowledgement_timeout"}) if {
	some svc in judged
	auto := positive(svc.auto_resolve_timeout)
	ack := positive(svc.acknowledgement_timeout)
	auto <= ack
	msg := sprintf(
		"service %q auto-resolves incidents after %s, before its acknowledgement timeout (%s) re-triggers them: an acknowledged, forgotten high-urgency incident is resolved unfixed",
		[lib.name(svc), lib.duration_text(auto), lib.duration_text(ack)],
	)
}

deny contains lib.finding_with(msg, "service", svc, {"problem": "auto_resolve_before_escalation"}) if {
	some svc in judged
	auto := positive(svc.auto_resolve_timeout)
	ep := lib.escalation_policy_of(svc)
	last_page := seconds_to_last_level(ep)
	auto < last_page
	msg := sprintf(
		"service %q auto-resolves incidents after %s, before escalation policy %q pages its last level (after %s): a high-urgency incident nobody acknowledges is resolved before everyone was paged",
		[lib.name(svc), lib.duration_text(auto), lib.name(ep), lib.duration_text(last_page)],
	)
}

# judged: the services whose timeouts matter - high urgency, not parked (found once for the three rules).
judged := [svc |
	some svc in input.services
	svc.id in lib.high_urgency_services
	not lib.is_parked(svc)
]

# a timeout that is set (null and 0 turn the feature off)
positive(seconds) := seconds if {
	is_number(seconds)
	seconds > 0
}

# an unacknowledged incident reaches the last level after the delays of every level before it
seconds_to_last_level(ep) := 60 * sum([object.get(rule, "escalation_delay_in_minutes", 0) |
	some i, rule in lib.levels(ep)
	i < count(lib.levels(ep)) - 1
])
