package pdguard.users.pending_invitation_test

import data.pdguard.lib.testing
import data.pdguard.users.pending_invitation as policy

invited(id) := testing.user(id, {"invitation_sent": true})

account(users) := testing.snapshot({
	"users": users,
	"schedules": [testing.schedule("PSCH001", [testing.layer(["PUSR001"], null)])],
	"escalation_policies": [testing.escalation_policy("PEP0001", [[testing.schedule_ref("PSCH001")], [testing.user_ref("PUSR002")]])],
	"oncalls": [testing.oncall("PEP0001", 1, "PUSR003", "PSCH001")],
})

test_invited_responders_denied if {
	inp := account([invited("PUSR001"), invited("PUSR002"), invited("PUSR003"), invited("PUSR004"), testing.user("PUSR005", {})])
	d := policy.deny with input as inp
	testing.assert_ids(d, {"PUSR001", "PUSR002", "PUSR003"})
	testing.assert_finding(d, "PUSR001", {
		"msg": "user \"PUSR001\" is on call but has not accepted their invitation to PagerDuty",
		"resource": {"type": "user", "id": "PUSR001", "name": "PUSR001"},
	})
}

test_accepted_or_not_pageable_pass if {
	inp := account([
		testing.user("PUSR001", {}),
		object.union(invited("PUSR002"), {"contact_methods": []}), # PDG-EP-003's finding
		object.union(invited("PUSR003"), {"role": "observer"}),
	])
	testing.assert_empty(policy.deny) with input as inp
}
