# METADATA
# title: Noisy service groups its alerts into incidents
# description: >-
#   Without alert grouping every alert of a noisy service opens its own incident: one outage
#   becomes a storm of pages and incidents that responders triage one by one. Time-based,
#   content-based or intelligent grouping (or an Alert Grouping Setting) folds related alerts
#   into one incident. A service is noisy when it opened at least the setting
#   noisy_service_incidents incidents in the last noisy_service_window_days days (scanned
#   incidents). A service whose grouping the scan did not read is not judged.
# custom:
#   id: PDG-SVC-011
#   severity: low
#   settings: [noisy_service_incidents, noisy_service_window_days]
#   remediation: >-
#     Turn on alert grouping: the service > Settings > Noise Reduction > Alert Grouping
#     (intelligent, content-based or time-based); via the REST API the Alert Grouping Settings
#     API (POST /alert_grouping_settings with the service) or PUT /services/{id} with
#     alert_grouping_parameters; with Terraform a pagerduty_alert_grouping_setting, or an
#     alert_grouping_parameters block on the pagerduty_service.
package pdguard.services.alert_grouping

import data.pdguard.lib

deny contains lib.finding(msg, "service", svc) if {
	some svc in input.services
	not lib.is_parked(svc)
	lib.noisy(svc)
	is_object(svc.alert_grouping_parameters)
	not groups_alerts(svc.alert_grouping_parameters)
	days := lib.setting("noisy_service_window_days")
	msg := sprintf(
		"service %q opened %d incidents in the last %d days and opens one incident per alert: it groups no alerts",
		[lib.name(svc), lib.recent_incidents(svc), days],
	)
}

# a grouping type, or a reference to an Alert Grouping Setting (the API that replaces the field)
groups_alerts(params) if params.type in {"time", "intelligent", "content_based"}

groups_alerts(params) if params.type == "alert_grouping_setting_reference"
