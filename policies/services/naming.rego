# METADATA
# title: Service name follows the naming convention
# description: >-
#   Consistent service names make services searchable, let routing and reporting rules
#   match them by pattern, and tell responders at a glance what is broken. Names that do
#   not follow the account's convention are usually ad-hoc or forgotten services.
# custom:
#   id: PDG-SVC-001
#   severity: medium
#   settings: [service_name_pattern]
#   remediation: >-
#     Rename the service so that it matches the configured pattern
#     (setting service_name_pattern): in the PagerDuty web UI open Services > Service
#     Directory > the service > Settings > Edit and change the name; via the REST API
#     PUT /services/{id} with {"service": {"name": "..."}}; with Terraform change the
#     name argument of the pagerduty_service resource. Change the pattern in
#     pdguard.yaml if the convention itself is different.
package pdguard.services.naming

import data.pdguard.lib

deny contains lib.finding_with(msg, "service", svc, {"pattern": pattern}) if {
	pattern := lib.setting("service_name_pattern")
	some svc in input.services
	not regex.match(pattern, lib.name(svc))
	msg := sprintf("service %q does not match the naming pattern %q", [lib.name(svc), pattern])
}
