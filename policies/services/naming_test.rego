package pdguard.services.naming_test

import data.pdguard.lib.testing
import data.pdguard.services.naming as policy

cfg := {"service_name_pattern": "^[a-z0-9]+(-[a-z0-9]+)*$"}

svc(id, name) := {"id": id, "type": "service", "name": name}

test_bad_name_denied if {
	inp := testing.snapshot({"services": [svc("PSVC001", "Checkout API"), svc("PSVC002", "checkout-api")]})
	d := policy.deny with input as inp with data.pdguard.config as cfg
	testing.assert_ids(d, {"PSVC001"})
	testing.assert_finding(d, "PSVC001", {
		"msg": "service \"Checkout API\" does not match the naming pattern \"^[a-z0-9]+(-[a-z0-9]+)*$\"",
		"resource": {"type": "service", "id": "PSVC001", "name": "Checkout API"},
		"details": {"pattern": cfg.service_name_pattern},
	})
}

test_good_names_pass if {
	inp := testing.snapshot({"services": [svc("PSVC001", "checkout-api"), svc("PSVC002", "payments")]})
	testing.assert_empty(policy.deny) with input as inp with data.pdguard.config as cfg
}

test_custom_pattern if {
	inp := testing.snapshot({"services": [svc("PSVC001", "Checkout API"), svc("PSVC002", "checkout-api")]})
	testing.assert_ids(policy.deny, {"PSVC002"}) with input as inp with data.pdguard.config as {"service_name_pattern": "^[A-Z]"}
}

test_missing_name_judged_by_id if {
	inp := testing.snapshot({"services": [{"id": "PSVC001", "type": "service"}]})
	testing.assert_finding(policy.deny, "PSVC001", {"resource": {"type": "service", "id": "PSVC001", "name": "PSVC001"}}) with input as inp
		with data.pdguard.config as cfg
}

test_no_services if {
	testing.assert_empty(policy.deny) with input as testing.snapshot({}) with data.pdguard.config as cfg
}
