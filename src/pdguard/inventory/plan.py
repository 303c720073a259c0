"""Terraform plans: the account as it will be after ``terraform apply`` (``check --tfplan``).

Reads the output of ``terraform show -json PLANFILE`` (format 1.x) and merges its
``resource_changes`` into a snapshot document:

* ``create``                - the object appears, with the planned values mapped back to API fields
  (:mod:`pdguard.inventory.tfmap`) and the id :func:`placeholder_id` ``"tf:<address>"`` (its real id
  is known only after the apply);
* ``update``                - the live object carries the planned values;
* ``delete``                - the object is removed;
* ``delete,create`` / ``create,delete`` (replace) - the old object is removed, a new one with a
  placeholder id appears;
* ``forget``                - the object stays but leaves Terraform state (it becomes unmanaged);
* ``no-op`` / ``read``      - nothing changes.

Values Terraform marks unknown (``after_unknown``) that are references to other resources of the
plan (``escalation_policy = pagerduty_escalation_policy.platform.id`` on a policy being created) are
resolved by address through the ``configuration`` expressions, so references between planned
objects use placeholder ids. Back-references the API derives are kept consistent: a service's
``teams`` (from its escalation policy), escalation policies' ``services``, schedules'
``escalation_policies`` and ``users``, teams' ``members`` for ``pagerduty_team_membership``.

The document gets ``plan`` (what policies see as ``input.plan``)::

    {"source": "plan.json", "format_version": "1.2", "terraform_version": "1.9.5", "complete": true,
     "changes": [{"address": "pagerduty_service.api", "type": "pagerduty_service", "name": "api",
                  "actions": ["create"], "action": "create",
                  "resource": {"type": "service", "id": "tf:pagerduty_service.api", "name": "api"},
                  "before": null, "after": {...the object as merged into input.services...},
                  "replaces": null, "unknown": [], "file": "infra/main.tf", "line": 12}]}

and ``iac`` computed against the state after the apply (the plan's ``prior_state`` with the
changes applied, plus any ``--tfstate`` files), so planned objects are ``codified`` at their
address and findings on them point at their ``.tf`` block.
"""

from __future__ import annotations

import copy
import re
from dataclasses import dataclass, field
from typing import Any

import orjson

from pdguard.errors import InputError
from pdguard.inventory import iac as iacmod
from pdguard.inventory import tfmap
from pdguard.inventory.tfmap import RESOURCES, ref, ref_id
from pdguard.snapshot import read_json_file

PLACEHOLDER_PREFIX = "tf:"

# Asset type -> the API's `type` of such an object.
API_TYPES = {
    "service": "service", "escalation_policy": "escalation_policy", "schedule": "schedule",
    "flexible_schedule": "schedule_v3", "team": "team", "user": "user", "business_service": "business_service",
    "service_dependency": "service_dependency", "integration": "integration", "team_membership": "team_membership",
}


def placeholder_id(address: str) -> str:
    """The id a planned object has until the apply gives it one: ``tf:`` + its resource address."""
    return f"{PLACEHOLDER_PREFIX}{address}"


@dataclass
class Change:
    address: str
    tf_type: str
    name: str
    module: str  # "module.a.module.b" or ""
    actions: list[str]
    before: dict[str, Any] | None
    after: dict[str, Any] | None
    after_unknown: Any
    deposed: str | None = None

    @property
    def action(self) -> str:
        a = self.actions
        if a in (["delete", "create"], ["create", "delete"]):
            return "replace"
        return a[0] if len(a) == 1 else "+".join(a)


@dataclass
class Plan:
    path: str
    format_version: str
    terraform_version: str | None
    complete: bool
    changes: list[Change]
    prior_state: list[iacmod.StateEntry]
    configuration: dict[str, Any] = field(default_factory=dict)


# ------------------------------------------------------------------------------------- reading


