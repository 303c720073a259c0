# METADATA
# title: Schedule is used by an escalation policy
# description: >-
#   A schedule that no escalation policy targets never pages anyone. People believe they
#   are on call (and may be paid for it) while incidents never reach them; it is usually
#   a leftover from a reorganisation or a forgotten migration.
# custom:
#   id: PDG-SCH-003
#   severity: low
#   remediation: >-
#     Either reference the schedule from the right escalation policy (People > Escalation
#     Policies > the policy > Edit > add the schedule to a level; REST API
#     PUT /escalation_policies/{id}; Terraform target {type = "schedule_reference"} in the
#     pagerduty_escalation_policy rule) or delete it (People > On-Call Schedules > the
#     schedule > Delete; REST API DELETE /schedules/{id}; remove the pagerduty_schedule).
package pdguard.schedules.unused

import data.pdguard.lib

deny contains lib.finding(msg, "schedule", s) if {
	some s in input.schedules
	lib.unpaged_schedule(s)
	msg := sprintf("schedule %q is not targeted by any escalation policy", [lib.name(s)])
}
