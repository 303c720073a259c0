# METADATA
# title: A planned user deletion is not blocked by schedules, escalation policies or incidents
# description: >-
#   PagerDuty refuses to delete a user who has incidents assigned (DELETE /users/{id} "Returns
#   400 if the user has assigned incidents" unless the account has the offboarding feature) and
#   a user who is still in a schedule or an escalation policy. Terraform deletes the user before
#   it updates those schedules and escalation policies, even when the same plan removes the user
#   from them: the provider retries the refused DELETE for ten minutes and the apply fails
#   ("Cannot delete user and remove it from all schedules at the same time",
#   terraform-provider-pagerduty #833; #224 for the same ordering with teams; the provider's
#   delete retries "to give other resources (such as escalation policies)" time to let go).
# custom:
#   id: PDG-PLAN-002
#   severity: high
#   remediation: >-
#     Resolve or reassign the user's open incidents. Remove the user from the schedule layers
#     and escalation rules in a first apply (terraform apply -target=<the schedules and escalation
#     policies>, or in the web UI for those Terraform does not manage), then delete the user.
package pdguard.plan.user_in_use

import data.pdguard.lib

deny contains lib.plan_finding(msg, r, {"reason": "open_incidents"}) if {
	some r in lib.removals
	r.type == "user"
	n := count(lib.open_incidents_assigned_to[r.id])
	msg := sprintf(
		"user %q is deleted with %d open incident(s) assigned: PagerDuty refuses to delete a user with assigned incidents (DELETE /users/{id} returns 400)",
		[lib.plan_resource(r).name, n],
	)
}

deny contains lib.plan_finding(msg, r, {"reason": "schedule", "schedule": s.id}) if {
	some r in lib.removals
	r.type == "user"
	some s in lib.schedule_before
	r.id in lib.schedule_users_of(s)
	not lib.removed_by_plan("schedule", s.id)
	msg := sprintf(
		"user %q is deleted while still on schedule %q: Terraform deletes the user before it updates the schedule, and PagerDuty refuses to delete a user who is on a schedule",
		[lib.plan_resource(r).name, lib.name(s)],
	)
}

deny contains lib.plan_finding(msg, r, {"reason": "schedule", "schedule": s.id}) if {
	some r in lib.removals
	r.type == "user"
	some s in lib.flexible_schedule_before
	r.id in lib.flexible_schedule_users_of(s)
	not lib.removed_by_plan("flexible_schedule", s.id)
	msg := sprintf(
		"user %q is deleted while still on flexible schedule %q: Terraform deletes the user before it updates the schedule, and PagerDuty refuses to delete a user who is on a schedule",
		[lib.plan_resource(r).name, lib.name(s)],
	)
}

deny contains lib.plan_finding(msg, r, {"reason": "escalation_policy", "escalation_policy": ep_id}) if {
	some r in lib.removals
	r.type == "user"
	some ep_id in lib.escalation_policies_targeting_before[r.id]
	not lib.removed_by_plan("escalation_policy", ep_id)
	msg := sprintf(
		"user %q is deleted while escalation policy %q still targets them: Terraform deletes the user before it updates the policy, and PagerDuty refuses to delete a user an escalation policy targets",
		[lib.plan_resource(r).name, lib.name(lib.escalation_policy_before[ep_id])],
	)
}
