# METADATA
# title: High-urgency incidents are acknowledged and resolved promptly
# description: >-
#   A high-urgency incident that stays unacknowledged means paging is not reaching anyone
#   (or is being ignored); one that stays open for a long time is either a lingering
#   outage or an incident nobody closed, which skews MTTR and hides new alerts that are
#   grouped into it.
# custom:
#   id: PDG-INC-001
#   severity: high
#   settings: [incident_ack_max_minutes, incident_open_max_hours]
#   remediation: >-
#     Acknowledge, reassign or escalate the incident now (web UI - Incidents > the
#     incident > Acknowledge / Reassign / Escalate; REST API PUT /incidents/{id} with
#     status acknowledged or an escalation_level), and resolve it once the issue is fixed.
#     Then fix the root cause of the delay - check the escalation policy, schedules and
#     notification rules of the responders. Thresholds are the settings
#     incident_ack_max_minutes and incident_open_max_hours.
package pdguard.incidents.high_urgency_open

import data.pdguard.lib

deny contains lib.finding_with(message(kind, inc, age), "incident", resource(inc), details) if {
	some inc in input.incidents
	inc.urgency == "high"
	lib.open_incident(inc) # both breaches are about unresolved incidents
	age := lib.age_ns(inc.created_at)
	kind := breach(inc, age)
	details := {"breach": kind, "created_at": inc.created_at, "service_id": object.get(inc, ["service", "id"], null)}
}

# which limit an open incident has breached: never acknowledged in time first, then open too long
breach(inc, age) := "unacknowledged" if {
	inc.status == "triggered"
	age > lib.setting("incident_ack_max_minutes") * lib.ns_per_minute
} else := "open" if {
	age > lib.setting("incident_open_max_hours") * lib.ns_per_hour
}

resource(inc) := {"id": inc.id, "name": object.get(inc, "title", "")}

incident_ref(inc) := sprintf("#%v", [inc.incident_number]) if {
	inc.incident_number != null
} else := inc.id

message("unacknowledged", inc, age) := sprintf(
	"high-urgency incident %s %q has been triggered and unacknowledged for %d minutes (limit %d)",
	[incident_ref(inc), resource(inc).name, floor(age / lib.ns_per_minute), lib.setting("incident_ack_max_minutes")],
)

message("open", inc, age) := sprintf(
	"high-urgency incident %s %q has been open (%s) for %d hours (limit %d)",
	[incident_ref(inc), resource(inc).name, inc.status, floor(age / lib.ns_per_hour), lib.setting("incident_open_max_hours")],
)
