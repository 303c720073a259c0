# METADATA
# title: Disabled or maintenance service left behind
# description: >-
#   Services parked in disabled or maintenance state for a long time silently drop alerts:
#   monitoring keeps sending events but nobody is paged. Long-forgotten maintenance windows
#   and disabled services are clutter at best and blind spots at worst.
# custom:
#   id: PDG-SVC-005
#   severity: low
#   remediation: >-
#     Decide whether the service is still needed. If it is, re-enable it (web UI - service >
#     Settings > Enable; REST API PUT /services/{id} with {"service": {"status": "active"}}) or
#     end the maintenance window (DELETE /maintenance_windows/{id}); with Terraform set
#     status or remove the pagerduty_maintenance_window. If it is not, delete it
#     (DELETE /services/{id}, or remove the pagerduty_service resource). The age threshold
#     is the setting disabled_service_max_age_days.
package pdguard.services.disabled_stale

ns_per_day := ((24 * 60) * 60) * 1000000000

now_ns := time.parse_rfc3339_ns(input.meta.scanned_at)

parked_statuses := {"disabled", "maintenance"}

# updated_at when present, else created_at
last_change(svc) := ts if {
	ts := object.get(svc, "updated_at", null)
	ts != null
} else := ts if {
	ts := object.get(svc, "created_at", null)
	ts != null
}

deny contains f if {
	max_days := data.pdguard.config.disabled_service_max_age_days
	some svc in input.services
	status := object.get(svc, "status", "")
	status in parked_statuses
	ts := last_change(svc)
	age := now_ns - time.parse_rfc3339_ns(ts)
	age > max_days * ns_per_day
	name := object.get(svc, "name", "")
	f := {
		"msg": sprintf("service %q has been %s since %s (%d days, more than %d)", [name, status, ts, floor(age / ns_per_day), max_days]),
		"resource": {"type": "service", "id": svc.id, "name": name},
		"details": {"status": status, "since": ts, "max_age_days": max_days},
	}
}
