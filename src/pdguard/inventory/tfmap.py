"""How the Terraform provider's ``pagerduty_*`` resources map onto PagerDuty API objects.

One table (:data:`RESOURCES`) describes, for each mapped resource type, its arguments. Each
:class:`Arg` knows

* ``read``   - the live API object (snapshot shape, v1 embedded copies or v2 references) → the
  Terraform value, as the provider's Read would put it in state (ids for references, blocks as
  lists of objects, the provider's string forms such as ``acknowledgement_timeout = "null"``);
* ``write``  - the Terraform value → the API fields the provider's Create/Update sends (used to
  merge a plan's planned values into the live inventory);
* ``norm``   - the normaliser that removes what the provider and the API represent differently
  (see below), applied to both sides before comparing;
* ``default`` - the provider's ``Default`` when a configuration leaves the argument out;
* ``computed`` - Optional+Computed: a state or configuration without a value does not manage it.

Drift (:func:`drift_fields`), codify (what to write) and the plan merge use this one table, so a
value codify writes compares equal to the live object through the same normalisation as drift.

Normalisers (each has a test with the shapes the provider's issue tracker describes):

* ``description``   - ``""``/null and the provider's placeholder "Managed by Terraform" (any case:
  the framework-based schedule writes "Managed by terraform") mean "no description";
* ``timeout``       - ``acknowledgement_timeout``/``auto_resolve_timeout`` are strings in Terraform
  (``"null"`` disables them, terraform-provider-pagerduty PR 52): ``"null"``, ``""``, null → null,
  ``"1800"`` → 1800;
* ``alert_creation`` - ``create_incidents`` reached end of life: the API enforces
  ``create_alerts_and_incidents`` and the provider hides the diff (PR 836);
* ``alert_grouping_parameters`` - ``type = null`` with an empty ``config {}`` is what the API
  returns as nothing (issue 700);
* ``auto_pause_notifications_parameters`` - ``{enabled: false, timeout: null}`` is the API's
  "off" and equals no block;
* ``incident_urgency_rule``/``support_hours``/``scheduled_actions`` - single blocks vs objects,
  ``days_of_week`` order, time-of-day precision;
* ``num_loops`` - null and 0 are the same (the provider always sends an int);
* ``instant``       - RFC 3339 timestamps compare as instants: ``+02:00`` offsets vs ``Z``,
  fractional seconds (issue 168 on ``rotation_virtual_start``);
* ``layer start`` / ``effective_since`` - PagerDuty moves a start in the past to "now": two
  starts both before the scan time are the same (issue 34, ``SuppressScheduleLayerStartDiff``);
* ``time_of_day``   - ``09:00`` (minutes) vs ``09:00:00`` (seconds);
* ``time_zone``     - ``Etc/UTC`` (what the v3 schedules API returns) is ``UTC``;
* list order        - escalation targets, teams, layer restrictions, ``days_of_week`` are sets
  for PagerDuty (the provider re-orders targets to the plan's order); classic schedule layers
  come back from the API last-first (the provider reverses them); layers that ended before the
  scan are not read back. Rule order, layer order and users in a rotation stay ordered: they
  are meaningful;
* references        - ``{"id", "type": "x_reference"}``, an expanded object or a bare id compare
  by id; ``type`` of targets (``user`` vs ``user_reference``) and of service dependency sides
  (``technical_service_reference`` vs ``service``) compare by kind;
* ``email`` compares without case, user ``name`` without surrounding spaces (the provider's
  ``suppressCaseDiff`` / ``suppressLeadTrailSpaceDiff``);
* empty vs null     - ``""``, ``[]`` and ``{}`` are null, recursively.

Computed and read-only attributes (``html_url``, ``self``, ``created_at``, ``status``,
``last_incident_timestamp``, a service's ``teams``, layer and rule ``id``...) are not arguments
here, so they never count as drift.
"""

from __future__ import annotations

import functools
import json
import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from pdguard.units import parse_time

NO_DEFAULT: Any = object()
PLACEHOLDER_DESCRIPTION = "managed by terraform"


@dataclass(frozen=True)
class Ctx:
    """What normalisation needs besides the values: the scan time ("now" of the account)."""

    now: datetime | None = None

    @classmethod
    def of(cls, doc: dict[str, Any] | None) -> Ctx:
        scanned = ((doc or {}).get("meta") or {}).get("scanned_at")
        return cls(now=parse_time(scanned))


# ---------------------------------------------------------------------------------- value helpers


