package pdguard.standards.parity_test

import data.pdguard.lib.testing
import data.pdguard.standards.parity as policy

cfg := {"min_escalation_levels": 2}

ann := testing.user_ref("PUSR001")

bob := testing.user_ref("PUSR002")

eps := [
	testing.escalation_policy("PEP0001", [[ann], [bob]]),
	testing.escalation_policy("PEP0002", [[ann], [ann]]), # one person: PDG-EP-004's
	testing.escalation_policy("PEP0003", [[ann, bob]]), # one level: PDG-EP-001's
	testing.escalation_policy("PEP0011", [[ann], []]), # an empty level: PDG-EP-002's
]

extensions := [{
	"id": "PEXT001", "type": "extension", "name": "Slack",
	"extension_schema": {"id": "PXS0001", "type": "extension_schema_reference", "summary": "Slack V2"},
	"extension_objects": [testing.service_ref("PSVC001"), testing.service_ref("PSVC002"), testing.service_ref("PSVC003")],
}]

description := "has_technical_service_description"

depth := "minimum_escalation_policy_rule_depth"

outbound := "minimum_outbound_integrations"

# the account's standards as GET /standards lists them (PagerDuty's three, all active)
standards := [
	testing.standard(description, {"name": "Service has a description"}),
	testing.standard(depth, {"name": "Service has an escalation policy with 2 or more unique levels"}),
	testing.standard(outbound, {"name": "Service has an extension or add-on (e.g. Slack, etc.)"}),
]

svc(id, desc, ep_id) := testing.service(id, {"description": desc, "escalation_policy": testing.escalation_policy_ref(ep_id)})

account(services) := testing.snapshot({"escalation_policies": eps, "extensions": extensions, "services": services, "standards": standards})

test_failed_standards_denied if {
	inp := account([svc("PSVC001", "Checkout API", "PEP0001"), svc("PSVC009", "Managed by Terraform", "PEP0001")])
	d := policy.deny with input as inp with data.pdguard.config as cfg
	testing.assert_ids(d, {"PSVC009"})
	testing.assert_finding(d, "PSVC009", {
		"msg": "service \"PSVC009\" fails the account's Service Standards: Service has a description, Service has an extension or add-on (e.g. Slack, etc.)",
		"details": {"failed": [description, outbound]},
	})
}

# issue 10 #7: the account's `active`, `exclusions` and `inclusions` decide where a standard applies.
test_the_accounts_active_exclusions_and_inclusions_apply if {
	services := [svc("PSVC007", "", "PEP0001"), svc("PSVC008", "", "PEP0001")]
	inactive := [object.union(s, {"active": false}) | some s in standards]
	testing.assert_empty(policy.deny) with input as object.union(account(services), {"standards": inactive})
		with data.pdguard.config as cfg
	excluding := [testing.standard(description, {"exclusions": [testing.technical_service_ref("PSVC007")]})]
	d1 := policy.deny with input as object.union(account(services), {"standards": excluding}) with data.pdguard.config as cfg
	testing.assert_ids(d1, {"PSVC008"})
	including := [testing.standard(outbound, {"inclusions": [testing.technical_service_ref("PSVC007")]})]
	d2 := policy.deny with input as object.union(account(services), {"standards": including}) with data.pdguard.config as cfg
	testing.assert_ids(d2, {"PSVC007"})
	testing.assert_finding(d2, "PSVC007", {"details": {"failed": [outbound]}})
}

# issue 10 #7, one root cause one finding: a shallow escalation is the escalation policy's own
# finding (PDG-EP-001/002/004), a missing escalation policy PDG-SVC-002's.
test_shallow_escalation_left_to_the_escalation_policies if {
	services := [
		svc("PSVC001", "d", "PEP0002"),
		svc("PSVC002", "d", "PEP0003"),
		svc("PSVC003", "d", "PEP0011"),
		testing.service("PSVC004", {"escalation_policy": null}),
	]
	d := policy.deny with input as account(services) with data.pdguard.config as cfg
	testing.assert_empty({f.resource.id | some f in d; depth in f.details.failed})
}

# ...and reported here when none of them reports it: PagerDuty asks for two unique levels
# whatever min_escalation_levels says.
test_shallow_escalation_reported_when_pdguard_allows_it if {
	inp := account([svc("PSVC002", "d", "PEP0003")])
	d := policy.deny with input as inp with data.pdguard.config as {"min_escalation_levels": 1}
	testing.assert_finding(d, "PSVC002", {"details": {"failed": [depth]}})
}

test_addon_counts_as_outbound if {
	addon := {"id": "PADD001", "type": "full_page_addon", "name": "Status", "services": [testing.service_ref("PSVC007")]}
	inp := testing.snapshot({
		"escalation_policies": eps, "addons": [addon], "standards": standards,
		"services": [svc("PSVC007", "d", "PEP0001"), svc("PSVC008", "d", "PEP0001")],
	})
	d := policy.deny with input as inp with data.pdguard.config as cfg
	testing.assert_ids(d, {"PSVC008"})
	testing.assert_finding(d, "PSVC008", {"details": {"failed": [outbound]}})
}

test_standards_on_uncollected_collections_are_not_judged if {
	services := [svc("PSVC009", "", "PEP0003")]
	no_extensions := testing.snapshot_without({"escalation_policies": eps, "services": services, "standards": standards}, ["extensions"])
	testing.assert_finding(policy.deny, "PSVC009", {"details": {"failed": [description, depth]}}) with input as no_extensions
		with data.pdguard.config as {"min_escalation_levels": 1}
	no_eps := testing.snapshot_without({"extensions": extensions, "services": services, "standards": standards}, ["escalation_policies"])
	testing.assert_finding(policy.deny, "PSVC009", {"details": {"failed": [description, outbound]}}) with input as no_eps
		with data.pdguard.config as {"min_escalation_levels": 1}
	no_standards := testing.snapshot_without({"escalation_policies": eps, "extensions": extensions, "services": services}, ["standards"])
	testing.assert_empty(policy.deny) with input as no_standards with data.pdguard.config as cfg
}
