package pdguard.lib_test

import data.pdguard.lib
import data.pdguard.lib.testing

# -- fixtures -----------------------------------------------------------------------------

users := [
	{"id": "PUSR001", "type": "user", "name": "Ann", "role": "user"},
	{"id": "PUSR002", "type": "user", "name": "Bob", "role": "observer"},
	{"id": "PUSR003", "type": "user", "name": "Cy", "role": "read_only_user"},
	{"id": "PUSR004", "type": "user", "summary": "Dee"},
]

schedules := [
	# the current layer has Ann and Bob; the ended layer (end before the scan) had Cy
	testing.schedule("PSCH001", [
		testing.layer(["PUSR001", "PUSR002"], null),
		testing.layer(["PUSR003"], "2026-11-01T00:00:00Z"),
	]),
	# a layer that ends after the scan is current
	testing.schedule("PSCH002", [testing.layer(["PUSR004"], "2026-12-01T00:00:00Z")]),
	# a layer that ended exactly at the scan is over
	testing.schedule("PSCH003", [testing.layer(["PUSR001"], testing.scanned_at)]),
]

flexible := [
	{"id": "PFLX001", "type": "schedule_v3", "name": "follow the sun", "rotations": [{
		"id": "R1", "type": "schedule_rotation",
		"events": [
			{
				"id": "E1", "type": "schedule_event", "name": "day", "effective_since": "2026-01-01T00:00:00Z",
				"effective_until": null,
				"assignment_strategy": {"type": "rotating_member_assignment_strategy", "members": [
					{"type": "user_member", "user_id": "PUSR001"},
					{"type": "empty_member"},
				]},
			},
			{
				"id": "E2", "type": "schedule_event", "name": "old", "effective_since": "2025-01-01T00:00:00Z",
				"effective_until": "2026-01-01T00:00:00Z",
				"assignment_strategy": {"type": "every_member_assignment_strategy", "members": [{"type": "user_member", "user_id": "PUSR003"}]},
			},
			{
				"id": "E3", "type": "schedule_event", "name": "night", "effective_since": "2026-01-01T00:00:00Z",
				"assignment_strategy": {"type": "every_member_assignment_strategy", "members": [{"type": "user_member", "user_id": "PUSR002"}]},
			},
		],
	}]},
	{"id": "PFLX002", "type": "schedule_v3", "name": "listed", "users": [testing.user_ref("PUSR004")]},
]

eps := [
	testing.escalation_policy("PEP0001", [
		[testing.schedule_ref("PSCH001")],
		[testing.user_ref("PUSR004"), testing.flexible_schedule_ref("PFLX001")],
	]),
	testing.escalation_policy("PEP0002", [[testing.schedule_ref("PGONE01")]]),
	{"id": "PEP0003", "type": "escalation_policy", "name": "bare"},
]

services := [
	{
		"id": "PSVC001", "type": "service", "name": "api", "escalation_policy": testing.escalation_policy_ref("PEP0001"),
		"incident_urgency_rule": {"type": "constant", "urgency": "high"},
	},
	{
		"id": "PSVC002", "type": "service", "name": "", "summary": "batch", "escalation_policy": testing.escalation_policy_ref("PEP0001"),
		"incident_urgency_rule": {"type": "constant", "urgency": "low"},
	},
	{
		"id": "PSVC003", "type": "service", "escalation_policy": testing.escalation_policy_ref("PGONE02"),
		"incident_urgency_rule": {"type": "constant", "urgency": "severity_based"},
	},
	{
		"id": "PSVC004", "type": "service", "escalation_policy": null,
		"incident_urgency_rule": {
			"type": "use_support_hours",
			"during_support_hours": {"type": "constant", "urgency": "low"},
			"outside_support_hours": {"type": "constant", "urgency": "high"},
		},
	},
	{
		"id": "PSVC005", "type": "service",
		"incident_urgency_rule": {
			"type": "use_support_hours",
			"during_support_hours": {"type": "constant", "urgency": "low"},
			"outside_support_hours": {"type": "constant", "urgency": "low"},
		},
	},
	{"id": "PSVC006", "type": "service"},
]

oncalls := [
	{
		"escalation_policy": testing.escalation_policy_ref("PEP0001"), "escalation_level": 1,
		"schedule": testing.schedule_ref("PSCH001"), "user": testing.user_ref("PUSR001"),
		"start": "2026-11-26T00:00:00Z", "end": "2026-11-27T00:00:00Z",
	},
	# the next shift (an /oncalls window wider than now) is not on call now
	{
		"escalation_policy": testing.escalation_policy_ref("PEP0001"), "escalation_level": 1,
		"schedule": testing.schedule_ref("PSCH001"), "user": testing.user_ref("PUSR002"),
		"start": "2026-11-27T00:00:00Z", "end": "2026-11-28T00:00:00Z",
	},
	# a user targeted directly: start and end are null
	{
		"escalation_policy": testing.escalation_policy_ref("PEP0001"), "escalation_level": 2,
		"schedule": null, "user": testing.user_ref("PUSR004"), "start": null, "end": null,
	},
	# a shift that ended at the scan is over
	{
		"escalation_policy": testing.escalation_policy_ref("PEP0001"), "escalation_level": 3,
		"schedule": testing.schedule_ref("PSCH001"), "user": testing.user_ref("PUSR003"),
		"start": "2026-11-25T09:00:00Z", "end": testing.scanned_at,
	},
	# an entry without start/end fields at all counts as on call too
	{"escalation_policy": testing.escalation_policy_ref("PEP0002"), "escalation_level": 1, "user": testing.user_ref("PUSR001")},
]

account := testing.snapshot({
	"users": users, "schedules": schedules, "flexible_schedules": flexible, "escalation_policies": eps,
	"services": services, "oncalls": oncalls,
	"teams": [
		{"id": "PTM0001", "type": "team", "name": "core", "members": [{"user": testing.user_ref("PUSR001"), "role": null}]},
		{"id": "PTM0002", "type": "team", "name": "ghost", "members": []},
	],
	"business_services": [{"id": "PBS0001", "type": "business_service", "name": "shop"}],
	"incidents": [{"id": "PINC001", "type": "incident", "title": "down"}],
	"standards": [{"id": "STD1", "type": "has_technical_service_description", "active": true}],
	"standards_scores": [{"resource_id": "PSVC001", "resource_type": "technical_service", "standards": []}],
	"service_dependencies": [{
		"id": "D1", "type": "service_dependency",
		"supporting_service": {"id": "PSVC001", "type": "technical_service_reference"},
		"dependent_service": {"id": "PBS0001", "type": "business_service_reference"},
	}],
	"extensions": [{"id": "PEXT001", "type": "extension", "extension_objects": [testing.service_ref("PSVC001")]}],
	"addons": [{"id": "PADD001", "type": "full_page_addon", "services": [testing.service_ref("PSVC002")]}],
})