def ref_id(v: Any) -> str | None:
    """A reference object {id, ...}, an expanded object, a list of one (Terraform block) or an id."""
    if isinstance(v, list):
        v = v[0] if v else None
    if isinstance(v, dict):
        v = v.get("id")
    if v is None or v == "":
        return None
    return str(v)


def ref(kind: str, oid: Any, summary: str | None = None) -> dict[str, Any] | None:
    """The API's reference form for an id (what the API returns once the apply is done)."""
    if oid is None or oid == "":
        return None
    out: dict[str, Any] = {"id": str(oid), "type": f"{kind}_reference"}
    if summary:
        out["summary"] = summary
    return out


def _zoned(date_time: Any, time_zone: Any) -> Any:
    """v3 schedule times are {date_time, time_zone}: a naive date_time is local to time_zone."""
    if not isinstance(date_time, str) or not date_time:
        return date_time
    s = date_time[:-1] + "+00:00" if date_time.endswith("Z") else date_time
    try:
        dt = datetime.fromisoformat(s)
    except ValueError:
        return date_time
    if dt.tzinfo is None and isinstance(time_zone, str) and time_zone:
        try:
            from zoneinfo import ZoneInfo

            dt = dt.replace(tzinfo=ZoneInfo(time_zone))
        except Exception:  # unknown zone or no tz database: keep the text
            return date_time
        return dt.isoformat()
    return date_time


def _block(v: Any) -> dict[str, Any] | None:
    """A Terraform single block (list of one object) or an API object → the object."""
    if isinstance(v, list):
        v = v[0] if v else None
    return v if isinstance(v, dict) else None


def _blocks(v: Any) -> list[dict[str, Any]]:
    if isinstance(v, dict):
        return [v]
    return [x for x in v if isinstance(x, dict)] if isinstance(v, list) else []


def _as_int(v: Any) -> Any:
    if isinstance(v, bool):
        return v
    if isinstance(v, int):
        return v
    if isinstance(v, float) and v.is_integer():
        return int(v)
    if isinstance(v, str) and re.fullmatch(r"-?\d+(\.0+)?", v.strip()):
        return int(float(v))
    return v


def clean(v: Any) -> Any:
    """Empty vs null: "", [] and {} are null, recursively; lists keep their length and order."""
    if isinstance(v, dict):
        out = {k: c for k, x in v.items() if (c := clean(x)) is not None}
        return out or None
    if isinstance(v, list | tuple):
        if not v:
            return None
        return [clean(x) for x in v]
    if v == "":
        return None
    return v


def _sorted(items: list[Any]) -> list[Any]:
    return sorted(items, key=lambda x: json.dumps(x, sort_keys=True, default=str))


# ------------------------------------------------------------------------------------ normalisers
# Every normaliser takes (value, ctx) and returns a plain JSON-like value; equal means "no drift".


def n_text(v: Any, ctx: Ctx) -> Any:
    return clean(v)


def n_description(v: Any, ctx: Ctx) -> Any:
    v = clean(v)
    if isinstance(v, str) and v.strip().lower() == PLACEHOLDER_DESCRIPTION:
        return None
    return v


def n_timeout(v: Any, ctx: Ctx) -> Any:
    if v is None or v == "" or (isinstance(v, str) and v.strip().lower() == "null"):
        return None
    return _as_int(v)


def n_alert_creation(v: Any, ctx: Ctx) -> Any:
    return "create_alerts_and_incidents"


def n_int(v: Any, ctx: Ctx) -> Any:
    return clean(_as_int(v))


def n_int_zero(v: Any, ctx: Ctx) -> Any:
    v = _as_int(clean(v))
    return 0 if v is None else v


def n_id(v: Any, ctx: Ctx) -> Any:
    return ref_id(v)


def n_ids(v: Any, ctx: Ctx) -> Any:
    ids = sorted({i for i in (ref_id(x) for x in v or []) if i}) if isinstance(v, list) else []
    return ids or None


def n_ids_ordered(v: Any, ctx: Ctx) -> Any:
    ids = [ref_id(x) for x in v or []] if isinstance(v, list) else []
    return ids or None


def n_email(v: Any, ctx: Ctx) -> Any:
    v = clean(v)
    return v.strip().lower() if isinstance(v, str) else v


def n_trimmed(v: Any, ctx: Ctx) -> Any:
    v = clean(v)
    return clean(v.strip()) if isinstance(v, str) else v


def n_instant(v: Any, ctx: Ctx) -> Any:
    v = clean(v)
    dt = parse_time(v)
    return dt.strftime("%Y-%m-%dT%H:%M:%SZ") if dt else v


