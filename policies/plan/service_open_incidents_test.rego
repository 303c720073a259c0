package pdguard.plan.service_open_incidents_test

import data.pdguard.lib.testing
import data.pdguard.plan.service_open_incidents as policy

svc(id) := {"id": id, "type": "service", "name": lower(id), "escalation_policy": testing.escalation_policy_ref("PEP1")}

incidents := [
	testing.incident("Q1", "triggered", "PSWEB", "PEP1", []),
	testing.incident("Q2", "acknowledged", "PSWEB", "PEP1", []),
	testing.incident("Q3", "triggered", "PSAPI", "PEP1", []),
	testing.incident("Q4", "resolved", "PSOLD", "PEP1", []),
]

test_deleting_or_replacing_a_service_with_open_incidents_is_flagged if {
	new_web := object.union(svc("PSWEB"), {"id": "tf:pagerduty_service.psweb"})
	inp := testing.planned({"services": [new_web, svc("PSAPI")], "incidents": incidents}, [
		testing.change("replace", "service", svc("PSWEB"), new_web),
		testing.change("update", "service", svc("PSAPI"), svc("PSAPI")),
		testing.change("delete", "service", svc("PSOLD"), null),
	])
	d := policy.deny with input as inp
	testing.assert_ids(d, {"PSWEB"})
	testing.assert_finding(d, "PSWEB", {
		"msg": "service \"psweb\" is replaced (deleted and created again with a new id and new integration keys) while it has 2 open incident(s): they go with the deleted service, out of reach of its responders",
		"resource": {"type": "service", "id": "PSWEB", "name": "psweb"},
		"details": {"reason": "open_incidents", "action": "replace"},
	})
}

test_deleted_service_with_an_open_incident if {
	inp := testing.planned({"services": [], "incidents": incidents}, [testing.change("delete", "service", svc("PSAPI"), null)])
	testing.assert_finding(policy.deny, "PSAPI", {"msg": "service \"psapi\" is deleted while it has 1 open incident(s): they go with the deleted service, out of reach of its responders"}) with input as inp
}

test_no_plan_no_finding if {
	inp := testing.snapshot({"services": [svc("PSWEB")], "incidents": incidents})
	testing.assert_empty(policy.deny) with input as inp
}
