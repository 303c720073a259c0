package pdguard.business_services.unmapped_service_test

import data.pdguard.business_services.unmapped_service as policy
import data.pdguard.lib.testing

bs := {"id": "PBS0001", "type": "business_service", "name": "Checkout", "point_of_contact": "Pat", "team": testing.team_ref("PTM0001")}

dep(id, from, to) := {
	"id": id, "type": "service_dependency",
	"supporting_service": {"id": from, "type": "technical_service_reference"},
	"dependent_service": to,
}

low := {"incident_urgency_rule": {"type": "constant", "urgency": "low"}}

services := [
	testing.service("PSVC001", {}), # supports the business service
	testing.service("PSVC002", {}), # supports PSVC001, which supports it
	testing.service("PSVC003", {}), # supports nothing
	testing.service("PSVC004", low), # low urgency only
	testing.service("PSVC005", {"status": "disabled"}),
]

deps := [
	dep("D1", "PSVC001", {"id": "PBS0001", "type": "business_service_reference"}),
	dep("D2", "PSVC002", {"id": "PSVC001", "type": "technical_service_reference"}),
]

# A scan that read every technical service's dependencies (scan.service_dependencies: all).
every_service_dependencies(inp) := object.union(inp, {"meta": {"service_dependencies": "all"}})

account := testing.snapshot({"services": services, "business_services": [bs], "service_dependencies": deps})

test_unmapped_high_urgency_service_denied if {
	d := policy.deny with input as every_service_dependencies(account)
	testing.assert_ids(d, {"PSVC003"})
	testing.assert_finding(d, "PSVC003", {
		"msg": "service \"PSVC003\" can open high-urgency incidents but supports no business service: its outages show no business impact",
		"resource": {"type": "service", "id": "PSVC003", "name": "PSVC003"},
	})
}

# An account without business services does not use them; one whose business services or
# dependencies were not collected cannot be judged.
test_not_judged_without_business_services if {
	none := testing.snapshot({"services": services, "business_services": [], "service_dependencies": []})
	testing.assert_empty(policy.deny) with input as every_service_dependencies(none)
	forbidden := testing.snapshot_without({"services": services, "business_services": [bs]}, ["service_dependencies"])
	testing.assert_empty(policy.deny) with input as every_service_dependencies(forbidden)
}

# With the business services' dependencies only (the default, or a snapshot that does not say),
# PSVC003 may support PSVC001 through a dependency nobody read: not judged.
test_not_judged_with_the_business_services_dependencies_only if {
	business := object.union(account, {"meta": {"service_dependencies": "business"}})
	testing.assert_empty(policy.deny) with input as business
	testing.assert_empty(policy.deny) with input as account
}