# -- collections --------------------------------------------------------------------------

test_collected if {
	lib.collected("services") with input as account
	lib.collected("standards_scores") with input as account
	lib.all_collected(["services", "users"]) with input as account
}

test_not_collected if {
	inp := testing.snapshot_without({}, ["users", "standards"])
	not lib.collected("users") with input as inp
	not lib.collected("standards_scores") with input as inp
	lib.collected("services") with input as inp
	not lib.all_collected(["services", "users"]) with input as inp
	not lib.collected("services") with input as {"meta": {"scanned_at": testing.scanned_at}}
}

# -- indexes ------------------------------------------------------------------------------

test_indexes_by_id if {
	testing.assert_equal(lib.service.PSVC001.name, "api") with input as account
	testing.assert_equal(lib.escalation_policy.PEP0003.name, "bare") with input as account
	testing.assert_equal(lib.schedule.PSCH002.id, "PSCH002") with input as account
	testing.assert_equal(lib.flexible_schedule.PFLX001.name, "follow the sun") with input as account
	testing.assert_equal(lib.user.PUSR002.name, "Bob") with input as account
	testing.assert_equal(lib.team.PTM0001.name, "core") with input as account
	testing.assert_equal(lib.business_service.PBS0001.name, "shop") with input as account
	testing.assert_equal(lib.incident.PINC001.title, "down") with input as account
	testing.assert_equal(lib.standard.STD1.active, true) with input as account
	testing.assert_equal(object.keys(lib.standards_score), {"PSVC001"}) with input as account
	testing.assert_equal(count(lib.service), 6) with input as account
}

test_indexes_of_missing_collections_are_empty if {
	inp := {"meta": {"scanned_at": testing.scanned_at, "collections": []}}
	testing.assert_equal(lib.service, {}) with input as inp
	testing.assert_equal(lib.flexible_schedule, {}) with input as inp
	not lib.services_of_escalation_policy.PEP0001 with input as inp
}

test_services_of_escalation_policy if {
	testing.assert_equal(lib.services_of_escalation_policy, {
		"PEP0001": {"PSVC001", "PSVC002"},
		"PGONE02": {"PSVC003"},
	}) with input as account
}

test_escalation_policies_targeting if {
	testing.assert_equal(lib.escalation_policies_targeting.PSCH001, {"PEP0001"}) with input as account
	testing.assert_equal(lib.escalation_policies_targeting.PFLX001, {"PEP0001"}) with input as account
	testing.assert_equal(lib.escalation_policies_targeting.PGONE01, {"PEP0002"}) with input as account
	not lib.escalation_policies_targeting.PSCH002 with input as account
}

test_supporting_services_and_outbound_integrations if {
	testing.assert_equal(lib.supporting_services_of, {"PBS0001": {"PSVC001"}}) with input as account
	testing.assert_equal(lib.extensions_of, {"PSVC001": {"PEXT001"}}) with input as account
	testing.assert_equal(lib.addons_of, {"PSVC002": {"PADD001"}}) with input as account
	lib.has_outbound_integration({"id": "PSVC001"}) with input as account
	lib.has_outbound_integration({"id": "PSVC002"}) with input as account
	not lib.has_outbound_integration({"id": "PSVC003"}) with input as account
}

# The /addons list gives AddonReference objects without services: the link is the service's
# `addons` references.
test_addons_linked_from_the_service if {
	inp := testing.snapshot({
		"services": [{"id": "PSVC007", "type": "service", "addons": [{"id": "PADD002", "type": "full_page_addon_reference"}]}],
		"addons": [{"id": "PADD002", "type": "full_page_addon_reference", "name": "Status", "src": "https://s.example.com"}],
	})
	testing.assert_equal(lib.addons_of, {"PSVC007": {"PADD002"}}) with input as inp
	lib.has_outbound_integration({"id": "PSVC007"}) with input as inp
}

test_collection_of_and_asset if {
	testing.assert_equal(lib.collection_of.escalation_policy, "escalation_policies")
	testing.assert_equal(lib.collection_of.flexible_schedule, "flexible_schedules")
	testing.assert_equal(lib.asset("user", "PUSR001").name, "Ann") with input as account
	testing.assert_equal(lib.asset("flexible_schedule", "PFLX002").name, "listed") with input as account
	not lib.asset("user", "PGONE01") with input as account
	not lib.asset("vendor", "PUSR001") with input as account
	testing.assert_equal(lib.asset_name("service", "PSVC002"), "batch") with input as account
	testing.assert_equal(lib.asset_name("service", "PGONE01"), "PGONE01") with input as account
}

test_member_ids if {
	testing.assert_equal(lib.member_ids(lib.team.PTM0001), {"PUSR001"}) with input as account
	testing.assert_equal(lib.member_ids(lib.team.PTM0002), set()) with input as account
	testing.assert_equal(lib.member_ids({"id": "T"}), set())
}

# -- references and names -----------------------------------------------------------------

test_id_of_and_ids if {
	testing.assert_equal(lib.id_of("PEP0001"), "PEP0001")
	testing.assert_equal(lib.id_of(testing.escalation_policy_ref("PEP0001")), "PEP0001")
	testing.assert_equal(lib.ids([testing.team_ref("T1"), {"id": "T2"}]), {"T1", "T2"})
	testing.assert_equal(lib.ids([]), set())
}

test_name if {
	testing.assert_equal(lib.name({"id": "P1", "name": "api", "summary": "s"}), "api")
	testing.assert_equal(lib.name({"id": "P1", "name": "", "summary": "s"}), "s")
	testing.assert_equal(lib.name({"id": "P1", "name": null}), "P1")
	testing.assert_equal(lib.name({"id": "P1"}), "P1")
}

test_has_text if {
	lib.has_text("runbook: ...")
	not lib.has_text("  \n")
	not lib.has_text("")
	not lib.has_text(null)
	not lib.has_text(3)
}

test_blank if {
	lib.blank({"description": null}, "description")
	lib.blank({"description": " \t"}, "description")
	lib.blank({}, "description")
	lib.blank({"description": 3}, "description")
	not lib.blank({"description": "what it does"}, "description")
}

test_blank_field_of_an_input_object if {
	# the field is missing on an object that comes from input: both engines must agree
	found := {s.id | some s in input.services; lib.blank(s, "description")} with input as {"services": [
		{"id": "P1"},
		{"id": "P2", "description": "x"},
	]}
	testing.assert_equal(found, {"P1"})
}

# -- escalation policies ------------------------------------------------------------------

