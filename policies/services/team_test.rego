package pdguard.services.team_test

import data.pdguard.services.team as policy

svcs := [
	{"id": "PSVC001", "name": "api", "teams": []},
	{"id": "PSVC002", "name": "web", "teams": [{"id": "PTEAM01", "type": "team", "name": "Payments", "summary": "Payments"}]},
	{"id": "PSVC003", "name": "db", "teams": [{"id": "PTEAM02", "type": "team_reference", "summary": "Platform"}]},
	{"id": "PSVC004", "name": "old"},
]

test_no_team_denied if {
	d := policy.deny with input as {"services": svcs} with data.pdguard.config as {"required_team": ""}
	count(d) == 2
	{f.resource.id | some f in d} == {"PSVC001", "PSVC004"}
}

test_required_team_by_name if {
	d := policy.deny with input as {"services": svcs} with data.pdguard.config as {"required_team": "Payments"}
	count(d) == 3
	{f.resource.id | some f in d} == {"PSVC001", "PSVC003", "PSVC004"}
	some f in d
	f.resource.id == "PSVC003"
	f.details == {"required_team": "Payments"}
}

test_required_team_by_id if {
	d := policy.deny with input as {"services": svcs} with data.pdguard.config as {"required_team": "PTEAM02"}
	{f.resource.id | some f in d} == {"PSVC001", "PSVC002", "PSVC004"}
}

test_owned_passes if {
	inp := {"services": [svcs[1], svcs[2]]}
	d := policy.deny with input as inp with data.pdguard.config as {"required_team": ""}
	count(d) == 0
}
