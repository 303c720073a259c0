package pdguard.standards.parity_test

import data.pdguard.standards.parity as policy

cfg := {"min_escalation_levels": 2}

lvl(ids) := {"id": "R", "targets": [{"id": id, "type": "user_reference"} | some id in ids]}

eps := [
	{"id": "PEP0001", "name": "good", "escalation_rules": [lvl(["PUSER01"]), lvl(["PUSER02"])]},
	{"id": "PEP0002", "name": "dup", "escalation_rules": [lvl(["PUSER01"]), lvl(["PUSER01"])]},
	{"id": "PEP0003", "name": "one", "escalation_rules": [lvl(["PUSER01", "PUSER02"])]},
]

extensions := [{"id": "PEXT001", "name": "Slack", "extension_schema": {"id": "PXS0001", "type": "extension_schema_reference"}, "extension_objects": [
	{"id": "PSVC001", "type": "service_reference"},
	{"id": "PSVC002", "type": "service_reference"},
	{"id": "PSVC003", "type": "service_reference"},
]}]

svc(id, desc, ep_id) := {"id": id, "name": id, "description": desc, "escalation_policy": {"id": ep_id, "type": "escalation_policy_reference"}}

test_all_standards_failed if {
	inp := {"escalation_policies": eps, "extensions": extensions, "services": [
		svc("PSVC001", "Checkout API", "PEP0001"),
		svc("PSVC009", "", "PEP0003"),
	]}
	d := policy.deny with input as inp with data.pdguard.config as cfg
	count(d) == 1
	some f in d
	f.resource == {"type": "service", "id": "PSVC009", "name": "PSVC009"}
	f.details == {"failed": ["has_technical_service_description", "minimum_escalation_policy_rule_depth", "minimum_outbound_integrations"]}
}

test_duplicate_levels_are_not_unique if {
	inp := {"escalation_policies": eps, "extensions": extensions, "services": [svc("PSVC002", "x", "PEP0002")]}
	d := policy.deny with input as inp with data.pdguard.config as cfg
	count(d) == 1
	some f in d
	f.details == {"failed": ["minimum_escalation_policy_rule_depth"]}
}

test_compliant_passes if {
	inp := {"escalation_policies": eps, "extensions": extensions, "services": [
		svc("PSVC001", "Checkout API", "PEP0001"),
		svc("PSVC003", "Search", "PEP0001"),
	]}
	d := policy.deny with input as inp with data.pdguard.config as cfg
	count(d) == 0
}

test_empty_levels_do_not_count if {
	empty := {"id": "PEP0010", "name": "gap", "escalation_rules": [lvl(["PUSER01"]), lvl([]), {"id": "R"}]}
	inp := {"escalation_policies": [empty], "extensions": extensions, "services": [svc("PSVC001", "d", "PEP0010")]}
	d := policy.deny with input as inp with data.pdguard.config as cfg
	count(d) == 1
	some f in d
	f.details == {"failed": ["minimum_escalation_policy_rule_depth"]}
}

test_addon_counts_as_outbound if {
	inp := {
		"escalation_policies": eps,
		"addons": [{"id": "PADD001", "type": "full_page_addon", "services": [{"id": "PSVC007", "type": "service_reference"}]}],
		"services": [svc("PSVC007", "d", "PEP0001"), svc("PSVC008", "d", "PEP0001")],
	}
	d := policy.deny with input as inp with data.pdguard.config as cfg
	count(d) == 1
	some f in d
	f.resource.id == "PSVC008"
	f.details == {"failed": ["minimum_outbound_integrations"]}
}

test_min_levels_is_configurable if {
	inp := {"escalation_policies": eps, "extensions": extensions, "services": [svc("PSVC001", "Checkout API", "PEP0001")]}
	d := policy.deny with input as inp with data.pdguard.config as {"min_escalation_levels": 3}
	count(d) == 1
}

test_embedded_ep_used_when_not_in_inventory if {
	embedded := {"id": "PEP0099", "type": "escalation_policy", "escalation_rules": [lvl(["PUSER01"]), lvl(["PUSER02"])]}
	inp := {"extensions": extensions, "services": [{"id": "PSVC001", "name": "a", "description": "d", "escalation_policy": embedded}]}
	d := policy.deny with input as inp with data.pdguard.config as cfg
	count(d) == 0
}

test_missing_everything if {
	inp := {"services": [{"id": "PSVC005", "name": "bare"}, {"id": "PSVC006", "name": "nullep", "description": "d", "escalation_policy": null}]}
	d := policy.deny with input as inp with data.pdguard.config as cfg
	count(d) == 2
	{[f.resource.id, f.details.failed] | some f in d} == {
		["PSVC005", ["has_technical_service_description", "minimum_escalation_policy_rule_depth", "minimum_outbound_integrations"]],
		["PSVC006", ["minimum_escalation_policy_rule_depth", "minimum_outbound_integrations"]],
	}
}
