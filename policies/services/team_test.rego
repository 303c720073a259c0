package pdguard.services.team_test

import data.pdguard.lib.testing
import data.pdguard.services.team as policy

teams := [{"id": "PTM0001", "type": "team", "name": "Payments"}, {"id": "PTM0002", "type": "team", "name": "Platform"}]

# PEP0001 belongs to Payments, PEP0002 to Platform, PEP0003 and PEP0004 to no team
eps := [
	object.union(testing.escalation_policy("PEP0001", [[testing.user_ref("PUSR001")]]), {"teams": [testing.team_ref("PTM0001")]}),
	object.union(testing.escalation_policy("PEP0002", [[testing.user_ref("PUSR001")]]), {"teams": [testing.team_ref("PTM0002")]}),
	testing.escalation_policy("PEP0003", [[testing.user_ref("PUSR001")]]),
	testing.escalation_policy("PEP0004", [[testing.user_ref("PUSR001")]]),
]

svc(id, ep_id, team_refs) := testing.service(id, {"escalation_policy": testing.escalation_policy_ref(ep_id), "teams": team_refs})

# A service's teams follow its escalation policy's team (read-only on the service)
svcs := [
	svc("PSVC002", "PEP0001", [testing.team_ref("PTM0001")]),
	svc("PSVC003", "PEP0002", [object.union(testing.team_ref("PTM0002"), {"summary": "Platform"})]),
	svc("PSVC005", "PEP0003", []), # PEP0003 is shared by two services without a team
	svc("PSVC006", "PEP0003", []),
]

# issue 10 #10: the service has no team although its escalation policy has one (or the policy
# is not in the snapshot): reported here, and the remediation does not tell to PUT teams on the
# service (read-only).
test_no_team_denied if {
	more := [svc("PSVC001", "PEP0001", []), svc("PSVC004", "PGONE01", []), svc("PSVC007", "PEP0004", [])]
	inp := testing.snapshot({"services": array.concat(svcs, more), "teams": teams, "escalation_policies": eps})
	d := policy.deny with input as inp with data.pdguard.config as {"required_team": ""}
	testing.assert_ids(d, {"PSVC001", "PSVC004", "PSVC007"})
	testing.assert_finding(d, "PSVC001", {"msg": "service \"PSVC001\" does not belong to any team"})
	testing.assert_finding(d, "PSVC007", {"msg": "service \"PSVC007\" does not belong to any team: its escalation policy \"PEP0004\" has none"})
}

# One root cause, one finding: an escalation policy without a team that several services share
# is PDG-TEAM-002's finding (on the policy), a service without an escalation policy PDG-SVC-002's.
test_left_to_the_escalation_policy if {
	no_ep := testing.service("PSVC008", {"escalation_policy": null, "teams": []})
	inp := testing.snapshot({"services": [svcs[2], svcs[3], no_ep], "teams": teams, "escalation_policies": eps})
	testing.assert_empty(policy.deny) with input as inp with data.pdguard.config as {"required_team": ""}
}

test_required_team_by_name if {
	inp := testing.snapshot({"services": svcs, "teams": teams, "escalation_policies": eps})
	d := policy.deny with input as inp with data.pdguard.config as {"required_team": "Payments"}
	testing.assert_ids(d, {"PSVC003"})
	testing.assert_finding(d, "PSVC003", {
		"msg": "service \"PSVC003\" does not belong to the required team \"Payments\"",
		"details": {"required_team": "Payments"},
	})
}

# Without the teams collection a team reference is matched by its summary; a reference without
# one cannot be judged.
test_required_team_when_teams_not_collected if {
	inp := testing.snapshot_without({"services": svcs, "escalation_policies": eps}, ["teams"])
	testing.assert_ids(policy.deny, {"PSVC002"}) with input as inp with data.pdguard.config as {"required_team": "Platform"}
	bare := [svc("PSVC007", "PEP0001", [{"id": "PTM0001", "type": "team_reference"}])]
	unknown := testing.snapshot_without({"services": bare, "escalation_policies": eps}, ["teams"])
	testing.assert_empty(policy.deny) with input as unknown with data.pdguard.config as {"required_team": "Platform"}
}

test_required_team_by_id if {
	inp := testing.snapshot({"services": svcs, "teams": teams, "escalation_policies": eps})
	testing.assert_ids(policy.deny, {"PSVC002"}) with input as inp with data.pdguard.config as {"required_team": "PTM0002"}
}

test_owned_passes if {
	inp := testing.snapshot({"services": [svcs[0], svcs[1]], "teams": teams, "escalation_policies": eps})
	testing.assert_empty(policy.deny) with input as inp with data.pdguard.config as {"required_team": ""}
}
