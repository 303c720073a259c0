package pdguard.services.integrations_test

import data.pdguard.lib.testing
import data.pdguard.services.integrations as policy

integration := {
	"id": "PINT001", "type": "events_api_v2_inbound_integration", "name": "Events API V2",
	"summary": "Events API V2", "service": testing.service_ref("PSVC002"), "created_at": "2025-01-01T00:00:00Z",
}

test_no_integrations_denied if {
	inp := testing.snapshot({"services": [
		{"id": "PSVC001", "type": "service", "name": "a", "integrations": []},
		{"id": "PSVC002", "type": "service", "name": "b", "integrations": [integration]},
	]})
	d := policy.deny with input as inp
	testing.assert_ids(d, {"PSVC001"})
	testing.assert_finding(d, "PSVC001", {"msg": "service \"a\" has no integrations: no events can reach it"})
}

test_missing_field_denied if {
	inp := testing.snapshot({"services": [{"id": "PSVC003", "type": "service", "name": "c"}]})
	testing.assert_ids(policy.deny, {"PSVC003"}) with input as inp
}
