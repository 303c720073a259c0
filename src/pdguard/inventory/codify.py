"""Terraform for unmanaged objects: ``import`` blocks (Terraform >= 1.5) + complete resource blocks.

``codify(doc, iac)`` emits, for each live object whose IaC status is ``unmanaged``::

    import {
      to = pagerduty_service.checkout_api
      id = "PABC123"
    }

    resource "pagerduty_service" "checkout_api" {
      name              = "checkout-api"
      description       = "Checkout REST API"
      escalation_policy = pagerduty_escalation_policy.payments.id   # or "PEP1234" when not emitted here
      ...
      incident_urgency_rule {
        type    = "constant"
        urgency = "high"
      }
    }

Every argument the live object sets is written, with the values the provider's Read would put in
state (:mod:`pdguard.inventory.tfmap`, the same table drift compares through), so that
``terraform plan`` after the import is empty: arguments whose provider default differs from the
live value are written explicitly (``description = ""``, ``acknowledgement_timeout = "null"``),
Optional+Computed arguments the object leaves unset and read-only attributes are left out.
Nested objects are blocks (``rule``/``target``, ``layer``/``restriction``, ``rotation``/``event``,
``incident_urgency_rule``, ``support_hours``, ``alert_grouping_parameters``...).
References to objects emitted in the same output or in state at root level are expressions
(``pagerduty_user.ann.id``), other references are literal ids.
Identifiers are derived from names (``[a-z0-9_]``, starting with a letter, unique per resource type
and not colliding with addresses already in state). Strings are escaped for HCL (quotes,
backslashes, control characters, ``${`` and ``%{`` template sequences): names are untrusted text.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from typing import Any

from pdguard import __version__
from pdguard.inventory import tfmap
from pdguard.inventory.iac import ASSET_TO_TF, TF_TYPES, classify, live_objects
from pdguard.inventory.tfmap import Ctx, ref_id

# Emission order: referenced objects first.
ORDER: tuple[str, ...] = (
    "user",
    "team",
    "team_membership",
    "schedule",
    "flexible_schedule",
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

    def empty(self) -> bool:
        return not self.attrs and not self.blocks


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


# Which values are references to other objects: (Terraform type, path of block names + argument) ->
# the referenced asset type, or a function of the enclosing block (targets and dependency sides).
Kind = str | Callable[[dict[str, Any]], str | None]


def _target_kind(block: dict[str, Any]) -> str | None:
    t = str(block.get("type") or "user_reference")
    if t.startswith("schedule_v3"):
        return "flexible_schedule"
    return "schedule" if t.startswith("schedule") else "user"


def _side_kind(block: dict[str, Any]) -> str | None:
    return "business_service" if block.get("type") == "business_service" else "service"


REFERENCES: dict[tuple[str, str], Kind] = {
    ("pagerduty_service", "escalation_policy"): "escalation_policy",
    ("pagerduty_escalation_policy", "teams"): "team",
    ("pagerduty_escalation_policy", "rule.target.id"): _target_kind,
    ("pagerduty_schedule", "teams"): "team",
    ("pagerduty_schedule", "layer.users"): "user",
    ("pagerduty_schedulev2", "teams"): "team",
    ("pagerduty_schedulev2", "rotation.event.assignment_strategy.member.user_id"): "user",
    ("pagerduty_team", "parent"): "team",
    ("pagerduty_team_membership", "user_id"): "user",
    ("pagerduty_team_membership", "team_id"): "team",
    ("pagerduty_business_service", "team"): "team",
    ("pagerduty_service_dependency", "dependency.supporting_service.id"): _side_kind,
    ("pagerduty_service_dependency", "dependency.dependent_service.id"): _side_kind,
    ("pagerduty_service_integration", "service"): "service",
}
# Computed attributes inside blocks: read back by the provider, never configured.
_READ_ONLY_IN_BLOCKS = {"rule.id", "layer.id", "layer.rendered_coverage_percentage", "rotation.id", "rotation.event.id"}


def _import_id(asset_type: str, oid: str, obj: dict[str, Any]) -> str:
    if asset_type == "integration":  # SERVICE_ID.INTEGRATION_ID
        return f"{ref_id(obj.get('service'))}.{oid}"
    if asset_type == "service_dependency":  # supporting id . supporting type . dependency id
        sup = obj.get("supporting_service") or {}
        return f"{sup.get('id')}.{tfmap.side_type(sup.get('type'))}.{oid}"
    return oid  # team memberships: USER_ID:TEAM_ID, the inventory id


def _display_name(asset_type: str, obj: dict[str, Any], live: dict[str, dict[str, dict[str, Any]]]) -> str | None:
    def nm(kinds: tuple[str, ...], i: str | None) -> str:
        for t in kinds:
            o = live.get(t, {}).get(i or "")
            if o:
                return str(o.get("name") or o.get("summary") or i)
        return str(i)

    if asset_type == "service_dependency":
        both = ("service", "business_service")
        return f"{nm(both, ref_id(obj.get('dependent_service')))}_on_{nm(both, ref_id(obj.get('supporting_service')))}"
    if asset_type == "integration":
        return f"{nm(('service',), ref_id(obj.get('service')))}_{obj.get('name') or obj.get('summary') or ''}"
    if asset_type == "team_membership":
        return f"{nm(('user',), ref_id(obj.get('user')))}_{nm(('team',), ref_id(obj.get('team')))}"
    return obj.get("name") or obj.get("summary") or obj.get("email")


def _explicit(tf_type: str, view: dict[str, Any]) -> dict[str, Any]:
    """The arguments to write: what the object sets, plus explicit "unset" values where leaving the
    argument out would apply a provider default the live object does not have."""
    rmap = tfmap.RESOURCES[tf_type]
    out: dict[str, Any] = {}
    for a in rmap.args:
        v = view.get(a.name)
        if tf_type == "pagerduty_service" and a.name == "alert_creation":
            continue  # deprecated; the provider hides its diff (PR 836)
        if tf_type == "pagerduty_service_integration" and a.name == "type" and view.get("vendor"):
            continue  # conflicts with vendor
        if tfmap.clean(v) is None:
            if a.default is not tfmap.NO_DEFAULT and a.name == "description":
                out[a.name] = ""  # no description: not the provider's "Managed by Terraform"
            continue
        out[a.name] = v
    return out


def _fill(block: _Block, tf_type: str, values: dict[str, Any], path: str, ref: Callable[[str | None, Any], Any]) -> None:
    for key, v in values.items():
        full = f"{path}.{key}" if path else key
        if full in _READ_ONLY_IN_BLOCKS:
            continue
        kind = REFERENCES.get((tf_type, full))
        if isinstance(v, list) and v and all(isinstance(x, dict) for x in v):
            for item in v:
                sub = _Block(key)
                _fill(sub, tf_type, item, full, ref)
                if not sub.empty():
                    block.blocks.append(sub)
            continue
        if isinstance(v, list) and not v:
            continue
        if kind is not None:
            k = kind(values) if callable(kind) else kind
            v = [ref(k, x) for x in v] if isinstance(v, list) else ref(k, v)
        if v is None or v == []:
            continue
        block.set(key, v)


def codify(doc: dict[str, Any], iac: dict[str, Any] | None = None, types: list[str] | None = None) -> str:
    """Terraform import blocks + complete resource blocks for the unmanaged objects of `doc`.

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
    ctx = Ctx.of(doc)

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
        for oid in sorted(objs, key=lambda i: (str(_display_name(asset_type, objs[i], live) or ""), i)):
            status = (entries.get(oid) or {}).get("status", "unmanaged")
            if status != "unmanaged":
                continue
            obj = objs[oid]
            ident = namer.name(tf_type, _display_name(asset_type, obj, live), oid)
            addresses[(asset_type, oid)] = f"{tf_type}.{ident}"
            todo.append((asset_type, oid, obj, ident))

    def ref(asset_type: str | None, oid: Any) -> Any:
        """`<address>.id` when that object is in state at root level or emitted here, else the id."""
        if oid is None or asset_type is None:
            return oid
        addr = addresses.get((asset_type, str(oid)))
        if addr and not addr.startswith("module."):
            return _Ref(f"{addr}.id")
        return oid

    out = [
        f"# Generated by pdguard {__version__} codify: unmanaged PagerDuty objects.",
        "# Review before `terraform apply`: `terraform plan` after the import should show no change.",
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
        _fill(res, tf_type, _explicit(tf_type, tfmap.to_tf(asset_type, obj, ctx)), "", ref)
        out += imp.render()
        out.append("")
        out += res.render()
        out.append("")
    return "\n".join(out)
