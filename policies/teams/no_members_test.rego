package pdguard.teams.no_members_test

import data.pdguard.teams.no_members as policy

member(id) := {"user": {"id": id, "type": "user_reference"}, "role": "responder"}

test_empty_team_denied if {
	inp := {"teams": [
		{"id": "PTEAM01", "name": "Ghost", "members": []},
		{"id": "PTEAM02", "name": "Payments", "members": [member("PUSER01")]},
	]}
	d := policy.deny with input as inp with data.pdguard.config as {"min_team_members": 1}
	count(d) == 1
	some f in d
	f.resource == {"type": "team", "id": "PTEAM01", "name": "Ghost"}
	f.details == {"members": 0, "min_members": 1}
}

test_staffed_team_passes if {
	inp := {"teams": [{"id": "PTEAM02", "name": "Payments", "members": [member("PUSER01")]}]}
	d := policy.deny with input as inp with data.pdguard.config as {"min_team_members": 1}
	count(d) == 0
}

test_min_is_configurable_and_missing_members if {
	inp := {"teams": [{"id": "PTEAM02", "name": "Payments", "members": [member("PUSER01")]}, {"id": "PTEAM03", "name": "New"}]}
	d := policy.deny with input as inp with data.pdguard.config as {"min_team_members": 2}
	count(d) == 2
}
