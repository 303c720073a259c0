package pdguard.incidents.high_urgency_open_test

import data.pdguard.incidents.high_urgency_open as policy
import data.pdguard.lib.testing

cfg := {"incident_ack_max_minutes": 30, "incident_open_max_hours": 24}

inc(id, status, urgency, created) := {
	"id": id, "type": "incident", "incident_number": 1, "title": sprintf("incident %s", [id]),
	"status": status, "urgency": urgency, "created_at": created, "last_status_change_at": created,
	"acknowledgements": [], "assignments": [],
	"service": testing.service_ref("PSVC001"),
	"escalation_policy": testing.escalation_policy_ref("PEP0001"),
}

test_unacknowledged_denied if {
	inp := testing.snapshot({"incidents": [
		inc("PINC001", "triggered", "high", "2026-11-26T08:00:00Z"), # 60 min
		inc("PINC002", "triggered", "high", "2026-11-26T08:45:00Z"), # 15 min
		inc("PINC003", "triggered", "low", "2026-11-26T08:00:00Z"),
	]})
	d := policy.deny with input as inp with data.pdguard.config as cfg
	testing.assert_ids(d, {"PINC001"})
	testing.assert_finding(d, "PINC001", {
		"msg": "high-urgency incident #1 \"incident PINC001\" has been triggered and unacknowledged for 60 minutes (limit 30)",
		"resource": {"type": "incident", "id": "PINC001", "name": "incident PINC001"},
		"details": {"breach": "unacknowledged", "created_at": "2026-11-26T08:00:00Z", "service_id": "PSVC001"},
	})
}

test_open_too_long_denied if {
	inp := testing.snapshot({"incidents": [
		inc("PINC004", "acknowledged", "high", "2026-11-24T09:00:00Z"), # 48 h
		inc("PINC005", "acknowledged", "high", "2026-11-26T06:00:00Z"), # 3 h, acknowledged
		inc("PINC006", "resolved", "high", "2026-01-01T00:00:00Z"),
		inc("PINC007", "triggered", "high", "2026-11-20T00:00:00Z"), # both: unacknowledged wins
	]})
	d := policy.deny with input as inp with data.pdguard.config as cfg
	testing.assert_ids(d, {"PINC004", "PINC007"})
	testing.assert_finding(d, "PINC004", {
		"msg": "high-urgency incident #1 \"incident PINC004\" has been open (acknowledged) for 48 hours (limit 24)",
		"details": {"breach": "open", "created_at": "2026-11-24T09:00:00Z", "service_id": "PSVC001"},
	})
	testing.assert_finding(d, "PINC007", {"details": {"breach": "unacknowledged", "created_at": "2026-11-20T00:00:00Z", "service_id": "PSVC001"}})
}

test_limits_are_exclusive if {
	inp := testing.snapshot({"incidents": [
		inc("PINC010", "triggered", "high", "2026-11-26T08:30:00Z"), # exactly 30 min
		inc("PINC011", "acknowledged", "high", "2026-11-25T09:00:00Z"), # exactly 24 h
	]})
	testing.assert_empty(policy.deny) with input as inp with data.pdguard.config as cfg
}

test_fresh_resolved_or_low_pass if {
	inp := testing.snapshot({"incidents": [
		inc("PINC002", "triggered", "high", "2026-11-26T08:45:00Z"),
		inc("PINC005", "acknowledged", "high", "2026-11-26T06:00:00Z"),
		inc("PINC006", "resolved", "high", "2026-01-01T00:00:00Z"),
		inc("PINC008", "acknowledged", "low", "2026-01-01T00:00:00Z"),
	]})
	testing.assert_empty(policy.deny) with input as inp with data.pdguard.config as cfg
}

test_missing_or_invalid_fields if {
	inp := testing.snapshot({"incidents": [
		{"id": "PINC009", "status": "triggered", "urgency": "high"},
		{"id": "PINC010", "status": "triggered", "created_at": "2026-01-01T00:00:00Z"},
		{"id": "PINC012", "status": "triggered", "urgency": "high", "created_at": null},
		{"id": "PINC011", "status": "acknowledged", "urgency": "high", "created_at": "2026-01-01T00:00:00Z"},
	]})
	d := policy.deny with input as inp with data.pdguard.config as cfg
	testing.assert_ids(d, {"PINC011"})
	testing.assert_finding(d, "PINC011", {
		"msg": "high-urgency incident PINC011 \"\" has been open (acknowledged) for 7905 hours (limit 24)",
		"resource": {"type": "incident", "id": "PINC011", "name": "PINC011"},
		"details": {"breach": "open", "created_at": "2026-01-01T00:00:00Z", "service_id": null},
	})
}
