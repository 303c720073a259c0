package pdguard.services.description_test

import data.pdguard.services.description as policy

test_missing_descriptions_denied if {
	inp := {"services": [
		{"id": "PSVC001", "name": "a"},
		{"id": "PSVC002", "name": "b", "description": null},
		{"id": "PSVC003", "name": "c", "description": "   "},
		{"id": "PSVC004", "name": "d", "description": "Handles checkout; runbook: https://wiki/x"},
	]}
	d := policy.deny with input as inp with data.pdguard.config as {}
	count(d) == 3
	{f.resource.id | some f in d} == {"PSVC001", "PSVC002", "PSVC003"}
}

test_described_passes if {
	inp := {"services": [{"id": "PSVC004", "name": "d", "description": "Handles checkout"}]}
	d := policy.deny with input as inp with data.pdguard.config as {}
	count(d) == 0
}

test_single_resource if {
	d := policy.deny with input as {"services": [{"id": "PSVC001", "name": "a", "description": ""}]} with data.pdguard.config as {}
	d == {{"msg": "service \"a\" has no description", "resource": {"type": "service", "id": "PSVC001", "name": "a"}}}
}
