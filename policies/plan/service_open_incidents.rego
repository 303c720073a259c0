# METADATA
# title: A planned service deletion or replacement leaves no open incident behind
# description: >-
#   Once a service is deleted "it will not be accessible from the web UI and new incidents won't
#   be able to be created for this service" (PagerDuty API, DELETE /services/{id}): its triggered
#   and acknowledged incidents go with it, out of the responders' service views, while they are
#   still being worked on. A replace (-replace, or replace_triggered_by) is the same delete
#   followed by a new service with a new id and new integration keys: the open incidents stay on
#   the deleted one, and monitoring tools keep sending to keys that no longer exist.
# custom:
#   id: PDG-PLAN-004
#   severity: high
#   remediation: >-
#     Resolve the service's open incidents (or wait until they are) before applying; to retire a
#     service without losing anything, disable it first (status = "disabled") and delete it in a
#     later change. For a replace, check whether an in-place update would do.
package pdguard.plan.service_open_incidents

import data.pdguard.lib

deny contains lib.plan_finding(msg, r, {"reason": "open_incidents", "action": r.change.action}) if {
	some r in lib.removals
	r.type == "service"
	n := count(lib.open_incidents_of_service[r.id])
	msg := sprintf(
		"service %q is %s while it has %d open incident(s): they go with the deleted service, out of reach of its responders",
		[lib.plan_resource(r).name, verb[r.change.action], n],
	)
}

verb := {"delete": "deleted", "replace": "replaced (deleted and created again with a new id and new integration keys)"}
