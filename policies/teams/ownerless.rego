# METADATA
# title: Escalation policies and schedules belong to a team
# description: >-
#   An escalation policy or schedule without a team has no accountable owner, escapes
#   team-scoped permissions and reporting, and - for an escalation policy - leaves every
#   service using it without a team (a service's teams are its escalation policy's). One
#   finding per policy or schedule; escalation policies no service uses and schedules no
#   escalation policy targets are reported as unused instead (PDG-EP-006, PDG-SCH-003).
# custom:
#   id: PDG-TEAM-002
#   severity: medium
#   remediation: >-
#     Assign the owning team: in the PagerDuty web UI People > Escalation Policies (or
#     On-Call Schedules) > the object > Edit > Team; via the REST API
#     PUT /escalation_policies/{id} with {"escalation_policy": {"teams": [{"id": "PTEAM01",
#     "type": "team_reference"}]}} or PUT /schedules/{id} with the schedule's teams; with
#     Terraform set teams on the pagerduty_escalation_policy or pagerduty_schedule.
package pdguard.teams.ownerless

import data.pdguard.lib

deny contains lib.finding(msg, "escalation_policy", ep) if {
	some ep in input.escalation_policies
	without_team(ep)
	lib.shared_escalation_policy(ep)
	services := sort([lib.asset_name("service", id) | some id in lib.services_using(ep)])
	msg := sprintf(
		"escalation policy %q belongs to no team, so neither do the %d service(s) using it: %s",
		[lib.name(ep), count(services), concat(", ", services)],
	)
}

deny contains lib.finding(msg, "escalation_policy", ep) if {
	some ep in input.escalation_policies
	without_team(ep)
	not lib.collected("services")
	msg := sprintf("escalation policy %q belongs to no team", [lib.name(ep)])
}

deny contains lib.finding(msg, "schedule", s) if {
	some s in input.schedules
	without_team(s)
	not lib.unpaged_schedule(s)
	msg := sprintf("schedule %q belongs to no team", [lib.name(s)])
}

without_team(obj) if count(object.get(obj, "teams", [])) == 0
