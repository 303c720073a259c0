# METADATA
# title: Team has members
# description: >-
#   A team with no members owns services and escalation policies that nobody on the team
#   can respond to or maintain; ownership is only nominal. Empty teams are also usually
#   leftovers that clutter permissions and reporting.
# custom:
#   id: PDG-TEAM-001
#   severity: low
#   settings: [min_team_members]
#   remediation: >-
#     Add the responsible people to the team (web UI - People > Teams > the team > Add
#     Users; REST API PUT /teams/{id}/users/{user_id}; Terraform
#     pagerduty_team_membership), or delete the team if it is unused (DELETE /teams/{id} or
#     remove the pagerduty_team). The minimum is the setting min_team_members.
package pdguard.teams.no_members

import data.pdguard.lib

# Members are derived from the users' teams: without users, a team's membership is unknown.
deny contains lib.finding_with(msg, "team", team, {"members": members, "min_members": min_members}) if {
	lib.collected("users")
	min_members := lib.setting("min_team_members")
	some team in input.teams
	members := count(lib.member_ids(team))
	members < min_members
	msg := sprintf("team %q has %d member(s), fewer than %d", [lib.name(team), members, min_members])
}
