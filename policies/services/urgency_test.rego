package pdguard.services.urgency_test

import data.pdguard.lib.testing
import data.pdguard.services.urgency as policy

rule(urgency) := {"incident_urgency_rule": {"type": "constant", "urgency": urgency}}

support_hours(during, outside) := {"incident_urgency_rule": {
	"type": "use_support_hours",
	"during_support_hours": {"type": "constant", "urgency": during},
	"outside_support_hours": {"type": "constant", "urgency": outside},
}}

test_constant_high_denied if {
	inp := testing.snapshot({"services": [
		testing.service("PSVC001", rule("high")),
		testing.service("PSVC002", rule("severity_based")),
		testing.service("PSVC003", rule("low")),
		testing.service("PSVC004", support_hours("high", "low")),
		testing.service("PSVC005", support_hours("high", "high")),
	]})
	d := policy.deny with input as inp
	testing.assert_ids(d, {"PSVC001", "PSVC005"})
	testing.assert_finding(d, "PSVC001", {"msg": "service \"PSVC001\" opens every incident at high urgency: every alert, a warning too, pages someone at once"})
}

test_parked_or_ruleless_services_pass if {
	inp := testing.snapshot({"services": [
		testing.service("PSVC001", object.union(rule("high"), {"status": "disabled"})),
		object.remove(testing.service("PSVC002", {}), ["incident_urgency_rule"]),
	]})
	testing.assert_empty(policy.deny) with input as inp
}
