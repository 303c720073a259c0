"""Terraform for unmanaged objects: ``import`` blocks (Terraform >= 1.5) + resource skeletons.

``codify(doc, iac)`` emits, for each live object whose IaC status is ``unmanaged``::

    import {
      to = pagerduty_service.checkout_api
      id = "PABC123"
    }

    resource "pagerduty_service" "checkout_api" {
      name              = "checkout-api"
      escalation_policy = pagerduty_escalation_policy.payments.id   # or "PEP1234" when not emitted here
      ...
    }

The skeletons carry the main attributes (names, referenced objects, timeouts, rules, layers) so
that ``terraform plan`` after the import shows little or no change; review them before applying.
References to objects emitted in the same output or in state at root level are expressions
(``pagerduty_user.ann.id``), other references are literal ids.
Identifiers are derived from names (``[a-z0-9_]``, starting with a letter, unique per resource type
and not colliding with addresses already in state). Strings are escaped for HCL (quotes,
backslashes, control characters, ``${`` and ``%{`` template sequences).
"""

from __future__ import annotations

import json
import re
from typing import Any

from pdguard import __version__
from pdguard.inventory.iac import ASSET_TO_TF, TF_TYPES, classify, live_objects

# Emission order: referenced objects first.
ORDER: tuple[str, ...] = (
    "user",
    "team",
    "schedule",
    "escalation_policy",
    "service",
    "integration",
    "business_service",
    "service_dependency",
)


def hcl_string(value: Any) -> str:
    """A quoted HCL string literal."""
    s = "" if value is None else str(value)
    out = []
    for ch in s:
        if ch == "\\":
            out.append("\\\\")
        elif ch == '"':
            out.append('\\"')
        elif ch == "\n":
            out.append("\\n")
        elif ch == "\r":
            out.append("\\r")
        elif ch == "\t":
            out.append("\\t")
        elif ord(ch) < 0x20 or ord(ch) == 0x7F:
            out.append(f"\\u{ord(ch):04x}")
        else:
            out.append(ch)
    text = "".join(out).replace("${", "$${").replace("%{", "%%{")
    return f'"{text}"'


def _value(v: Any) -> str:
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, int | float):
        return json.dumps(v)
    if isinstance(v, _Ref):
        return v.expr
    if isinstance(v, list):
        return "[" + ", ".join(_value(x) for x in v) + "]"
    return hcl_string(v)


class _Ref:
    """A bare HCL expression (a reference to another resource)."""

    def __init__(self, expr: str) -> None:
        self.expr = expr


_IDENT_RE = re.compile(r"[^a-z0-9_]+")


def safe_identifier(name: str | None, fallback: str) -> str:
    base = _IDENT_RE.sub("_", (name or "").lower()).strip("_")
    base = re.sub(r"_+", "_", base)
    if not base:
        base = _IDENT_RE.sub("_", fallback.lower()).strip("_") or "resource"
    if not (base[0].isalpha() or base[0] == "_"):
        base = f"r_{base}"
    return base[:64].rstrip("_") or "resource"


class _Block:
    def __init__(self, kind: str, labels: tuple[str, ...] = ()) -> None:
        self.kind = kind
        self.labels = labels
        self.attrs: list[tuple[str, Any]] = []
        self.blocks: list[_Block] = []

    def set(self, key: str, value: Any) -> _Block:
        if value is not None:
            self.attrs.append((key, value))
        return self

    def block(self, kind: str) -> _Block:
        b = _Block(kind)
        self.blocks.append(b)
        return b

    def render(self, indent: int = 0) -> list[str]:
        pad = "  " * indent
        head = " ".join([self.kind, *(hcl_string(x) for x in self.labels)])
        lines = [f"{pad}{head} {{"]
        width = max((len(k) for k, _ in self.attrs), default=0)
        for k, v in self.attrs:
            lines.append(f"{pad}  {k.ljust(width)} = {_value(v)}")
        for b in self.blocks:
            lines += b.render(indent + 1)
        lines.append(f"{pad}}}")
        return lines


def _ref_id(v: Any) -> str | None:
    if isinstance(v, dict):
        v = v.get("id")
    return str(v) if v else None


def _timeout(v: Any) -> str:
    return "null" if v in (None, "", 0) else str(int(v))


class _Namer:
    def __init__(self, taken: dict[str, set[str]]) -> None:
        self.taken = taken

    def name(self, tf_type: str, wanted: str | None, oid: str) -> str:
        used = self.taken.setdefault(tf_type, set())
        base = safe_identifier(wanted, f"{tf_type.removeprefix('pagerduty_')}_{oid}")
        ident, n = base, 2
        while ident in used:
            ident, n = f"{base}_{n}", n + 1
        used.add(ident)
        return ident


