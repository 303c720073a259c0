package pdguard.iac.unmanaged_test

import data.pdguard.iac.unmanaged as policy

iac := {"sources": ["terraform.tfstate"], "resources": {
	"service": {
		"PSVC001": {"status": "unmanaged", "address": null, "drift": []},
		"PSVC002": {"status": "codified", "address": "pagerduty_service.web", "drift": []},
		"PSVC003": {"status": "drifted", "address": "pagerduty_service.db", "drift": ["description"]},
	},
	"escalation_policy": {"PEP0001": {"status": "unmanaged"}},
}, "ghosts": []}

services := [{"id": "PSVC001", "name": "api"}, {"id": "PSVC002", "name": "web"}, {"id": "PSVC003", "name": "db"}]

test_unmanaged_service_denied if {
	d := policy.deny with input as {"services": services, "iac": iac} with data.pdguard.config as {}
	count(d) == 1
	some f in d
	f.resource == {"type": "service", "id": "PSVC001", "name": "api"}
}

test_managed_passes if {
	managed := json.patch(iac, [{"op": "replace", "path": "/resources/service/PSVC001/status", "value": "codified"}])
	d := policy.deny with input as {"services": services, "iac": managed} with data.pdguard.config as {}
	count(d) == 0
}

test_no_iac_data if {
	count(policy.deny) == 0 with input as {"services": services, "iac": null} with data.pdguard.config as {}
	count(policy.deny) == 0 with input as {"services": services} with data.pdguard.config as {}
	count(policy.deny) == 0 with input as {"services": services, "iac": {"resources": {}}} with data.pdguard.config as {}
}
