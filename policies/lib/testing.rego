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

# snapshot_paging(objects): snapshot(objects) plus an escalation policy PEPPAGE whose first
# level targets every schedule of objects.schedules - schedules an escalation policy pages, as
# the policies about a rotation need (a schedule nobody pages is PDG-SCH-003's finding).
snapshot_paging(objects) := snapshot(object.union(objects, {"escalation_policies": array.concat(
	object.get(objects, "escalation_policies", []),
	[escalation_policy("PEPPAGE", [[schedule_ref(s.id) | some s in objects.schedules]])],
)}))

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

# service(id, fields): a technical service as GET /services returns it (references, embedded
# integrations), overlaid with `fields`. Escalation policy PEP0001, one integration, constant
# high urgency, PagerDuty's default timeouts.
service(id, fields) := object.union(
	{
		"id": id,
		"type": "service",
		"summary": id,
		"name": id,
		"description": sprintf("what %s does", [id]),
		"status": "active",
		"created_at": "2025-01-01T00:00:00Z",
		"last_incident_timestamp": "2026-11-20T00:00:00Z",
		"escalation_policy": escalation_policy_ref("PEP0001"),
		"teams": [team_ref("PTM0001")],
		"incident_urgency_rule": {"type": "constant", "urgency": "high"},
		"acknowledgement_timeout": 1800,
		"auto_resolve_timeout": 14400,
		"integrations": [{"id": sprintf("I%s", [id]), "type": "events_api_v2_inbound_integration", "service": service_ref(id)}],
	},
	fields,
)

# contact_method(kind, id): a contact method of kind "email", "phone", "sms", "push_notification".
contact_method(kind, id) := {
	"id": id,
	"type": sprintf("%s_contact_method", [kind]),
	"summary": kind,
	"label": kind,
	"address": sprintf("%s-address", [id]),
}

# notification_rule(urgency, cm): a notification rule (as include[]=notification_rules gives
# it) that notifies the contact method `cm` immediately for incidents of `urgency`.
notification_rule(urgency, cm) := {
	"id": sprintf("NR-%s-%s", [urgency, cm.id]),
	"type": "assignment_notification_rule",
	"start_delay_in_minutes": 0,
	"urgency": urgency,
	"contact_method": {"id": cm.id, "type": sprintf("%s_reference", [cm.type]), "summary": cm.summary},
}

# user(id, fields): a user with an email and a phone contact method, notified by phone for
# high urgency and by email for low urgency, overlaid with `fields`.
user(id, fields) := object.union(
	{
		"id": id,
		"type": "user",
		"summary": id,
		"name": id,
		"email": sprintf("%s@example.com", [lower(id)]),
		"role": "user",
		"invitation_sent": false,
		"teams": [],
		"contact_methods": [contact_method("email", sprintf("%s-E", [id])), contact_method("phone", sprintf("%s-P", [id]))],
		"notification_rules": [
			notification_rule("high", contact_method("phone", sprintf("%s-P", [id]))),
			notification_rule("low", contact_method("email", sprintf("%s-E", [id]))),
		],
	},
	fields,
)

# oncall(ep_id, level, user_id, schedule_id): a GET /oncalls entry covering the scan (a
# schedule shift from 00:00 to 00:00 the next day; user targets have null start and end:
# pass schedule_id null).
oncall(ep_id, level, uid, null) := {
	"escalation_policy": escalation_policy_ref(ep_id), "escalation_level": level,
	"schedule": null, "user": user_ref(uid), "start": null, "end": null,
}

oncall(ep_id, level, uid, sid) := {
	"escalation_policy": escalation_policy_ref(ep_id), "escalation_level": level,
	"schedule": schedule_ref(sid), "user": user_ref(uid),
	"start": "2026-11-26T00:00:00Z", "end": "2026-11-27T00:00:00Z",
} if {
	sid != null
}

# standard(type, fields): an account Service Standard (GET /standards), active for every
# technical service, overlaid with `fields` (e.g. {"exclusions": [{"type":
# "technical_service_reference", "id": "PSVC001"}]}).
standard(stype, fields) := object.union(
	{
		"id": sprintf("STD-%s", [stype]),
		"type": stype,
		"name": stype,
		"description": stype,
		"active": true,
		"resource_type": "technical_service",
		"exclusions": [],
		"inclusions": [],
	},
	fields,
)

