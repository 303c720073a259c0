package pdguard.business_services.no_supporting_test

import data.pdguard.business_services.no_supporting as policy
import data.pdguard.lib.testing

business_services := [
	{"id": "PBS0001", "type": "business_service", "name": "Checkout"},
	{"id": "PBS0002", "type": "business_service", "name": "Search"},
	{"id": "PBS0003", "type": "business_service", "name": "Shop"},
]

dep(supporting, supporting_type, dependent) := {
	"id": sprintf("D%s%s", [supporting, dependent]),
	"type": "service_dependency",
	"supporting_service": {"id": supporting, "type": sprintf("%s_reference", [supporting_type])},
	"dependent_service": {"id": dependent, "type": "business_service_reference"},
}

deps := [
	dep("PSVC001", "technical_service", "PBS0001"),
	# a business service supported by another business service is supported too
	dep("PBS0001", "business_service", "PBS0003"),
	# PBS0002 only supports another one: it has no support itself
	dep("PBS0002", "business_service", "PBS0009"),
]

test_unsupported_denied if {
	inp := testing.snapshot({"business_services": business_services, "service_dependencies": deps})
	d := policy.deny with input as inp
	testing.assert_ids(d, {"PBS0002"})
	testing.assert_finding(d, "PBS0002", {
		"msg": "business service \"Search\" has no supporting services",
		"resource": {"type": "business_service", "id": "PBS0002", "name": "Search"},
	})
}

test_no_dependencies_at_all if {
	inp := testing.snapshot({"business_services": business_services})
	testing.assert_ids(policy.deny, {"PBS0001", "PBS0002", "PBS0003"}) with input as inp
}

test_dependencies_not_collected_judges_nothing if {
	inp := testing.snapshot_without({"business_services": business_services}, ["service_dependencies"])
	testing.assert_empty(policy.deny) with input as inp
}
