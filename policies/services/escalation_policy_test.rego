package pdguard.services.escalation_policy_test

import data.pdguard.services.escalation_policy as policy

test_null_ep_denied if {
	inp := {"services": [
		{"id": "PSVC001", "name": "api", "escalation_policy": null},
		{"id": "PSVC002", "name": "web", "escalation_policy": {"id": "PEP0001", "type": "escalation_policy"}},
	]}
	d := policy.deny with input as inp with data.pdguard.config as {}
	count(d) == 1
	some f in d
	f.resource == {"type": "service", "id": "PSVC001", "name": "api"}
}

test_with_ep_passes if {
	inp := {"services": [{"id": "PSVC002", "name": "web", "escalation_policy": {"id": "PEP0001", "type": "escalation_policy_reference"}}]}
	d := policy.deny with input as inp with data.pdguard.config as {}
	count(d) == 0
}

test_missing_and_empty_ep_denied if {
	inp := {"services": [
		{"id": "PSVC001", "name": "a"},
		{"id": "PSVC002", "name": "b", "escalation_policy": {}},
	]}
	d := policy.deny with input as inp with data.pdguard.config as {}
	count(d) == 2
	{f.resource.id | some f in d} == {"PSVC001", "PSVC002"}
}
