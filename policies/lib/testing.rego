# Test helpers for policy tests (package pdguard.lib.testing), like trivy-checks' test lib:
# fixtures in the snapshot 2.0 shape and assertions that print what they got and what was
# expected when they fail (`pdguard policy test` and `opa test` show the printed lines).
#
#   import data.pdguard.lib.testing
#
#   test_service_without_escalation_policy_denied if {
#   	inp := testing.snapshot({"services": [{"id": "PSVC001", "name": "api"}]})
#   	testing.assert_ids(policy.deny, {"PSVC001"}) with input as inp
#   }
#
# Assertions are true when they hold; otherwise they print `got`/`want` and are false, so the
# test fails. Call them as the last expression(s) of a test.
package pdguard.lib.testing

# -- fixtures -----------------------------------------------------------------------------

# The scan time of every fixture.
scanned_at := "2026-11-26T09:00:00Z"

# What a full scan lists in meta.collections (Service Standards scores come with "standards").
collections := [
	"services", "escalation_policies", "schedules", "flexible_schedules", "incidents", "teams",
	"users", "business_services", "service_dependencies", "addons", "extensions", "oncalls",
	"standards",
]

# meta(collected): the snapshot meta of a scan at scanned_at that collected `collected`.
meta(collected) := {
	"scanned_at": scanned_at,
	"collections": collected,
	"complete": true,
	"warnings": [],
	"schedule_window": {"since": scanned_at, "until": "2026-12-03T09:00:00Z"},
}

# snapshot(objects): a schema 2.0 input holding `objects` ({collection: [object...]}), every
# collection collected (collections not given are empty).
snapshot(objects) := object.union({"schema_version": "2.0", "meta": meta(collections)}, objects)

# snapshot_without(objects, missing): the same, except that the collections `missing` were
# not collected (excluded or forbidden): they are not in meta.collections.
snapshot_without(objects, missing) := object.union(
	{"schema_version": "2.0", "meta": meta([c | some c in collections; not c in missing])},
	objects,
)

# ref(type, id): the API's reference to an object of `type` ("user", "schedule", ...).
ref(rtype, id) := {
	"id": id,
	"type": sprintf("%s_reference", [rtype]),
	"summary": id,
	"self": sprintf("https://api.pagerduty.com/%ss/%s", [rtype, id]),
}

user_ref(id) := ref("user", id)

schedule_ref(id) := ref("schedule", id)

flexible_schedule_ref(id) := ref("schedule_v3", id)

team_ref(id) := ref("team", id)

service_ref(id) := ref("service", id)

escalation_policy_ref(id) := ref("escalation_policy", id)

# escalation_policy(id, levels): an escalation policy whose rule i targets levels[i] (a list
# of references).
escalation_policy(id, levels) := {
	"id": id,
	"type": "escalation_policy",
	"name": id,
	"num_loops": 1,
	"escalation_rules": [{"id": sprintf("%s-R%d", [id, i]), "escalation_delay_in_minutes": 30, "targets": ts} |
		some i, ts in levels
	],
	"services": [],
	"teams": [],
}

# layer(users, end): a schedule layer with `users` (ids) that ends at `end` (null: current).
layer(uids, end) := {
	"id": sprintf("L-%s", [concat("-", uids)]),
	"name": "Layer",
	"start": "2025-01-01T00:00:00Z",
	"end": end,
	"rotation_virtual_start": "2025-01-01T00:00:00Z",
	"rotation_turn_length_seconds": 604800,
	"users": [{"user": user_ref(uid)} | some uid in uids],
	"restrictions": [],
}

# schedule(id, layers): a classic schedule with these layers.
schedule(id, layers) := {
	"id": id,
	"type": "schedule",
	"name": id,
	"time_zone": "UTC",
	"schedule_layers": layers,
	"escalation_policies": [],
	"users": [],
	"teams": [],
}

# -- Terraform plans (input.plan, `check --tfplan`) ----------------------------------------

