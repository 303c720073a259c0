# METADATA
# title: Schedule leaves no gap in the escalation levels it serves alone
# description: >-
#   A schedule that is the only target of an escalation level pages nobody during its gaps:
#   incidents escalated there reach no one. Judged from the shifts PagerDuty lists for the 7 days
#   after the scan (GET /oncalls with since/until: layers, restrictions and overrides applied),
#   once per schedule whatever the levels it serves. A schedule that shares its level
#   with other targets is judged with them: two restricted schedules covering the day together
#   (follow the sun) or a user beside it leave no gap, and a gap they leave together is the
#   level's (PDG-EP-008). A first level with nobody on call right now is PDG-EP-007's, a
#   schedule no escalation policy targets PDG-SCH-003's.
# custom:
#   id: PDG-SCH-002
#   severity: high
#   settings: [min_schedule_coverage_percent]
#   remediation: >-
#     Close the gaps: in the PagerDuty web UI open People > On-Call Schedules > the schedule,
#     look for the gaps highlighted in the final schedule, and extend layer restrictions or
#     add a layer that covers them - or add a second target to the escalation level that
#     covers them (a schedule of another time zone, a user); via the REST API PUT
#     /schedules/{id} (check final_schedule with GET /schedules/{id}?since&until) or
#     PUT /escalation_policies/{id}; with Terraform adjust the restriction blocks of the
#     pagerduty_schedule layers. The threshold is the setting min_schedule_coverage_percent.
package pdguard.schedules.coverage_gap

import data.pdguard.lib

deny contains lib.finding_with(msg, "schedule", s, {"min_coverage_percent": min_pct}) if {
	min_pct := lib.setting("min_schedule_coverage_percent")
	some s in input.schedules
	s.id in schedules_alone_on_a_level
	gaps := lib.gaps(lib.shifts({"id": s.id, "type": "schedule_reference"}))
	pct := lib.covered_percent(gaps)
	pct < min_pct
	msg := sprintf(
		"schedule %q, alone on its escalation level, has nobody on call for %s over the next %d days (%v%% covered, minimum %v%%)",
		[lib.name(s), lib.gaps_text(gaps), lib.window_days, pct, min_pct],
	)
}

# ids of the schedules that are the only target of a level of an escalation policy in use (a
# first level with nobody on call now is PDG-EP-007's)
schedules_alone_on_a_level contains s.id if {
	some ep in input.escalation_policies
	not lib.unused_escalation_policy(ep)
	some i, rule in lib.levels(ep)
	s := lib.sole_schedule(rule)
	not silent_first_level(ep, i)
}

silent_first_level(ep, 0) if lib.nobody_on_call_now(ep)
