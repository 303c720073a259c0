package pdguard.services.disabled_stale_test

import data.pdguard.lib.testing
import data.pdguard.services.disabled_stale as policy

cfg := {"disabled_service_max_age_days": 30}

svc(id, status, created_at) := {"id": id, "type": "service", "name": id, "status": status, "created_at": created_at}

test_old_disabled_denied if {
	inp := testing.snapshot({"services": [
		svc("PSVC001", "disabled", "2026-09-01T00:00:00Z"),
		svc("PSVC002", "disabled", "2026-11-20T00:00:00Z"),
		svc("PSVC003", "active", "2020-01-01T00:00:00Z"),
	]})
	d := policy.deny with input as inp with data.pdguard.config as cfg
	testing.assert_ids(d, {"PSVC001"})
	testing.assert_finding(d, "PSVC001", {
		"msg": "service \"PSVC001\" has been disabled since 2026-09-01T00:00:00Z (86 days, more than 30)",
		"details": {"status": "disabled", "since": "2026-09-01T00:00:00Z", "max_age_days": 30},
	})
}

test_maintenance_and_time_zones if {
	inp := testing.snapshot({"services": [
		svc("PSVC001", "maintenance", "2026-01-01T00:00:00Z"),
		svc("PSVC002", "maintenance", "2026-01-01T00:00:00+02:00"),
	]})
	testing.assert_ids(policy.deny, {"PSVC001", "PSVC002"}) with input as inp with data.pdguard.config as cfg
}

# Services of the real API have no updated_at (issue 10 drops this fallback); the simulator's
# sample account still sets it, and it is preferred when present.
test_updated_at_preferred_when_present if {
	recent := object.union(svc("PSVC001", "disabled", "2020-01-01T00:00:00Z"), {"updated_at": "2026-11-20T00:00:00Z"})
	null_update := object.union(svc("PSVC002", "disabled", "2020-01-01T00:00:00Z"), {"updated_at": null})
	inp := testing.snapshot({"services": [recent, null_update]})
	testing.assert_ids(policy.deny, {"PSVC002"}) with input as inp with data.pdguard.config as cfg
}

test_recent_or_active_pass if {
	inp := testing.snapshot({"services": [
		svc("PSVC002", "disabled", "2026-11-20T00:00:00Z"),
		svc("PSVC003", "active", "2020-01-01T00:00:00Z"),
		svc("PSVC004", "warning", "2020-01-01T00:00:00Z"),
		svc("PSVC005", "critical", "2020-01-01T00:00:00Z"),
	]})
	testing.assert_empty(policy.deny) with input as inp with data.pdguard.config as cfg
}

test_threshold_is_configurable if {
	inp := testing.snapshot({"services": [svc("PSVC002", "disabled", "2026-11-20T00:00:00Z")]})
	testing.assert_ids(policy.deny, {"PSVC002"}) with input as inp with data.pdguard.config as {"disabled_service_max_age_days": 3}
}

test_no_timestamps_skipped if {
	inp := testing.snapshot({"services": [
		{"id": "PSVC001", "type": "service", "name": "x", "status": "disabled"},
		svc("PSVC002", "disabled", null),
	]})
	testing.assert_empty(policy.deny) with input as inp with data.pdguard.config as cfg
}