def n_start(v: Any, ctx: Ctx) -> Any:
    """A start PagerDuty moves to "now" when it is in the past: all past starts are alike."""
    dt = parse_time(clean(v))
    if dt is not None and ctx.now is not None and dt <= ctx.now:
        return "past"
    return n_instant(v, ctx)


def n_time_of_day(v: Any, ctx: Ctx) -> Any:
    v = clean(v)
    if isinstance(v, str):
        m = re.fullmatch(r"(\d{1,2}):(\d{2})(?::(\d{2}))?", v.strip())
        if m:
            return f"{int(m.group(1)):02d}:{m.group(2)}:{m.group(3) or '00'}"
    return v


_UTC_ALIASES = {"etc/utc", "etc/gmt", "gmt", "utc", "etc/universal", "universal", "etc/zulu", "zulu"}


def n_time_zone(v: Any, ctx: Ctx) -> Any:
    v = clean(v)
    if isinstance(v, str) and v.strip().lower() in _UTC_ALIASES:
        return "UTC"
    return v


def n_kind(v: Any, ctx: Ctx) -> Any:
    """Integration type: `x_inbound_integration_reference` (a reference) is `x_inbound_integration`."""
    v = clean(v)
    return v.removesuffix("_reference") if isinstance(v, str) else v


def _target_type(v: Any) -> Any:
    if not isinstance(v, str) or not v:
        return "user_reference"
    return v if v.endswith("_reference") else f"{v}_reference"


def side_type(v: Any) -> Any:
    """A service dependency side's kind: ``service`` (a technical service) or ``business_service``."""
    if not isinstance(v, str) or not v:
        return "service"
    v = v.removesuffix("_reference")
    return "service" if v in ("technical_service", "service") else v


def n_rules(v: Any, ctx: Ctx) -> Any:
    out = []
    for r in _blocks(v):
        strategy = _block(r.get("escalation_rule_assignment_strategy"))
        stype = clean((strategy or {}).get("type"))
        out.append(clean({
            "escalation_delay_in_minutes": _as_int(clean(r.get("escalation_delay_in_minutes"))),
            "target": _sorted([{"type": _target_type(t.get("type")), "id": ref_id(t)}
                               for t in _blocks(r.get("target"))]),
            # the API's default strategy; an account without the entitlement returns none
            "strategy": None if stype in (None, "assign_to_everyone") else stype,
        }))
    return out or None


def _restrictions(v: Any) -> Any:
    out = []
    for r in _blocks(v):
        day = _as_int(clean(r.get("start_day_of_week")))
        out.append(clean({
            "type": clean(r.get("type")),
            "start_time_of_day": n_time_of_day(r.get("start_time_of_day"), Ctx()),
            "start_day_of_week": day if day else None,  # the provider reads 0 as unset
            "duration_seconds": _as_int(clean(r.get("duration_seconds"))),
        }))
    return _sorted(out) or None


def _ended(layer: dict[str, Any], ctx: Ctx) -> bool:
    end = parse_time(layer.get("end"))
    return end is not None and ctx.now is not None and end <= ctx.now


def n_layers(v: Any, ctx: Ctx) -> Any:
    out = []
    for layer in _blocks(v):
        if _ended(layer, ctx):
            continue
        out.append(clean({
            "name": clean(layer.get("name")),
            "start": n_start(layer.get("start"), ctx),
            "end": n_instant(layer.get("end"), ctx),
            "rotation_virtual_start": n_instant(layer.get("rotation_virtual_start"), ctx),
            "rotation_turn_length_seconds": _as_int(clean(layer.get("rotation_turn_length_seconds"))),
            "users": n_ids_ordered(layer.get("users"), ctx),
            "restriction": _restrictions(layer.get("restriction")),
        }))
    return out or None


def n_rotations(v: Any, ctx: Ctx) -> Any:
    out = []
    for rot in _blocks(v):
        events = []
        for e in _blocks(rot.get("event")):
            strategy = _block(e.get("assignment_strategy")) or {}
            stype = clean(strategy.get("type"))
            spm = _as_int(clean(strategy.get("shifts_per_member")))
            if spm is None and stype == "rotating_member_assignment_strategy":
                spm = 1  # the provider sends 1 when unset, the API returns it
            members = [clean({"type": clean(m.get("type")), "user_id": clean(m.get("user_id"))})
                       for m in _blocks(strategy.get("member"))]
            events.append(clean({
                "name": clean(e.get("name")),
                "start_time": n_instant(e.get("start_time"), ctx),
                "end_time": n_instant(e.get("end_time"), ctx),
                "effective_since": n_start(e.get("effective_since"), ctx),
                "effective_until": n_instant(e.get("effective_until"), ctx),
                "recurrence": clean(list(e.get("recurrence") or [])),
                "assignment_strategy": clean({"type": stype, "shifts_per_member": spm,
                                              "member": members or None}),
            }))
        out.append(events or None)
    return out or None


