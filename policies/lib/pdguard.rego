# pdguard policy library (package pdguard.lib): indexes and resolvers over a snapshot of
# schema 2.0, shared by every policy - built-in or yours. It is always loaded, also with
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
has_outbound_integration(svc) if extensions_of[svc.id]

has_outbound_integration(svc) if addons_of[svc.id]

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

# -- escalation policies ------------------------------------------------------------------

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
} if is_array(s.rotations) else := ids(object.get(s, "users", []))

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

# oncall_now(ep, level): ids of the users on call right now at `level` (1 = first) of the
# escalation policy `ep` (object, reference or id); an empty set when nobody is. Undefined
# when on-calls were not collected.
oncall_now(ep, level) := uids if {
	collected("oncalls")
	uids := oncall_users[[id_of(ep), level]]
} else := set() if collected("oncalls")

# -- urgency ------------------------------------------------------------------------------

# urgencies(svc): the urgencies a service's incident_urgency_rule can give an incident:
# "high", "low" or "severity_based" (dynamic: set by the alert's severity); both parts of a
# support-hours rule. Undefined when the service has no rule.
urgencies(svc) := {part.urgency |
	some key in ["during_support_hours", "outside_support_hours"]
	part := svc.incident_urgency_rule[key]
} if svc.incident_urgency_rule.type == "use_support_hours" else := {svc.incident_urgency_rule.urgency}

# is_high_urgency(svc): the service can open high-urgency incidents: constant high, dynamic
# (severity_based: a critical alert opens a high-urgency incident), or either part of a
# support-hours rule being one of those.
is_high_urgency(svc) if {
	some u in urgencies(svc)
	u in {"high", "severity_based"}
}

# -- users --------------------------------------------------------------------------------

# Roles that cannot be paged (observers and read-only users).
unpageable_roles := {"observer", "read_only_user", "read_only_limited_user"}

# can_be_paged(user): the user's role allows being notified of incidents.
can_be_paged(u) if not _unpageable(u)

_unpageable(u) if u.role in unpageable_roles

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

# open_incidents_of_service[service id]: ids of the open incidents of the service.
open_incidents_of_service[inc.service.id] contains inc.id if {
	some inc in input.incidents
	open_incident(inc)
}

# open_incidents_of_escalation_policy[ep id]: ids of the open incidents escalating through the policy.
open_incidents_of_escalation_policy[inc.escalation_policy.id] contains inc.id if {
	some inc in input.incidents
	open_incident(inc)
}

# open_incidents_assigned_to[user id]: ids of the open incidents assigned to the user.
open_incidents_assigned_to[a.assignee.id] contains inc.id if {
	some inc in input.incidents
	open_incident(inc)
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
plan_changes := input.plan.changes if is_array(input.plan.changes) else := []

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
]) if count(object.get(change, "actors", [])) > 0 else := sprintf("an actor PagerDuty does not name (%v)", [object.get(change, "method", null)])

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