def read_plan(path: str) -> Plan:
    """Parse `terraform show -json PLANFILE`; a clear one-line error for anything else."""
    doc = read_json_file(path, "Terraform plan")
    if not isinstance(doc, dict):
        raise InputError(f"{path}: not a Terraform plan (expected the JSON object of `terraform show -json PLANFILE`)")
    version = doc.get("format_version")
    if "resource_changes" not in doc and "planned_values" not in doc:
        if "values" in doc or "version" in doc:
            raise InputError(f"{path}: this is Terraform state, not a plan: pass it with --tfstate")
        raise InputError(f"{path}: not a Terraform plan (no resource_changes; expected `terraform show -json PLANFILE`)")
    if not isinstance(version, str) or version.split(".")[0] != "1":
        raise InputError(f"{path}: Terraform plan format_version {version!r} is not supported (expected 1.x)")
    if doc.get("errored"):
        raise InputError(f"{path}: the plan errored (terraform plan failed): nothing to evaluate")
    changes = []
    for rc in doc.get("resource_changes") or []:
        if not isinstance(rc, dict) or rc.get("mode", "managed") != "managed":
            continue
        ch = rc.get("change") or {}
        actions = ch.get("actions")
        tf_type, address = rc.get("type"), rc.get("address")
        if not isinstance(actions, list) or not isinstance(tf_type, str) or not isinstance(address, str):
            raise InputError(f"{path}: resource_changes entry without address, type or change.actions")
        changes.append(Change(
            address=address, tf_type=tf_type, name=str(rc.get("name") or ""),
            module=str(rc.get("module_address") or ""), actions=[str(a) for a in actions],
            before=ch.get("before") if isinstance(ch.get("before"), dict) else None,
            after=ch.get("after") if isinstance(ch.get("after"), dict) else None,
            after_unknown=ch.get("after_unknown") or {}, deposed=rc.get("deposed"),
        ))
    prior = doc.get("prior_state") or {}
    root = (prior.get("values") or {}).get("root_module") or {} if isinstance(prior, dict) else {}
    config = (doc.get("configuration") or {}).get("root_module") or {}
    return Plan(path=path, format_version=version, terraform_version=doc.get("terraform_version"),
                complete=doc.get("complete", True) is not False, changes=changes,
                prior_state=list(iacmod._from_show_json(root)), configuration=config)


# ------------------------------------------------------------------------ unknowns and references

_REF_RE = re.compile(r"^(pagerduty_[A-Za-z0-9_]+)\.([A-Za-z0-9_-]+)(\[[^\]]+\])?(?:\.(id))?$")
_INDEX_RE = re.compile(r"\[[^\]]*\]$")


def _config_module(root: dict[str, Any], module: str) -> dict[str, Any] | None:
    mod: dict[str, Any] | None = root
    for part in re.findall(r"module\.([A-Za-z0-9_-]+)(?:\[[^\]]*\])?", module):
        call = ((mod or {}).get("module_calls") or {}).get(part) or {}
        mod = call.get("module")
        if mod is None:
            return None
    return mod


def _config_expressions(plan: Plan, ch: Change) -> dict[str, Any]:
    mod = _config_module(plan.configuration, ch.module)
    local = _INDEX_RE.sub("", ch.address[len(ch.module) + 1:] if ch.module else ch.address)
    for res in (mod or {}).get("resources") or []:
        if isinstance(res, dict) and res.get("address") == local:
            return res.get("expressions") or {}
    return {}


def _referenced(expr: Any, module: str) -> list[tuple[str, bool]]:
    """Instance addresses a configuration expression references, in order, with "is it `.id`"."""
    out: list[tuple[str, bool]] = []
    seen: dict[str, int] = {}
    refs = expr.get("references") if isinstance(expr, dict) else None
    for r in refs or []:
        m = _REF_RE.match(str(r))
        if not m:
            continue
        addr = f"{module + '.' if module else ''}{m.group(1)}.{m.group(2)}{m.group(3) or ''}"
        if addr in seen:
            out[seen[addr]] = (addr, out[seen[addr]][1] or m.group(4) == "id")
            continue
        seen[addr] = len(out)
        out.append((addr, m.group(4) == "id"))
    return out


