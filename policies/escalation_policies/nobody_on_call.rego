# METADATA
# title: Someone is on call at the first level right now
# description: >-
#   When GET /oncalls (layers, restrictions and overrides applied) shows nobody on call at the
#   first level of an escalation policy that services use, an incident triggered now pages
#   nobody until it escalates - if it ever does. A first level without any target is reported
#   by PDG-EP-002 instead.
# custom:
#   id: PDG-EP-007
#   severity: high
#   remediation: >-
#     Put someone on call now: add an override on the first level's schedule (People >
#     On-Call Schedules > the schedule > Schedule an Override; REST API
#     POST /schedules/{id}/overrides), then fix the rotation - layers that end or start later,
#     restrictions that leave hours uncovered (PUT /schedules/{id}; Terraform the
#     pagerduty_schedule's layer and restriction blocks) - or target a user or a covered
#     schedule on the first level (PUT /escalation_policies/{id}).
package pdguard.escalation_policies.nobody_on_call

import data.pdguard.lib

deny contains lib.finding_with(msg, "escalation_policy", ep, {"level": 1}) if {
	some ep in input.escalation_policies
	lib.nobody_on_call_now(ep)
	services := sort([lib.asset_name("service", id) | some id in lib.active_services_of(ep)])
	msg := sprintf(
		"nobody is on call at the first level of escalation policy %q right now (GET /oncalls at the scan): incidents of %s page nobody until they escalate",
		[lib.name(ep), concat(", ", services)],
	)
}