def n_urgency_rule(v: Any, ctx: Ctx) -> Any:
    r = _block(v)
    if r is None:
        return None

    def sub(x: Any) -> Any:
        b = _block(x)
        return clean({"type": clean((b or {}).get("type")), "urgency": clean((b or {}).get("urgency"))})

    return clean({"type": clean(r.get("type")), "urgency": clean(r.get("urgency")),
                  "during_support_hours": sub(r.get("during_support_hours")),
                  "outside_support_hours": sub(r.get("outside_support_hours"))})


def n_support_hours(v: Any, ctx: Ctx) -> Any:
    s = _block(v)
    if s is None:
        return None
    days = sorted({_as_int(d) for d in s.get("days_of_week") or []}, key=str)
    return clean({"type": clean(s.get("type")), "time_zone": n_time_zone(s.get("time_zone"), ctx),
                  "start_time": n_time_of_day(s.get("start_time"), ctx),
                  "end_time": n_time_of_day(s.get("end_time"), ctx), "days_of_week": days or None})


def n_scheduled_actions(v: Any, ctx: Ctx) -> Any:
    out = []
    for a in _blocks(v):
        at = [clean({"type": clean(x.get("type")), "name": clean(x.get("name"))}) for x in _blocks(a.get("at"))]
        out.append(clean({"type": clean(a.get("type")), "to_urgency": clean(a.get("to_urgency")),
                          "at": _sorted([x for x in at if x]) or None}))
    return _sorted([x for x in out if x]) or None


def n_alert_grouping(v: Any, ctx: Ctx) -> Any:
    p = _block(v)
    if p is None:
        return None
    c = _block(p.get("config")) or {}
    fields_ = c.get("fields")
    config = clean({"timeout": _as_int(clean(c.get("timeout"))), "time_window": _as_int(clean(c.get("time_window"))),
                    "aggregate": clean(c.get("aggregate")),
                    "fields": sorted(fields_) if isinstance(fields_, list) else None})
    return clean({"type": clean(p.get("type")), "config": config})


def n_auto_pause(v: Any, ctx: Ctx) -> Any:
    p = _block(v)
    if p is None or not p.get("enabled"):
        return None  # disabled, whatever the timeout
    return {"enabled": True, "timeout": _as_int(clean(p.get("timeout")))}


def n_dependency(v: Any, ctx: Ctx) -> Any:
    d = _block(v)
    if d is None:
        return None
    out = {}
    for side in ("supporting_service", "dependent_service"):
        s = _block(d.get(side))
        out[side] = clean({"id": ref_id(s), "type": side_type((s or {}).get("type"))}) if s else None
    return clean(out)


# ----------------------------------------------------------------------------------- the table


Reader = Callable[[dict[str, Any], Ctx], Any]
Writer = Callable[[Any, dict[str, Any]], dict[str, Any]]


@dataclass(frozen=True)
class Arg:
    name: str
    read: Reader
    write: Writer
    norm: Callable[[Any, Ctx], Any] = n_text
    default: Any = NO_DEFAULT
    computed: bool = False
    live_may_lack: bool = False  # the snapshot may not know the value (null there is "unknown")


def _get(key: str) -> Reader:
    return lambda o, ctx: o.get(key)


def _put(key: str) -> Writer:
    return lambda v, attrs: {key: v}


def scalar(name: str, key: str | None = None, norm: Callable[[Any, Ctx], Any] = n_text, **kw: Any) -> Arg:
    return Arg(name, _get(key or name), _put(key or name), norm, **kw)


def reference(name: str, kind: str, key: str | None = None, **kw: Any) -> Arg:
    key = key or name
    return Arg(name, lambda o, ctx: ref_id(o.get(key)), lambda v, attrs: {key: ref(kind, v)}, n_id, **kw)


def references(name: str, kind: str, key: str | None = None, **kw: Any) -> Arg:
    key = key or name
    return Arg(name, lambda o, ctx: [i for i in (ref_id(x) for x in o.get(key) or []) if i],
               lambda v, attrs: {key: [r for r in (ref(kind, x) for x in v or []) if r]}, n_ids, **kw)


def description(**kw: Any) -> Arg:
    return scalar("description", norm=n_description, default="Managed by Terraform", **kw)


# service -------------------------------------------------------------------------------------


def _read_timeout(key: str) -> Reader:
    def read(o: dict[str, Any], ctx: Ctx) -> Any:
        v = o.get(key)
        return "null" if v is None or v == "" else str(_as_int(v))
    return read