class _Resolver:
    """Replaces unknown values that reference other planned resources by their placeholder ids."""

    def __init__(self, plan: Plan, new_ids: dict[str, str], known_ids: dict[str, str]) -> None:
        self.plan = plan
        self.new_ids = new_ids  # address -> placeholder of the objects the plan creates
        self.known_ids = known_ids  # address -> id of the objects in prior state

    def _id_of(self, addr: str) -> str | None:
        return self.new_ids.get(addr) or self.known_ids.get(addr)

    def resolve(self, ch: Change) -> tuple[dict[str, Any], list[str], set[str]]:
        """(after with references resolved, unresolved paths, top-level args left unknown)."""
        after = copy.deepcopy(ch.after or {})
        unresolved: list[str] = []
        exprs = _config_expressions(self.plan, ch)
        unknown = ch.after_unknown if isinstance(ch.after_unknown, dict) else {}
        args = RESOURCES[ch.tf_type].arg_names
        for key, u in unknown.items():
            if key not in args:  # computed read-only attributes (id, html_url, ...): nothing to resolve
                continue
            value, missing = self._walk(after.get(key), u, exprs.get(key), ch.module, key)
            after[key] = value
            unresolved += missing
        top = {p.split("[")[0].split(".")[0] for p in unresolved if "[" not in p and "." not in p}
        return after, unresolved, top

    def _walk(self, value: Any, unknown: Any, expr: Any, module: str, path: str) -> tuple[Any, list[str]]:
        if unknown is True:
            return self._from_expr(value, expr, module, path)
        if isinstance(unknown, dict):
            value = dict(value) if isinstance(value, dict) else {}
            missing: list[str] = []
            sub_expr = expr[0] if isinstance(expr, list) and expr else expr
            for k, u in unknown.items():
                e = sub_expr.get(k) if isinstance(sub_expr, dict) else None
                value[k], m = self._walk(value.get(k), u, e, module, f"{path}.{k}")
                missing += m
            return value, missing
        if isinstance(unknown, list):
            value = list(value) if isinstance(value, list) else [None] * len(unknown)
            value += [None] * (len(unknown) - len(value))
            missing = []
            # a list of blocks: one expression object per block; a list attribute: one expression
            per_item = isinstance(expr, list) and len(expr) == len(unknown)
            refs = None if per_item else _referenced(expr, module)
            for i, u in enumerate(unknown):
                if per_item:
                    value[i], m = self._walk(value[i], u, expr[i], module, f"{path}[{i}]")
                elif u is True and refs is not None and len(refs) == len(unknown):
                    rid = self._id_of(refs[i][0]) if refs[i][1] else None
                    value[i], m = (rid, []) if rid else (None, [f"{path}[{i}]"])
                elif u is True:
                    value[i], m = None, ([f"{path}[{i}]"] if refs else [])
                else:
                    value[i], m = self._walk(value[i], u, None, module, f"{path}[{i}]")
                missing += m
            return value, missing
        return value, []

    def _from_expr(self, value: Any, expr: Any, module: str, path: str) -> tuple[Any, list[str]]:
        if not (isinstance(expr, dict) and expr.get("references")):
            return None, []  # computed by the provider or the API, nothing configured: known after apply
        refs = [(a, is_id) for a, is_id in _referenced(expr, module) if is_id]
        ids = [self._id_of(a) for a, _ in refs]
        if refs and all(ids):
            if len(ids) == 1 and not isinstance(value, list):
                return ids[0], []
            return ids, []  # a whole list attribute of references ([a.id, b.id])
        return None, [path]


# ------------------------------------------------------------------------------------- merging


def _collection(doc: dict[str, Any], name: str) -> list[Any]:
    coll = doc.get(name)
    if not isinstance(coll, list):
        coll = []
        doc[name] = coll
    return coll


def _remove(doc: dict[str, Any], asset_type: str, oid: str) -> None:
    rmap = tfmap.BY_ASSET[asset_type]
    if rmap.collection:
        coll = doc.get(rmap.collection)
        if isinstance(coll, list):
            coll[:] = [o for o in coll if not (isinstance(o, dict) and str(o.get("id")) == oid)]
    elif asset_type == "integration":
        for svc in doc.get("services") or []:
            if isinstance(svc, dict) and isinstance(svc.get("integrations"), list):
                svc["integrations"] = [i for i in svc["integrations"] if not (isinstance(i, dict) and i.get("id") == oid)]
    elif asset_type == "team_membership":
        uid, _, tid = oid.partition(":")
        _set_membership(doc, uid, tid, None, remove=True)


