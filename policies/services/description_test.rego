package pdguard.services.description_test

import data.pdguard.lib.testing
import data.pdguard.services.description as policy

svc(id, description) := {"id": id, "type": "service", "name": id, "description": description}

test_missing_descriptions_denied if {
	inp := testing.snapshot({"services": [
		{"id": "PSVC001", "type": "service", "name": "a"},
		svc("PSVC002", null),
		svc("PSVC003", "   "),
		svc("PSVC004", "Handles checkout; runbook: https://wiki/x"),
	]})
	testing.assert_ids(policy.deny, {"PSVC001", "PSVC002", "PSVC003"}) with input as inp
}

test_described_passes if {
	inp := testing.snapshot({"services": [svc("PSVC004", "Handles checkout")]})
	testing.assert_empty(policy.deny) with input as inp
}

test_single_resource if {
	inp := testing.snapshot({"services": [{"id": "PSVC001", "type": "service", "name": "a", "description": ""}]})
	testing.assert_equal(policy.deny, {{
		"msg": "service \"a\" has no description",
		"resource": {"type": "service", "id": "PSVC001", "name": "a"},
	}}) with input as inp
}

# issue 10 #8: terraform-provider-pagerduty's default description is no description
test_terraform_placeholder_is_no_description if {
	inp := testing.snapshot_without(
		{"services": [
			svc("PSVC001", "Managed by Terraform"),
			svc("PSVC002", "managed by terraform "),
			svc("PSVC003", "Managed by Terraform - checkout API, runbook https://wiki/x"),
		]},
		["standards"],
	)
	d := policy.deny with input as inp
	testing.assert_ids(d, {"PSVC001", "PSVC002"})
	testing.assert_finding(d, "PSVC001", {"msg": "service \"PSVC001\" has no description (\"Managed by Terraform\" is the Terraform provider's placeholder)"})
}

# issue 10 #7: where the account's description standard applies, PDG-STD-001 reports the
# missing description (one finding); this policy covers the services the standard leaves out.
test_left_to_the_description_standard_where_it_applies if {
	standard := testing.standard("has_technical_service_description", {"exclusions": [testing.technical_service_ref("PSVC002")]})
	inp := testing.snapshot({"standards": [standard], "services": [svc("PSVC001", ""), svc("PSVC002", "")]})
	testing.assert_ids(policy.deny, {"PSVC002"}) with input as inp
	inactive := testing.snapshot({"standards": [object.union(standard, {"active": false})], "services": [svc("PSVC001", "")]})
	testing.assert_ids(policy.deny, {"PSVC001"}) with input as inactive
}
