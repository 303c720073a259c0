# METADATA
# title: Service has had no incident for a long time
# description: >-
#   A service that has not opened an incident for months is either extremely reliable or,
#   more often, no longer wired to its monitoring or no longer in use. Stale services
#   inflate the service catalogue and hide broken alerting.
# custom:
#   id: PDG-SVC-007
#   severity: low
#   remediation: >-
#     Verify the service's integrations still deliver events (send a test event with the
#     Events API V2 to its integration key), and delete or disable services that are no
#     longer used (web UI - service > Settings > Delete; REST API DELETE /services/{id};
#     with Terraform remove the pagerduty_service resource). The threshold is the setting
#     stale_service_days.
package pdguard.services.stale

ns_per_day := ((24 * 60) * 60) * 1000000000

now_ns := time.parse_rfc3339_ns(input.meta.scanned_at)

# the last incident's time, else (never had an incident) the creation time
reference_time(svc) := ["last_incident", ts] if {
	ts := object.get(svc, "last_incident_timestamp", null)
	ts != null
} else := ["created", ts] if {
	ts := object.get(svc, "created_at", null)
	ts != null
}

deny contains f if {
	days := data.pdguard.config.stale_service_days
	some svc in input.services
	[kind, ts] := reference_time(svc)
	age := now_ns - time.parse_rfc3339_ns(ts)
	age > days * ns_per_day
	name := object.get(svc, "name", "")
	f := {
		"msg": message(kind, name, ts, floor(age / ns_per_day)),
		"resource": {"type": "service", "id": svc.id, "name": name},
		"details": {"last_incident_timestamp": object.get(svc, "last_incident_timestamp", null), "stale_service_days": days},
	}
}

message("last_incident", name, ts, age_days) := sprintf("service %q has had no incident since %s (%d days)", [name, ts, age_days])

message("created", name, ts, age_days) := sprintf("service %q has never had an incident since it was created on %s (%d days)", [name, ts, age_days])
