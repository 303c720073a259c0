# METADATA
# title: Team has members
# description: >-
#   A team with no members owns services and escalation policies that nobody on the team
#   can respond to or maintain; ownership is only nominal. Empty teams are also usually
#   leftovers that clutter permissions and reporting.
# custom:
#   id: PDG-TEAM-001
#   severity: low
#   remediation: >-
#     Add the responsible people to the team (web UI - People > Teams > the team > Add
#     Users; REST API PUT /teams/{id}/users/{user_id}; Terraform
#     pagerduty_team_membership), or delete the team if it is unused (DELETE /teams/{id} or
#     remove the pagerduty_team). The minimum is the setting min_team_members.
package pdguard.teams.no_members

deny contains f if {
	min_members := data.pdguard.config.min_team_members
	some team in input.teams
	members := count(object.get(team, "members", []))
	members < min_members
	name := object.get(team, "name", "")
	f := {
		"msg": sprintf("team %q has %d member(s), fewer than %d", [name, members, min_members]),
		"resource": {"type": "team", "id": team.id, "name": name},
		"details": {"members": members, "min_members": min_members},
	}
}