def _write_timeout(key: str) -> Writer:
    return lambda v, attrs: {key: n_timeout(v, Ctx())}


def _read_agp(o: dict[str, Any], ctx: Ctx) -> Any:
    p = o.get("alert_grouping_parameters")
    if not isinstance(p, dict):
        return None
    c = p.get("config") if isinstance(p.get("config"), dict) else None
    return [{"type": p.get("type"), "config": [dict(c)] if c else []}]


def _write_agp(v: Any, attrs: dict[str, Any]) -> dict[str, Any]:
    p = _block(v)
    if p is None:
        return {"alert_grouping_parameters": None}
    c = _block(p.get("config"))
    return {"alert_grouping_parameters": {"type": p.get("type"), "config": dict(c) if c else None}}


def _read_auto_pause(o: dict[str, Any], ctx: Ctx) -> Any:
    p = o.get("auto_pause_notifications_parameters")
    return [{"enabled": bool(p.get("enabled")), "timeout": p.get("timeout")}] if isinstance(p, dict) else None


def _write_auto_pause(v: Any, attrs: dict[str, Any]) -> dict[str, Any]:
    p = _block(v)
    return {"auto_pause_notifications_parameters":
            {"enabled": bool(p.get("enabled")), "timeout": p.get("timeout")} if p else None}


def _read_urgency(o: dict[str, Any], ctx: Ctx) -> Any:
    r = o.get("incident_urgency_rule")
    if not isinstance(r, dict):
        return None
    out: dict[str, Any] = {"type": r.get("type"), "urgency": r.get("urgency")}
    for sub in ("during_support_hours", "outside_support_hours"):
        if isinstance(r.get(sub), dict):
            out[sub] = [{"type": r[sub].get("type"), "urgency": r[sub].get("urgency")}]
    return [out]


def _write_urgency(v: Any, attrs: dict[str, Any]) -> dict[str, Any]:
    r = _block(v)
    if r is None:
        return {}
    out: dict[str, Any] = {"type": r.get("type")}
    if r.get("urgency"):
        out["urgency"] = r["urgency"]
    for sub in ("during_support_hours", "outside_support_hours"):
        b = _block(r.get(sub))
        if b:
            out[sub] = {"type": b.get("type"), "urgency": b.get("urgency")}
    return {"incident_urgency_rule": out}


_SUPPORT_KEYS = ("type", "time_zone", "start_time", "end_time", "days_of_week")


def _read_support(o: dict[str, Any], ctx: Ctx) -> Any:
    s = o.get("support_hours")
    return [{k: s.get(k) for k in _SUPPORT_KEYS if s.get(k) is not None}] if isinstance(s, dict) else None


def _write_support(v: Any, attrs: dict[str, Any]) -> dict[str, Any]:
    s = _block(v)
    return {"support_hours": {k: s.get(k) for k in _SUPPORT_KEYS if s.get(k) is not None} if s else None}


def _read_actions(o: dict[str, Any], ctx: Ctx) -> Any:
    out = []
    for a in o.get("scheduled_actions") or []:
        if isinstance(a, dict):
            out.append({"type": a.get("type"), "to_urgency": a.get("to_urgency"),
                        "at": [dict(x) for x in _blocks(a.get("at"))]})
    return out or None


def _write_actions(v: Any, attrs: dict[str, Any]) -> dict[str, Any]:
    out = []
    for a in _blocks(v):
        at = _block(a.get("at"))
        out.append({"type": a.get("type"), "to_urgency": a.get("to_urgency"), "at": dict(at) if at else None})
    return {"scheduled_actions": out}


SERVICE_ARGS = (
    scalar("name"),
    description(),
    reference("escalation_policy", "escalation_policy"),
    Arg("acknowledgement_timeout", _read_timeout("acknowledgement_timeout"),
        _write_timeout("acknowledgement_timeout"), n_timeout, default="1800"),
    Arg("auto_resolve_timeout", _read_timeout("auto_resolve_timeout"),
        _write_timeout("auto_resolve_timeout"), n_timeout, default="14400"),
    Arg("alert_creation", _get("alert_creation"),
        lambda v, attrs: {"alert_creation": "create_alerts_and_incidents"}, n_alert_creation,
        default="create_incidents"),
    Arg("alert_grouping_parameters", _read_agp, _write_agp, n_alert_grouping, computed=True),
    Arg("auto_pause_notifications_parameters", _read_auto_pause, _write_auto_pause, n_auto_pause, computed=True),
    Arg("incident_urgency_rule", _read_urgency, _write_urgency, n_urgency_rule, computed=True),
    Arg("support_hours", _read_support, _write_support, n_support_hours),
    Arg("scheduled_actions", _read_actions, _write_actions, n_scheduled_actions),
)


