package pdguard.services.disabled_stale_test

import data.pdguard.services.disabled_stale as policy

cfg := {"disabled_service_max_age_days": 30}

meta := {"scanned_at": "2026-11-26T09:00:00Z"}

test_old_disabled_denied if {
	inp := {"meta": meta, "services": [
		{"id": "PSVC001", "name": "old", "status": "disabled", "updated_at": "2026-09-01T00:00:00Z", "created_at": "2020-01-01T00:00:00Z"},
		{"id": "PSVC002", "name": "new", "status": "disabled", "updated_at": "2026-11-20T00:00:00Z", "created_at": "2020-01-01T00:00:00Z"},
		{"id": "PSVC003", "name": "live", "status": "active", "updated_at": "2020-01-01T00:00:00Z"},
	]}
	d := policy.deny with input as inp with data.pdguard.config as cfg
	count(d) == 1
	some f in d
	f.resource == {"type": "service", "id": "PSVC001", "name": "old"}
	f.details == {"status": "disabled", "since": "2026-09-01T00:00:00Z", "max_age_days": 30}
}

test_maintenance_falls_back_to_created_at if {
	inp := {"meta": meta, "services": [
		{"id": "PSVC001", "name": "m", "status": "maintenance", "created_at": "2026-01-01T00:00:00Z"},
		{"id": "PSVC002", "name": "n", "status": "maintenance", "updated_at": null, "created_at": "2026-01-01T00:00:00+02:00"},
	]}
	d := policy.deny with input as inp with data.pdguard.config as cfg
	count(d) == 2
}

test_recent_or_active_pass if {
	inp := {"meta": meta, "services": [
		{"id": "PSVC002", "name": "new", "status": "disabled", "updated_at": "2026-11-20T00:00:00Z"},
		{"id": "PSVC003", "name": "live", "status": "active", "updated_at": "2020-01-01T00:00:00Z"},
		{"id": "PSVC004", "name": "warn", "status": "warning", "created_at": "2020-01-01T00:00:00Z"},
	]}
	d := policy.deny with input as inp with data.pdguard.config as cfg
	count(d) == 0
}

test_threshold_is_configurable if {
	inp := {"meta": meta, "services": [{"id": "PSVC002", "name": "new", "status": "disabled", "updated_at": "2026-11-20T00:00:00Z"}]}
	d := policy.deny with input as inp with data.pdguard.config as {"disabled_service_max_age_days": 3}
	count(d) == 1
}

test_no_timestamps_skipped if {
	inp := {"meta": meta, "services": [{"id": "PSVC001", "name": "x", "status": "disabled"}]}
	d := policy.deny with input as inp with data.pdguard.config as cfg
	count(d) == 0
}