# (regorus: a function argument and `with input as` that are both rules of this package make
# the call undefined; local variables avoid it)
test_escalation_policy_of if {
	inp := account
	[api, _, gone, null_ep, _, no_ep] := services
	testing.assert_equal(lib.escalation_policy_of(api).id, "PEP0001") with input as inp
	not lib.escalation_policy_of(gone) with input as inp # PGONE02 is not in the snapshot
	not lib.escalation_policy_of(null_ep) with input as inp # null
	not lib.escalation_policy_of(no_ep) with input as inp # missing
}

test_levels_and_targets if {
	testing.assert_equal(count(lib.levels(eps[0])), 2)
	testing.assert_equal(lib.levels(eps[2]), [])
	testing.assert_equal([t.id | some t in lib.targets(eps[0])], ["PSCH001", "PUSR004", "PFLX001"])
	testing.assert_equal(lib.targets(eps[2]), [])
}

test_target_types if {
	lib.is_user_target(testing.user_ref("U"))
	lib.is_user_target({"id": "U", "type": "user"})
	lib.is_schedule_target(testing.schedule_ref("S"))
	lib.is_flexible_schedule_target(testing.flexible_schedule_ref("S"))
	not lib.is_schedule_target(testing.flexible_schedule_ref("S"))
	lib.is_oncall_target(testing.flexible_schedule_ref("S"))
	not lib.is_oncall_target(testing.team_ref("T"))
}

test_target_resolves_to_its_object if {
	testing.assert_equal(lib.target(testing.user_ref("PUSR001")).name, "Ann") with input as account
	testing.assert_equal(lib.target(testing.schedule_ref("PSCH001")).id, "PSCH001") with input as account
	testing.assert_equal(lib.target(testing.flexible_schedule_ref("PFLX001")).id, "PFLX001") with input as account
	not lib.target(testing.schedule_ref("PGONE01")) with input as account
}

test_users_of_user_target if {
	testing.assert_equal(lib.users_of_target(testing.user_ref("PUSR009")), {"PUSR009"})
}

test_users_of_schedule_target_exclude_ended_layers if {
	testing.assert_equal(lib.users_of_target(testing.schedule_ref("PSCH001")), {"PUSR001", "PUSR002"}) with input as account
	testing.assert_equal(lib.users_of_target(testing.schedule_ref("PSCH002")), {"PUSR004"}) with input as account
	testing.assert_equal(lib.users_of_target(testing.schedule_ref("PSCH003")), set()) with input as account
}

test_users_of_unknown_schedule_is_undefined if {
	not lib.users_of_target(testing.schedule_ref("PGONE01")) with input as account
	not lib.users_of_target(testing.team_ref("PTM0001")) with input as account
}

test_users_of_flexible_schedule_target if {
	testing.assert_equal(lib.users_of_target(testing.flexible_schedule_ref("PFLX001")), {"PUSR001", "PUSR002"}) with input as account
	testing.assert_equal(lib.users_of_target(testing.flexible_schedule_ref("PFLX002")), {"PUSR004"}) with input as account
}

test_users_of_level if {
	inp := account
	[first, second] := lib.levels(eps[0])
	[unknown] := lib.levels(eps[1])
	testing.assert_equal(lib.users_of_level(first), {"PUSR001", "PUSR002"}) with input as inp
	testing.assert_equal(lib.users_of_level(second), {"PUSR001", "PUSR002", "PUSR004"}) with input as inp
	testing.assert_equal(lib.users_of_level(unknown), set()) with input as inp
}

# -- schedules ----------------------------------------------------------------------------

test_ended_and_current_layers if {
	inp := account
	old := testing.layer([], "2026-11-01T00:00:00Z")
	at_scan := testing.layer([], testing.scanned_at)
	later := testing.layer([], "2026-11-26T09:00:01Z")
	current := testing.layer([], null)
	lib.ended(old) with input as inp
	lib.ended(at_scan) with input as inp
	not lib.ended(later) with input as inp
	not lib.ended(current) with input as inp
	not lib.ended({"id": "L"}) with input as inp
	lib.at_or_before_scan(testing.scanned_at) with input as inp
	not lib.after_scan(testing.scanned_at) with input as inp
	lib.after_scan("2026-11-26T09:00:00.5Z") with input as inp
	not lib.after_scan(null) with input as inp
	mixed := schedules[0]
	testing.assert_equal(count(lib.current_layers(mixed)), 1) with input as inp
	testing.assert_equal(lib.current_layers({"id": "S"}), []) with input as inp
}

test_schedule_users_index if {
	testing.assert_equal(lib.schedule_users, {
		"PSCH001": {"PUSR001", "PUSR002"},
		"PSCH002": {"PUSR004"},
		"PSCH003": set(),
	}) with input as account
}

# -- on-call ------------------------------------------------------------------------------

test_oncall_now if {
	testing.assert_equal(lib.oncall_now("PEP0001", 1), {"PUSR001"}) with input as account
	ep := eps[0]
	testing.assert_equal(lib.oncall_now(ep, 2), {"PUSR004"}) with input as account
	testing.assert_equal(lib.oncall_now(testing.escalation_policy_ref("PEP0001"), 3), set()) with input as account
	testing.assert_equal(lib.oncall_now("PEP0002", 1), {"PUSR001"}) with input as account
	testing.assert_equal(lib.oncall_now("PEP0003", 1), set()) with input as account
}

# /oncalls over the window (schema 2.1) lists both sides of a handoff at the scan's second (its
# `since`): the shift starting at scanned_at is on call now, the one ending there is not, nor
# are the shifts after it; a shift still going at the window's end is on call too.
_shift(uid, start, end) := object.union(testing.oncall("PEP0001", 1, uid, "PSCH001"), {"start": start, "end": end})

test_oncall_now_at_a_handoff_at_the_scan if {
	inp := testing.snapshot({"oncalls": [
		_shift("PUSR001", "2026-11-25T09:00:00Z", testing.scanned_at),
		_shift("PUSR002", testing.scanned_at, "2026-11-27T09:00:00Z"),
		_shift("PUSR003", "2026-11-27T09:00:00Z", "2026-12-10T09:00:00Z"),
		object.union(testing.oncall("PEP0001", 2, "PUSR004", "PSCH002"), {"start": "2026-11-20T09:00:00+01:00", "end": "2026-12-10T09:00:00-05:00"}),
	]})
	testing.assert_equal(lib.oncall_now("PEP0001", 1), {"PUSR002"}) with input as inp
	testing.assert_equal(lib.oncall_now("PEP0001", 2), {"PUSR004"}) with input as inp
	testing.assert_equal(lib.oncall_now_users, {"PUSR002", "PUSR004"}) with input as inp
}

