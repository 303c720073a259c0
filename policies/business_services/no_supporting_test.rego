package pdguard.business_services.no_supporting_test

import data.pdguard.business_services.no_supporting as policy

dep(supporting, dependent) := {
	"id": sprintf("D%s%s", [supporting, dependent]),
	"type": "service_dependency",
	"supporting_service": {"id": supporting, "type": "technical_service_reference"},
	"dependent_service": {"id": dependent, "type": "business_service_reference"},
}

test_unsupported_denied if {
	inp := {
		"business_services": [{"id": "PBS0001", "name": "Checkout"}, {"id": "PBS0002", "name": "Search"}],
		"service_dependencies": [dep("PSVC001", "PBS0001"), dep("PBS0002", "PBS0003")],
	}
	d := policy.deny with input as inp with data.pdguard.config as {}
	count(d) == 1
	some f in d
	f.resource == {"type": "business_service", "id": "PBS0002", "name": "Search"}
}

test_supported_passes if {
	inp := {
		"business_services": [{"id": "PBS0001", "name": "Checkout"}, {"id": "PBS0003", "name": "Shop"}],
		"service_dependencies": [dep("PSVC001", "PBS0001"), dep("PBS0002", "PBS0003")],
	}
	d := policy.deny with input as inp with data.pdguard.config as {}
	count(d) == 0
}

test_no_dependencies_field if {
	inp := {"business_services": [{"id": "PBS0001", "name": "Checkout"}]}
	count(policy.deny) == 1 with input as inp with data.pdguard.config as {}
}
