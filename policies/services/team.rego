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

team_matches(team, wanted) if object.get(team, "id", null) == wanted

team_matches(team, wanted) if object.get(team, "name", null) == wanted

team_matches(team, wanted) if object.get(team, "summary", null) == wanted

in_team(svc, wanted) if {
	some team in object.get(svc, "teams", [])
	team_matches(team, wanted)
}

deny contains f if {
	some svc in input.services
	count(object.get(svc, "teams", [])) == 0
	name := object.get(svc, "name", "")
	f := {
		"msg": sprintf("service %q does not belong to any team", [name]),
		"resource": {"type": "service", "id": svc.id, "name": name},
	}
}

deny contains f if {
	wanted := data.pdguard.config.required_team
	wanted != ""
	some svc in input.services
	count(object.get(svc, "teams", [])) > 0
	not in_team(svc, wanted)
	name := object.get(svc, "name", "")
	f := {
		"msg": sprintf("service %q does not belong to the required team %q", [name, wanted]),
		"resource": {"type": "service", "id": svc.id, "name": name},
		"details": {"required_team": wanted},
	}
}
