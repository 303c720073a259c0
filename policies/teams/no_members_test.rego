package pdguard.teams.no_members_test

import data.pdguard.lib.testing
import data.pdguard.teams.no_members as policy

member(id) := {"user": testing.user_ref(id), "role": null}

teams := [
	{"id": "PTM0001", "type": "team", "name": "Ghost", "members": []},
	{"id": "PTM0002", "type": "team", "name": "Payments", "members": [member("PUSR001")]},
]

test_empty_team_denied if {
	inp := testing.snapshot({"teams": teams})
	d := policy.deny with input as inp with data.pdguard.config as {"min_team_members": 1}
	testing.assert_ids(d, {"PTM0001"})
	testing.assert_finding(d, "PTM0001", {
		"msg": "team \"Ghost\" has 0 member(s), fewer than 1",
		"resource": {"type": "team", "id": "PTM0001", "name": "Ghost"},
		"details": {"members": 0, "min_members": 1},
	})
}

test_min_is_configurable_and_missing_members if {
	inp := testing.snapshot({"teams": [teams[1], {"id": "PTM0003", "type": "team", "name": "New"}]})
	testing.assert_ids(policy.deny, {"PTM0002", "PTM0003"}) with input as inp with data.pdguard.config as {"min_team_members": 2}
}

# Members are derived from the users: without them every team would look empty.
test_users_not_collected_judges_nothing if {
	inp := testing.snapshot_without({"teams": teams}, ["users"])
	testing.assert_empty(policy.deny) with input as inp with data.pdguard.config as {"min_team_members": 1}
}
