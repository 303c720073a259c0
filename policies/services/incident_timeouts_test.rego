package pdguard.services.incident_timeouts_test

import data.pdguard.lib.testing
import data.pdguard.services.incident_timeouts as policy

# three levels, 30 minutes apart: the last level is paged an hour after the incident opens
eps := [testing.escalation_policy("PEP0001", [[testing.user_ref("PUSR001")], [testing.user_ref("PUSR002")], [testing.user_ref("PUSR003")]])]

svc(id, ack, auto) := testing.service(id, {"acknowledgement_timeout": ack, "auto_resolve_timeout": auto})

test_no_acknowledgement_timeout_denied if {
	inp := testing.snapshot({"escalation_policies": eps, "services": [svc("PSVC001", null, null), svc("PSVC002", 0, 14400), svc("PSVC003", 1800, null)]})
	d := policy.deny with input as inp
	testing.assert_ids(d, {"PSVC001", "PSVC002"})
	testing.assert_finding(d, "PSVC001", {
		"msg": "service \"PSVC001\" has no acknowledgement timeout: a high-urgency incident acknowledged and forgotten never pages again",
		"details": {"problem": "no_acknowledgement_timeout"},
	})
}

test_auto_resolve_before_acknowledgement_timeout_denied if {
	inp := testing.snapshot({"escalation_policies": eps, "services": [svc("PSVC001", 7200, 7200), svc("PSVC002", 1800, 14400)]})
	d := policy.deny with input as inp
	testing.assert_ids(d, {"PSVC001"})
	testing.assert_finding(d, "PSVC001", {
		"msg": "service \"PSVC001\" auto-resolves incidents after 2h, before its acknowledgement timeout (2h) re-triggers them: an acknowledged, forgotten high-urgency incident is resolved unfixed",
		"details": {"problem": "auto_resolve_before_acknowledgement_timeout"},
	})
}

# the last level is paged after 60 minutes: auto-resolve at 59 minutes hides it, at 60 it does not
test_auto_resolve_before_the_last_level_denied if {
	inp := testing.snapshot({"escalation_policies": eps, "services": [svc("PSVC001", 600, 3540), svc("PSVC002", 600, 3600)]})
	d := policy.deny with input as inp
	testing.assert_ids(d, {"PSVC001"})
	testing.assert_finding(d, "PSVC001", {
		"msg": "service \"PSVC001\" auto-resolves incidents after 59 min, before escalation policy \"PEP0001\" pages its last level (after 1h): a high-urgency incident nobody acknowledges is resolved before everyone was paged",
		"details": {"problem": "auto_resolve_before_escalation"},
	})
}

test_low_urgency_or_parked_services_pass if {
	low := object.union(svc("PSVC001", null, 60), {"incident_urgency_rule": {"type": "constant", "urgency": "low"}})
	parked := object.union(svc("PSVC002", null, 60), {"status": "disabled"})
	inp := testing.snapshot({"escalation_policies": eps, "services": [low, parked]})
	testing.assert_empty(policy.deny) with input as inp
}

# PagerDuty's defaults (30 minutes, 4 hours) pass; a field the API did not return is unknown
test_defaults_and_unknown_pass if {
	inp := testing.snapshot({"escalation_policies": eps, "services": [
		svc("PSVC001", 1800, 14400),
		object.remove(testing.service("PSVC002", {}), ["acknowledgement_timeout", "auto_resolve_timeout"]),
	]})
	testing.assert_empty(policy.deny) with input as inp
}
