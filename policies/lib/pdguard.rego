# pdguard policy library (package pdguard.lib): indexes and resolvers over a snapshot of
# schema 2.x, shared by every policy - built-in or yours. It is always loaded, also with
# --no-builtin. Use it with `import data.pdguard.lib`:
#
#   deny contains lib.finding(sprintf("service %q has no escalation policy", [svc.name]), "service", svc) if {
#   	some svc in input.services
#   	not lib.escalation_policy_of(svc)
#   }
#
# Rules over the whole snapshot (indexes, sets) are computed once per evaluation; functions are
# cheap lookups in them. Undefined means "unknown" (an id that is not in the snapshot, a
# collection that was not collected): a policy built on these never fires on what was not seen.
# In a snapshot every cross-reference is the API's reference {id, type: "<x>_reference",
# summary, self?, html_url?}: follow it with an index, e.g. lib.user[ref.id].
#
# Negate a function of an object (`not lib.escalation_policy_of(svc)`), never a function of a
# field that may be missing (`not f(svc.description)`): when the field is missing OPA makes the
# whole expression undefined while regorus makes it true. The helpers below that take a field
# (lib.blank(obj, key)) read it with a default for that reason.
#
# Two more differences, both measured: bind a function's result in the body, not in a rule head
# (`s contains x if { ...; x := lib.sole_schedule(rule).id }`: in the head, regorus fails with "not
# an object" where the function is undefined, OPA skips it); and look a relation up through its
# accessor (lib.services_using(ep), lib.targeted_by(id), ...), not `relation[key]`, which OPA
# re-evaluates for every key.
#
# Cost (measured, benchmarks/eval.py --packages): regorus evaluates EVERY rule of this package once
# per evaluation (a policy's `lib.<rule>` evaluates the whole imported package; OPA evaluates only
# what is used), so a rule over the whole snapshot must stay cheap when no policy needs it (one
# pass over input.incidents, not one per relation). Work done per object in several policies is
# computed once here as a set and looked up (high_urgency_services, noisy_services,
# shallow_escalation_policies): a function call costs microseconds on both engines, per object
# and per policy.
package pdguard.lib

# -- collections --------------------------------------------------------------------------

# collected(name): the scan collected the collection `name` (it is in input.meta.collections).
# An excluded (--exclude) or forbidden (403) collection is absent or empty in the snapshot:
# a policy that judges an absence ("no escalation policy targets this schedule") must first
# check that the collection it looks in was collected.
collected(name) if name in input.meta.collections

# Service Standards scores are collected with the standards.
collected("standards_scores") if "standards" in input.meta.collections

# all_collected(names): every collection of `names` was collected.
all_collected(names) if every name in names {
	collected(name)
}

# -- indexes: id -> object ----------------------------------------------------------------

service := {s.id: s | some s in input.services}

escalation_policy := {ep.id: ep | some ep in input.escalation_policies}

schedule := {s.id: s | some s in input.schedules}

flexible_schedule := {s.id: s | some s in input.flexible_schedules}

user := {u.id: u | some u in input.users}

team := {t.id: t | some t in input.teams}

business_service := {b.id: b | some b in input.business_services}

incident := {i.id: i | some i in input.incidents}

standard := {s.id: s | some s in input.standards}

# standards_score[service id]: the Service Standards score entry of a technical service.
standards_score := {s.resource_id: s | some s in input.standards_scores}

# collection_of[type]: the collection holding objects of a resource type ("service" -> "services").
collection_of := {
	"service": "services",
	"escalation_policy": "escalation_policies",
	"schedule": "schedules",
	"flexible_schedule": "flexible_schedules",
	"incident": "incidents",
	"team": "teams",
	"user": "users",
	"business_service": "business_services",
	"service_dependency": "service_dependencies",
	"addon": "addons",
	"extension": "extensions",
	"standard": "standards",
}

# asset(type, id): the object of resource type `type` ("service", "user", ...) with this id;
# undefined when it is not in the snapshot. (One definition per type: only that index is built.)
asset("service", id) := service[id]

asset("escalation_policy", id) := escalation_policy[id]

asset("schedule", id) := schedule[id]

asset("flexible_schedule", id) := flexible_schedule[id]

asset("incident", id) := incident[id]

asset("team", id) := team[id]

asset("user", id) := user[id]

asset("business_service", id) := business_service[id]

asset("standard", id) := standard[id]

# asset_name(type, id): what to call that object in a message: its name, else the id.
asset_name(rtype, id) := n if {
	n := name(asset(rtype, id))
} else := id

# -- indexes: relations -------------------------------------------------------------------

# services_of_escalation_policy[ep id]: ids of the services that use the escalation policy.
services_of_escalation_policy[ep_id] contains svc.id if {
	some svc in input.services
	ep_id := svc.escalation_policy.id
}

# escalation_policies_targeting[id]: ids of the escalation policies with a rule that targets
# the user, schedule or flexible schedule with this id.
escalation_policies_targeting[t.id] contains ep.id if {
	some ep in input.escalation_policies
	some rule in ep.escalation_rules
	some t in rule.targets
}

# supporting_services_of[id]: ids of the services (technical or business) that support the
# business or technical service `id` (from input.service_dependencies).
supporting_services_of[dep.dependent_service.id] contains dep.supporting_service.id if {
	some dep in input.service_dependencies
}