test_oncall_now_undefined_when_oncalls_not_collected if {
	not lib.oncall_now("PEP0001", 1) with input as testing.snapshot_without({"oncalls": oncalls}, ["oncalls"])
}

# -- urgency ------------------------------------------------------------------------------

test_urgencies if {
	testing.assert_equal(lib.urgencies(services[0]), {"high"})
	testing.assert_equal(lib.urgencies(services[2]), {"severity_based"})
	testing.assert_equal(lib.urgencies(services[3]), {"low", "high"})
	not lib.urgencies(services[5])
}

test_is_high_urgency if {
	lib.is_high_urgency(services[0]) # constant high
	not lib.is_high_urgency(services[1]) # constant low
	lib.is_high_urgency(services[2]) # severity_based (dynamic): possibly high
	lib.is_high_urgency(services[3]) # support hours: high outside
	not lib.is_high_urgency(services[4]) # support hours: low both ways
	not lib.is_high_urgency(services[5]) # no rule
}

test_high_urgency_services if {
	# constant high, severity_based, support hours with a high part
	testing.assert_equal(lib.high_urgency_services, {"PSVC001", "PSVC003", "PSVC004"}) with input as testing.snapshot({"services": services})
}

test_support_hours_with_dynamic_part_is_high if {
	lib.is_high_urgency({"id": "P", "incident_urgency_rule": {
		"type": "use_support_hours",
		"during_support_hours": {"type": "constant", "urgency": "severity_based"},
		"outside_support_hours": {"type": "constant", "urgency": "low"},
	}})
}

# -- users --------------------------------------------------------------------------------

test_can_be_paged if {
	lib.can_be_paged(users[0])
	not lib.can_be_paged(users[1]) # observer
	not lib.can_be_paged(users[2]) # read-only
	lib.can_be_paged(users[3]) # no role given
}

# -- time ---------------------------------------------------------------------------------

test_now_comes_from_the_scan if {
	want := time.parse_rfc3339_ns(testing.scanned_at)
	testing.assert_equal(lib.now_ns, want) with input as account
	testing.assert_equal(lib.now_ns, want + lib.ns_per_day) with input as {"meta": {"scanned_at": "2026-11-27T09:00:00Z"}}
}

test_ages if {
	testing.assert_equal(lib.age_days("2026-11-16T09:00:00Z"), 10) with input as account
	testing.assert_equal(lib.age_hours("2026-11-26T06:00:00Z"), 3) with input as account
	testing.assert_equal(lib.age_minutes("2026-11-26T08:30:00Z"), 30) with input as account
	testing.assert_equal(lib.age_ns("2026-11-26T09:00:01Z"), -1000000000) with input as account
	testing.assert_equal(floor(lib.age_days("2026-11-25T08:00:00Z")), 1) with input as account
	testing.assert_equal(lib.age_days("2026-11-26T11:00:00+02:00"), 0) with input as account
}

test_time_of_non_strings_is_undefined if {
	not lib.time_ns(null)
	not lib.time_ns(1764147600)
	not lib.age_days(null) with input as account
}

test_valid_time if {
	lib.valid_time("2024-02-29T00:00:00Z")
	lib.valid_time("2000-02-29T23:59:59.123456Z")
	lib.valid_time("2026-11-26T11:00:00+02:00")
	not lib.valid_time("1900-02-29T00:00:00Z")
	not lib.valid_time("2025-02-29T00:00:00Z")
	not lib.valid_time("2026-02-31T00:00:00Z")
	not lib.valid_time("2026-13-01T00:00:00Z")
	not lib.valid_time("2026-11-26 09:00:00")
	not lib.valid_time("yesterday")
	not lib.valid_time(null)
}

# -- settings and findings ----------------------------------------------------------------

test_setting if {
	testing.assert_equal(lib.setting("min_escalation_levels"), 3) with data.pdguard.config as {"min_escalation_levels": 3}
	not lib.setting("nope") with data.pdguard.config as {}
}

test_finding if {
	testing.assert_equal(lib.finding("m", "service", services[0]), {
		"msg": "m",
		"resource": {"type": "service", "id": "PSVC001", "name": "api"},
	})
	testing.assert_equal(lib.finding_with("m", "service", services[1], {"k": 1}), {
		"msg": "m",
		"resource": {"type": "service", "id": "PSVC002", "name": "batch"},
		"details": {"k": 1},
	})
	testing.assert_equal(lib.resource("user", {"id": "PUSR009"}), {"type": "user", "id": "PUSR009", "name": "PUSR009"})
}

# -- incidents and Terraform plans --------------------------------------------------------

plan_incidents := [
	testing.incident("Q1", "triggered", "PSVC001", "PEP0001", ["PUSR001", "PUSR002"]),
	testing.incident("Q2", "acknowledged", "PSVC001", "PEP0002", ["PUSR001"]),
	testing.incident("Q3", "resolved", "PSVC002", "PEP0001", ["PUSR004"]),
]

test_open_incidents if {
	inp := testing.snapshot({"incidents": plan_incidents})
	testing.assert_equal(lib.open_incidents_of_service, {"PSVC001": {"Q1", "Q2"}}) with input as inp
	testing.assert_equal(lib.open_incidents_of_escalation_policy, {"PEP0001": {"Q1"}, "PEP0002": {"Q2"}}) with input as inp
	testing.assert_equal(lib.open_incidents_assigned_to, {"PUSR001": {"Q1", "Q2"}, "PUSR002": {"Q1"}}) with input as inp
	testing.assert_equal([inc.id | some inc in lib.open_incidents], ["Q1", "Q2"]) with input as inp
}

# before the apply: PEP0001 targets PSCH001 (Ann, Bob) and Dee; the plan points it at PSCH002
# (Dee) only, deletes PSCH001 and Bob, creates PEP-new, and replaces a team membership in place.
ep_before := testing.escalation_policy("PEP0001", [[testing.schedule_ref("PSCH001")], [testing.user_ref("PUSR004")]])

ep_after := testing.escalation_policy("PEP0001", [[testing.schedule_ref("PSCH002")]])

ep_new := testing.escalation_policy("tf:pagerduty_escalation_policy.new", [[testing.user_ref("PUSR001")]])

membership := {"id": "PUSR001:PT1", "type": "team_membership", "user": testing.user_ref("PUSR001"), "team": testing.team_ref("PT1")}

plan_input := testing.planned(
	{
		"users": [users[0], users[2], users[3]],
		"schedules": [schedules[1]],
		"escalation_policies": [ep_after, ep_new],
	},
	[
		testing.change("update", "escalation_policy", ep_before, ep_after),
		testing.change("delete", "schedule", schedules[0], null),
		testing.change("delete", "user", users[1], null),
		testing.change("create", "escalation_policy", null, ep_new),
		testing.change("replace", "team_membership", membership, membership),
	],
)

