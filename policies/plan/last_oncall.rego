# METADATA
# title: A plan does not leave an escalation level with no one to page
# description: >-
#   An escalation level pages the users it targets and the people of the schedules it targets.
#   A plan that removes a level's last user target, deletes the users or the schedule it
#   relies on, or empties that schedule (its layers end, its people leave) leaves the level
#   paging no one after the apply: incidents reaching it wait for the next level - or for
#   nobody, when it was the only one. PagerDuty accepts such a change without a word.
# custom:
#   id: PDG-PLAN-006
#   severity: high
#   remediation: >-
#     Keep at least one user, or a schedule with current people, on every level: add the new
#     target in the same change that removes the old one, or remove the level itself if it is
#     no longer wanted.
package pdguard.plan.last_oncall

import data.pdguard.lib

deny contains lib.finding_with(msg, "escalation_policy", ep, {"level": n}) if {
	count(lib.plan_changes) > 0
	lib.all_collected(["escalation_policies", "schedules", "users"])
	some ep in input.escalation_policies
	before := lib.escalation_policy_before[ep.id]
	some i, rule in lib.levels(ep)
	count(lib.existing_users_of_level(rule)) == 0
	had := lib.users_of_level_before(lib.levels(before)[i])
	count(had) > 0
	n := i + 1
	msg := sprintf(
		"level %d of escalation policy %q pages %s today and no one after the apply",
		[n, lib.name(ep), concat(", ", sort([user_name(uid) | some uid in had]))],
	)
}

user_name(uid) := lib.name(lib.user_before[uid]) if lib.user_before[uid]

else := uid