# dependents_of[id]: ids of the services (technical or business) that the service `id` supports.
dependents_of[dep.supporting_service.id] contains dep.dependent_service.id if {
	some dep in input.service_dependencies
}

# Every service a dependency names -> the services supporting it (graph.reachable follows keys only).
_supporters_graph := {id: object.get(supporting_services_of, id, set()) |
	some dep in input.service_dependencies
	some id in {dep.supporting_service.id, dep.dependent_service.id}
}

# technical_dependencies_collected: the scan read every technical service's dependencies
# (scan.service_dependencies: all, recorded as meta.service_dependencies), not only those of the
# business services: only then are chains of technical services known, and a service that
# supports no business service through them really supports none. With the business services'
# dependencies only (the default), a service supporting one through another service looks unmapped.
technical_dependencies_collected if {
	collected("service_dependencies")
	input.meta.service_dependencies == "all"
}

# supports_business_service(svc): through the collected service dependencies, the service
# supports a business service - directly, or through the services it supports.
supports_business_service(svc) if svc.id in _business_supporters

# The business services a dependency names and every service supporting them, directly or not
# (one graph walk, from the business services, for all services).
_business_supporters := graph.reachable(_supporters_graph, object.keys(business_service))

# services_using(ep): ids of the services that use the escalation policy (an empty set for none).
# Look a relation up with object.get(relation, key, default), as these accessors do: OPA then
# builds the relation once, where `relation[key]` re-evaluates its body for every key looked up
# (measured: 25 s instead of 0.2 s at 1,000 services and 5,000 incidents). A relation with no
# entry is {} on OPA and undefined on regorus: the accessors read it through `_all(...)` rules.
services_using(ep) := object.get(_all_services_of_ep, ep.id, set())

_all_services_of_ep := r if {
	r := services_of_escalation_policy
} else := {}

# targeted_by(id): ids of the escalation policies targeting the user, schedule or flexible
# schedule `id` (an empty set for none).
targeted_by(id) := object.get(_all_targeting, id, set())

_all_targeting := r if {
	r := escalation_policies_targeting
} else := {}

# supporters(id): ids of the services supporting the business or technical service `id`.
supporters(id) := object.get(_all_supporting, id, set())

_all_supporting := r if {
	r := supporting_services_of
} else := {}

# extensions_of[service id]: ids of the extensions (outbound integrations) that act on the service.
extensions_of[obj.id] contains ext.id if {
	some ext in input.extensions
	some obj in ext.extension_objects
}

# addons_of[service id]: ids of the add-ons attached to the service: the service's `addons`
# references (the /addons list itself carries no services), or an add-on's `services`.
addons_of[svc.id] contains ref.id if {
	some svc in input.services
	some ref in object.get(svc, "addons", [])
}

addons_of[ref.id] contains addon.id if {
	some addon in input.addons
	some ref in object.get(addon, "services", [])
}

# has_outbound_integration(svc): an extension or an add-on acts on the service.
has_outbound_integration(svc) if count(object.get(_all_extensions, svc.id, set())) > 0

has_outbound_integration(svc) if count(object.get(_all_addons, svc.id, set())) > 0

_all_extensions := r if {
	r := extensions_of
} else := {}

_all_addons := r if {
	r := addons_of
} else := {}

# member_ids(team): ids of the team's members (team.members, derived from the users' teams).
member_ids(t) := {m.user.id | some m in object.get(t, "members", [])}

# -- references and names -----------------------------------------------------------------

# id_of(x): the id of an object or reference, or x itself when it is an id (a string).
id_of(x) := x if is_string(x)

id_of(x) := x.id if is_object(x)

# ids(refs): the set of ids of a list of references or objects.
ids(refs) := {r.id | some r in refs}

# name(obj): what to call an object in a message: its name, else its summary, else its id.
name(obj) := obj.name if {
	is_string(obj.name)
	obj.name != ""
} else := obj.summary if {
	is_string(obj.summary)
	obj.summary != ""
} else := obj.id

# has_text(x): x is a string with something other than white space.
has_text(x) if {
	is_string(x)
	trim_space(x) != ""
}

# blank(obj, key): obj[key] is missing, null, not a string, or only white space.
blank(obj, key) if not has_text(object.get(obj, key, null))

# -- services -----------------------------------------------------------------------------

# Statuses of a service that opens no incident: disabled, or in a maintenance window.
parked_statuses := {"disabled", "maintenance"}

# is_parked(svc): the service is disabled or in maintenance (it opens no incident).
is_parked(svc) if svc.status in parked_statuses

# has_integration(svc): the service has an integration (events can reach it).
has_integration(svc) if count(object.get(svc, "integrations", [])) > 0

# The description terraform-provider-pagerduty gives a pagerduty_service when the code sets none.
terraform_placeholder_description := "Managed by Terraform"

# has_description(obj): obj has a description a reader can use: text, and not the Terraform
# provider's placeholder (compared without case and surrounding white space).
has_description(obj) if {
	text := object.get(obj, "description", null)
	has_text(text)
	lower(trim_space(text)) != lower(terraform_placeholder_description)
}

# recent_incidents_of[service id]: ids of the incidents the service opened in the last
# noisy_service_window_days days before the scan (from the scan's incidents: a lower bound when
# its incident window is shorter).
recent_incidents_of[inc.service.id] contains inc.id if {
	since := now_ns - (setting("noisy_service_window_days") * ns_per_day)
	some inc in input.incidents
	created := time_ns(inc.created_at)
	since <= created
	created <= now_ns
}