test_plan_removals_and_creations if {
	inp := plan_input
	testing.assert_equal({[r.type, r.id] | some r in lib.removals}, {["schedule", "PSCH001"], ["user", "PUSR002"], ["team_membership", "PUSR001:PT1"]}) with input as inp
	testing.assert_equal(lib.removed, {"schedule": {"PSCH001"}, "user": {"PUSR002"}, "team_membership": {"PUSR001:PT1"}}) with input as inp
	testing.assert_equal(lib.created, {"escalation_policy": {"tf:pagerduty_escalation_policy.new"}, "team_membership": {"PUSR001:PT1"}}) with input as inp
	lib.removed_by_plan("user", "PUSR002") with input as inp
	not lib.removed_by_plan("user", "PUSR001") with input as inp
	testing.assert_equal(lib.plan_changes, []) with input as testing.snapshot({})
	testing.assert_empty(lib.removals) with input as testing.snapshot({})
}

test_the_account_before_the_apply if {
	inp := plan_input

	# the live version of a changed object, the deleted ones, not the created ones
	testing.assert_equal(lib.escalation_policy_before, {"PEP0001": ep_before}) with input as inp
	testing.assert_equal(object.keys(lib.schedule_before), {"PSCH001", "PSCH002"}) with input as inp
	testing.assert_equal(object.keys(lib.user_before), {"PUSR001", "PUSR002", "PUSR003", "PUSR004"}) with input as inp
	testing.assert_equal(lib.escalation_policies_targeting_before, {"PSCH001": {"PEP0001"}, "PUSR004": {"PEP0001"}}) with input as inp

	# after the apply the index follows the plan
	testing.assert_equal(lib.escalation_policies_targeting.PSCH002, {"PEP0001"}) with input as inp
}

test_who_a_level_pages_before_and_after if {
	inp := plan_input
	before_rules := lib.levels(ep_before)
	testing.assert_equal(lib.users_of_level_before(before_rules[0]), {"PUSR001", "PUSR002"}) with input as inp
	testing.assert_equal(lib.users_of_level_before(before_rules[1]), {"PUSR004"}) with input as inp
	unknown := testing.user_ref("PUSR009")
	not lib.users_of_target_before(unknown) with input as inp

	# after: PSCH001 and Bob are gone; a user target of a deleted user pages no one
	rule := {"targets": [testing.schedule_ref("PSCH001"), testing.user_ref("PUSR002"), testing.schedule_ref("PSCH002")]}
	testing.assert_equal(lib.existing_users_of_level(rule), {"PUSR004"}) with input as inp
}

test_plan_findings_name_the_object_as_it_was if {
	inp := plan_input
	removed_user := [x | some x in lib.removals; x.type == "user"][0] with input as inp
	testing.assert_equal(lib.plan_finding("m", removed_user, {"k": 1}), {
		"msg": "m",
		"resource": {"type": "user", "id": "PUSR002", "name": "Bob"},
		"details": {"k": 1},
	})
}

test_iac_entry if {
	inp := object.union(testing.snapshot({}), {"iac": {"resources": {"service": {"PSVC001": {"status": "codified", "source": "a.tfstate"}}}}})
	testing.assert_equal(lib.iac_entry("service", "PSVC001").source, "a.tfstate") with input as inp
	not lib.iac_entry("service", "PSVC002") with input as inp
	not lib.iac_entry("service", "PSVC001") with input as testing.snapshot({})
}

test_changed_by_text if {
	ann := {"id": "PUSR001", "type": "user_reference", "summary": "Ann Adams"}
	key := {"id": "PKEY001", "type": "api_key_reference", "summary": "deploy key"}
	testing.assert_equal(
		lib.changed_by_text({"at": "2026-11-25T10:00:00Z", "method": "browser", "actors": [ann]}),
		"Ann Adams (user) at 2026-11-25T10:00:00Z via browser",
	)
	testing.assert_equal(
		lib.changed_by_text({"at": "2026-11-25T10:00:00Z", "method": "api_token", "actors": [ann, key]}),
		"Ann Adams (user), deploy key (api_key) at 2026-11-25T10:00:00Z via api_token",
	)
	testing.assert_equal(
		lib.changed_by_text({"at": "2026-11-25T10:00:00Z", "method": "api_token", "actors": []}),
		"an actor PagerDuty does not name (api_token) at 2026-11-25T10:00:00Z",
	)
	not lib.changed_by_text(null)
}

# -- the test helpers themselves ----------------------------------------------------------

test_testing_assertions_fail_with_false if {
	not testing.assert_equal(1, 2)
	not testing.assert_empty({1})
	not testing.assert_count([1, 2], 1)
	not testing.assert_ids({{"msg": "m", "resource": {"id": "A"}}}, {"B"})
	not testing.assert_finding({{"msg": "m", "resource": {"id": "A"}}}, "A", {"msg": "other"})
	testing.assert_ids({{"msg": "m", "resource": {"id": "A"}}}, ["A"])
	testing.assert_finding({{"msg": "m", "resource": {"id": "A"}}}, "A", {"msg": "m"})
	testing.assert_empty(set())
	testing.assert_count({1, 2}, 2)
}

test_testing_snapshot_shape if {
	inp := testing.snapshot_without({"services": []}, ["oncalls"])
	testing.assert_equal(inp.schema_version, "2.0")
	not "oncalls" in inp.meta.collections
	"services" in inp.meta.collections
	testing.assert_equal(testing.ref("escalation_policy", "P1").type, "escalation_policy_reference")
}

# -- services (issue 10) ------------------------------------------------------------------

test_is_parked if {
	lib.is_parked(testing.service("PSVC001", {"status": "disabled"}))
	lib.is_parked(testing.service("PSVC002", {"status": "maintenance"}))
	not lib.is_parked(testing.service("PSVC003", {"status": "critical"}))
	not lib.is_parked({"id": "PSVC004"})
}

test_has_integration if {
	lib.has_integration(testing.service("PSVC001", {}))
	not lib.has_integration(testing.service("PSVC002", {"integrations": []}))
	not lib.has_integration({"id": "PSVC003"})
}

# terraform-provider-pagerduty's default description is no description
test_has_description if {
	lib.has_description(testing.service("PSVC001", {}))
	not lib.has_description(testing.service("PSVC002", {"description": "Managed by Terraform"}))
	not lib.has_description(testing.service("PSVC003", {"description": " managed by terraform\n"}))
	lib.has_description(testing.service("PSVC004", {"description": "Managed by Terraform: the payments API"}))
	not lib.has_description(testing.service("PSVC005", {"description": "  "}))
	not lib.has_description(testing.service("PSVC006", {"description": null}))
	not lib.has_description({"id": "PSVC007"})
}

