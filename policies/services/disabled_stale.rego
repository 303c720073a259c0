# METADATA
# title: Disabled and maintenance services are not left parked
# description: >-
#   A disabled service, or one left in maintenance, opens no incident: forgotten maintenance
#   windows and disabled services are clutter at best and blind spots at worst. PagerDuty does
#   not say when a service was disabled (a service has no updated_at), so the policy judges
#   what the API does say - how long the service has been quiet: the time since its last
#   incident, or since it was created when it never had one.
# custom:
#   id: PDG-SVC-005
#   severity: low
#   settings: [disabled_service_max_age_days]
#   remediation: >-
#     Decide whether the service is still needed. If it is, re-enable it (web UI - service >
#     Settings > Enable; REST API PUT /services/{id} with {"service": {"status": "active"}}) or
#     end the maintenance window (DELETE /maintenance_windows/{id}); with Terraform set
#     status or remove the pagerduty_maintenance_window. If it is not, delete it
#     (DELETE /services/{id}, or remove the pagerduty_service resource). The age threshold
#     is the setting disabled_service_max_age_days.
package pdguard.services.disabled_stale

import data.pdguard.lib

deny contains lib.finding_with(message(svc, kind, since, age, max_days), "service", svc, details) if {
	max_days := lib.setting("disabled_service_max_age_days")
	some svc in input.services
	lib.is_parked(svc)
	[kind, since] := last_activity(svc)
	age := lib.age_days(since)
	age > max_days
	details := {"status": svc.status, "last_activity": since, "max_age_days": max_days}
}

# what the API tells about the service's last activity: its last incident, else its creation
last_activity(svc) := ["incident", svc.last_incident_timestamp] if {
	is_string(svc.last_incident_timestamp)
} else := ["created", svc.created_at] if {
	is_string(svc.created_at)
}

state := {"disabled": ["is disabled", "disabled"], "maintenance": ["is in maintenance", "put in maintenance"]}

message(svc, "incident", since, age, max_days) := sprintf(
	"service %q %s and has had no incident for %d days (the last one on %s; more than %d): when it was %s is unknown",
	[lib.name(svc), state[svc.status][0], floor(age), since, max_days, state[svc.status][1]],
)

message(svc, "created", since, age, max_days) := sprintf(
	"service %q %s and has never had an incident in the %d days since it was created on %s (more than %d): when it was %s is unknown",
	[lib.name(svc), state[svc.status][0], floor(age), since, max_days, state[svc.status][1]],
)