def codify(doc: dict[str, Any], iac: dict[str, Any] | None = None, types: list[str] | None = None) -> str:
    """Terraform import blocks + resource skeletons for the unmanaged objects of `doc`.

    `iac` is a :func:`pdguard.inventory.iac.classify` result (``None``: everything is unmanaged);
    `types` limits the output to asset types (``service``) or Terraform types (``pagerduty_service``).
    """
    if iac is None:
        iac = classify(doc, [])
    wanted_types = None
    if types:
        wanted_types = {TF_TYPES.get(t, t) for t in types}
    live = live_objects(doc)
    resources = iac.get("resources") or {}

    # Names already used in state (root-module addresses), so that generated ones do not collide.
    taken: dict[str, set[str]] = {}
    addresses: dict[tuple[str, str], str] = {}
    state_addresses = [a for a in (g.get("address") for g in iac.get("ghosts") or []) if a]
    for asset_type, entries in resources.items():
        for oid, e in entries.items():
            addr = e.get("address")
            if addr:
                addresses[(asset_type, oid)] = addr
                state_addresses.append(addr)
    for addr in state_addresses:
        parts = addr.split(".")
        if len(parts) == 2:
            taken.setdefault(parts[0], set()).add(re.sub(r"\[.*\]$", "", parts[1]))
    namer = _Namer(taken)

    todo: list[tuple[str, str, dict[str, Any], str]] = []
    for asset_type in ORDER:
        if wanted_types is not None and asset_type not in wanted_types:
            continue
        tf_type = ASSET_TO_TF[asset_type]
        entries = resources.get(asset_type) or {}
        objs = live.get(asset_type) or {}
        for oid in sorted(objs, key=lambda i: (str(objs[i].get("name") or objs[i].get("summary") or ""), i)):
            status = (entries.get(oid) or {}).get("status", "unmanaged")
            if status != "unmanaged":
                continue
            obj = objs[oid]
            ident = namer.name(tf_type, _display_name(asset_type, obj, live), oid)
            addresses[(asset_type, oid)] = f"{tf_type}.{ident}"
            todo.append((asset_type, oid, obj, ident))

    def ref(asset_type: str, oid: str | None) -> Any:
        """`<address>.id` when that object is in state at root level or emitted here, else the id."""
        if not oid:
            return None
        addr = addresses.get((asset_type, oid))
        if addr and not addr.startswith("module."):
            return _Ref(f"{addr}.id")
        return oid

    out = [
        f"# Generated by pdguard {__version__} codify: unmanaged PagerDuty objects.",
        "# Review before `terraform plan`: skeletons hold the main attributes only.",
        "",
    ]
    if not todo:
        out.append("# Nothing to codify: every object is already in Terraform state.")
        return "\n".join(out) + "\n"
    for asset_type, oid, obj, ident in todo:
        tf_type = ASSET_TO_TF[asset_type]
        imp = _Block("import")
        imp.set("to", _Ref(f"{tf_type}.{ident}"))
        imp.set("id", _import_id(asset_type, oid, obj))
        res = _Block("resource", (tf_type, ident))
        _SKELETONS[asset_type](res, obj, ref)
        out += imp.render()
        out.append("")
        out += res.render()
        out.append("")
    return "\n".join(out)


def _display_name(asset_type: str, obj: dict[str, Any], live: dict[str, dict[str, dict[str, Any]]]) -> str | None:
    if asset_type == "service_dependency":
        sup = _ref_id(obj.get("supporting_service"))
        dep = _ref_id(obj.get("dependent_service"))

        def nm(i: str | None) -> str:
            for t in ("service", "business_service"):
                o = live.get(t, {}).get(i or "")
                if o:
                    return str(o.get("name") or i)
            return str(i)

        return f"{nm(dep)}_on_{nm(sup)}"
    if asset_type == "integration":
        svc = live.get("service", {}).get(_ref_id(obj.get("service")) or "") or {}
        return f"{svc.get('name') or ''}_{obj.get('name') or obj.get('summary') or ''}"
    return obj.get("name") or obj.get("summary") or obj.get("email")


def _import_id(asset_type: str, oid: str, obj: dict[str, Any]) -> str:
    if asset_type == "integration":  # SERVICE_ID.INTEGRATION_ID
        return f"{_ref_id(obj.get('service'))}.{oid}"
    if asset_type == "service_dependency":  # supporting id . supporting type . dependency id
        sup = obj.get("supporting_service") or {}
        stype = str(sup.get("type") or "service").removesuffix("_reference")
        return f"{sup.get('id')}.{stype}.{oid}"
    return oid


