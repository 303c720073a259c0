package pdguard.services.naming_test

import data.pdguard.services.naming

cfg := {"service_name_pattern": "^[a-z0-9]+(-[a-z0-9]+)*$"}

test_bad_name_denied if {
	inp := {"services": [
		{"id": "PSVC001", "name": "Checkout API"},
		{"id": "PSVC002", "name": "checkout-api"},
	]}
	d := naming.deny with input as inp with data.pdguard.config as cfg
	count(d) == 1
	some f in d
	f.resource == {"type": "service", "id": "PSVC001", "name": "Checkout API"}
	f.details.pattern == cfg.service_name_pattern
}

test_good_names_pass if {
	inp := {"services": [
		{"id": "PSVC001", "name": "checkout-api"},
		{"id": "PSVC002", "name": "payments"},
	]}
	d := naming.deny with input as inp with data.pdguard.config as cfg
	count(d) == 0
}

test_custom_pattern if {
	inp := {"services": [{"id": "PSVC001", "name": "Checkout API"}, {"id": "PSVC002", "name": "checkout-api"}]}
	d := naming.deny with input as inp with data.pdguard.config as {"service_name_pattern": "^[A-Z]"}
	count(d) == 1
	some f in d
	f.resource.id == "PSVC002"
}

test_missing_name_denied if {
	inp := {"services": [{"id": "PSVC001"}]}
	d := naming.deny with input as inp with data.pdguard.config as cfg
	count(d) == 1
	some f in d
	f.resource.name == ""
}

test_no_services if {
	d := naming.deny with input as {} with data.pdguard.config as cfg
	count(d) == 0
}