def _set_membership(doc: dict[str, Any], uid: str, tid: str, role: Any, *, remove: bool = False) -> None:
    for team in doc.get("teams") or []:
        if isinstance(team, dict) and str(team.get("id")) == tid:
            members = [m for m in team.get("members") or [] if ref_id((m or {}).get("user")) != uid]
            if not remove:
                members.append({"user": ref("user", uid), "role": role})
            team["members"] = members
    for user in doc.get("users") or []:
        if isinstance(user, dict) and str(user.get("id")) == uid and isinstance(user.get("teams"), list):
            teams = [t for t in user["teams"] if ref_id(t) != tid]
            if not remove:
                teams.append(ref("team", tid))
            user["teams"] = teams


def _name(obj: dict[str, Any] | None) -> str | None:
    if not obj:
        return None
    for key in ("name", "summary", "email"):
        if isinstance(obj.get(key), str) and obj[key]:
            return str(obj[key])
    return None


def _new_object(asset_type: str, oid: str, fields: dict[str, Any], attrs: dict[str, Any]) -> dict[str, Any]:
    obj: dict[str, Any] = {"id": oid, "type": API_TYPES[asset_type]}
    if asset_type == "integration" and isinstance(attrs.get("type"), str):
        obj["type"] = attrs["type"]
    obj.update(fields)
    if _name(obj):
        obj["summary"] = _name(obj)
    # What the API fills in on creation when the request leaves it out.
    if asset_type == "service":
        obj.setdefault("status", "active")
        if not obj.get("incident_urgency_rule"):
            obj["incident_urgency_rule"] = {"type": "constant", "urgency": "high"}
        obj.setdefault("integrations", [])
        obj.setdefault("teams", [])
    elif asset_type == "escalation_policy":
        obj.setdefault("services", [])
        obj.setdefault("teams", [])
    elif asset_type in ("schedule", "flexible_schedule"):
        obj.setdefault("escalation_policies", [])
        obj.setdefault("teams", [])
    elif asset_type == "team":
        obj.setdefault("members", [])
    return obj


def _put(doc: dict[str, Any], asset_type: str, obj: dict[str, Any]) -> None:
    rmap = tfmap.BY_ASSET[asset_type]
    if rmap.collection:
        _collection(doc, rmap.collection).append(obj)
    elif asset_type == "integration":
        sid = ref_id(obj.get("service"))
        for svc in doc.get("services") or []:
            if isinstance(svc, dict) and str(svc.get("id")) == sid:
                svc.setdefault("integrations", []).append(obj)
    elif asset_type == "team_membership":
        _set_membership(doc, ref_id(obj.get("user")) or "", ref_id(obj.get("team")) or "", obj.get("role"))


