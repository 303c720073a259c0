package pdguard.services.description_test

import data.pdguard.lib.testing
import data.pdguard.services.description as policy

svc(id, description) := {"id": id, "type": "service", "name": id, "description": description}

test_missing_descriptions_denied if {
	inp := testing.snapshot({"services": [
		{"id": "PSVC001", "type": "service", "name": "a"},
		svc("PSVC002", null),
		svc("PSVC003", "   "),
		svc("PSVC004", "Handles checkout; runbook: https://wiki/x"),
	]})
	testing.assert_ids(policy.deny, {"PSVC001", "PSVC002", "PSVC003"}) with input as inp
}

test_described_passes if {
	inp := testing.snapshot({"services": [svc("PSVC004", "Handles checkout")]})
	testing.assert_empty(policy.deny) with input as inp
}

test_single_resource if {
	inp := testing.snapshot({"services": [{"id": "PSVC001", "type": "service", "name": "a", "description": ""}]})
	testing.assert_equal(policy.deny, {{
		"msg": "service \"a\" has no description",
		"resource": {"type": "service", "id": "PSVC001", "name": "a"},
	}}) with input as inp
}
