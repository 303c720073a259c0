# METADATA
# title: Schedule has no coverage gaps
# description: >-
#   Gaps in a schedule's final (rendered) rotation are periods where nobody is on call;
#   incidents escalated to the schedule during a gap notify nobody at that level.
# custom:
#   id: PDG-SCH-002
#   severity: high
#   remediation: >-
#     Close the gaps: in the PagerDuty web UI open People > On-Call Schedules > the schedule,
#     look for the gaps highlighted in the final schedule, and extend layer restrictions or
#     add a layer that covers them; via the REST API PUT /schedules/{id} (check
#     final_schedule.rendered_coverage_percentage with GET /schedules/{id}); with Terraform
#     adjust the restriction blocks of the pagerduty_schedule layers. The threshold is the
#     setting min_schedule_coverage_percent.
package pdguard.schedules.coverage_gap

deny contains f if {
	min_pct := data.pdguard.config.min_schedule_coverage_percent
	some s in input.schedules
	pct := object.get(s, ["final_schedule", "rendered_coverage_percentage"], null)
	is_number(pct)
	pct < min_pct
	name := object.get(s, "name", "")
	f := {
		"msg": sprintf("schedule %q covers only %v%% of the rendered period (minimum %v%%)", [name, pct, min_pct]),
		"resource": {"type": "schedule", "id": s.id, "name": name},
		"details": {"min_coverage_percent": min_pct},
	}
}