# escalation policy -----------------------------------------------------------------------------


def _read_rules(o: dict[str, Any], ctx: Ctx) -> Any:
    out = []
    for r in o.get("escalation_rules") or []:
        if not isinstance(r, dict):
            continue
        rule: dict[str, Any] = {"escalation_delay_in_minutes": r.get("escalation_delay_in_minutes"),
                                "target": [{"type": _target_type(t.get("type")), "id": ref_id(t)}
                                           for t in r.get("targets") or [] if isinstance(t, dict)]}
        if r.get("id"):
            rule["id"] = r["id"]
        strategy = r.get("escalation_rule_assignment_strategy")
        if isinstance(strategy, dict) and strategy.get("type"):
            rule["escalation_rule_assignment_strategy"] = [{"type": strategy["type"]}]
        out.append(rule)
    return out


def _write_rules(v: Any, attrs: dict[str, Any]) -> dict[str, Any]:
    rules = []
    for r in _blocks(v):
        rule: dict[str, Any] = {"escalation_delay_in_minutes": _as_int(r.get("escalation_delay_in_minutes")),
                                "targets": [{"id": ref_id(t), "type": _target_type(t.get("type"))}
                                            for t in _blocks(r.get("target"))]}
        if r.get("id"):
            rule["id"] = r["id"]
        strategy = _block(r.get("escalation_rule_assignment_strategy"))
        if strategy and strategy.get("type"):
            rule["escalation_rule_assignment_strategy"] = {"type": strategy["type"]}
        rules.append(rule)
    return {"escalation_rules": rules}


ESCALATION_POLICY_ARGS = (
    scalar("name"),
    description(),
    Arg("num_loops", _get("num_loops"), lambda v, attrs: {"num_loops": _as_int(v) or 0}, n_int_zero),
    references("teams", "team"),
    Arg("rule", _read_rules, _write_rules, n_rules),
)


# classic schedule ------------------------------------------------------------------------------


def _read_layers(o: dict[str, Any], ctx: Ctx) -> Any:
    layers = []
    for layer in o.get("schedule_layers") or []:
        if not isinstance(layer, dict) or _ended(layer, ctx):
            continue  # the provider does not read ended layers back
        users = [ref_id(u.get("user") if isinstance(u, dict) and "user" in u else u) for u in layer.get("users") or []]
        out: dict[str, Any] = {
            "name": layer.get("name"), "start": layer.get("start"), "end": layer.get("end"),
            "rotation_virtual_start": layer.get("rotation_virtual_start"),
            "rotation_turn_length_seconds": layer.get("rotation_turn_length_seconds"),
            "users": [u for u in users if u],
            "restriction": [{k: r.get(k) for k in ("type", "start_time_of_day", "start_day_of_week", "duration_seconds")
                             if r.get(k) is not None and not (k == "start_day_of_week" and not r.get(k))}
                            for r in layer.get("restrictions") or [] if isinstance(r, dict)],
        }
        if layer.get("id"):
            out["id"] = layer["id"]
        layers.append(out)
    return list(reversed(layers))  # the API lists the top layer first; Terraform the bottom one


def _write_layers(v: Any, attrs: dict[str, Any]) -> dict[str, Any]:
    layers = []
    for layer in _blocks(v):
        out = {
            "name": layer.get("name"), "start": layer.get("start"), "end": layer.get("end") or None,
            "rotation_virtual_start": layer.get("rotation_virtual_start"),
            "rotation_turn_length_seconds": _as_int(layer.get("rotation_turn_length_seconds")),
            "users": [{"user": ref("user", u)} for u in layer.get("users") or [] if u],
            "restrictions": [{k: r.get(k) for k in ("type", "start_time_of_day", "start_day_of_week", "duration_seconds")
                              if r.get(k) not in (None, 0) or k == "duration_seconds"}
                             for r in _blocks(layer.get("restriction"))],
        }
        if layer.get("id"):
            out["id"] = layer["id"]
        layers.append(out)
    return {"schedule_layers": list(reversed(layers))}


SCHEDULE_ARGS = (
    scalar("name"),
    scalar("time_zone", norm=n_time_zone),
    description(),
    references("teams", "team"),
    Arg("layer", _read_layers, _write_layers, n_layers),
)


# flexible schedule (v3 API, pagerduty_schedulev2) ---------------------------------------------


