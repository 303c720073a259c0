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
#   remediation: >-
#     Acknowledge, reassign or escalate the incident now (web UI - Incidents > the
#     incident > Acknowledge / Reassign / Escalate; REST API PUT /incidents/{id} with
#     status acknowledged or an escalation_level), and resolve it once the issue is fixed.
#     Then fix the root cause of the delay - check the escalation policy, schedules and
#     notification rules of the responders. Thresholds are the settings
#     incident_ack_max_minutes and incident_open_max_hours.
package pdguard.incidents.high_urgency_open

ns_per_minute := 60 * 1000000000

now_ns := time.parse_rfc3339_ns(input.meta.scanned_at)

# which limit an incident has breached: never acknowledged in time first, then open too long
breach(inc, age) := "unacknowledged" if {
	inc.status == "triggered"
	age > data.pdguard.config.incident_ack_max_minutes * ns_per_minute
} else := "open" if {
	inc.status != "resolved"
	age > (data.pdguard.config.incident_open_max_hours * 60) * ns_per_minute
}

deny contains f if {
	some inc in input.incidents
	object.get(inc, "urgency", "") == "high"
	created := object.get(inc, "created_at", null)
	is_string(created)
	age := now_ns - time.parse_rfc3339_ns(created)
	kind := breach(inc, age)
	title := object.get(inc, "title", "")
	f := {
		"msg": message(kind, inc, title, age),
		"resource": {"type": "incident", "id": inc.id, "name": title},
		"details": {
			"breach": kind,
			"created_at": created,
			"service_id": object.get(inc, ["service", "id"], null),
		},
	}
}

incident_ref(inc) := sprintf("#%v", [inc.incident_number]) if {
	inc.incident_number != null
} else := inc.id

message("unacknowledged", inc, title, age) := sprintf(
	"high-urgency incident %s %q has been triggered and unacknowledged for %d minutes (limit %d)",
	[incident_ref(inc), title, floor(age / ns_per_minute), data.pdguard.config.incident_ack_max_minutes],
)

message("open", inc, title, age) := sprintf(
	"high-urgency incident %s %q has been open (%s) for %d hours (limit %d)",
	[incident_ref(inc), title, inc.status, floor(age / (60 * ns_per_minute)), data.pdguard.config.incident_open_max_hours],
)
