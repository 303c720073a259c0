package pdguard.services.disabled_stale_test

import data.pdguard.lib.testing
import data.pdguard.services.disabled_stale as policy

cfg := {"disabled_service_max_age_days": 30}

# A service as GET /services returns it: no updated_at (the API has none), created_at,
# last_incident_timestamp (null when it never had an incident) and status.
svc(id, status, created_at, last_incident) := testing.service(id, {"status": status, "created_at": created_at, "last_incident_timestamp": last_incident})

# issue 10 #2: when a service was disabled is unknown; what is known is how long it has been
# quiet (its last incident) - never "disabled since <creation>".
test_disabled_judged_by_its_last_incident if {
	inp := testing.snapshot({"services": [
		svc("PSVC001", "disabled", "2020-01-01T00:00:00Z", "2026-09-01T00:00:00Z"),
		svc("PSVC002", "disabled", "2020-01-01T00:00:00Z", "2026-11-20T00:00:00Z"),
		svc("PSVC003", "active", "2020-01-01T00:00:00Z", "2026-01-01T00:00:00Z"),
	]})
	d := policy.deny with input as inp with data.pdguard.config as cfg
	testing.assert_ids(d, {"PSVC001"})
	testing.assert_finding(d, "PSVC001", {
		"msg": "service \"PSVC001\" is disabled and has had no incident for 86 days (the last one on 2026-09-01T00:00:00Z; more than 30): when it was disabled is unknown",
		"details": {"status": "disabled", "last_activity": "2026-09-01T00:00:00Z", "max_age_days": 30},
	})
}

test_never_had_an_incident_counts_from_creation if {
	inp := testing.snapshot({"services": [
		svc("PSVC001", "maintenance", "2026-01-01T00:00:00Z", null),
		svc("PSVC002", "disabled", "2026-11-20T00:00:00Z", null),
	]})
	d := policy.deny with input as inp with data.pdguard.config as cfg
	testing.assert_ids(d, {"PSVC001"})
	testing.assert_finding(d, "PSVC001", {
		"msg": "service \"PSVC001\" is in maintenance and has never had an incident in the 329 days since it was created on 2026-01-01T00:00:00Z (more than 30): when it was put in maintenance is unknown",
		"details": {"status": "maintenance", "last_activity": "2026-01-01T00:00:00Z", "max_age_days": 30},
	})
}

# A recent incident says the service was enabled recently, however old it is: the old policy
# read created_at and reported it as "disabled since" its creation.
test_an_old_service_with_a_recent_incident_passes if {
	inp := testing.snapshot({"services": [svc("PSVC001", "disabled", "2019-01-01T00:00:00Z", "2026-11-25T00:00:00Z")]})
	testing.assert_empty(policy.deny) with input as inp with data.pdguard.config as cfg
}

# 30 days and a half hour before the scan in +02:00 is past the limit; 29 days 23.5 hours is not
test_time_zones_at_the_limit if {
	inp := testing.snapshot({"services": [
		svc("PSVC001", "maintenance", "2020-01-01T00:00:00Z", "2026-10-27T10:30:00+02:00"),
		svc("PSVC002", "maintenance", "2020-01-01T00:00:00Z", "2026-10-27T09:30:00Z"),
	]})
	testing.assert_ids(policy.deny, {"PSVC001"}) with input as inp with data.pdguard.config as cfg
}

test_active_services_pass if {
	inp := testing.snapshot({"services": [
		svc("PSVC003", "active", "2020-01-01T00:00:00Z", null),
		svc("PSVC004", "warning", "2020-01-01T00:00:00Z", null),
		svc("PSVC005", "critical", "2020-01-01T00:00:00Z", null),
	]})
	testing.assert_empty(policy.deny) with input as inp with data.pdguard.config as cfg
}

test_threshold_is_configurable if {
	inp := testing.snapshot({"services": [svc("PSVC002", "disabled", "2020-01-01T00:00:00Z", "2026-11-20T00:00:00Z")]})
	testing.assert_ids(policy.deny, {"PSVC002"}) with input as inp with data.pdguard.config as {"disabled_service_max_age_days": 3}
}

test_no_timestamps_skipped if {
	inp := testing.snapshot({"services": [
		{"id": "PSVC001", "type": "service", "name": "x", "status": "disabled"},
		svc("PSVC002", "disabled", null, null),
	]})
	testing.assert_empty(policy.deny) with input as inp with data.pdguard.config as cfg
}