# -- escalation depth ---------------------------------------------------------------------

depth_schedules := [
	testing.schedule("PSOLO01", [testing.layer(["PUSR001"], null)]),
	testing.schedule("PTEAM01", [testing.layer(["PUSR001", "PUSR002"], null)]),
]

depth_account := testing.snapshot({"schedules": depth_schedules})

test_silent_levels_and_pages_nobody if {
	ep := testing.escalation_policy("PEP0001", [[testing.user_ref("PUSR001")], [], [{"id": "X", "type": "team_reference"}]])
	testing.assert_equal(lib.silent_levels(ep), [2, 3])
	lib.pages_nobody({"targets": []})
	lib.pages_nobody({})
	not lib.pages_nobody({"targets": [testing.schedule_ref("PSOLO01")]})
}

test_unique_levels if {
	ann := testing.user_ref("PUSR001")
	bob := testing.user_ref("PUSR002")
	testing.assert_equal(lib.unique_levels(testing.escalation_policy("E1", [[ann], [ann]])), 1)
	testing.assert_equal(lib.unique_levels(testing.escalation_policy("E2", [[ann, bob], [bob, ann], [bob]])), 2)
	testing.assert_equal(lib.unique_levels(testing.escalation_policy("E3", [[ann], []])), 1)
	testing.assert_equal(lib.unique_levels({"id": "E4"}), 0)
}

test_sole_responder if {
	ann := testing.user_ref("PUSR001")
	solo := testing.schedule_ref("PSOLO01")
	team := testing.schedule_ref("PTEAM01")
	testing.assert_equal(lib.sole_responder(testing.escalation_policy("E1", [[ann], [solo]])), "PUSR001") with input as depth_account
	not lib.sole_responder(testing.escalation_policy("E2", [[ann], [team]])) with input as depth_account
	not lib.sole_responder(testing.escalation_policy("E3", [[ann], [testing.schedule_ref("PGONE01")]])) with input as depth_account
	not lib.sole_responder(testing.escalation_policy("E4", [])) with input as depth_account
}

# one owner per shallow escalation: EP-002 (nobody), EP-004 (one person), else EP-001 (levels)
test_shallow_escalation_owners if {
	ann := testing.user_ref("PUSR001")
	team := testing.schedule_ref("PTEAM01")
	cfg := {"min_escalation_levels": 2}
	empty := testing.escalation_policy("E1", [[team], []])
	solo := testing.escalation_policy("E2", [[ann], [ann]])
	repeated := testing.escalation_policy("E3", [[team], [team]])
	fine := testing.escalation_policy("E4", [[team], [ann]])
	lib.pages_nobody_somewhere(empty) with input as depth_account with data.pdguard.config as cfg
	not lib.too_few_levels(empty) with input as depth_account with data.pdguard.config as cfg
	lib.sole_responder(solo) with input as depth_account with data.pdguard.config as cfg
	not lib.too_few_levels(solo) with input as depth_account with data.pdguard.config as cfg
	lib.too_few_levels(repeated) with input as depth_account with data.pdguard.config as cfg
	lib.shallow_escalation_reported(repeated) with input as depth_account with data.pdguard.config as cfg
	not lib.shallow_escalation_reported(fine) with input as depth_account with data.pdguard.config as cfg
	lib.pages_nobody_somewhere({"id": "E5"}) with input as depth_account with data.pdguard.config as cfg
}

# -- schedules paged by nobody ------------------------------------------------------------

test_unpaged_schedule if {
	inp := testing.snapshot({
		"escalation_policies": [testing.escalation_policy("PEP0001", [[testing.schedule_ref("PSCH001")]])],
		"schedules": [testing.schedule("PSCH001", []), testing.schedule("PSCH002", [])],
	})
	not lib.unpaged_schedule({"id": "PSCH001"}) with input as inp
	lib.unpaged_schedule({"id": "PSCH002"}) with input as inp
	not lib.unpaged_schedule({"id": "PSCH002"}) with input as testing.snapshot_without({}, ["escalation_policies"])
}

# -- on call and responders ---------------------------------------------------------------

test_oncall_now_users if {
	testing.assert_equal(lib.oncall_now_users, {"PUSR001", "PUSR004"}) with input as account
	testing.assert_equal(lib.oncall_now_users, set()) with input as testing.snapshot_without({}, ["oncalls"])
}

test_responders if {
	# PEP0001: PSCH001's current layer (Ann, Bob), Dee directly, PFLX001's current members (Ann, Bob)
	testing.assert_equal(lib.responders, {"PUSR001", "PUSR002", "PUSR004"}) with input as account
	only_oncalls := testing.snapshot({"oncalls": [testing.oncall("PEP0009", 1, "PUSR007", null)]})
	testing.assert_equal(lib.responders, {"PUSR007"}) with input as only_oncalls
}

# -- notification rules -------------------------------------------------------------------

test_contact_kind if {
	testing.assert_equal(lib.contact_kind({"type": "phone_contact_method_reference"}), "phone")
	testing.assert_equal(lib.contact_kind({"type": "push_notification_contact_method"}), "push_notification")
	testing.assert_equal(lib.contact_kind({"type": "email_contact_method_reference"}), "email")
}

test_is_paged_urgently if {
	email := testing.contact_method("email", "CM1")
	sms := testing.contact_method("sms", "CM2")
	push := testing.contact_method("push_notification", "CM3")
	lib.is_paged_urgently(testing.user("PUSR001", {}))
	lib.is_paged_urgently(testing.user("PUSR002", {"notification_rules": [testing.notification_rule("high", sms)]}))
	lib.is_paged_urgently(testing.user("PUSR003", {"notification_rules": [testing.notification_rule("high", push)]}))

	# email only, or a phone only for low urgency: nobody wakes up
	not lib.is_paged_urgently(testing.user("PUSR004", {"notification_rules": [testing.notification_rule("high", email)]}))
	not lib.is_paged_urgently(testing.user("PUSR005", {"notification_rules": [testing.notification_rule("low", sms)]}))
	not lib.is_paged_urgently({"id": "PUSR006"})
}

test_unreachable_target_and_invitations if {
	quiet := testing.user("PUSR001", {"contact_methods": [], "notification_rules": []})
	inp := testing.snapshot({"escalation_policies": [testing.escalation_policy("PEP0001", [[testing.user_ref("PUSR001")]])]})
	lib.unreachable_target(quiet) with input as inp
	not lib.unreachable_target(object.union(quiet, {"id": "PUSR002"})) with input as inp
	not lib.unreachable_target(testing.user("PUSR001", {})) with input as inp
	not lib.has_contact_method(quiet)
	lib.invitation_pending(testing.user("PUSR003", {"invitation_sent": true}))
	not lib.invitation_pending(testing.user("PUSR003", {}))
	not lib.invitation_pending({"id": "PUSR004"})
}

