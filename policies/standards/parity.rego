# METADATA
# title: Service meets PagerDuty's Service Standards
# description: >-
#   Mirrors PagerDuty's Service Standards for technical services so they are enforced on
#   every account and plan, in CI, before changes land - a description responders can read,
#   an escalation policy with at least two unique levels (distinct targets, so escalation
#   actually reaches someone else), and an outbound integration (an extension or add-on such
#   as a webhook, chat or ticketing tool) so incidents reach the places teams work.
# custom:
#   id: PDG-STD-001
#   severity: medium
#   remediation: >-
#     Fix each failed standard listed in the finding. has_technical_service_description -
#     set the service description (service > Settings > Edit; PUT /services/{id};
#     Terraform description). minimum_escalation_policy_rule_depth - give the service's escalation policy
#     at least two levels with different targets (People > Escalation Policies > Edit;
#     PUT /escalation_policies/{id}; Terraform rule blocks). minimum_outbound_integrations -
#     add an extension for the service (service > Integrations > Add an extension, e.g. Slack
#     or a generic webhook; POST /extensions with the service in extension_objects;
#     Terraform pagerduty_extension with extension_objects). The level threshold is the
#     setting min_escalation_levels.
package pdguard.standards.parity

ep_by_id := {ep.id: ep | some ep in input.escalation_policies}

# services referenced by an extension (outbound integration) ...
outbound_extensions := {obj.id |
	some ext in input.extensions
	some obj in object.get(ext, "extension_objects", [])
}

# ... or by an add-on (PagerDuty's standard counts "an extension or add-on")
outbound_addons := {obj.id |
	some addon in input.addons
	some obj in object.get(addon, "services", [])
}

outbound := outbound_extensions | outbound_addons

blank(x) if x == null

blank(x) if {
	is_string(x)
	trim_space(x) == ""
}

# the service's escalation policy: the inventory's object when known, else the embedded one
service_ep(svc) := ep_by_id[svc.escalation_policy.id]

service_ep(svc) := svc.escalation_policy if {
	is_object(svc.escalation_policy)
	not ep_by_id[object.get(svc.escalation_policy, "id", null)]
}

# number of levels with distinct, non-empty target sets (a level that pages nobody is no level)
unique_levels(ep) := count({targets |
	some r in object.get(ep, "escalation_rules", [])
	targets := {t.id | some t in object.get(r, "targets", [])}
	count(targets) > 0
})

ok_description(svc) := false if {
	blank(object.get(svc, "description", null))
} else := true

ok_levels(svc) := true if {
	unique_levels(service_ep(svc)) >= data.pdguard.config.min_escalation_levels
} else := false

ok_outbound(svc) := svc.id in outbound

failed(svc) := sort({name |
	some name, ok in {
		"has_technical_service_description": ok_description(svc),
		"minimum_escalation_policy_rule_depth": ok_levels(svc),
		"minimum_outbound_integrations": ok_outbound(svc),
	}
	ok == false
})

deny contains f if {
	some svc in input.services
	fails := failed(svc)
	count(fails) > 0
	name := object.get(svc, "name", "")
	f := {
		"msg": sprintf("service %q fails PagerDuty Service Standards: %s", [name, concat(", ", fails)]),
		"resource": {"type": "service", "id": svc.id, "name": name},
		"details": {"failed": fails},
	}
}
