package pdguard.iac.drifted_test

import data.pdguard.iac.drifted as policy
import data.pdguard.lib.testing

iac := {
	"sources": ["terraform.tfstate"], "resources": {
		"service": {
			"PSVC001": {"status": "drifted", "address": "pagerduty_service.api", "drift": ["name", "description"], "file": "main.tf", "line": 3},
			"PSVC002": {"status": "codified", "address": "pagerduty_service.web", "drift": []},
			"PSVC003": {"status": "unmanaged", "address": null, "drift": []},
		},
		"escalation_policy": {"PEP0001": {"status": "drifted", "address": "pagerduty_escalation_policy.primary", "drift": ["num_loops"]}},
	},
	"ghosts": [],
}

test_drifted_assets_denied if {
	inp := object.union(
		testing.snapshot({
			"services": [{"id": "PSVC001", "type": "service", "name": "api"}],
			"escalation_policies": [{"id": "PEP0001", "type": "escalation_policy", "name": "Primary"}],
		}),
		{"iac": iac},
	)
	d := policy.deny with input as inp
	testing.assert_ids(d, {"PSVC001", "PEP0001"})
	testing.assert_finding(d, "PSVC001", {
		"msg": "service \"api\" (pagerduty_service.api) differs from its Terraform code: description, name",
		"resource": {"type": "service", "id": "PSVC001", "name": "api"},
		"details": {"address": "pagerduty_service.api", "drift": ["description", "name"]},
	})
	testing.assert_finding(d, "PEP0001", {
		"resource": {"type": "escalation_policy", "id": "PEP0001", "name": "Primary"},
		"details": {"address": "pagerduty_escalation_policy.primary", "drift": ["num_loops"]},
	})
}

test_missing_fields_and_unknown_objects if {
	inp := object.union(testing.snapshot({}), {"iac": {"resources": {"schedule": {"PSCH001": {"status": "drifted"}}}}})
	testing.assert_finding(policy.deny, "PSCH001", {
		"resource": {"type": "schedule", "id": "PSCH001", "name": "PSCH001"},
		"details": {"address": null, "drift": []},
	}) with input as inp
}

test_in_sync_or_no_iac_passes if {
	in_sync := {"resources": {"service": {"PSVC002": {"status": "codified", "address": "pagerduty_service.web", "drift": []}}}}
	testing.assert_empty(policy.deny) with input as object.union(testing.snapshot({}), {"iac": in_sync})
	testing.assert_empty(policy.deny) with input as object.union(testing.snapshot({}), {"iac": null})
	testing.assert_empty(policy.deny) with input as testing.snapshot({})
}

# The audit records name who changed it last: in the message, not in the details (fingerprint).
test_drift_names_who_changed_it if {
	change := {
		"at": "2026-11-25T10:12:03Z", "action": "update", "method": "browser", "record": "R1",
		"actors": [{"id": "PUSR001", "type": "user_reference", "summary": "Ann Adams"}],
	}
	entry := {"status": "drifted", "address": "pagerduty_service.api", "drift": ["description"], "changed_by": change}
	inp := object.union(
		testing.snapshot({"services": [{"id": "PSVC001", "type": "service", "name": "api"}]}),
		{"iac": {"resources": {"service": {"PSVC001": entry}}}},
	)
	testing.assert_finding(policy.deny, "PSVC001", {
		"msg": "service \"api\" (pagerduty_service.api) differs from its Terraform code: description; last changed by Ann Adams (user) at 2026-11-25T10:12:03Z via browser",
		"details": {"address": "pagerduty_service.api", "drift": ["description"]},
	}) with input as inp
	unknown := object.union(entry, {"changed_by": null})
	inp2 := object.union(
		testing.snapshot({"services": [{"id": "PSVC001", "type": "service", "name": "api"}]}),
		{"iac": {"resources": {"service": {"PSVC001": unknown}}}},
	)
	testing.assert_finding(policy.deny, "PSVC001", {"msg": "service \"api\" (pagerduty_service.api) differs from its Terraform code: description"}) with input as inp2
}
