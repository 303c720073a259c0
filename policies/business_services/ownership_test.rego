package pdguard.business_services.ownership_test

import data.pdguard.business_services.ownership as policy
import data.pdguard.lib.testing

bs(id, poc, team) := {"id": id, "type": "business_service", "name": id, "description": "d", "point_of_contact": poc, "team": team}

team := {"id": "PTM0001", "type": "team_reference", "self": "https://api.pagerduty.com/teams/PTM0001"}

test_missing_contact_or_team_denied if {
	inp := testing.snapshot({"business_services": [
		bs("PBS0001", "Pat (payments lead)", team),
		bs("PBS0002", "", team),
		bs("PBS0003", "Pat", null),
		bs("PBS0004", null, null),
		{"id": "PBS0005", "type": "business_service", "name": "bare"},
	]})
	d := policy.deny with input as inp
	testing.assert_ids(d, {"PBS0002", "PBS0003", "PBS0004", "PBS0005"})
	testing.assert_finding(d, "PBS0002", {"msg": "business service \"PBS0002\" has no point of contact", "details": {"missing": ["point_of_contact"]}})
	testing.assert_finding(d, "PBS0003", {"msg": "business service \"PBS0003\" has no owning team", "details": {"missing": ["team"]}})
	testing.assert_finding(d, "PBS0004", {
		"msg": "business service \"PBS0004\" has no point of contact and no owning team",
		"details": {"missing": ["point_of_contact", "team"]},
	})
}
