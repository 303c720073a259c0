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

import data.pdguard.lib

parked_statuses := {"disabled", "maintenance"}

deny contains lib.finding_with(msg, "service", svc, {"status": svc.status, "since": since, "max_age_days": max_days}) if {
	max_days := lib.setting("disabled_service_max_age_days")
	some svc in input.services
	svc.status in parked_statuses
	since := last_change(svc)
	age := lib.age_days(since)
	age > max_days
	msg := sprintf(
		"service %q has been %s since %s (%d days, more than %d)",
		[lib.name(svc), svc.status, since, floor(age), max_days],
	)
}

# updated_at when present, else created_at
last_change(svc) := svc.updated_at if {
	is_string(svc.updated_at)
} else := svc.created_at if {
	is_string(svc.created_at)
}
