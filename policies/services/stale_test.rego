package pdguard.services.stale_test

import data.pdguard.lib.testing
import data.pdguard.services.stale as policy

cfg := {"stale_service_days": 90}

svc(id, last_incident, created) := testing.service(id, {"last_incident_timestamp": last_incident, "created_at": created})

test_stale_denied if {
	inp := testing.snapshot({"services": [
		svc("PSVC001", "2026-05-01T00:00:00Z", "2020-01-01T00:00:00Z"),
		svc("PSVC002", "2026-11-25T00:00:00Z", "2020-01-01T00:00:00Z"),
	]})
	d := policy.deny with input as inp with data.pdguard.config as cfg
	testing.assert_ids(d, {"PSVC001"})
	testing.assert_finding(d, "PSVC001", {
		"msg": "service \"PSVC001\" has had no incident since 2026-05-01T00:00:00Z (209 days)",
		"details": {"last_incident_timestamp": "2026-05-01T00:00:00Z", "stale_service_days": 90},
	})
}

test_never_had_incident_uses_created_at if {
	inp := testing.snapshot({"services": [
		svc("PSVC001", null, "2026-01-01T00:00:00Z"),
		svc("PSVC002", null, "2026-11-01T00:00:00Z"),
		object.remove(testing.service("PSVC003", {"name": "old2", "created_at": "2025-01-01T00:00:00Z"}), ["last_incident_timestamp"]),
	]})
	d := policy.deny with input as inp with data.pdguard.config as cfg
	testing.assert_ids(d, {"PSVC001", "PSVC003"})
	testing.assert_finding(d, "PSVC001", {
		"msg": "service \"PSVC001\" has never had an incident since it was created on 2026-01-01T00:00:00Z (329 days)",
		"details": {"last_incident_timestamp": null, "stale_service_days": 90},
	})
}

test_threshold_is_exclusive if {
	# exactly 90 days is not stale yet
	inp := testing.snapshot({"services": [svc("PSVC001", "2026-08-28T09:00:00Z", "2020-01-01T00:00:00Z")]})
	testing.assert_empty(policy.deny) with input as inp with data.pdguard.config as cfg
}

test_recent_passes if {
	inp := testing.snapshot({"services": [
		svc("PSVC002", "2026-11-25T00:00:00Z", "2020-01-01T00:00:00Z"),
		svc("PSVC004", null, "2026-11-25T00:00:00Z"),
		{"id": "PSVC005", "type": "service", "name": "no-dates"},
	]})
	testing.assert_empty(policy.deny) with input as inp with data.pdguard.config as cfg
}

test_threshold_is_configurable if {
	inp := testing.snapshot({"services": [svc("PSVC002", "2026-11-20T00:00:00Z", "2020-01-01T00:00:00Z")]})
	testing.assert_ids(policy.deny, {"PSVC002"}) with input as inp with data.pdguard.config as {"stale_service_days": 5}
}

# One root cause, one finding: a parked service is PDG-SVC-005's, a service without integrations
# PDG-SVC-006's (no event can reach it, so of course it has no incident).
test_parked_or_unwired_services_are_left_to_their_owners if {
	quiet := {"last_incident_timestamp": "2026-01-01T00:00:00Z"}
	inp := testing.snapshot({"services": [
		testing.service("PSVC001", quiet),
		testing.service("PSVC002", object.union(quiet, {"status": "disabled"})),
		testing.service("PSVC003", object.union(quiet, {"status": "maintenance"})),
		testing.service("PSVC004", object.union(quiet, {"integrations": []})),
	]})
	testing.assert_ids(policy.deny, {"PSVC001"}) with input as inp with data.pdguard.config as cfg
}