# -- Service Standards --------------------------------------------------------------------

test_standard_applies if {
	svc := testing.service("PSVC001", {})
	other := testing.service("PSVC002", {})
	lib.standard_applies(testing.standard("has_technical_service_description", {}), svc)
	not lib.standard_applies(testing.standard("x", {"active": false}), svc)
	excluded := testing.standard("x", {"exclusions": [testing.technical_service_ref("PSVC001")]})
	not lib.standard_applies(excluded, svc)
	lib.standard_applies(excluded, other)
	included := testing.standard("x", {"inclusions": [testing.technical_service_ref("PSVC002")]})
	not lib.standard_applies(included, svc)
	lib.standard_applies(included, other)

	# a standard without the flag counts as active; one for another resource type never applies
	lib.standard_applies({"id": "S", "type": "x"}, svc)
	not lib.standard_applies(testing.standard("x", {"resource_type": "business_service"}), svc)
}

test_standards_applying_to if {
	stds := [
		testing.standard("has_technical_service_description", {}),
		testing.standard("minimum_outbound_integrations", {"exclusions": [testing.technical_service_ref("PSVC001")]}),
	]
	svc := testing.service("PSVC001", {})
	inp := testing.snapshot({"standards": stds})
	testing.assert_equal(object.keys(lib.standards_applying_to(svc)), {"has_technical_service_description"}) with input as inp
	lib.standard_applies_to("has_technical_service_description", svc) with input as inp
	not lib.standard_applies_to("minimum_outbound_integrations", svc) with input as inp
	not lib.standards_applying_to(svc) with input as testing.snapshot_without({"standards": stds}, ["standards"])
}

test_has_and_unused_escalation_policy if {
	lib.has_escalation_policy(services[0])
	not lib.has_escalation_policy(services[3]) # null
	not lib.has_escalation_policy(services[5]) # missing
	used := eps[0]
	unused := eps[2]
	inp := account
	not lib.unused_escalation_policy(used) with input as inp
	lib.unused_escalation_policy(unused) with input as inp
	not lib.unused_escalation_policy(unused) with input as testing.snapshot_without({}, ["services"])
	lib.shared_escalation_policy(used) with input as inp # PSVC001 and PSVC002
	shared_by_one := testing.snapshot({"services": [services[0]]})
	not lib.shared_escalation_policy(used) with input as shared_by_one
}

dep(id, from, to) := {"id": id, "type": "service_dependency", "supporting_service": from, "dependent_service": to}

tech(id) := {"id": id, "type": "technical_service_reference"}

test_supports_business_service if {
	bs := {"id": "PBS0001", "type": "business_service_reference"}
	inp := testing.snapshot({
		"business_services": [{"id": "PBS0001", "type": "business_service", "name": "shop"}],
		"service_dependencies": [dep("D1", tech("PSVC001"), bs), dep("D2", tech("PSVC002"), tech("PSVC001")), dep("D3", tech("PSVC003"), tech("PSVC004"))],
	})
	testing.assert_equal(lib.dependents_of, {"PSVC001": {"PBS0001"}, "PSVC002": {"PSVC001"}, "PSVC003": {"PSVC004"}}) with input as inp
	lib.supports_business_service({"id": "PSVC001"}) with input as inp
	lib.supports_business_service({"id": "PSVC002"}) with input as inp # through PSVC001
	not lib.supports_business_service({"id": "PSVC003"}) with input as inp
	not lib.supports_business_service({"id": "PSVC005"}) with input as inp
}

test_technical_dependencies_collected if {
	every_service := {"meta": {"service_dependencies": "all"}}
	lib.technical_dependencies_collected with input as object.union(testing.snapshot({}), every_service)
	not lib.technical_dependencies_collected with input as object.union(testing.snapshot({}), {"meta": {"service_dependencies": "business"}})
	not lib.technical_dependencies_collected with input as testing.snapshot({}) # a snapshot that does not say
	not lib.technical_dependencies_collected with input as object.union(testing.snapshot_without({}, ["service_dependencies"]), every_service)
}

test_duration_text if {
	testing.assert_equal(lib.duration_text(14400), "4h")
	testing.assert_equal(lib.duration_text(1800), "30 min")
	testing.assert_equal(lib.duration_text(5400), "90 min")
	testing.assert_equal(lib.duration_text(45), "45 s")
}

# -- coverage over the schedule window ----------------------------------------------------

coverage_account := testing.snapshot({
	"schedules": [
		testing.daily_schedule("PSCH008", ["PUSR001"], 8, 15), # 08:00-23:00 UTC
		testing.daily_schedule("PSCH020", ["PUSR002"], 20, 12), # 20:00-08:00 UTC
		testing.schedule("PSCH099", []), # not rendered
	],
	"flexible_schedules": [object.union(testing.flexible_daily("PFLX008", ["PUSR003"], 8, 15), {"final_schedule": {
		"type": "final_schedule",
		"computed_shift_assignments": array.concat(
			testing.flexible_daily("PFLX008", ["PUSR003"], 8, 15).final_schedule.computed_shift_assignments,
			[{
				"type": "computed_shift_assignment", "start_time": "2026-11-26T23:00:00Z", "end_time": "2026-11-27T08:00:00Z",
				"member": {"type": "empty_member"}, "source": {"type": "schedule_rotation", "rotation_id": "R1"},
			}],
		),
	}})],
})

hour := 3600000000000

since := time.parse_rfc3339_ns(testing.scanned_at)

until := time.parse_rfc3339_ns("2026-12-03T09:00:00Z")

test_window_and_user_shifts if {
	inp := coverage_account
	testing.assert_equal(lib.window, {"since": since, "until": until}) with input as inp
	testing.assert_equal(lib.window_days, 7) with input as inp
	testing.assert_equal(lib.shifts(testing.user_ref("PUSR001")), [[since, until]]) with input as inp
}

# a rendered entry overflowing the window (overflow=true) is cut to it
test_schedule_shifts_are_cut_to_the_window if {
	inp := coverage_account
	s := lib.shifts(testing.schedule_ref("PSCH008")) with input as inp
	testing.assert_equal(s[0], [since, since + (14 * hour)]) # 09:00 (the scan) - 23:00
	testing.assert_count(s, 8)
	t := lib.shifts(testing.schedule_ref("PSCH020")) with input as inp
	testing.assert_equal(t[count(t) - 1], [until - (13 * hour), until - hour]) # 20:00 - 08:00, the last night
	not lib.shifts(testing.schedule_ref("PSCH099")) with input as inp
	not lib.shifts(testing.schedule_ref("PGONE01")) with input as inp
}

