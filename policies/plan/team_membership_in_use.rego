# METADATA
# title: A planned team membership removal is not blocked by the team's escalation policies
# description: >-
#   PagerDuty refuses to take a user out of a team while an escalation policy of that team pages
#   them ("User cannot be removed as they belong to an escalation policy on this team",
#   terraform-provider-pagerduty #558; since #863 the provider stops with "User ... can't be
#   removed from Team ... as they belong to an Escalation Policy on this team"), directly or
#   through a schedule the policy targets (#292). The membership is removed before, or at the
#   same time as, the escalation policy changes of the same plan (#224, #1119), so the apply
#   fails even when the plan also takes the user out of the policy.
# custom:
#   id: PDG-PLAN-003
#   severity: high
#   remediation: >-
#     Take the user out of the team's escalation policies (and of the schedules they target) in
#     a first apply (terraform apply -target=pagerduty_escalation_policy.<name>), then remove the
#     pagerduty_team_membership.
package pdguard.plan.team_membership_in_use

import data.pdguard.lib

deny contains lib.plan_finding(msg, r, {"reason": "escalation_policy", "escalation_policy": ep.id}) if {
	some r in lib.removals
	r.type == "team_membership"
	[uid, tid] := split(r.id, ":")
	some ep in lib.escalation_policy_before
	not lib.removed_by_plan("escalation_policy", ep.id)
	tid in lib.ids(object.get(ep, "teams", []))
	via := pages_through(ep, uid)
	msg := sprintf(
		"user %q is removed from team %q while the team's escalation policy %q pages them %s: PagerDuty refuses (\"User cannot be removed as they belong to an escalation policy on this team\")",
		[user_name(uid), team_name(tid), lib.name(ep), via],
	)
}

# pages_through(ep, uid): how the escalation policy pages the user (before the apply), once per
# policy: directly when it targets them, else through the first schedule that has them.
pages_through(ep, uid) := "directly" if {
	some t in lib.targets(ep)
	lib.is_user_target(t)
	t.id == uid
} else := sprintf("through schedule %q", [names[0]]) if {
	names := sort([lib.name(schedule_of(t)) |
		some t in lib.targets(ep)
		not lib.is_user_target(t)
		uid in lib.users_of_target_before(t)
	])
	count(names) > 0
}

schedule_of(t) := lib.schedule_before[t.id] if lib.is_schedule_target(t)

schedule_of(t) := lib.flexible_schedule_before[t.id] if lib.is_flexible_schedule_target(t)

user_name(uid) := lib.name(lib.user_before[uid]) if lib.user_before[uid]

else := uid

team_name(tid) := lib.name(lib.team[tid]) if lib.team[tid]

else := tid
