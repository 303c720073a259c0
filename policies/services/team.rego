# METADATA
# title: Service is owned by a team
# description: >-
#   Team ownership tells responders and stakeholders who is accountable for a service,
#   drives team-scoped permissions, analytics and the service directory. Ownerless services
#   rot. A service's teams are those of its escalation policy (read-only on the service). One
#   root cause, one finding: an escalation policy without a team that several services share
#   is reported once, on the policy, by PDG-TEAM-002; a service without an escalation policy
#   by PDG-SVC-002. When the setting required_team is set, every service must also belong to
#   that team.
# custom:
#   id: PDG-SVC-003
#   severity: medium
#   settings: [required_team]
#   remediation: >-
#     A service belongs to the team of its escalation policy - its teams cannot be set on the
#     service itself (PUT /services/{id} ignores them). Give the escalation policy the owning
#     team, or move the service to an escalation policy of that team: in the PagerDuty web UI
#     People > Escalation Policies > the policy > Edit > Team, or the service > Settings >
#     Assign escalation policy; via the REST API PUT /escalation_policies/{id} with
#     {"escalation_policy": {"teams": [{"id": "PTEAM01", "type": "team_reference"}]}} or
#     PUT /services/{id} with another escalation_policy; with Terraform set teams on the
#     pagerduty_escalation_policy, or escalation_policy on the pagerduty_service.
package pdguard.services.team

import data.pdguard.lib

deny contains lib.finding(message(svc), "service", svc) if {
	some svc in input.services
	not in_a_team(svc)
	lib.has_escalation_policy(svc)
	not shared_policy_without_team(svc)
}

deny contains lib.finding_with(msg, "service", svc, {"required_team": wanted}) if {
	wanted := lib.setting("required_team")
	wanted != ""
	some svc in input.services
	in_a_team(svc)
	not in_team(svc, wanted)
	judged_by_name(svc)
	msg := sprintf("service %q does not belong to the required team %q", [lib.name(svc), wanted])
}

in_a_team(svc) if count(object.get(svc, "teams", [])) > 0

shared_policy_without_team(svc) if {
	ep := lib.escalation_policy_of(svc)
	count(object.get(ep, "teams", [])) == 0
	lib.shared_escalation_policy(ep)
}

message(svc) := sprintf(
	"service %q does not belong to any team: its escalation policy %q has none",
	[lib.name(svc), lib.name(ep)],
) if {
	ep := lib.escalation_policy_of(svc)
	count(object.get(ep, "teams", [])) == 0
} else := sprintf("service %q does not belong to any team", [lib.name(svc)])

# the required team is named by id or name
in_team(svc, wanted) if {
	some ref in svc.teams
	wanted in {ref.id, object.get(ref, "summary", null)}
}

in_team(svc, wanted) if {
	some ref in svc.teams
	lib.team[ref.id].name == wanted
}

# a team reference is named by its summary, or by the team (when teams were collected)
judged_by_name(_) if lib.collected("teams")

judged_by_name(svc) if every ref in svc.teams {
	lib.has_text(object.get(ref, "summary", null))
}
