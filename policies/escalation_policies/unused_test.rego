package pdguard.escalation_policies.unused_test

import data.pdguard.escalation_policies.unused as policy
import data.pdguard.lib.testing

eps := [
	testing.escalation_policy("PEP0001", [[testing.user_ref("PUSR001")]]),
	testing.escalation_policy("PEP0002", [[testing.user_ref("PUSR001")]]),
]

test_unused_denied if {
	inp := testing.snapshot({"escalation_policies": eps, "services": [testing.service("PSVC001", {})]})
	d := policy.deny with input as inp
	testing.assert_ids(d, {"PEP0002"})
	testing.assert_finding(d, "PEP0002", {
		"msg": "escalation policy \"PEP0002\" is used by no service: it pages nobody",
		"resource": {"type": "escalation_policy", "id": "PEP0002", "name": "PEP0002"},
	})
}

# A disabled service still uses its policy (re-enabling it pages through it).
test_used_by_any_service_passes if {
	inp := testing.snapshot({"escalation_policies": eps, "services": [
		testing.service("PSVC001", {}),
		testing.service("PSVC002", {"status": "disabled", "escalation_policy": testing.escalation_policy_ref("PEP0002")}),
	]})
	testing.assert_empty(policy.deny) with input as inp
}

test_services_not_collected_judges_nothing if {
	inp := testing.snapshot_without({"escalation_policies": eps}, ["services"])
	testing.assert_empty(policy.deny) with input as inp
}
