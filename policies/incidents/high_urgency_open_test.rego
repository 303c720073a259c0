package pdguard.incidents.high_urgency_open_test

import data.pdguard.incidents.high_urgency_open as policy

cfg := {"incident_ack_max_minutes": 30, "incident_open_max_hours": 24}

meta := {"scanned_at": "2026-11-26T09:00:00Z"}

inc(id, status, urgency, created) := {
	"id": id, "incident_number": 1, "title": sprintf("incident %s", [id]), "status": status, "urgency": urgency,
	"created_at": created, "last_status_change_at": created, "acknowledgements": [],
	"service": {"id": "PSVC001", "type": "service_reference"},
}

test_unacknowledged_denied if {
	inp := {"meta": meta, "incidents": [
		inc("PINC001", "triggered", "high", "2026-11-26T08:00:00Z"), # 60 min
		inc("PINC002", "triggered", "high", "2026-11-26T08:45:00Z"), # 15 min
		inc("PINC003", "triggered", "low", "2026-11-26T08:00:00Z"),
	]}
	d := policy.deny with input as inp with data.pdguard.config as cfg
	count(d) == 1
	some f in d
	f.resource == {"type": "incident", "id": "PINC001", "name": "incident PINC001"}
	f.details == {"breach": "unacknowledged", "created_at": "2026-11-26T08:00:00Z", "service_id": "PSVC001"}
	contains(f.msg, "60 minutes")
}

test_open_too_long_denied if {
	inp := {"meta": meta, "incidents": [
		inc("PINC004", "acknowledged", "high", "2026-11-24T09:00:00Z"), # 48 h
		inc("PINC005", "acknowledged", "high", "2026-11-26T06:00:00Z"), # 3 h, acknowledged
		inc("PINC006", "resolved", "high", "2026-01-01T00:00:00Z"),
		inc("PINC007", "triggered", "high", "2026-11-20T00:00:00Z"), # both: unacknowledged wins
	]}
	d := policy.deny with input as inp with data.pdguard.config as cfg
	count(d) == 2
	{[f.resource.id, f.details.breach] | some f in d} == {["PINC004", "open"], ["PINC007", "unacknowledged"]}
}

test_fresh_resolved_or_low_pass if {
	inp := {"meta": meta, "incidents": [
		inc("PINC002", "triggered", "high", "2026-11-26T08:45:00Z"),
		inc("PINC005", "acknowledged", "high", "2026-11-26T06:00:00Z"),
		inc("PINC006", "resolved", "high", "2026-01-01T00:00:00Z"),
		inc("PINC008", "acknowledged", "low", "2026-01-01T00:00:00Z"),
	]}
	d := policy.deny with input as inp with data.pdguard.config as cfg
	count(d) == 0
}

test_missing_fields if {
	inp := {"meta": meta, "incidents": [
		{"id": "PINC009", "status": "triggered", "urgency": "high"},
		{"id": "PINC010", "status": "triggered", "created_at": "2026-01-01T00:00:00Z"},
		{"id": "PINC011", "status": "acknowledged", "urgency": "high", "created_at": "2026-01-01T00:00:00Z"},
	]}
	d := policy.deny with input as inp with data.pdguard.config as cfg
	count(d) == 1
	some f in d
	f.resource == {"type": "incident", "id": "PINC011", "name": ""}
	f.details.service_id == null
}

test_message_uses_incident_number if {
	inp := {"meta": meta, "incidents": [inc("PINC001", "triggered", "high", "2026-11-26T08:00:00Z")]}
	d := policy.deny with input as inp with data.pdguard.config as cfg
	some f in d
	f.msg == "high-urgency incident #1 \"incident PINC001\" has been triggered and unacknowledged for 60 minutes (limit 30)"
}