def _relink(doc: dict[str, Any], touched: dict[str, set[str]]) -> None:
    """Recompute the back-references the API derives, for the objects the plan touched."""
    objs = iacmod.live_objects(doc)
    eps = objs["escalation_policy"]
    for sid in touched.get("service", set()):
        svc = objs["service"].get(sid)
        for ep in eps.values():
            if isinstance(ep.get("services"), list):
                ep["services"] = [s for s in ep["services"] if ref_id(s) != sid]
        if svc is None:
            continue
        ep = eps.get(ref_id(svc.get("escalation_policy")) or "")
        if ep is not None:
            if isinstance(ep.get("services"), list):
                ep["services"].append(ref("service", sid, _name(svc)))
            svc["teams"] = [ref("team", ref_id(t)) for t in ep.get("teams") or [] if ref_id(t)]
    for eid in touched.get("escalation_policy", set()):
        ep = eps.get(eid)
        targets = set()
        for rule in (ep or {}).get("escalation_rules") or []:
            for t in (rule or {}).get("targets") or []:
                if str((t or {}).get("type", "")).startswith("schedule"):
                    targets.add(ref_id(t))
        for kind in ("schedule", "flexible_schedule"):
            for sch_id, sch in objs[kind].items():
                if not isinstance(sch.get("escalation_policies"), list):
                    continue
                sch["escalation_policies"] = [e for e in sch["escalation_policies"] if ref_id(e) != eid]
                if sch_id in targets and ep is not None:
                    sch["escalation_policies"].append(ref("escalation_policy", eid, _name(ep)))
        if ep is not None:  # a service's teams follow its escalation policy's team
            for svc in objs["service"].values():
                if ref_id(svc.get("escalation_policy")) == eid:
                    svc["teams"] = [ref("team", ref_id(t)) for t in ep.get("teams") or [] if ref_id(t)]
    for sch_id in touched.get("schedule", set()):
        sch = objs["schedule"].get(sch_id)
        if sch is None:
            continue
        users: list[str] = []
        for layer in sch.get("schedule_layers") or []:
            for u in (layer or {}).get("users") or []:
                uid = ref_id((u or {}).get("user") if isinstance(u, dict) and "user" in u else u)
                if uid and uid not in users:
                    users.append(uid)
        sch["users"] = [ref("user", u) for u in users]


@dataclass
class _Applied:
    doc: dict[str, Any]
    changes: list[dict[str, Any]]
    post_state: list[iacmod.StateEntry]


def _merge(doc: dict[str, Any], plan: Plan) -> _Applied:
    before_objs = iacmod.live_objects(doc)  # the input document is never modified: these stay as they were
    doc = orjson.loads(orjson.dumps(doc))  # a deep copy, fast on a large snapshot

    # Every object the plan creates gets its placeholder first, so references resolve in any order.
    new_ids = {ch.address: placeholder_id(ch.address) for ch in plan.changes
               if ch.deposed is None and ("create" in ch.actions) and ch.tf_type in RESOURCES}
    prior = {addr: (tf_type, attrs) for addr, tf_type, attrs in plan.prior_state}
    known_ids = {addr: iacmod.state_id(t, a) or "" for addr, (t, a) in prior.items()}
    resolver = _Resolver(plan, new_ids, {k: v for k, v in known_ids.items() if v})

    post = dict(prior)
    out_changes: list[dict[str, Any]] = []
    touched: dict[str, set[str]] = {}
    pending: list[tuple[dict[str, Any], str, str | None]] = []
    for ch in plan.changes:
        if ch.actions in (["no-op"], ["read"]):
            continue
        rmap = RESOURCES.get(ch.tf_type)
        entry: dict[str, Any] = {
            "address": ch.address, "type": ch.tf_type, "name": ch.name, "actions": list(ch.actions),
            "action": ch.action, "resource": None, "before": None, "after": None, "replaces": None,
            "unknown": [],
        }
        out_changes.append(entry)
        if rmap is None:
            continue
        asset_type = rmap.asset_type
        old_id = iacmod.state_id(ch.tf_type, ch.before) if ch.before else None
        live_before = before_objs[asset_type].get(old_id or "")
        if ch.before is not None:
            entry["before"] = (copy.deepcopy(live_before) if live_before else
                               _new_object(asset_type, old_id or "", tfmap.to_api(ch.tf_type, ch.before), ch.before))
        removing = "delete" in ch.actions  # delete, and both orders of replace
        if ch.action == "forget":
            post.pop(ch.address, None)
            entry["resource"] = {"type": asset_type, "id": old_id, "name": _name(live_before)}
            continue
        if removing and old_id:
            _remove(doc, asset_type, old_id)
            touched.setdefault(asset_type, set()).add(old_id)
        if ch.deposed is not None or ch.after is None or "create" not in ch.actions and "update" not in ch.actions:
            if ch.deposed is None:
                post.pop(ch.address, None)
            entry["resource"] = {"type": asset_type, "id": old_id, "name": _name(live_before)}
            continue
        after, unresolved, unknown_top = resolver.resolve(ch)
        entry["unknown"] = unresolved
        known = {a.name for a in rmap.args if a.name in after and a.name not in unknown_top}
        # Optional+Computed arguments Terraform leaves to the API ("known after apply") stay as they are.
        known -= {a.name for a in rmap.args if a.computed and after.get(a.name) is None}
        fields = tfmap.to_api(ch.tf_type, after, known)
        if "create" in ch.actions:
            new_id = new_ids[ch.address]
            if asset_type == "team_membership":
                new_id = f"{after.get('user_id')}:{after.get('team_id')}"
            obj = _new_object(asset_type, new_id, fields, after)
            entry["replaces"] = old_id if old_id and old_id != new_id else None
            _put(doc, asset_type, obj)
        else:  # update in place
            new_id = old_id or ""
            obj = _find(doc, asset_type, new_id)
            if obj is None:
                obj = _new_object(asset_type, new_id, fields, after)
                _put(doc, asset_type, obj)
            elif asset_type == "team_membership":
                _set_membership(doc, ref_id(fields.get("user")) or "", ref_id(fields.get("team")) or "",
                                fields.get("role"))
            else:
                obj.update(fields)
                if _name(obj) and "summary" in obj:
                    obj["summary"] = _name(obj)
        touched.setdefault(asset_type, set()).add(new_id)
        post_attrs = {k: v for k, v in after.items() if k not in unknown_top}
        post_attrs["id"] = new_id
        post[ch.address] = (ch.tf_type, post_attrs)
        entry["resource"] = {"type": asset_type, "id": new_id, "name": _name(obj) or _name(fields)}
        pending.append((entry, asset_type, new_id))

    _relink(doc, touched)
    for entry, asset_type, oid in pending:  # the object as it ends up, back-references included
        entry["after"] = copy.deepcopy(_find(doc, asset_type, oid or ""))
    post_state = [(addr, t, a) for addr, (t, a) in post.items()]
    return _Applied(doc, out_changes, post_state)


