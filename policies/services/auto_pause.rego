# METADATA
# title: Noisy service pauses notifications for transient alerts
# description: >-
#   A service that opens many incidents pages people for alerts that often resolve by
#   themselves within minutes. Auto-pause incident notifications (PagerDuty's Service
#   Standards recommend it for noisy services) holds the notifications of alerts it recognises
#   as transient for a few minutes and resolves them silently when they clear - pages that
#   wake nobody for nothing. A service is noisy when it opened at least the setting
#   noisy_service_incidents incidents in the last noisy_service_window_days days (scanned
#   incidents). Auto-pause is only on some PagerDuty plans; a service the scan did not read the
#   setting of (include[]=auto_pause_notifications_parameters) is not judged.
# custom:
#   id: PDG-SVC-010
#   severity: low
#   settings: [noisy_service_incidents, noisy_service_window_days]
#   remediation: >-
#     Turn on auto-pause incident notifications: the service > Settings > Noise Reduction >
#     Auto-pause incident notifications (recommended timeout, or 2-15 minutes); via the REST
#     API PUT /services/{id} with {"service": {"auto_pause_notifications_parameters":
#     {"enabled": true, "timeout": 0}}} (0: PagerDuty's recommended timeout); with Terraform
#     an auto_pause_notifications_parameters block with enabled = true on the pagerduty_service.
package pdguard.services.auto_pause

import data.pdguard.lib

deny contains lib.finding(msg, "service", svc) if {
	some svc in input.services
	not lib.is_parked(svc)
	lib.noisy(svc)
	object.get(svc, ["auto_pause_notifications_parameters", "enabled"], "unknown") == false
	days := lib.setting("noisy_service_window_days")
	msg := sprintf(
		"service %q opened %d incidents in the last %d days but does not auto-pause the notifications of transient alerts",
		[lib.name(svc), lib.recent_incidents(svc), days],
	)
}
