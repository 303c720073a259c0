package pdguard.iac.unmanaged_test

import data.pdguard.iac.unmanaged as policy
import data.pdguard.lib.testing

iac := {
	"sources": ["terraform.tfstate"], "resources": {
		"service": {
			"PSVC001": {"status": "unmanaged", "address": null, "drift": []},
			"PSVC002": {"status": "codified", "address": "pagerduty_service.web", "drift": []},
			"PSVC003": {"status": "drifted", "address": "pagerduty_service.db", "drift": ["description"]},
		},
		"escalation_policy": {"PEP0001": {"status": "unmanaged", "address": null, "drift": []}},
	},
	"ghosts": [],
}

services := [
	{"id": "PSVC001", "type": "service", "name": "api"},
	{"id": "PSVC002", "type": "service", "name": "web"},
	{"id": "PSVC003", "type": "service", "name": "db"},
]

account(iac_block) := object.union(testing.snapshot({"services": services}), {"iac": iac_block})

test_unmanaged_service_denied if {
	inp := account(iac)
	testing.assert_ids(policy.deny, {"PSVC001"}) with input as inp
	testing.assert_finding(policy.deny, "PSVC001", {
		"msg": "service \"api\" is not managed by Terraform",
		"resource": {"type": "service", "id": "PSVC001", "name": "api"},
	}) with input as inp
}

test_managed_passes if {
	managed := json.patch(iac, [{"op": "replace", "path": "/resources/service/PSVC001/status", "value": "codified"}])
	testing.assert_empty(policy.deny) with input as account(managed)
}

test_no_iac_data if {
	testing.assert_empty(policy.deny) with input as account(null)
	testing.assert_empty(policy.deny) with input as account({"resources": {}})
	testing.assert_empty(policy.deny) with input as testing.snapshot({"services": services})
}