def _find(doc: dict[str, Any], asset_type: str, oid: str) -> dict[str, Any] | None:
    rmap = tfmap.BY_ASSET[asset_type]
    if rmap.collection:
        for o in doc.get(rmap.collection) or []:
            if isinstance(o, dict) and str(o.get("id")) == oid:
                return o
        return None
    if asset_type == "integration":
        for svc in doc.get("services") or []:
            for i in (svc or {}).get("integrations") or [] if isinstance(svc, dict) else []:
                if isinstance(i, dict) and str(i.get("id")) == oid:
                    return i
        return None
    return next((m for m in iacmod.memberships(doc) if m["id"] == oid), None)


def apply_plan(doc: dict[str, Any], plan: Plan, *, tfstate_paths: list[str] | None = None,
               tf_dirs: list[str] | None = None) -> dict[str, Any]:
    """A new document: `doc` with the plan applied, ``plan`` and ``iac`` (post-apply) set."""
    applied = _merge(doc, plan)
    new = applied.doc
    locations = iacmod.scan_tf_dirs(list(tf_dirs or []))
    for entry in applied.changes:
        file, line = iacmod._location(entry["address"], locations)
        entry["file"], entry["line"] = file, line
    new["plan"] = {
        "source": plan.path, "format_version": plan.format_version, "terraform_version": plan.terraform_version,
        "complete": plan.complete, "changes": applied.changes,
    }
    new["iac"] = iacmod.classify(new, list(tfstate_paths or []), extra_state=applied.post_state,
                                 extra_source=plan.path, sources=[plan.path, *(tfstate_paths or [])],
                                 locations=locations)
    if not plan.complete:
        meta = new.setdefault("meta", {})
        meta["warnings"] = [*(meta.get("warnings") or []),
                            f"{plan.path}: the plan is not complete (deferred changes): "
                            "more applies will follow, evaluated here is the first one only"]
    return new


def plan_summary(plan_doc: dict[str, Any] | None) -> dict[str, int]:
    """Counts of planned changes by action."""
    out: dict[str, int] = {}
    for ch in (plan_doc or {}).get("changes") or []:
        out[ch["action"]] = out.get(ch["action"], 0) + 1
    return out