def _read_rotations(o: dict[str, Any], ctx: Ctx) -> Any:
    out = []
    for rot in o.get("rotations") or []:
        if not isinstance(rot, dict):
            continue
        events = []
        for e in rot.get("events") or []:
            if not isinstance(e, dict):
                continue
            st, et = e.get("start_time") or {}, e.get("end_time") or {}
            a = e.get("assignment_strategy") or {}
            ev: dict[str, Any] = {
                "name": e.get("name"),
                "start_time": _zoned(st.get("date_time"), st.get("time_zone")) if isinstance(st, dict) else st,
                "end_time": _zoned(et.get("date_time"), et.get("time_zone")) if isinstance(et, dict) else et,
                "effective_since": e.get("effective_since"),
                "effective_until": e.get("effective_until"),
                "recurrence": list(e.get("recurrence") or []),
                "assignment_strategy": [{
                    "type": a.get("type"), "shifts_per_member": a.get("shifts_per_member"),
                    "member": [{"type": m.get("type"), "user_id": m.get("user_id")}
                               for m in a.get("members") or [] if isinstance(m, dict)],
                }] if isinstance(a, dict) and a else [],
            }
            if e.get("id"):
                ev["id"] = e["id"]
            events.append(ev)
        r: dict[str, Any] = {"event": events}
        if rot.get("id"):
            r["id"] = rot["id"]
        out.append(r)
    return out


def _write_rotations(v: Any, attrs: dict[str, Any]) -> dict[str, Any]:
    tz = attrs.get("time_zone")
    rotations = []
    for rot in _blocks(v):
        events = []
        for e in _blocks(rot.get("event")):
            a = _block(e.get("assignment_strategy")) or {}
            ev: dict[str, Any] = {
                "type": "schedule_event", "name": e.get("name"),
                "start_time": {"date_time": e.get("start_time"), "time_zone": tz},
                "end_time": {"date_time": e.get("end_time"), "time_zone": tz},
                "effective_since": e.get("effective_since"), "effective_until": e.get("effective_until") or None,
                "recurrence": list(e.get("recurrence") or []),
                "assignment_strategy": {
                    "type": a.get("type"),
                    "shifts_per_member": a.get("shifts_per_member")
                    if a.get("shifts_per_member") is not None
                    else (1 if a.get("type") == "rotating_member_assignment_strategy" else None),
                    "members": [{"type": m.get("type"), "user_id": m.get("user_id")} for m in _blocks(a.get("member"))],
                },
            }
            if e.get("id"):
                ev["id"] = e["id"]
            events.append(ev)
        r: dict[str, Any] = {"type": "schedule_rotation", "events": events}
        if rot.get("id"):
            r["id"] = rot["id"]
        rotations.append(r)
    return {"rotations": rotations}


FLEXIBLE_SCHEDULE_ARGS = (
    scalar("name"),
    scalar("time_zone", norm=n_time_zone),
    scalar("description", computed=True),
    references("teams", "team"),
    Arg("rotation", _read_rotations, _write_rotations, n_rotations),
)


# the rest --------------------------------------------------------------------------------------

TEAM_ARGS = (
    scalar("name"),
    description(),
    reference("parent", "team"),
    scalar("default_role", computed=True),
)

TEAM_MEMBERSHIP_ARGS = (
    reference("user_id", "user", key="user"),
    reference("team_id", "team", key="team"),
    scalar("role", default="manager", computed=True, live_may_lack=True),  # members derived from users have no role
)

USER_ARGS = (
    scalar("name", norm=n_trimmed),
    scalar("email", norm=n_email),
    scalar("role", default="user"),
    scalar("job_title"),
    scalar("time_zone", norm=n_time_zone, computed=True),
    scalar("color", computed=True),
    description(),
)

BUSINESS_SERVICE_ARGS = (
    scalar("name"),
    description(),
    scalar("point_of_contact"),
    reference("team", "team"),
)


def _read_dependency(o: dict[str, Any], ctx: Ctx) -> Any:
    out: dict[str, Any] = {}
    for side in ("supporting_service", "dependent_service"):
        s = o.get(side)
        if isinstance(s, dict):
            out[side] = [{"id": ref_id(s), "type": side_type(s.get("type"))}]
    return [out] if out else None


def _write_dependency(v: Any, attrs: dict[str, Any]) -> dict[str, Any]:
    d = _block(v) or {}
    out: dict[str, Any] = {"type": "service_dependency"}
    for side in ("supporting_service", "dependent_service"):
        s = _block(d.get(side))
        if s:
            kind = side_type(s.get("type"))
            api_kind = "technical_service" if kind == "service" else kind
            out[side] = {"id": ref_id(s), "type": f"{api_kind}_reference"}
    return out