_all_recent_incidents := r if {
	r := recent_incidents_of
} else := {}

# recent_incidents(svc): how many incidents the service opened in the last
# noisy_service_window_days days.
recent_incidents(svc) := count(object.get(_all_recent_incidents, svc.id, set()))

# noisy(svc): incidents were collected and the service opened at least the setting
# noisy_service_incidents incidents in the last noisy_service_window_days days.
noisy(svc) if svc.id in noisy_services

# noisy_services: ids of the services noisy(svc) holds for (computed once; the setting is at least 1,
# so only services with recent incidents can be noisy).
noisy_services contains id if {
	collected("incidents")
	threshold := setting("noisy_service_incidents")
	some id, incidents in _all_recent_incidents
	count(incidents) >= threshold
}

# -- escalation policies ------------------------------------------------------------------

# has_escalation_policy(svc): the service names an escalation policy (whether or not the
# snapshot holds it).
has_escalation_policy(svc) if has_text(object.get(svc, ["escalation_policy", "id"], null))

# escalation_policy_of(svc): the escalation policy object of a service (undefined when the
# service has none or its policy is not in the snapshot).
escalation_policy_of(svc) := escalation_policy[svc.escalation_policy.id]

# levels(ep): the escalation rules of a policy, level 1 first ([] when it has none).
levels(ep) := object.get(ep, "escalation_rules", [])

# targets(ep): every target reference of every level of the policy.
targets(ep) := [t | some rule in levels(ep); some t in rule.targets]

user_target_types := {"user_reference", "user"}

schedule_target_types := {"schedule_reference", "schedule"}

flexible_schedule_target_types := {"schedule_v3_reference"}

is_user_target(t) if t.type in user_target_types

is_schedule_target(t) if t.type in schedule_target_types

is_flexible_schedule_target(t) if t.type in flexible_schedule_target_types

# is_oncall_target(t): the target pages people (a user, a schedule or a flexible schedule).
is_oncall_target(t) if is_user_target(t)

is_oncall_target(t) if is_schedule_target(t)

is_oncall_target(t) if is_flexible_schedule_target(t)

# target(t): the object a target reference points to (user, schedule or flexible schedule);
# undefined when it is not in the snapshot.
target(t) := user[t.id] if is_user_target(t)

target(t) := schedule[t.id] if is_schedule_target(t)

target(t) := flexible_schedule[t.id] if is_flexible_schedule_target(t)

# users_of_target(t): ids of the users a target pages: a user target -> that user; a schedule
# -> the users of its current layers (ended layers excluded); a flexible schedule -> its
# current members. Undefined when the schedule is not in the snapshot.
users_of_target(t) := {t.id} if is_user_target(t)

users_of_target(t) := schedule_users[t.id] if is_schedule_target(t)

users_of_target(t) := flexible_schedule_users[t.id] if is_flexible_schedule_target(t)

# users_of_level(rule): ids of the users one escalation level pages (targets it cannot
# resolve are left out: check them with users_of_target).
users_of_level(rule) := {uid | some t in rule.targets; some uid in users_of_target(t)}

# pages_nobody(level): the escalation level has no user or schedule target.
pages_nobody(level) if not _pages_someone(level)

_pages_someone(level) if {
	some t in object.get(level, "targets", [])
	is_oncall_target(t)
}

# silent_levels(ep): the numbers (1 = first) of the levels that page nobody.
silent_levels(ep) := [n | some i, level in levels(ep); pages_nobody(level); n := i + 1]

# unique_levels(ep): how many levels page someone new - distinct, non-empty sets of on-call
# targets (PagerDuty's "unique levels": a level repeating an earlier one's targets adds nothing).
unique_levels(ep) := count({ids |
	some level in levels(ep)
	ids := {t.id | some t in level.targets; is_oncall_target(t)}
	count(ids) > 0
})

# sole_responder(ep): the id of the one user every target of every level resolves to (a user,
# or a schedule whose only current user is that user); undefined when the policy has no target,
# a target cannot be resolved, or more than one person is paged.
sole_responder(ep) := uid if {
	ts := targets(ep)
	count(ts) > 0
	every t in ts {
		count(users_of_target(t)) == 1
	}
	users := {id | some t in ts; some id in users_of_target(t)}
	count(users) == 1
	some uid in users
}

# Who owns a shallow escalation (one root cause, one finding). On the escalation policy itself:
# - pages_nobody_somewhere(ep): no level, or a level without target (PDG-EP-002);
# - sole_responder(ep): every level pages the same single person (PDG-EP-004);
# - too_few_levels(ep): fewer unique levels than the setting min_escalation_levels, and neither
#   of the above (PDG-EP-001).
# Policies about the services using the policy (Service Standards) defer to these.
pages_nobody_somewhere(ep) if count(levels(ep)) == 0

pages_nobody_somewhere(ep) if count(silent_levels(ep)) > 0

too_few_levels(ep) if {
	unique_levels(ep) < setting("min_escalation_levels")
	not pages_nobody_somewhere(ep)
	not sole_responder(ep)
}

# shallow_escalation_reported(ep): a policy of the escalation policy reports its depth problem.
shallow_escalation_reported(ep) if pages_nobody_somewhere(ep)

