package pdguard.services.stale_test

import data.pdguard.services.stale as policy

cfg := {"stale_service_days": 90}

meta := {"scanned_at": "2026-11-26T09:00:00Z"}

test_stale_denied if {
	inp := {"meta": meta, "services": [
		{"id": "PSVC001", "name": "quiet", "last_incident_timestamp": "2026-05-01T00:00:00Z", "created_at": "2020-01-01T00:00:00Z"},
		{"id": "PSVC002", "name": "busy", "last_incident_timestamp": "2026-11-25T00:00:00Z", "created_at": "2020-01-01T00:00:00Z"},
	]}
	d := policy.deny with input as inp with data.pdguard.config as cfg
	count(d) == 1
	some f in d
	f.resource == {"type": "service", "id": "PSVC001", "name": "quiet"}
	f.details == {"last_incident_timestamp": "2026-05-01T00:00:00Z", "stale_service_days": 90}
}

test_never_had_incident_uses_created_at if {
	inp := {"meta": meta, "services": [
		{"id": "PSVC001", "name": "old", "last_incident_timestamp": null, "created_at": "2026-01-01T00:00:00Z"},
		{"id": "PSVC002", "name": "new", "last_incident_timestamp": null, "created_at": "2026-11-01T00:00:00Z"},
		{"id": "PSVC003", "name": "old2", "created_at": "2025-01-01T00:00:00Z"},
	]}
	d := policy.deny with input as inp with data.pdguard.config as cfg
	{f.resource.id | some f in d} == {"PSVC001", "PSVC003"}
}

test_recent_passes if {
	inp := {"meta": meta, "services": [
		{"id": "PSVC002", "name": "busy", "last_incident_timestamp": "2026-11-25T00:00:00Z", "created_at": "2020-01-01T00:00:00Z"},
		{"id": "PSVC004", "name": "brand-new", "last_incident_timestamp": null, "created_at": "2026-11-25T00:00:00Z"},
		{"id": "PSVC005", "name": "no-dates"},
	]}
	d := policy.deny with input as inp with data.pdguard.config as cfg
	count(d) == 0
}

test_threshold_is_configurable if {
	inp := {"meta": meta, "services": [{"id": "PSVC002", "name": "busy", "last_incident_timestamp": "2026-11-20T00:00:00Z"}]}
	count(policy.deny) == 1 with input as inp with data.pdguard.config as {"stale_service_days": 5}
}
