package pdguard.services.integrations_test

import data.pdguard.services.integrations as policy

test_no_integrations_denied if {
	inp := {"services": [
		{"id": "PSVC001", "name": "a", "integrations": []},
		{"id": "PSVC002", "name": "b", "integrations": [{"id": "PINT001", "type": "events_api_v2_inbound_integration"}]},
	]}
	d := policy.deny with input as inp with data.pdguard.config as {}
	count(d) == 1
	some f in d
	f.resource == {"type": "service", "id": "PSVC001", "name": "a"}
}

test_integrated_passes if {
	inp := {"services": [{"id": "PSVC002", "name": "b", "integrations": [{"id": "PINT001", "type": "integration_reference"}]}]}
	d := policy.deny with input as inp with data.pdguard.config as {}
	count(d) == 0
}

test_missing_field_denied if {
	d := policy.deny with input as {"services": [{"id": "PSVC003", "name": "c"}]} with data.pdguard.config as {}
	count(d) == 1
}