SERVICE_DEPENDENCY_ARGS = (Arg("dependency", _read_dependency, _write_dependency, n_dependency),)

INTEGRATION_ARGS = (
    Arg("name", lambda o, ctx: o.get("name") or o.get("summary"), _put("name"), n_text),
    reference("service", "service"),
    scalar("type", norm=n_kind, computed=True),
    reference("vendor", "vendor", computed=True),
    scalar("integration_email", computed=True),
)


@dataclass(frozen=True)
class ResourceMap:
    tf_type: str
    asset_type: str
    collection: str | None  # None: not a top-level collection (embedded or derived)
    args: tuple[Arg, ...]

    @functools.cached_property
    def arg_names(self) -> frozenset[str]:
        return frozenset(a.name for a in self.args)

    def arg(self, name: str) -> Arg | None:
        return next((a for a in self.args if a.name == name), None)


RESOURCES: dict[str, ResourceMap] = {r.tf_type: r for r in (
    ResourceMap("pagerduty_service", "service", "services", SERVICE_ARGS),
    ResourceMap("pagerduty_escalation_policy", "escalation_policy", "escalation_policies", ESCALATION_POLICY_ARGS),
    ResourceMap("pagerduty_schedule", "schedule", "schedules", SCHEDULE_ARGS),
    ResourceMap("pagerduty_schedulev2", "flexible_schedule", "flexible_schedules", FLEXIBLE_SCHEDULE_ARGS),
    ResourceMap("pagerduty_team", "team", "teams", TEAM_ARGS),
    ResourceMap("pagerduty_team_membership", "team_membership", None, TEAM_MEMBERSHIP_ARGS),
    ResourceMap("pagerduty_user", "user", "users", USER_ARGS),
    ResourceMap("pagerduty_business_service", "business_service", "business_services", BUSINESS_SERVICE_ARGS),
    ResourceMap("pagerduty_service_dependency", "service_dependency", "service_dependencies", SERVICE_DEPENDENCY_ARGS),
    ResourceMap("pagerduty_service_integration", "integration", None, INTEGRATION_ARGS),
)}
BY_ASSET: dict[str, ResourceMap] = {r.asset_type: r for r in RESOURCES.values()}


# ------------------------------------------------------------------------------------ operations


def to_tf(asset_type: str, obj: dict[str, Any], ctx: Ctx) -> dict[str, Any]:
    """The live object as Terraform arguments (what the provider's Read puts in state)."""
    return {a.name: a.read(obj, ctx) for a in BY_ASSET[asset_type].args}


def to_api(tf_type: str, attrs: dict[str, Any], only: set[str] | None = None) -> dict[str, Any]:
    """API fields for Terraform attributes (arguments in `only`, or every argument present)."""
    out: dict[str, Any] = {}
    for a in RESOURCES[tf_type].args:
        if a.name not in attrs or (only is not None and a.name not in only):
            continue
        out.update(a.write(attrs[a.name], attrs))
    return out


def as_configured(tf_type: str, config: dict[str, Any]) -> dict[str, Any]:
    """What Terraform compares for a configuration: every argument, the provider's default where the
    configuration leaves one out, else null (a left-out Optional+Computed argument is not compared)."""
    out: dict[str, Any] = {}
    for a in RESOURCES[tf_type].args:
        if a.name in config:
            out[a.name] = config[a.name]
        else:
            out[a.name] = None if a.default is NO_DEFAULT else a.default
    return out


def normalised(tf_type: str, attrs: dict[str, Any], ctx: Ctx) -> dict[str, Any]:
    """Every argument of `attrs` through its normaliser (for display and tests)."""
    return {a.name: a.norm(attrs.get(a.name), ctx) for a in RESOURCES[tf_type].args if a.name in attrs}


def drift_fields(tf_type: str, attrs: dict[str, Any], live: dict[str, Any], ctx: Ctx) -> list[str]:
    """Arguments whose Terraform value differs from the live object's, after normalisation.

    An argument missing from `attrs` is not compared (a hand-written or partial state); an
    Optional+Computed argument without a value (null, "", []) is not managed by the configuration.
    """
    rmap = RESOURCES[tf_type]
    out = []
    for a in rmap.args:
        if a.name not in attrs:
            continue
        if a.computed and clean(attrs[a.name]) is None:
            continue  # null / "" / []: the configuration leaves it to the API
        tv = a.norm(attrs[a.name], ctx)
        lv = a.norm(a.read(live, ctx), ctx)
        if lv is None and a.live_may_lack:
            continue
        if tv != lv:
            out.append(a.name)
    return out
