package pdguard.escalation_policies.no_loops_high_urgency_test

import data.pdguard.escalation_policies.no_loops_high_urgency as policy
import data.pdguard.lib.testing

ep(id, loops) := object.union(testing.escalation_policy(id, [[testing.user_ref("PUSR001")]]), {"num_loops": loops})

eps := [ep("PEP0001", 0), ep("PEP0002", 2), ep("PEP0003", 0), ep("PEP0004", 0), ep("PEP0005", null)]

svc(id, ep_id, rule) := {
	"id": id, "type": "service", "name": id,
	"escalation_policy": testing.escalation_policy_ref(ep_id),
	"incident_urgency_rule": rule,
}

high := {"type": "constant", "urgency": "high"}

low := {"type": "constant", "urgency": "low"}

dynamic := {"type": "constant", "urgency": "severity_based"}

support_hours(during, outside) := {
	"type": "use_support_hours",
	"during_support_hours": {"type": "constant", "urgency": during},
	"outside_support_hours": {"type": "constant", "urgency": outside},
}

test_high_urgency_without_loops_denied if {
	inp := testing.snapshot({"escalation_policies": eps, "services": [
		svc("PSVC001", "PEP0001", high),
		svc("PSVC002", "PEP0001", high),
		svc("PSVC003", "PEP0002", high),
		svc("PSVC004", "PEP0003", low),
	]})
	d := policy.deny with input as inp
	testing.assert_ids(d, {"PEP0001"})
	testing.assert_finding(d, "PEP0001", {
		"msg": "escalation policy \"PEP0001\" does not repeat (num_loops = 0) but is used by 2 high-urgency service(s)",
		"details": {"num_loops": 0},
	})
}

test_dynamic_urgency_counts_as_high if {
	inp := testing.snapshot({"escalation_policies": eps, "services": [svc("PSVC001", "PEP0001", dynamic)]})
	testing.assert_ids(policy.deny, {"PEP0001"}) with input as inp
}

test_support_hours_high_either_part if {
	inp := testing.snapshot({"escalation_policies": eps, "services": [
		svc("PSVC001", "PEP0001", support_hours("high", "low")),
		svc("PSVC002", "PEP0003", support_hours("low", "severity_based")),
		svc("PSVC003", "PEP0004", support_hours("low", "low")),
	]})
	testing.assert_ids(policy.deny, {"PEP0001", "PEP0003"}) with input as inp
}

test_null_or_missing_num_loops_does_not_repeat if {
	bare := {"id": "PEP0009", "type": "escalation_policy", "name": "bare", "escalation_rules": []}
	inp := testing.snapshot({"escalation_policies": [bare, eps[4]], "services": [
		svc("PSVC001", "PEP0009", high),
		svc("PSVC002", "PEP0005", high),
	]})
	d := policy.deny with input as inp
	testing.assert_ids(d, {"PEP0009", "PEP0005"})
	testing.assert_finding(d, "PEP0005", {"details": {"num_loops": null}})
}

test_low_urgency_loops_or_unused_pass if {
	no_ep := {"id": "PSVC006", "type": "service", "escalation_policy": null, "incident_urgency_rule": high}
	inp := testing.snapshot({"escalation_policies": eps, "services": [
		svc("PSVC003", "PEP0002", high),
		svc("PSVC004", "PEP0003", low),
		svc("PSVC005", "PEP0003", support_hours("low", "low")),
		no_ep,
	]})
	testing.assert_empty(policy.deny) with input as inp
}
