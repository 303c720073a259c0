package pdguard.plan.dependency_across_states_test

import data.pdguard.lib.testing
import data.pdguard.plan.dependency_across_states as policy

web := {"id": "PSWEB", "type": "service", "name": "web"}

pay := {"id": "PSPAY", "type": "service", "name": "payments"}

shop := {"id": "PBSHOP", "type": "business_service", "name": "shop"}

dep(id, supporting, dependent) := {
	"id": id, "type": "service_dependency",
	"supporting_service": supporting, "dependent_service": dependent,
}

svc_ref(id) := {"id": id, "type": "technical_service_reference"}

biz_ref(id) := {"id": id, "type": "business_service_reference"}

entry(address, source) := {"status": "codified", "address": address, "drift": [], "file": null, "line": null, "source": source}

planned_dep := dep("tf:pagerduty_service_dependency.web_on_pay", svc_ref("PSPAY"), svc_ref("PSWEB"))

iac := {"sources": ["plan.json", "payments.tfstate"], "ghosts": [], "resources": {
	"service": {
		"PSWEB": entry("pagerduty_service.web", "plan.json"),
		"PSPAY": entry("pagerduty_service.payments", "payments.tfstate"),
	},
	"business_service": {"PBSHOP": entry("pagerduty_business_service.shop", "plan.json")},
	"service_dependency": {
		"tf:pagerduty_service_dependency.web_on_pay": entry("pagerduty_service_dependency.web_on_pay", "plan.json"),
		"D1": entry("pagerduty_service_dependency.shop_on_web", "shop.tfstate"),
		"D2": entry("pagerduty_service_dependency.shop_on_pay", "payments.tfstate"),
	},
}}

with_iac(inp) := object.union(inp, {"iac": iac})

create_dep := object.union(
	testing.change("create", "service_dependency", null, planned_dep),
	{"address": "pagerduty_service_dependency.web_on_pay"},
)

test_planned_dependency_on_a_service_of_another_state if {
	inp := with_iac(testing.planned({"services": [web, pay], "service_dependencies": [planned_dep]}, [create_dep]))
	d := policy.deny with input as inp
	testing.assert_ids(d, {"tf:pagerduty_service_dependency.web_on_pay"})
	testing.assert_finding(d, "tf:pagerduty_service_dependency.web_on_pay", {
		"msg": "service dependency \"pagerduty_service_dependency.web_on_pay\" has its supporting service \"payments\" managed in another Terraform state (payments.tfstate): when that state deletes or replaces it, plans of this one fail on the dependency",
		"resource": {"type": "service_dependency", "id": "tf:pagerduty_service_dependency.web_on_pay", "name": "pagerduty_service_dependency.web_on_pay"},
		"details": {"reason": "other_state", "side": "supporting_service", "service": "PSPAY", "state": "payments.tfstate"},
	})
}

test_dependency_within_the_plans_state_is_fine if {
	d := dep("tf:pagerduty_service_dependency.web_on_pay", biz_ref("PBSHOP"), svc_ref("PSWEB"))
	inp := with_iac(testing.planned({"services": [web], "business_services": [shop], "service_dependencies": [d]}, [create_dep]))
	testing.assert_empty(policy.deny) with input as inp
}

# A service that is in no state we were given: not known to be managed elsewhere.
test_unmanaged_side_is_not_flagged if {
	unmanaged := object.union(iac, {"resources": {"service": {"PSPAY": {"status": "unmanaged", "address": null, "source": null}}}})
	inp := object.union(testing.planned({"services": [web, pay], "service_dependencies": [planned_dep]}, [create_dep]), {"iac": unmanaged})
	testing.assert_empty(policy.deny) with input as inp
}

test_deleting_a_service_a_dependency_of_another_state_uses if {
	inp := with_iac(testing.planned(
		{"services": [pay], "service_dependencies": [dep("D1", svc_ref("PSWEB"), biz_ref("PBSHOP")), dep("D2", svc_ref("PSPAY"), biz_ref("PBSHOP"))]},
		[testing.change("delete", "service", web, null)],
	))
	d := policy.deny with input as inp
	testing.assert_ids(d, {"PSWEB"})
	testing.assert_finding(d, "PSWEB", {
		"msg": "service \"web\" is deleted while service dependency \"pagerduty_service_dependency.shop_on_web\" of another Terraform state (shop.tfstate) uses it: that state's next plan fails on the missing service",
		"details": {"reason": "dependency_in_other_state", "dependency": "D1", "state": "shop.tfstate"},
	})
}

test_no_plan_no_finding if {
	inp := with_iac(testing.snapshot({"services": [web, pay], "service_dependencies": [planned_dep]}))
	testing.assert_empty(policy.deny) with input as inp
}
