# METADATA
# title: Schedule has no coverage gaps
# description: >-
#   Gaps in a schedule's final (rendered) rotation are periods where nobody is on call;
#   incidents escalated to the schedule during a gap notify nobody at that level.
# custom:
#   id: PDG-SCH-002
#   severity: high
#   settings: [min_schedule_coverage_percent]
#   remediation: >-
#     Close the gaps: in the PagerDuty web UI open People > On-Call Schedules > the schedule,
#     look for the gaps highlighted in the final schedule, and extend layer restrictions or
#     add a layer that covers them; via the REST API PUT /schedules/{id} (check
#     final_schedule.rendered_coverage_percentage with GET /schedules/{id}); with Terraform
#     adjust the restriction blocks of the pagerduty_schedule layers. The threshold is the
#     setting min_schedule_coverage_percent.
package pdguard.schedules.coverage_gap

import data.pdguard.lib

deny contains lib.finding_with(msg, "schedule", s, {"min_coverage_percent": min_pct}) if {
	min_pct := lib.setting("min_schedule_coverage_percent")
	some s in input.schedules
	not lib.unpaged_schedule(s) # PDG-SCH-003's finding: its gaps page nobody anyway
	pct := s.final_schedule.rendered_coverage_percentage
	is_number(pct)
	pct < min_pct
	msg := sprintf("schedule %q covers only %v%% of the rendered period (minimum %v%%)", [lib.name(s), pct, min_pct])
}