# The Terraform resource type of each resource type.
tf_types := {
	"service": "pagerduty_service",
	"escalation_policy": "pagerduty_escalation_policy",
	"schedule": "pagerduty_schedule",
	"flexible_schedule": "pagerduty_schedulev2",
	"team": "pagerduty_team",
	"team_membership": "pagerduty_team_membership",
	"user": "pagerduty_user",
	"business_service": "pagerduty_business_service",
	"service_dependency": "pagerduty_service_dependency",
}

# change(action, type, before, after): an input.plan.changes entry as pdguard builds it from a
# plan: `action` create | update | delete | replace; `before` the live object (null for a
# create), `after` the object after the apply (null for a delete). The address is
# "<terraform type>.<name>" where name is the lower-cased id of the object.
change(action, rtype, before, after) := {
	"address": sprintf("%s.%s", [tf_types[rtype], lower(_id_of_change(before, after))]),
	"type": tf_types[rtype],
	"name": lower(_id_of_change(before, after)),
	"actions": _actions[action],
	"action": action,
	"resource": {"type": rtype, "id": _resource_id(action, before, after), "name": null},
	"before": before,
	"after": after,
	"replaces": _replaces(action, before, after),
	"unknown": [],
	"file": null,
	"line": null,
}

_actions := {"create": ["create"], "update": ["update"], "delete": ["delete"], "replace": ["delete", "create"]}

_id_of_change(before, _) := before.id if before != null

_id_of_change(null, after) := after.id

_resource_id("delete", before, _) := before.id

_resource_id(action, _, after) := after.id if action != "delete"

_replaces("replace", before, after) := before.id if before.id != after.id

_replaces(action, _, _) := null if action != "replace"

_replaces("replace", before, after) := null if before.id == after.id

# planned(objects, changes): a snapshot of the account after the apply (`objects`, as for
# snapshot) with input.plan holding `changes`.
planned(objects, changes) := object.union(snapshot(objects), {"plan": {
	"source": "plan.json",
	"format_version": "1.2",
	"terraform_version": "1.9.5",
	"complete": true,
	"changes": changes,
}})

# incident(id, status, service, ep, assignees): an incident (status triggered | acknowledged |
# resolved) of the service, escalating through ep, assigned to the users `assignees`.
incident(id, status, service, ep, assignees) := {
	"id": id,
	"type": "incident",
	"title": id,
	"status": status,
	"urgency": "high",
	"created_at": "2026-11-25T09:00:00Z",
	"service": service_ref(service),
	"escalation_policy": escalation_policy_ref(ep),
	"assignments": [{"at": "2026-11-25T09:00:00Z", "assignee": user_ref(u)} | some u in assignees],
}

# -- assertions ---------------------------------------------------------------------------

# assert_equal(got, want): got == want.
assert_equal(got, want) if {
	got == want
} else := false if {
	print(sprintf("assert_equal failed\n  got:  %v\n  want: %v", [got, want]))
}

# assert_empty(x): x (a set, array or object) is empty - e.g. no finding.
assert_empty(x) if {
	count(x) == 0
} else := false if {
	print(sprintf("assert_empty failed: got %d item(s): %v", [count(x), x]))
}

# assert_count(x, n): x has n items.
assert_count(x, n) if {
	count(x) == n
} else := false if {
	print(sprintf("assert_count failed: got %d item(s), want %d: %v", [count(x), n, x]))
}

# assert_ids(findings, want): the findings are about exactly the resources with the ids `want`
# (a set or an array of ids).
assert_ids(findings, want) if {
	{f.resource.id | some f in findings} == {id | some id in want}
} else := false if {
	got := sort({f.resource.id | some f in findings})
	print(sprintf(
		"assert_ids failed\n  got ids:  %v\n  want ids: %v\n  messages: %v",
		[got, sort({id | some id in want}), [f.msg | some f in findings]],
	))
}

# assert_finding(findings, id, want): a finding about resource `id` has every field of `want`
# ({"msg": ..., "details": ..., "resource": ...}, any subset).
assert_finding(findings, id, want) if {
	some f in findings
	f.resource.id == id
	every k, v in want {
		f[k] == v
	}
} else := false if {
	print(sprintf(
		"assert_finding failed: no finding about %s with %v\n  findings about %s: %v",
		[id, want, id, [f | some f in findings; f.resource.id == id]],
	))
}
