# METADATA
# title: Service has had no incident for a long time
# description: >-
#   A service that has not opened an incident for months is either extremely reliable or,
#   more often, no longer wired to its monitoring or no longer in use. Stale services
#   inflate the service catalogue and hide broken alerting.
# custom:
#   id: PDG-SVC-007
#   severity: low
#   settings: [stale_service_days]
#   remediation: >-
#     Verify the service's integrations still deliver events (send a test event with the
#     Events API V2 to its integration key), and delete or disable services that are no
#     longer used (web UI - service > Settings > Delete; REST API DELETE /services/{id};
#     with Terraform remove the pagerduty_service resource). The threshold is the setting
#     stale_service_days.
package pdguard.services.stale

import data.pdguard.lib

# A parked service (PDG-SVC-005) or one without integrations (PDG-SVC-006) has no incident for
# a reason its own policy reports: one root cause, one finding.
deny contains lib.finding_with(message(kind, svc, since, age), "service", svc, details) if {
	days := lib.setting("stale_service_days")
	some svc in input.services
	not lib.is_parked(svc)
	lib.has_integration(svc)
	[kind, since] := reference_time(svc)
	age := lib.age_days(since)
	age > days
	details := {"last_incident_timestamp": object.get(svc, "last_incident_timestamp", null), "stale_service_days": days}
}

# the last incident's time, else (never had an incident) the creation time
reference_time(svc) := ["last_incident", svc.last_incident_timestamp] if {
	is_string(svc.last_incident_timestamp)
} else := ["created", svc.created_at] if {
	is_string(svc.created_at)
}

message("last_incident", svc, since, age) := sprintf(
	"service %q has had no incident since %s (%d days)",
	[lib.name(svc), since, floor(age)],
)

message("created", svc, since, age) := sprintf(
	"service %q has never had an incident since it was created on %s (%d days)",
	[lib.name(svc), since, floor(age)],
)