shallow_escalation_reported(ep) if sole_responder(ep)

shallow_escalation_reported(ep) if too_few_levels(ep)

# shallow_escalation_policies: ids of the escalation policies shallow_escalation_reported holds
# for (computed once: policies about the services using them look them up).
shallow_escalation_policies contains ep.id if {
	some ep in input.escalation_policies
	shallow_escalation_reported(ep)
}

# unused_escalation_policy(ep): services were collected and none uses the escalation policy
# (PDG-EP-006 reports it; policies about its details defer to that finding).
unused_escalation_policy(ep) if {
	collected("services")
	count(services_using(ep)) == 0
}

# shared_escalation_policy(ep): two services or more use the escalation policy (a problem of
# the policy is then reported once, on it, rather than on each service).
shared_escalation_policy(ep) if count(services_using(ep)) > 1

# -- schedules ----------------------------------------------------------------------------

# ended(layer): the schedule layer ended at or before the scan (PagerDuty keeps ended layers).
ended(layer) if at_or_before_scan(layer.end)

# current_layers(s): the layers of a classic schedule that have not ended.
current_layers(s) := [layer | some layer in object.get(s, "schedule_layers", []); not ended(layer)]

# schedule_users[schedule id]: ids of the users of the schedule's current layers.
schedule_users := {s.id: schedule_users_of(s) | some s in input.schedules}

# schedule_users_of(s): ids of the users of the current layers of the classic schedule object s.
schedule_users_of(s) := {lu.user.id | some layer in current_layers(s); some lu in layer.users}

# flexible_schedule_users[id]: ids of the members of a flexible schedule's current rotation
# events (events whose effective_until is past are excluded); the schedule's `users`
# references when it has no rotations.
flexible_schedule_users := {s.id: flexible_schedule_users_of(s) | some s in input.flexible_schedules}

# flexible_schedule_users_of(s): the same for the flexible schedule object s.
flexible_schedule_users_of(s) := {m.user_id |
	some rotation in s.rotations
	some event in rotation.events
	not at_or_before_scan(object.get(event, "effective_until", null))
	some m in event.assignment_strategy.members
	m.type == "user_member"
} if {
	is_array(s.rotations)
} else := ids(object.get(s, "users", []))

# unpaged_schedule(s): escalation policies were collected and none targets the schedule: it
# pages nobody (PDG-SCH-003 reports it; policies about its rotation defer to that finding).
unpaged_schedule(s) if {
	collected("escalation_policies")
	count(targeted_by(s.id)) == 0
}

# -- coverage over the schedule window (meta.schedule_window: the scan and the 7 days after) --

# window: {"since", "until"} of the schedule renders, in nanoseconds; undefined without one.
window := {"since": time_ns(input.meta.schedule_window.since), "until": time_ns(input.meta.schedule_window.until)}

# shifts(t): the [start, end] intervals (ns, cut to the window) during which the target pages
# someone: a user target always; a schedule the shifts GET /oncalls lists for it over the window
# (schema 2.1: meta.oncall_window; layers, restrictions and overrides applied), or in a schema
# 2.0 snapshot its final_schedule's rendered entries; a flexible schedule its computed shift
# assignments of a user. Undefined when the schedule, or on-calls over the window (its
# rendering in 2.0), are not in the snapshot: what it covers is then unknown.
shifts(t) := [[window.since, window.until]] if is_user_target(t)

shifts(t) := [iv | some iv in object.get(_all_schedule_shifts, t.id, set())] if {
	is_schedule_target(t)
	oncalls_over_window
	schedule[t.id]
	_listed_by_oncalls(t.id)
}

shifts(t) := [iv |
	some e in schedule[t.id].final_schedule.rendered_schedule_entries
	object.get(e, ["user", "id"], null) != null
	iv := _cut(e.start, e.end)
] if {
	is_schedule_target(t)
	not oncalls_over_window
	is_array(schedule[t.id].final_schedule.rendered_schedule_entries)
}

# oncalls_over_window: on-calls were collected in full over the whole window (schema 2.1), not
# only the current ones: a schedule's shifts are its on-call entries. On-calls the scan could not
# read in full (past the API's offset cap) leave every schedule's coverage unknown.
oncalls_over_window if {
	collected("oncalls")
	not input.meta.collections_status.oncalls.status == "incomplete"
	input.meta.oncall_window.since == input.meta.schedule_window.since
	input.meta.oncall_window.until == input.meta.schedule_window.until
}

# _schedule_shifts[schedule id]: its shifts over the window, from every escalation level that
# targets it (the same shift once).
_schedule_shifts[o.schedule.id] contains iv if {
	some o in input.oncalls
	object.get(o, ["user", "id"], null) != null
	iv := _cut(o.start, o.end)
}

_all_schedule_shifts := r if {
	r := _schedule_shifts
} else := {}

# _listed_by_oncalls(id): an escalation policy targeted the schedule at the scan (before any
# planned change), so /oncalls listed its shifts. /oncalls leaves out schedules on no policy: one
# a Terraform plan creates, or puts on a level, has shifts the scan never saw (unknown, not none).
_listed_by_oncalls(id) if count(object.get(_all_targeting_before, id, set())) > 0

_all_targeting_before := r if {
	r := escalation_policies_targeting_before
} else := {}