# an empty_member shift covers nothing
test_flexible_shifts if {
	inp := coverage_account
	s := lib.shifts(testing.flexible_schedule_ref("PFLX008")) with input as inp
	testing.assert_count(s, 8)
}

test_gaps_and_coverage if {
	inp := coverage_account
	g := lib.gaps(lib.shifts(testing.schedule_ref("PSCH008"))) with input as inp
	testing.assert_count(g, 7)
	testing.assert_equal(g[0], [since + (14 * hour), since + (23 * hour)]) # 23:00 - 08:00
	testing.assert_equal(lib.covered_percent(g), 62.5) with input as inp
	testing.assert_equal(lib.gap_text(g[0]), "2026-11-26 23:00 - 2026-11-27 08:00 UTC")
	testing.assert_equal(lib.gaps_text(g), "63h: 2026-11-26 23:00 - 2026-11-27 08:00 UTC, 2026-11-27 23:00 - 2026-11-28 08:00 UTC (+5 more)")
	testing.assert_equal(lib.gaps([]), [[since, until]]) with input as inp
	testing.assert_equal(lib.covered_percent([]), 100) with input as inp
}

# the level pages the union of its targets: day and night schedules together leave no gap
test_level_shifts if {
	inp := coverage_account
	both := {"targets": [testing.schedule_ref("PSCH008"), testing.schedule_ref("PSCH020")]}
	testing.assert_equal(lib.gaps(lib.level_shifts(both)), []) with input as inp
	day_and_user := {"targets": [testing.schedule_ref("PSCH008"), testing.user_ref("PUSR009")]}
	testing.assert_equal(lib.gaps(lib.level_shifts(day_and_user)), []) with input as inp
	unknown := {"targets": [testing.schedule_ref("PSCH008"), testing.schedule_ref("PSCH099")]}
	not lib.level_shifts(unknown) with input as inp
	ignored := {"targets": [testing.schedule_ref("PSCH008"), {"id": "X", "type": "team_reference"}]}
	testing.assert_count(lib.level_shifts(ignored), 8) with input as inp
}

test_sole_schedule if {
	inp := coverage_account
	testing.assert_equal(lib.sole_schedule({"targets": [testing.schedule_ref("PSCH008")]}).id, "PSCH008") with input as inp
	not lib.sole_schedule({"targets": [testing.schedule_ref("PSCH008"), testing.user_ref("PUSR001")]}) with input as inp
	not lib.sole_schedule({"targets": [testing.user_ref("PUSR001")]}) with input as inp
}

test_nobody_on_call_now if {
	ep := testing.escalation_policy("PEP0001", [[testing.schedule_ref("PSCH008")], [testing.user_ref("PUSR002")]])
	base := {"escalation_policies": [ep], "services": [testing.service("PSVC001", {})]}
	lib.nobody_on_call_now(ep) with input as testing.snapshot(object.union(base, {"oncalls": [testing.oncall("PEP0001", 2, "PUSR002", null)]}))
	not lib.nobody_on_call_now(ep) with input as testing.snapshot(object.union(base, {"oncalls": [testing.oncall("PEP0001", 1, "PUSR001", "PSCH008")]}))
	not lib.nobody_on_call_now(ep) with input as testing.snapshot_without(base, ["oncalls"])
	parked := {"escalation_policies": [ep], "services": [testing.service("PSVC001", {"status": "disabled"})]}
	not lib.nobody_on_call_now(ep) with input as testing.snapshot(parked)
}

test_fails_standard if {
	inp := testing.snapshot({"escalation_policies": [testing.escalation_policy("PEP0001", [[testing.user_ref("PUSR001")]])]})
	lib.fails_standard("has_technical_service_description", testing.service("PSVC001", {"description": "Managed by Terraform"}))
	not lib.fails_standard("has_technical_service_description", testing.service("PSVC001", {}))
	lib.fails_standard("minimum_escalation_policy_rule_depth", testing.service("PSVC001", {})) with input as inp
	lib.fails_standard("minimum_escalation_policy_rule_depth", testing.service("PSVC001", {"escalation_policy": null})) with input as inp
	lib.fails_standard("minimum_outbound_integrations", testing.service("PSVC001", {})) with input as inp
	not lib.fails_standard("unknown_type", testing.service("PSVC001", {})) with input as inp
}

test_recent_incidents_and_noisy if {
	cfg := {"noisy_service_incidents": 10, "noisy_service_window_days": 7}
	svc := testing.service("PSVC001", {})

	# 12 incidents 12 hours apart: 11 in the last 5.5 days, the 12th 133 hours ago (still 7 days)
	inp := testing.snapshot({"incidents": testing.incidents("PSVC001", 12, 12)})
	testing.assert_equal(lib.recent_incidents(svc), 12) with input as inp with data.pdguard.config as cfg
	testing.assert_equal(lib.recent_incidents(svc), 4) with input as inp with data.pdguard.config as {"noisy_service_window_days": 2}
	lib.noisy(svc) with input as inp with data.pdguard.config as cfg
	not lib.noisy(svc) with input as inp with data.pdguard.config as {"noisy_service_incidents": 13, "noisy_service_window_days": 7}
	lib.noisy(svc) with input as inp with data.pdguard.config as {"noisy_service_incidents": 12, "noisy_service_window_days": 7}
	not lib.noisy(svc) with input as testing.snapshot_without({"incidents": testing.incidents("PSVC001", 12, 12)}, ["incidents"])
		with data.pdguard.config as cfg
	testing.assert_equal(lib.noisy_services, {"PSVC001"}) with input as inp with data.pdguard.config as cfg
	testing.assert_equal(lib.noisy_services, set()) with input as inp with data.pdguard.config as {"noisy_service_incidents": 13, "noisy_service_window_days": 7}
}

# incident_at(id, seconds): a PSVC001 incident created `seconds` after the scan (negative: before).
incident_at(id, seconds) := testing.resolved_incident(id, "PSVC001", testing._rfc3339(time.parse_rfc3339_ns(testing.scanned_at) + (seconds * 1000000000)))

# The window's bounds: created exactly noisy_service_window_days before the scan counts, a second
# earlier does not, and neither does an incident created after the scan.
test_recent_incidents_window_bounds if {
	inp := testing.snapshot({"incidents": [
		incident_at("Q1", -7 * 86400), incident_at("Q2", (-7 * 86400) - 1),
		incident_at("Q3", 1), incident_at("Q4", 0),
	]})
	testing.assert_equal(lib.recent_incidents_of, {"PSVC001": {"Q1", "Q4"}}) with input as inp
		with data.pdguard.config as {"noisy_service_window_days": 7}
}
