package pdguard.standards.account_scores_test

import data.pdguard.standards.account_scores as policy

std(type, name, pass, active) := {"id": concat("", ["P", type]), "name": name, "type": type, "pass": pass, "active": active}

scores := [
	{"resource_id": "PSVC001", "resource_type": "technical_service", "score": {"passing": 1, "total": 3}, "standards": [
		std("has_technical_service_description", "Service has a description", true, true),
		std("minimum_unique_levels", "Escalation policy has two unique levels", false, true),
		std("has_outbound_integration", "Service has an outbound integration", false, true),
	]},
	{"resource_id": "PSVC002", "resource_type": "technical_service", "score": {"passing": 2, "total": 3}, "standards": [
		std("has_technical_service_description", "Service has a description", true, true),
		std("minimum_unique_levels", "Escalation policy has two unique levels", true, true),
		std("has_outbound_integration", "Service has an outbound integration", false, false),
	]},
]

test_failing_active_standards_denied if {
	inp := {"services": [{"id": "PSVC001", "name": "checkout"}], "standards_scores": scores}
	d := policy.deny with input as inp with data.pdguard.config as {}
	count(d) == 1
	some f in d
	f.resource == {"type": "service", "id": "PSVC001", "name": "checkout"}
	f.details == {"failed": ["has_outbound_integration", "minimum_unique_levels"]}
	contains(f.msg, "fails 2 active")
}

test_passing_or_inactive_pass if {
	inp := {"services": [], "standards_scores": [scores[1], {"resource_id": "PSVC003", "resource_type": "technical_service", "standards": []}]}
	d := policy.deny with input as inp with data.pdguard.config as {}
	count(d) == 0
}

test_unknown_service_uses_id_as_name if {
	inp := {"standards_scores": [{"resource_id": "PSVC009", "standards": [{"id": "PSTD9", "name": "Custom", "pass": false}]}]}
	d := policy.deny with input as inp with data.pdguard.config as {}
	count(d) == 1
	some f in d
	f.resource == {"type": "service", "id": "PSVC009", "name": "PSVC009"}
	f.details == {"failed": ["PSTD9"]}
}
