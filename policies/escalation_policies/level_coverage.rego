# METADATA
# title: Every escalation level has someone on call over the next week
# description: >-
#   An escalation level pages all its targets: it is covered when at least one of them has
#   someone on call - a user target always, a schedule or flexible schedule during its shifts.
#   Where none has, an incident escalated to the level reaches nobody. Judged per level from the
#   shifts PagerDuty computes for the 7 days after the scan (overrides included), so two
#   restricted schedules that cover the day together (follow the sun) pass. A level whose only
#   target is a schedule is judged on the schedule (PDG-SCH-002, one finding per schedule); an
#   empty level is PDG-EP-002's, a first level with nobody on call right now PDG-EP-007's, a
#   policy no service uses PDG-EP-006's.
# custom:
#   id: PDG-EP-008
#   severity: high
#   settings: [min_schedule_coverage_percent]
#   remediation: >-
#     Cover the gaps listed: extend a target schedule's restrictions or layers (People >
#     On-Call Schedules > the schedule > Edit; PUT /schedules/{id}; Terraform the
#     pagerduty_schedule's layer and restriction blocks), or add a target that covers them to
#     the level - a schedule of another time zone, or a user (People > Escalation Policies >
#     the policy > Edit; PUT /escalation_policies/{id}; Terraform the rule's target blocks).
#     The threshold is the setting min_schedule_coverage_percent.
package pdguard.escalation_policies.level_coverage

import data.pdguard.lib

deny contains lib.finding_with(msg, "escalation_policy", ep, {"level": n, "min_coverage_percent": min_pct}) if {
	min_pct := lib.setting("min_schedule_coverage_percent")
	some ep in input.escalation_policies
	not lib.unused_escalation_policy(ep)
	some i, rule in lib.levels(ep)
	judged_here(ep, i, rule)
	gaps := lib.gaps(lib.level_shifts(rule))
	pct := lib.covered_percent(gaps)
	pct < min_pct
	n := i + 1
	msg := sprintf(
		"level %d of escalation policy %q has nobody on call for %s over the next %d days (%v%% covered, minimum %v%%)",
		[n, lib.name(ep), lib.gaps_text(gaps), lib.window_days, pct, min_pct],
	)
}

# levels with several targets, or one that is not a schedule (PDG-SCH-002 judges a schedule
# alone on its level, PDG-EP-002 an empty level, PDG-EP-007 a first level silent right now)
judged_here(ep, i, rule) if {
	not lib.pages_nobody(rule)
	not lib.sole_schedule(rule)
	not silent_first_level(ep, i)
}

silent_first_level(ep, 0) if lib.nobody_on_call_now(ep)