shifts(t) := [iv |
	some a in flexible_schedule[t.id].final_schedule.computed_shift_assignments
	a.member.type == "user_member"
	iv := _cut(a.start_time, a.end_time)
] if {
	is_flexible_schedule_target(t)
	is_array(flexible_schedule[t.id].final_schedule.computed_shift_assignments)
}

_cut(start, end) := [s, e] if {
	s := max([time_ns(start), window.since])
	e := min([time_ns(end), window.until])
	s < e
}

# level_shifts(rule): the shifts of every on-call target of an escalation level; undefined when
# one of them cannot be resolved (the level's coverage is then unknown).
level_shifts(rule) := [iv | some t in rule.targets; is_oncall_target(t); some iv in shifts(t)] if {
	every t in rule.targets {
		_known_shifts(t)
	}
}

_known_shifts(t) if is_array(shifts(t))

_known_shifts(t) if not is_oncall_target(t)

# gaps(ivs): the [start, end] intervals of the window that no interval of ivs covers, in order
# (a gap starts at the window's start or where an interval ends, and lasts until the next one).
gaps(ivs) := [[s, e] |
	some s in sort({window.since} | {iv[1] | some iv in ivs; iv[1] < window.until})
	not _covered(ivs, s)
	e := min({iv[0] | some iv in ivs; iv[0] > s} | {window.until})
]

_covered(ivs, t) if {
	some iv in ivs
	iv[0] <= t
	t < iv[1]
}

# covered_percent(gaps): the share of the window the gaps leave covered, in percent (0.1 precision).
covered_percent(gs) := round(1000 * (1 - (gap_ns(gs) / (window.until - window.since)))) / 10

# gap_ns(gaps): how long the gaps last together, in nanoseconds.
gap_ns(gs) := sum([length | some g in gs; length := g[1] - g[0]])

# gap_text(g): "2026-11-26 23:00 - 2026-11-27 08:00 UTC" for a message.
gap_text(g) := sprintf("%s - %s UTC", [_minute(g[0]), _minute(g[1])])

_minute(ns) := substring(replace(time.format([ns, "UTC", "2006-01-02T15:04"]), "T", " "), 0, 16)

# window_days: the length of the schedule window, in days (7 for a scan).
window_days := round((window.until - window.since) / ns_per_day)

# gaps_text(gaps): how long and when, for a message: "18h: 2026-11-26 23:00 - 2026-11-27 08:00
# UTC, 2026-11-27 23:00 - 2026-11-28 08:00 UTC (+5 more)".
gaps_text(gs) := sprintf("%dh: %s%s", [
	floor(gap_ns(gs) / ns_per_hour),
	concat(", ", [gap_text(g) | some i, g in gs; i < 2]),
	_more(count(gs) - 2),
])

_more(n) := sprintf(" (+%d more)", [n]) if n > 0

_more(n) := "" if n <= 0

# sole_schedule(rule): the schedule that is the only target of an escalation level (its gaps are
# the level's; PDG-SCH-002 reports them on the schedule).
sole_schedule(rule) := schedule[t.id] if {
	[t] := rule.targets
	is_schedule_target(t)
}

# -- on-call ------------------------------------------------------------------------------

# oncall_users[[ep id, level]]: ids of the users on call at the scan for that escalation
# policy and level, as GET /oncalls reported them (layers, restrictions and overrides applied).
oncall_users[key] contains o.user.id if {
	some o in input.oncalls
	_on_call_at_scan(o)
	key := [o.escalation_policy.id, o.escalation_level]
}

# An entry with no start/end is a user targeted directly (always on call).
_on_call_at_scan(o) if {
	not after_scan(object.get(o, "start", null))
	not at_or_before_scan(object.get(o, "end", null))
}

_all_oncall_users := r if {
	r := oncall_users
} else := {}

# oncall_now(ep, level): ids of the users on call right now at `level` (1 = first) of the
# escalation policy `ep` (object, reference or id); an empty set when nobody is. Undefined
# when on-calls were not collected.
oncall_now(ep, level) := uids if {
	collected("oncalls")
	uids := object.get(_all_oncall_users, [[id_of(ep), level]], set())
} else := set() if collected("oncalls")

# active_services_of(ep): ids of the services using the escalation policy that can open
# incidents (not disabled or in maintenance).
active_services_of(ep) := {id |
	some id in services_using(ep)
	not is_parked(service[id])
}

# nobody_on_call_now(ep): on-calls were collected, active services use the policy, its first
# level has on-call targets, and GET /oncalls shows nobody on call there at the scan
# (PDG-EP-007; the coverage policies leave that level to it).
nobody_on_call_now(ep) if {
	collected("oncalls")
	count(active_services_of(ep)) > 0
	not pages_nobody(levels(ep)[0])
	count(oncall_now(ep, 1)) == 0
}

# oncall_now_users: ids of the users /oncalls reports on call at the scan, at any level of any
# escalation policy (empty when on-calls were not collected).
oncall_now_users contains o.user.id if {
	some o in input.oncalls
	_on_call_at_scan(o)
}

# responders: ids of the users an escalation policy pages - targeted directly, through a
# schedule's current layers or a flexible schedule - and anyone /oncalls reports on call now.
responders contains uid if {
	some ep in input.escalation_policies
	some t in targets(ep)
	some uid in users_of_target(t)
}

