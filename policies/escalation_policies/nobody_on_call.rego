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
	lib.collected("oncalls")
	some ep in input.escalation_policies
	in_use(ep)
	first := lib.levels(ep)[0]
	not lib.pages_nobody(first)
	count(lib.oncall_now(ep, 1)) == 0
	msg := sprintf(
		"nobody is on call at the first level of escalation policy %q right now (GET /oncalls at the scan): incidents of %s page nobody until they escalate",
		[lib.name(ep), concat(", ", sort(active_services(ep)))],
	)
}

# names of the services using the policy that can open incidents (not disabled or in maintenance)
active_services(ep) := {lib.name(svc) |
	some id in lib.services_of_escalation_policy[ep.id]
	svc := lib.service[id]
	not lib.is_parked(svc)
}

in_use(ep) if count(active_services(ep)) > 0
