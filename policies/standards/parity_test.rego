package pdguard.standards.parity_test

import data.pdguard.lib.testing
import data.pdguard.standards.parity as policy

cfg := {"min_escalation_levels": 2}

ann := testing.user_ref("PUSR001")

bob := testing.user_ref("PUSR002")

eps := [
	testing.escalation_policy("PEP0001", [[ann], [bob]]),
	testing.escalation_policy("PEP0002", [[ann], [ann]]),
	testing.escalation_policy("PEP0003", [[ann, bob]]),
	testing.escalation_policy("PEP0010", [[ann], [], [testing.schedule_ref("PSCH001")]]),
	testing.escalation_policy("PEP0011", [[ann], []]),
]

extensions := [{
	"id": "PEXT001", "type": "extension", "name": "Slack",
	"extension_schema": {"id": "PXS0001", "type": "extension_schema_reference", "summary": "Slack V2"},
	"extension_objects": [testing.service_ref("PSVC001"), testing.service_ref("PSVC002"), testing.service_ref("PSVC003")],
}]

svc(id, desc, ep_id) := {
	"id": id, "type": "service", "name": id, "description": desc,
	"escalation_policy": testing.escalation_policy_ref(ep_id),
}

account(services) := testing.snapshot({"escalation_policies": eps, "extensions": extensions, "services": services})

all_three := ["has_technical_service_description", "minimum_escalation_policy_rule_depth", "minimum_outbound_integrations"]

test_all_standards_failed if {
	inp := account([svc("PSVC001", "Checkout API", "PEP0001"), svc("PSVC009", "", "PEP0003")])
	d := policy.deny with input as inp with data.pdguard.config as cfg
	testing.assert_ids(d, {"PSVC009"})
	testing.assert_finding(d, "PSVC009", {
		"msg": "service \"PSVC009\" fails PagerDuty Service Standards: has_technical_service_description, minimum_escalation_policy_rule_depth, minimum_outbound_integrations",
		"details": {"failed": all_three},
	})
}

test_duplicate_levels_are_not_unique if {
	inp := account([svc("PSVC002", "x", "PEP0002")])
	testing.assert_finding(policy.deny, "PSVC002", {"details": {"failed": ["minimum_escalation_policy_rule_depth"]}}) with input as inp
		with data.pdguard.config as cfg
}

test_empty_levels_do_not_count if {
	inp := account([svc("PSVC001", "d", "PEP0011"), svc("PSVC002", "d", "PEP0010")])
	d := policy.deny with input as inp with data.pdguard.config as cfg
	testing.assert_ids(d, {"PSVC001"})
	testing.assert_finding(d, "PSVC001", {"details": {"failed": ["minimum_escalation_policy_rule_depth"]}})
}

test_compliant_passes if {
	inp := account([svc("PSVC001", "Checkout API", "PEP0001"), svc("PSVC003", "Search", "PEP0001")])
	testing.assert_empty(policy.deny) with input as inp with data.pdguard.config as cfg
}

test_addon_counts_as_outbound if {
	addon := {"id": "PADD001", "type": "full_page_addon", "name": "Status", "services": [testing.service_ref("PSVC007")]}
	inp := testing.snapshot({
		"escalation_policies": eps, "addons": [addon],
		"services": [svc("PSVC007", "d", "PEP0001"), svc("PSVC008", "d", "PEP0001")],
	})
	d := policy.deny with input as inp with data.pdguard.config as cfg
	testing.assert_ids(d, {"PSVC008"})
	testing.assert_finding(d, "PSVC008", {"details": {"failed": ["minimum_outbound_integrations"]}})
}

test_min_levels_is_configurable if {
	inp := account([svc("PSVC001", "Checkout API", "PEP0001")])
	testing.assert_ids(policy.deny, {"PSVC001"}) with input as inp with data.pdguard.config as {"min_escalation_levels": 3}
}

test_missing_everything if {
	inp := account([
		{"id": "PSVC005", "type": "service", "name": "bare"},
		{"id": "PSVC006", "type": "service", "name": "nullep", "description": "d", "escalation_policy": null},
	])
	d := policy.deny with input as inp with data.pdguard.config as cfg
	testing.assert_finding(d, "PSVC005", {"details": {"failed": all_three}})
	testing.assert_finding(d, "PSVC006", {"details": {"failed": ["minimum_escalation_policy_rule_depth", "minimum_outbound_integrations"]}})
}

test_standards_on_uncollected_collections_are_not_judged if {
	services := [svc("PSVC009", "", "PEP0003")]
	no_extensions := testing.snapshot_without({"escalation_policies": eps, "services": services}, ["extensions"])
	no_eps := testing.snapshot_without({"extensions": extensions, "services": services}, ["escalation_policies"])
	testing.assert_finding(policy.deny, "PSVC009", {"details": {"failed": [
		"has_technical_service_description",
		"minimum_escalation_policy_rule_depth",
	]}}) with input as no_extensions with data.pdguard.config as cfg
	testing.assert_finding(policy.deny, "PSVC009", {"details": {"failed": [
		"has_technical_service_description",
		"minimum_outbound_integrations",
	]}}) with input as no_eps with data.pdguard.config as cfg
}
