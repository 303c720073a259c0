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
