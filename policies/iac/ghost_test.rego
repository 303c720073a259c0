package pdguard.iac.ghost_test

import data.pdguard.iac.ghost as policy

test_ghosts_denied if {
	inp := {"iac": {"resources": {}, "ghosts": [
		{"type": "service", "id": "PGONE01", "address": "pagerduty_service.old", "file": null, "line": null},
		{"type": "schedule", "id": "PGONE02", "address": "pagerduty_schedule.legacy", "file": "main.tf", "line": 40},
	]}}
	d := policy.deny with input as inp with data.pdguard.config as {}
	count(d) == 2
	some f in d
	f.resource == {"type": "service", "id": "PGONE01", "name": "pagerduty_service.old"}
	f.details == {"address": "pagerduty_service.old"}
}

test_no_ghosts_passes if {
	count(policy.deny) == 0 with input as {"iac": {"resources": {}, "ghosts": []}} with data.pdguard.config as {}
	count(policy.deny) == 0 with input as {"iac": {"resources": {}}} with data.pdguard.config as {}
	count(policy.deny) == 0 with input as {"iac": null} with data.pdguard.config as {}
}

test_missing_address if {
	d := policy.deny with input as {"iac": {"ghosts": [{"type": "team", "id": "PGONE03"}]}} with data.pdguard.config as {}
	count(d) == 1
	some f in d
	f.resource == {"type": "team", "id": "PGONE03", "name": "PGONE03"}
}
