# METADATA
# title: Service is owned by a team
# description: >-
#   Team ownership tells responders and stakeholders who is accountable for a service,
#   drives team-scoped permissions, analytics and the service directory. Ownerless services
#   rot. When the setting required_team is set, every service must also belong to that team.
# custom:
#   id: PDG-SVC-003
#   severity: medium
#   remediation: >-
#     Add the service to its owning team: in the PagerDuty web UI open the service >
#     Settings > Edit > Team; via the REST API PUT /services/{id} with
#     {"service": {"teams": [{"id": "PTEAM01", "type": "team_reference"}]}} (teams are
#     also inherited from the escalation policy's team); with Terraform set the team on the
#     pagerduty_escalation_policy (teams) used by the service.
package pdguard.services.team

import data.pdguard.lib

deny contains lib.finding(msg, "service", svc) if {
	some svc in input.services
	not in_a_team(svc)
	msg := sprintf("service %q does not belong to any team", [lib.name(svc)])
}

deny contains lib.finding_with(msg, "service", svc, {"required_team": wanted}) if {
	wanted := lib.setting("required_team")
	wanted != ""
	some svc in input.services
	in_a_team(svc)
	not in_team(svc, wanted)
	msg := sprintf("service %q does not belong to the required team %q", [lib.name(svc), wanted])
}

in_a_team(svc) if count(svc.teams) > 0

# the required team is named by id or name
in_team(svc, wanted) if {
	some ref in svc.teams
	wanted in {ref.id, object.get(ref, "summary", null)}
}

in_team(svc, wanted) if {
	some ref in svc.teams
	lib.team[ref.id].name == wanted
}