# technical_service_ref(id): how a standard's inclusions/exclusions name a service.
technical_service_ref(id) := {"type": "technical_service_reference", "id": id}

# daily_schedule(id, uids, start_hour, hours): a classic schedule as GET /schedules/{id} with
# since/until (the fixtures' window, 7 days from scanned_at) and overflow=true renders it: every
# day someone of `uids` (in turn) is on call from start_hour UTC for `hours` hours - 24 is round
# the clock; 8 from 22 runs past midnight.
daily_schedule(id, uids, start_hour, hours) := object.union(schedule(id, [layer(uids, null)]), {"final_schedule": {
	"name": "Final Schedule",
	"rendered_schedule_entries": [entry |
		some d in numbers.range(-1, 7)
		start := time.parse_rfc3339_ns("2026-11-26T00:00:00Z") + (((d * 24) + start_hour) * _ns_per_hour)
		end := start + (hours * _ns_per_hour)
		end > time.parse_rfc3339_ns(scanned_at)
		start < time.parse_rfc3339_ns("2026-12-03T09:00:00Z")
		entry := {"start": _rfc3339(start), "end": _rfc3339(end), "user": user_ref(uids[(d + 1) % count(uids)])}
	],
	"rendered_coverage_percentage": (100 * hours) / 24,
}})

# oncall_form(inp): the same account as a schema 2.1 scan reads it: classic schedules from the
# list (no rendering) and GET /oncalls over the schedule window - a shift of every schedule an
# escalation level targets (its rendered entries) and a user targeted directly (null start and
# end) - in place of any on-calls `inp` gives.
oncall_form(inp) := object.union(inp, {
	"schema_version": "2.1",
	"meta": object.union(inp.meta, {"oncall_window": inp.meta.schedule_window}),
	"schedules": [object.remove(s, ["final_schedule"]) | some s in object.get(inp, "schedules", [])],
	"oncalls": [o | some o in (_shift_entries(inp) | _user_entries(inp))],
})

_shift_entries(inp) := {o |
	some ep in object.get(inp, "escalation_policies", [])
	some i, rule in ep.escalation_rules
	some t in rule.targets
	t.type == "schedule_reference"
	some s in object.get(inp, "schedules", [])
	s.id == t.id
	some e in s.final_schedule.rendered_schedule_entries
	o := object.union(oncall(ep.id, i + 1, e.user.id, t.id), {"start": e.start, "end": e.end})
}

_user_entries(inp) := {oncall(ep.id, i + 1, t.id, null) |
	some ep in object.get(inp, "escalation_policies", [])
	some i, rule in ep.escalation_rules
	some t in rule.targets
	t.type == "user_reference"
}

# flexible_daily(id, uids, start_hour, hours): the same rendering for a flexible schedule
# (GET /v3/schedules/{id}: final_schedule.computed_shift_assignments).
flexible_daily(id, uids, start_hour, hours) := {
	"id": id, "type": "schedule_v3", "name": id, "time_zone": "UTC",
	"users": [user_ref(uid) | some uid in uids],
	"final_schedule": {"type": "final_schedule", "computed_shift_assignments": [{
		"type": "computed_shift_assignment",
		"start_time": e.start, "end_time": e.end,
		"member": {"type": "user_member", "user_id": e.user.id},
		"source": {"type": "schedule_rotation", "rotation_id": "R1"},
	} |
		some e in daily_schedule(id, uids, start_hour, hours).final_schedule.rendered_schedule_entries
	]},
}

_ns_per_hour := 3600000000000

_rfc3339(ns) := time.format([ns, "UTC", "2006-01-02T15:04:05Z07:00"])

# resolved_incident(id, service_id, created_at): a resolved incident of the service (GET /incidents).
resolved_incident(id, service_id, created_at) := {
	"id": id, "type": "incident", "title": id, "incident_number": 1, "status": "resolved", "urgency": "high",
	"created_at": created_at, "service": service_ref(service_id),
}

# incidents(service_id, n, hours_apart): n incidents of the service, the last one an hour before
# the scan, one every `hours_apart` hours before it.
incidents(service_id, n, hours_apart) := [resolved_incident(sprintf("PINC%s%d", [service_id, i]), service_id, _rfc3339(ts)) |
	some i in numbers.range(0, n - 1)
	ts := time.parse_rfc3339_ns(scanned_at) - ((1 + (i * hours_apart)) * _ns_per_hour)
]

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
