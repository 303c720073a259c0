# METADATA
# title: A planned schedule deletion is not blocked by escalation policies
# description: >-
#   Terraform deletes a schedule before it updates the escalation policies that use it, so at
#   that moment PagerDuty still sees them. It refuses the DELETE ("Schedule can't be deleted if
#   it's being used by escalation policies", terraform-provider-pagerduty #534, #561) and, while
#   an escalation policy that used the schedule has open incidents, even after the policy is
#   changed ("Schedule can't be deleted if it's being used by an escalation policy snapshot with
#   open incidents", #567, #642, #902; the provider then lists the incidents: "You must first
#   resolve or reassign the following incidents related with Escalation Policies using this
#   Schedule"). The provider works around the first refusal by taking the schedule out of
#   policies with two levels or more - outside Terraform, dropping levels left without a target -
#   and stops for a policy with one level ("It is not possible to continue with the destruction
#   of the Schedule ... because it is being used by the Escalation Policy ... which has only one
#   layer configured", #1081), also when the plan changes that policy. The apply fails half-way
#   or leaves escalation policies changed behind Terraform's back. Replacing a schedule deletes
#   the old one the same way.
# custom:
#   id: PDG-PLAN-001
#   severity: high
#   remediation: >-
#     Resolve or reassign the open incidents first. Then take the schedule out of the escalation
#     policies in a first apply (terraform apply -target=pagerduty_escalation_policy.<name>, or
#     edit the policies not managed by this configuration in the web UI), and delete the schedule
#     in a second one. A one-level policy needs another target on that level first.
package pdguard.plan.schedule_in_use

import data.pdguard.lib

schedule_types := {"schedule", "flexible_schedule"}

# The escalation policies that use the schedule when Terraform deletes it: those that target
# it before the apply, except those the plan deletes (Terraform deletes them first).
in_use_by(r) := {ep_id |
	some ep_id in lib.escalation_policies_targeting_before[r.id]
	not lib.removed_by_plan("escalation_policy", ep_id)
}

deny contains lib.plan_finding(msg, r, {"reason": "open_incidents", "escalation_policy": ep_id}) if {
	some r in lib.removals
	r.type in schedule_types
	some ep_id in lib.escalation_policies_targeting_before[r.id]
	n := count(lib.open_incidents_of_escalation_policy[ep_id])
	msg := sprintf(
		"%s %q is deleted while escalation policy %q, which uses it, has %d open incident(s): PagerDuty refuses (\"Schedule can't be deleted if it's being used by an escalation policy snapshot with open incidents\")",
		[r.type, lib.plan_resource(r).name, ep_name(ep_id), n],
	)
}

deny contains lib.plan_finding(msg, r, {"reason": "only_level", "escalation_policy": ep_id}) if {
	some r in lib.removals
	r.type in schedule_types
	some ep_id in in_use_by(r)
	only_level(lib.escalation_policy_before[ep_id], r)
	msg := sprintf(
		"%s %q is deleted while escalation policy %q pages through it and cannot lose it: PagerDuty refuses (\"Schedule can't be deleted if it's being used by escalation policies\") and the provider does not take a schedule out of a one-level policy",
		[r.type, lib.plan_resource(r).name, ep_name(ep_id)],
	)
}

deny contains lib.plan_finding(msg, r, {"reason": "escalation_policy_changed_outside_terraform", "escalation_policy": ep_id}) if {
	some r in lib.removals
	r.type == "schedule"
	some ep_id in in_use_by(r)
	not only_level(lib.escalation_policy_before[ep_id], r)
	still_targets(lib.escalation_policy[ep_id], r.id)
	msg := sprintf(
		"schedule %q is deleted while escalation policy %q still uses it after the apply: PagerDuty refuses (\"Schedule can't be deleted if it's being used by escalation policies\") and the provider takes it out of the policy outside Terraform, dropping the levels left without a target",
		[lib.plan_resource(r).name, ep_name(ep_id)],
	)
}

# A flexible schedule (pagerduty_schedulev2): the provider's workaround is for classic schedules only.
deny contains lib.plan_finding(msg, r, {"reason": "in_use", "escalation_policy": ep_id}) if {
	some r in lib.removals
	r.type == "flexible_schedule"
	some ep_id in in_use_by(r)
	not only_level(lib.escalation_policy_before[ep_id], r)
	msg := sprintf(
		"flexible_schedule %q is deleted while escalation policy %q uses it: PagerDuty refuses to delete a schedule an escalation policy uses",
		[lib.plan_resource(r).name, ep_name(ep_id)],
	)
}

# The policy has fewer than two levels, or every level targets this schedule only: the
# provider refuses to take the schedule out of it.
only_level(ep, _) if count(lib.levels(ep)) < 2

only_level(ep, r) if {
	count(lib.levels(ep)) >= 2
	every rule in lib.levels(ep) {
		[t.id | some t in rule.targets] == [r.id]
	}
}

still_targets(ep, id) if {
	some t in lib.targets(ep)
	t.id == id
}

ep_name(id) := lib.name(lib.escalation_policy_before[id])
