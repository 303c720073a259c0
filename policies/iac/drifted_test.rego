package pdguard.iac.drifted_test

import data.pdguard.iac.drifted as policy

iac := {"resources": {
	"service": {
		"PSVC001": {"status": "drifted", "address": "pagerduty_service.api", "drift": ["name", "description"], "file": "main.tf", "line": 3},
		"PSVC002": {"status": "codified", "address": "pagerduty_service.web", "drift": []},
		"PSVC003": {"status": "unmanaged"},
	},
	"escalation_policy": {"PEP0001": {"status": "drifted", "address": "pagerduty_escalation_policy.primary", "drift": ["num_loops"]}},
}, "ghosts": []}

test_drifted_assets_denied if {
	inp := {"services": [{"id": "PSVC001", "name": "api"}], "escalation_policies": [{"id": "PEP0001", "name": "Primary"}], "iac": iac}
	d := policy.deny with input as inp with data.pdguard.config as {}
	count(d) == 2
	some f in d
	f.resource == {"type": "service", "id": "PSVC001", "name": "api"}
	f.details == {"address": "pagerduty_service.api", "drift": ["description", "name"]}
	some g in d
	g.resource == {"type": "escalation_policy", "id": "PEP0001", "name": "Primary"}
	g.details == {"address": "pagerduty_escalation_policy.primary", "drift": ["num_loops"]}
}

test_in_sync_passes if {
	inp := {"iac": {"resources": {"service": {"PSVC002": {"status": "codified", "address": "pagerduty_service.web", "drift": []}}}}}
	count(policy.deny) == 0 with input as inp with data.pdguard.config as {}
}

test_missing_fields_and_unknown_objects if {
	inp := {"iac": {"resources": {"schedule": {"PSCH001": {"status": "drifted"}}}}}
	d := policy.deny with input as inp with data.pdguard.config as {}
	count(d) == 1
	some f in d
	f.resource == {"type": "schedule", "id": "PSCH001", "name": "PSCH001"}
	f.details == {"address": null, "drift": []}
}

test_no_iac if {
	count(policy.deny) == 0 with input as {"iac": null} with data.pdguard.config as {}
	count(policy.deny) == 0 with input as {} with data.pdguard.config as {}
}
