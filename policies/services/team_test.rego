package pdguard.services.team_test

import data.pdguard.lib.testing
import data.pdguard.services.team as policy

teams := [{"id": "PTM0001", "type": "team", "name": "Payments"}, {"id": "PTM0002", "type": "team", "name": "Platform"}]

svcs := [
	{"id": "PSVC001", "type": "service", "name": "api", "teams": []},
	{"id": "PSVC002", "type": "service", "name": "web", "teams": [testing.team_ref("PTM0001")]},
	{"id": "PSVC003", "type": "service", "name": "db", "teams": [object.union(testing.team_ref("PTM0002"), {"summary": "Platform"})]},
	{"id": "PSVC004", "type": "service", "name": "old"},
]

test_no_team_denied if {
	inp := testing.snapshot({"services": svcs, "teams": teams})
	d := policy.deny with input as inp with data.pdguard.config as {"required_team": ""}
	testing.assert_ids(d, {"PSVC001", "PSVC004"})
	testing.assert_finding(d, "PSVC001", {"msg": "service \"api\" does not belong to any team"})
}

test_required_team_by_name if {
	inp := testing.snapshot({"services": svcs, "teams": teams})
	d := policy.deny with input as inp with data.pdguard.config as {"required_team": "Payments"}
	testing.assert_ids(d, {"PSVC001", "PSVC003", "PSVC004"})
	testing.assert_finding(d, "PSVC003", {
		"msg": "service \"db\" does not belong to the required team \"Payments\"",
		"details": {"required_team": "Payments"},
	})
}

test_required_team_by_summary_when_teams_not_collected if {
	inp := testing.snapshot_without({"services": svcs}, ["teams"])
	testing.assert_ids(policy.deny, {"PSVC001", "PSVC002", "PSVC004"}) with input as inp
		with data.pdguard.config as {"required_team": "Platform"}
}

test_required_team_by_id if {
	inp := testing.snapshot({"services": svcs, "teams": teams})
	testing.assert_ids(policy.deny, {"PSVC001", "PSVC002", "PSVC004"}) with input as inp
		with data.pdguard.config as {"required_team": "PTM0002"}
}

test_owned_passes if {
	inp := testing.snapshot({"services": [svcs[1], svcs[2]], "teams": teams})
	testing.assert_empty(policy.deny) with input as inp with data.pdguard.config as {"required_team": ""}
}
