package pdguard.services.escalation_policy_test

import data.pdguard.lib.testing
import data.pdguard.services.escalation_policy as policy

svc(id, ep) := {"id": id, "type": "service", "name": id, "escalation_policy": ep}

test_null_ep_denied if {
	inp := testing.snapshot({"services": [
		svc("PSVC001", null),
		svc("PSVC002", testing.escalation_policy_ref("PEP0001")),
	]})
	d := policy.deny with input as inp
	testing.assert_ids(d, {"PSVC001"})
	testing.assert_finding(d, "PSVC001", {
		"msg": "service \"PSVC001\" has no escalation policy: its incidents page nobody",
		"resource": {"type": "service", "id": "PSVC001", "name": "PSVC001"},
	})
}

test_missing_and_empty_ep_denied if {
	inp := testing.snapshot({"services": [
		{"id": "PSVC001", "type": "service", "name": "a"},
		svc("PSVC002", {}),
		svc("PSVC003", {"id": "", "type": "escalation_policy_reference"}),
	]})
	testing.assert_ids(policy.deny, {"PSVC001", "PSVC002", "PSVC003"}) with input as inp
}

# The reference is what counts: a policy that is not in the snapshot (escalation policies not
# collected) is still an escalation policy.
test_reference_to_uncollected_policy_passes if {
	inp := testing.snapshot_without({"services": [svc("PSVC002", testing.escalation_policy_ref("PEP0001"))]}, ["escalation_policies"])
	testing.assert_empty(policy.deny) with input as inp
}