responders contains uid if some uid in oncall_now_users

# -- urgency ------------------------------------------------------------------------------

# urgencies(svc): the urgencies a service's incident_urgency_rule can give an incident:
# "high", "low" or "severity_based" (dynamic: set by the alert's severity); both parts of a
# support-hours rule. Undefined when the service has no rule.
urgencies(svc) := {part.urgency |
	some key in ["during_support_hours", "outside_support_hours"]
	part := svc.incident_urgency_rule[key]
} if {
	svc.incident_urgency_rule.type == "use_support_hours"
} else := {svc.incident_urgency_rule.urgency}

# is_high_urgency(svc): the service can open high-urgency incidents: constant high, dynamic
# (severity_based: a critical alert opens a high-urgency incident), or either part of a
# support-hours rule being one of those.
is_high_urgency(svc) if {
	some u in urgencies(svc)
	u in {"high", "severity_based"}
}

# high_urgency_services: ids of the services of the snapshot is_high_urgency holds for (computed
# once: a policy going through services, or through the ids of services_using(ep), looks them up).
high_urgency_services contains svc.id if {
	some svc in input.services
	is_high_urgency(svc)
}

# -- users --------------------------------------------------------------------------------

# Roles that cannot be paged (observers and read-only users).
unpageable_roles := {"observer", "read_only_user", "read_only_limited_user"}

# can_be_paged(user): the user's role allows being notified of incidents.
can_be_paged(u) if not _unpageable(u)

_unpageable(u) if u.role in unpageable_roles

# has_contact_method(user): the user has at least one contact method.
has_contact_method(u) if count(object.get(u, "contact_methods", [])) > 0

# contact_kind(cm): "phone", "sms", "email", "push_notification", "whatsapp" - the kind of a
# contact method or of its reference.
contact_kind(cm) := trim_suffix(trim_suffix(cm.type, "_reference"), "_contact_method")

# Contact methods that reach a phone and wake someone up (an email does not).
urgent_contact_kinds := {"phone", "sms", "push_notification", "whatsapp"}

# urgent_rules(user): the user's high-urgency notification rules that reach a phone (call,
# SMS, push or WhatsApp).
urgent_rules(u) := [rule |
	some rule in object.get(u, "notification_rules", [])
	rule.urgency == "high"
	contact_kind(rule.contact_method) in urgent_contact_kinds
]

# is_paged_urgently(user): a high-urgency notification rule of the user reaches a phone.
is_paged_urgently(u) if count(urgent_rules(u)) > 0

# unreachable_target(user): an escalation policy targets the user directly and the user has no
# contact method at all: PDG-EP-003 reports it on the escalation policy; the user policies defer.
unreachable_target(u) if {
	count(targeted_by(u.id)) > 0
	not has_contact_method(u)
}

# invitation_pending(user): the user has not accepted the invitation to the account yet.
invitation_pending(u) if u.invitation_sent == true

# -- Service Standards --------------------------------------------------------------------

# standard_applies(standard, svc): the account's Service Standard applies to the technical
# service: it is active, the service is not in its exclusions, and when it lists inclusions
# the service is one of them (GET /standards; the scores already apply this).
standard_applies(std, svc) if {
	object.get(std, "resource_type", "technical_service") == "technical_service"
	object.get(std, "active", true) != false
	not _excluded(std, svc)
	_in_scope(std, svc)
}

_excluded(std, svc) if {
	some ref in object.get(std, "exclusions", [])
	ref.id == svc.id
}

_in_scope(std, _) if count(object.get(std, "inclusions", [])) == 0

_in_scope(std, svc) if {
	some ref in std.inclusions
	ref.id == svc.id
}

# standards_applying_to(svc): the account's standards that apply to the service, by type.
# Undefined when the standards were not collected.
standards_applying_to(svc) := {s.type: s | some s in input.standards; standard_applies(s, svc)} if collected("standards")

# standard_applies_to(type, svc): a standard of that type applies to the service.
standard_applies_to(stype, svc) if standards_applying_to(svc)[stype]

# judged_standards[type]: the Service Standard types PDG-STD-001 judges from the live
# configuration, and the collections each needs. PDG-STD-002 leaves their scores to it when
# those were collected (one root cause, one finding).
judged_standards := {
	"has_technical_service_description": ["services"],
	"minimum_escalation_policy_rule_depth": ["services", "escalation_policies"],
	"minimum_outbound_integrations": ["services", "extensions", "addons"],
}

# fails_standard(type, svc): the service's live configuration fails a standard PDG-STD-001
# judges (whoever owns the root cause): no description (the Terraform placeholder is none), an
# escalation policy with fewer than two unique levels (or none), no extension or add-on.
fails_standard("has_technical_service_description", svc) if not has_description(svc)

fails_standard("minimum_escalation_policy_rule_depth", svc) if not has_escalation_policy(svc)

fails_standard("minimum_escalation_policy_rule_depth", svc) if svc.escalation_policy.id in _below_two_unique_levels

# ids of the escalation policies with fewer than two unique levels (computed once, not per service)
_below_two_unique_levels contains ep.id if {
	some ep in input.escalation_policies
	unique_levels(ep) < 2
}

fails_standard("minimum_outbound_integrations", svc) if not has_outbound_integration(svc)

