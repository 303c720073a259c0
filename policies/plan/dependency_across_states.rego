# METADATA
# title: Service dependencies stay within one Terraform state
# description: >-
#   A pagerduty_service_dependency whose supporting or dependent service is managed in another
#   Terraform state breaks as soon as that other state deletes or replaces the service: the
#   provider does not handle the dependency's 404 and every later plan of the state holding the
#   dependency fails until it is removed from state by hand ("service_dependency breaks state if
#   either service is removed outside of the Terraform pipeline", terraform-provider-pagerduty
#   #832). Flagged both ways: a planned dependency on a service of another state, and a planned
#   deletion or replacement of a service that a dependency of another state uses. The states
#   are those pdguard was given: the plan, and the --tfstate files of the other states.
# custom:
#   id: PDG-PLAN-005
#   severity: medium
#   remediation: >-
#     Manage the dependency in the same state (module) as the services it links, or look the
#     other service up with a data source and make its deletion a coordinated change: remove
#     the dependency from its state first, then delete or replace the service.
package pdguard.plan.dependency_across_states

import data.pdguard.lib

sides := ["supporting_service", "dependent_service"]

deny contains lib.finding_with(msg, "service_dependency", {"id": dep.id, "name": ch.address}, details) if {
	some ch in lib.plan_changes
	ch.resource.type == "service_dependency"
	ch.action in {"create", "update", "replace"}
	some dep in input.service_dependencies
	dep.id == ch.resource.id
	some side in sides
	other := source_of(asset_type(dep[side]), dep[side].id)
	other != plan_source
	details := {"reason": "other_state", "side": side, "service": dep[side].id, "state": other}
	msg := sprintf(
		"service dependency %q has its %s %q managed in another Terraform state (%s): when that state deletes or replaces it, plans of this one fail on the dependency",
		[ch.address, replace(side, "_", " "), side_name(dep[side]), other],
	)
}

deny contains lib.plan_finding(msg, r, details) if {
	some r in lib.removals
	r.type in {"service", "business_service"}
	some dep in input.service_dependencies
	some side in sides
	dep[side].id == r.id
	other := source_of("service_dependency", dep.id)
	other != plan_source
	entry := lib.iac_entry("service_dependency", dep.id)
	details := {"reason": "dependency_in_other_state", "dependency": dep.id, "state": other}
	msg := sprintf(
		"%s %q is %s while service dependency %q of another Terraform state (%s) uses it: that state's next plan fails on the missing service",
		[r.type, lib.plan_resource(r).name, verb[r.change.action], entry.address, other],
	)
}

plan_source := input.plan.source

# source_of(type, id): the state (file) that manages the object; undefined when none does.
source_of(rtype, id) := s if {
	s := lib.iac_entry(rtype, id).source
	is_string(s)
}

asset_type(ref) := "business_service" if startswith(ref.type, "business_service")

else := "service"

side_name(ref) := lib.asset_name(asset_type(ref), ref.id)

verb := {"delete": "deleted", "replace": "replaced"}