def _service(res: _Block, o: dict[str, Any], ref: Any) -> None:
    res.set("name", o.get("name"))
    res.set("description", o.get("description"))
    res.set("escalation_policy", ref("escalation_policy", _ref_id(o.get("escalation_policy"))))
    res.set("acknowledgement_timeout", _timeout(o.get("acknowledgement_timeout")))
    res.set("auto_resolve_timeout", _timeout(o.get("auto_resolve_timeout")))
    res.set("alert_creation", o.get("alert_creation"))


def _escalation_policy(res: _Block, o: dict[str, Any], ref: Any) -> None:
    res.set("name", o.get("name"))
    res.set("description", o.get("description"))
    res.set("num_loops", o.get("num_loops"))
    teams = [ref("team", _ref_id(t)) for t in o.get("teams") or [] if _ref_id(t)]
    if teams:
        res.set("teams", teams)
    for rule in o.get("escalation_rules") or []:
        r = res.block("rule")
        r.set("escalation_delay_in_minutes", rule.get("escalation_delay_in_minutes"))
        for t in rule.get("targets") or []:
            ttype = str(t.get("type") or "user_reference")
            if not ttype.endswith("_reference"):
                ttype += "_reference"
            tb = r.block("target")
            tb.set("type", ttype)
            kind = "schedule" if ttype.startswith("schedule") else "user"
            tb.set("id", ref(kind, _ref_id(t)))


def _schedule(res: _Block, o: dict[str, Any], ref: Any) -> None:
    res.set("name", o.get("name"))
    res.set("time_zone", o.get("time_zone"))
    res.set("description", o.get("description"))
    for layer in o.get("schedule_layers") or []:
        lb = res.block("layer")
        lb.set("name", layer.get("name"))
        lb.set("start", layer.get("start"))
        lb.set("end", layer.get("end"))
        lb.set("rotation_virtual_start", layer.get("rotation_virtual_start"))
        lb.set("rotation_turn_length_seconds", layer.get("rotation_turn_length_seconds"))
        users = []
        for u in layer.get("users") or []:
            uid = _ref_id(u.get("user") if isinstance(u, dict) and "user" in u else u)
            if uid:
                users.append(ref("user", uid))
        lb.set("users", users)
        for r in layer.get("restrictions") or []:
            rb = lb.block("restriction")
            rb.set("type", r.get("type"))
            rb.set("start_time_of_day", r.get("start_time_of_day"))
            rb.set("start_day_of_week", r.get("start_day_of_week"))
            rb.set("duration_seconds", r.get("duration_seconds"))


def _team(res: _Block, o: dict[str, Any], ref: Any) -> None:
    res.set("name", o.get("name"))
    res.set("description", o.get("description"))
    parent = _ref_id(o.get("parent"))
    if parent:
        res.set("parent", ref("team", parent))


def _user(res: _Block, o: dict[str, Any], ref: Any) -> None:
    res.set("name", o.get("name"))
    res.set("email", o.get("email"))
    res.set("role", o.get("role"))
    res.set("time_zone", o.get("time_zone"))
    res.set("job_title", o.get("job_title"))


def _business_service(res: _Block, o: dict[str, Any], ref: Any) -> None:
    res.set("name", o.get("name"))
    res.set("description", o.get("description"))
    res.set("point_of_contact", o.get("point_of_contact"))
    team = _ref_id(o.get("team"))
    if team:
        res.set("team", ref("team", team))


def _service_dependency(res: _Block, o: dict[str, Any], ref: Any) -> None:
    dep = res.block("dependency")
    for side in ("dependent_service", "supporting_service"):
        s = o.get(side) or {}
        stype = str(s.get("type") or "service").removesuffix("_reference")
        kind = "business_service" if stype == "business_service" else "service"
        sb = dep.block(side)
        sb.set("id", ref(kind, _ref_id(s)))
        sb.set("type", stype)


def _integration(res: _Block, o: dict[str, Any], ref: Any) -> None:
    res.set("name", o.get("name") or o.get("summary"))
    res.set("service", ref("service", _ref_id(o.get("service"))))
    vendor = _ref_id(o.get("vendor"))
    if vendor:
        res.set("vendor", vendor)
    else:
        itype = o.get("type")
        if itype and not str(itype).endswith("_reference"):
            res.set("type", itype)


_SKELETONS = {
    "service": _service,
    "escalation_policy": _escalation_policy,
    "schedule": _schedule,
    "team": _team,
    "user": _user,
    "business_service": _business_service,
    "service_dependency": _service_dependency,
    "integration": _integration,
}