# judges_standard(type): PDG-STD-001 can judge standards of this type on this snapshot.
judges_standard(stype) if all_collected(judged_standards[stype])

# -- time ("now" is the scan, never the evaluation clock) ---------------------------------

# now_ns: the scan time (input.meta.scanned_at) in nanoseconds since the epoch.
now_ns := time.parse_rfc3339_ns(input.meta.scanned_at)

ns_per_minute := 60 * 1000000000

ns_per_hour := 60 * ns_per_minute

ns_per_day := 24 * ns_per_hour

# time_ns(ts): an RFC 3339 timestamp (a string) in nanoseconds; undefined when ts is null,
# missing or not a string. A malformed string is an evaluation error on regorus (fail closed)
# and undefined on OPA: PagerDuty's timestamps are well formed; test a free-text field with
# valid_time(ts) first (it costs ~10x a parse).
time_ns(ts) := time.parse_rfc3339_ns(ts) if is_string(ts)

_rfc3339 := `^\d{4}-(0[1-9]|1[0-2])-(0[1-9]|[12]\d|3[01])[Tt]([01]\d|2[0-3]):[0-5]\d:([0-5]\d|60)(\.\d+)?([Zz]|[+-]([01]\d|2[0-3]):[0-5]\d)$`

# valid_time(ts): ts is an RFC 3339 timestamp of a day that exists (time_ns(ts) cannot fail).
valid_time(ts) if {
	is_string(ts)
	regex.match(_rfc3339, ts)
	_int(substring(ts, 8, 2)) <= _days_in_month(_int(substring(ts, 0, 4)), _int(substring(ts, 5, 2)))
}

# digits -> number ("08" -> 8: regorus' to_number refuses leading zeros)
_int(digits) := to_number(t) if {
	t := trim_left(digits, "0")
	t != ""
} else := 0

_days_in_month(_, m) := 31 if m in {1, 3, 5, 7, 8, 10, 12}

_days_in_month(_, m) := 30 if m in {4, 6, 9, 11}

_days_in_month(y, 2) := 29 if _leap(y)

_days_in_month(y, 2) := 28 if not _leap(y)

_leap(y) if {
	y % 4 == 0
	y % 100 != 0
}

_leap(y) if y % 400 == 0

# duration_text(seconds): "4h", "90 min", "45 s" - a duration for a message.
duration_text(seconds) := sprintf("%dh", [seconds / 3600]) if {
	seconds % 3600 == 0
} else := sprintf("%d min", [seconds / 60]) if {
	seconds % 60 == 0
} else := sprintf("%d s", [seconds])

# at_or_before_scan(ts) / after_scan(ts): ts is a valid timestamp at or before / after the
# scan. Use `not lib.after_scan(x)` rather than `not lib.time_ns(x) > lib.now_ns`: OPA and
# regorus disagree on a negated comparison whose operand is undefined.
at_or_before_scan(ts) if time_ns(ts) <= now_ns

after_scan(ts) if time_ns(ts) > now_ns

# age_ns(ts) / age_minutes(ts) / age_hours(ts) / age_days(ts): how long before the scan ts
# was (negative in the future; fractional: floor() it for messages).
age_ns(ts) := now_ns - time_ns(ts)

age_minutes(ts) := age_ns(ts) / ns_per_minute

age_hours(ts) := age_ns(ts) / ns_per_hour

age_days(ts) := age_ns(ts) / ns_per_day

# -- incidents ----------------------------------------------------------------------------

# open_incident(inc): the incident is triggered or acknowledged (not resolved).
open_incident(inc) if inc.status in {"triggered", "acknowledged"}

# open_incidents: the open incidents (one pass over the incidents; the relations below read these).
open_incidents := [inc | some inc in input.incidents; open_incident(inc)]

# open_incidents_of_service[service id]: ids of the open incidents of the service.
open_incidents_of_service[inc.service.id] contains inc.id if some inc in open_incidents

# open_incidents_of_escalation_policy[ep id]: ids of the open incidents escalating through the policy.
open_incidents_of_escalation_policy[inc.escalation_policy.id] contains inc.id if some inc in open_incidents

# open_incidents_assigned_to[user id]: ids of the open incidents assigned to the user.
open_incidents_assigned_to[a.assignee.id] contains inc.id if {
	some inc in open_incidents
	some a in inc.assignments
}

# -- Terraform plans (`check --tfplan`: input.plan) ----------------------------------------
#
# With a plan, the collections of input are the account as it will be after `terraform apply`
# (created objects have the id "tf:<address>", deleted ones are gone) and input.plan.changes
# lists the changes, each with the live object as `before`. The rules below give the account
# as it is BEFORE the apply as well: what PagerDuty checks when Terraform sends a DELETE.
# Terraform deletes an object before it updates the objects whose state depends on it (their
# update may need its replacement), and after it deletes the objects that depend on it: so
# at the time of a delete, the objects the plan merely updates still look as they do now.

# plan_changes: the planned changes (input.plan.changes); [] when there is no plan.
plan_changes := input.plan.changes if is_array(input.plan.changes)

else := []

# removed_id(ch): the id of the object a change removes from PagerDuty: a delete's object, or
# the old object of a replace (either order); undefined for other changes.
removed_id(ch) := ch.resource.id if ch.action == "delete"

removed_id(ch) := ch.before.id if ch.action == "replace"

# removals: {"type", "id", "change"} of every object the plan removes (delete or replace).
removals contains {"type": ch.resource.type, "id": id, "change": ch} if {
	some ch in plan_changes
	id := removed_id(ch)
}

# removed[type]: ids of the objects of a resource type the plan removes.
removed[r.type] contains r.id if some r in removals

# removed_by_plan(type, id): the plan removes that object (negate this, not `id in removed[type]`).
removed_by_plan(rtype, id) if id in removed[rtype]

# created[type]: ids of the objects of a resource type the plan creates (placeholders "tf:...").
created[ch.resource.type] contains ch.resource.id if {
	some ch in plan_changes
	ch.action in {"create", "replace"}
}

# changed_before[type]: ids of the live objects of a resource type the plan changes.
changed_before[ch.resource.type] contains ch.before.id if {
	some ch in plan_changes
	is_object(ch.before)
}

# objects_before(type): the objects of a resource type as they are before the apply: those the
# plan does not touch, and the `before` of those it changes. (Use the rules below: computed once.)
objects_before(rtype) := array.concat(
	[o | some o in object.get(input, collection_of[rtype], []); not _touched(rtype, o.id)],
	[ch.before | some ch in plan_changes; ch.resource.type == rtype; is_object(ch.before)],
)

_touched(rtype, id) if id in changed_before[rtype]

_touched(rtype, id) if id in created[rtype]

# escalation_policy_before[id], schedule_before[id], flexible_schedule_before[id], user_before[id]:
# indexes of the account before the apply (the same as the indexes above without a plan).
escalation_policy_before := {ep.id: ep | some ep in objects_before("escalation_policy")}

schedule_before := {s.id: s | some s in objects_before("schedule")}

flexible_schedule_before := {s.id: s | some s in objects_before("flexible_schedule")}

user_before := {u.id: u | some u in objects_before("user")}

# escalation_policies_targeting_before[id]: ids of the escalation policies whose rules target
# the user, schedule or flexible schedule `id` before the apply.
escalation_policies_targeting_before[t.id] contains ep.id if {
	some ep in escalation_policy_before
	some rule in ep.escalation_rules
	some t in rule.targets
}

# users_of_target_before(t) / users_of_level_before(rule): users_of_target / users_of_level
# before the apply (users that exist then).
users_of_target_before(t) := {t.id} if {
	is_user_target(t)
	user_before[t.id]
}

users_of_target_before(t) := schedule_users_of(schedule_before[t.id]) if is_schedule_target(t)

users_of_target_before(t) := flexible_schedule_users_of(flexible_schedule_before[t.id]) if is_flexible_schedule_target(t)

users_of_level_before(rule) := {uid | some t in rule.targets; some uid in users_of_target_before(t)}

# existing_users_of_level(rule): users_of_level(rule) without the users that are not in the
# snapshot (after the apply: deleted by the plan).
existing_users_of_level(rule) := {uid | some uid in users_of_level(rule); user[uid]}

# iac_entry(type, id): the input.iac entry of an object ({status, address, source, ...});
# undefined when there is no IaC classification or the object is not in it.
iac_entry(rtype, id) := input.iac.resources[rtype][id]

# plan_resource(r): the resource of a finding about a removed object r (an item of removals):
# it is named after the object as it was.
plan_resource(r) := {"type": r.type, "id": r.id, "name": name(object.get(r.change, "before", null))} if {
	is_object(r.change.before)
} else := {"type": r.type, "id": r.id, "name": object.get(r.change.resource, "name", r.id)}

# plan_finding(msg, r, details): a finding about the removed object r (an item of removals).
plan_finding(msg, r, details) := {"msg": msg, "resource": plan_resource(r), "details": details}

# -- audit records (who changed what) ------------------------------------------------------

# changed_by_text(change): an audit change ({at, action, method, actors: [references]}, e.g. an
# input.iac entry's changed_by) in words: "Ann Adams (user) at 2026-11-25T10:12:03Z via browser".
# Undefined when change is not an object (audit records not collected, or no record).
changed_by_text(change) := sprintf("%s at %s%s", [_actors_text(change), change.at, _via(change)]) if is_object(change)

_actors_text(change) := concat(", ", [sprintf("%s (%s)", [name(a), trim_suffix(a.type, "_reference")]) |
	some a in change.actors
]) if {
	count(object.get(change, "actors", [])) > 0
} else := sprintf("an actor PagerDuty does not name (%v)", [object.get(change, "method", null)])

_via(change) := sprintf(" via %s", [change.method]) if {
	count(object.get(change, "actors", [])) > 0
	is_string(change.method)
} else := ""

# -- settings and findings ----------------------------------------------------------------

# setting(name): a policy setting (data.pdguard.config; defaults: `pdguard config defaults`).
setting(name) := data.pdguard.config[name]

# resource(type, obj): the resource a finding is about: {type, id, name}.
resource(rtype, obj) := {"type": rtype, "id": obj.id, "name": name(obj)}

# finding(msg, type, obj): a deny/warn result about obj (of resource type `type`).
finding(msg, rtype, obj) := {"msg": msg, "resource": resource(rtype, obj)}

# finding_with(msg, type, obj, details): a finding with details (part of its fingerprint:
# put there what identifies the problem, not what changes every scan).
finding_with(msg, rtype, obj, details) := {"msg": msg, "resource": resource(rtype, obj), "details": details}
