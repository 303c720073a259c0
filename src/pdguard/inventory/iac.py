"""IaC status of live PagerDuty objects against Terraform state (``input.iac``).

Reads local state files in either form:

* a ``terraform.tfstate`` (state format version 4): ``resources[]`` with ``module``, ``mode``,
  ``type``, ``name`` and ``instances[].attributes`` (+ ``index_key``);
* the output of ``terraform show -json``: ``values.root_module.resources[]`` and
  ``child_modules[]`` recursively, each with ``address``, ``mode``, ``type`` and ``values``.

Each live object of a mapped type gets a status:

* ``codified``  - in state, and the compared attributes (:data:`COMPARED`) are equal;
* ``drifted``   - in state, some compared attributes differ (``drift`` lists their Terraform names);
* ``unmanaged`` - live but in no state file.

State entries whose object is not live are ``ghosts``. With ``tf_dirs``, ``*.tf`` files are
scanned for ``resource "pagerduty_x" "name" {`` lines so that each address gets a ``file``
(path as given + relative path inside the directory) and ``line`` for SARIF. Module addresses
are matched on their last ``type.name`` part (a heuristic: the first file declaring it wins).
"""

from __future__ import annotations

import json
import os
import re
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

from pdguard.errors import InputError
from pdguard.snapshot import read_json_file

# Terraform resource type -> inventory asset type.
TF_TYPES: dict[str, str] = {
    "pagerduty_service": "service",
    "pagerduty_escalation_policy": "escalation_policy",
    "pagerduty_schedule": "schedule",
    "pagerduty_team": "team",
    "pagerduty_user": "user",
    "pagerduty_business_service": "business_service",
    "pagerduty_service_dependency": "service_dependency",
    "pagerduty_service_integration": "integration",
}
ASSET_TO_TF: dict[str, str] = {v: k for k, v in TF_TYPES.items()}
# Asset type -> snapshot collection (integrations are nested in services).
ASSET_COLLECTION: dict[str, str] = {
    "service": "services",
    "escalation_policy": "escalation_policies",
    "schedule": "schedules",
    "team": "teams",
    "user": "users",
    "business_service": "business_services",
    "service_dependency": "service_dependencies",
}


# ------------------------------------------------------------------------------------ normalisers


def _text(v: Any) -> Any:
    """Strings compare as is; None and "" are the same (unset)."""
    if v is None or v == "":
        return None
    return v


def _ref_id(v: Any) -> Any:
    """A reference object {id, type, ...}, a list of one (Terraform blocks) or an id string -> id."""
    if isinstance(v, list):
        v = v[0] if v else None
    if isinstance(v, dict):
        v = v.get("id")
    return _text(v)


def _timeout(v: Any) -> Any:
    """acknowledgement_timeout / auto_resolve_timeout: Terraform keeps a string ("null", "1800")."""
    if v is None or v == "" or v == "null":
        return None
    try:
        return int(float(v))
    except (TypeError, ValueError):
        return v


def _int(v: Any) -> Any:
    if v is None or v == "":
        return None
    try:
        return int(v)
    except (TypeError, ValueError):
        return v


def _count(v: Any) -> int:
    return len(v) if isinstance(v, list) else 0


def _dep_side(side: str) -> Callable[[dict[str, Any]], Any]:
    """Service dependency: Terraform `dependency[0].<side>[0].id` vs live `<side>.id`."""

    def tf(attrs: dict[str, Any]) -> Any:
        dep = attrs.get("dependency")
        if isinstance(dep, list):
            dep = dep[0] if dep else None
        return _ref_id((dep or {}).get(side)) if isinstance(dep, dict) else None

    return tf


Getter = Callable[[dict[str, Any]], Any]


def _f(tf_key: str, live_key: str | None = None, norm: Callable[[Any], Any] = _text) -> tuple[str, Getter, Getter]:
    live_key = live_key or tf_key
    return tf_key, (lambda a: norm(a.get(tf_key))), (lambda o: norm(o.get(live_key)))


# Asset type -> [(drift field name = Terraform attribute, getter on state attributes, getter on live object)].
COMPARED: dict[str, list[tuple[str, Getter, Getter]]] = {
    "service": [
        _f("name"),
        _f("description"),
        _f("escalation_policy", norm=_ref_id),
        _f("acknowledgement_timeout", norm=_timeout),
        _f("auto_resolve_timeout", norm=_timeout),
        _f("alert_creation"),
    ],
    "escalation_policy": [
        _f("name"),
        _f("description"),
        _f("num_loops", norm=_int),
        ("rule", lambda a: _count(a.get("rule")), lambda o: _count(o.get("escalation_rules"))),
    ],
    "schedule": [_f("name"), _f("time_zone"), _f("description")],
    "team": [_f("name"), _f("description")],
    "user": [_f("name"), _f("email"), _f("role")],
    "business_service": [_f("name"), _f("description"), _f("point_of_contact")],
    "service_dependency": [
        ("supporting_service", _dep_side("supporting_service"), lambda o: _ref_id(o.get("supporting_service"))),
        ("dependent_service", _dep_side("dependent_service"), lambda o: _ref_id(o.get("dependent_service"))),
    ],
    "integration": [_f("name"), _f("service", norm=_ref_id)],
}
# Attributes Terraform leaves unset/"computed" when the configuration does not set them: a
# state value of None for these is not drift.
_OPTIONAL_IN_STATE = {"alert_creation", "description", "point_of_contact", "role", "time_zone"}


def drift_fields(asset_type: str, attrs: dict[str, Any], live: dict[str, Any]) -> list[str]:
    out = []
    for name, tf_get, live_get in COMPARED.get(asset_type, []):
        tv, lv = tf_get(attrs), live_get(live)
        if tv is None and name in _OPTIONAL_IN_STATE:
            continue
        if tv != lv:
            out.append(name)
    return out


# ----------------------------------------------------------------------------------- state reading


def _index_suffix(key: Any) -> str:
    if key is None:
        return ""
    if isinstance(key, bool):  # pragma: no cover - not a Terraform key type
        key = str(key).lower()
    if isinstance(key, int):
        return f"[{key}]"
    return "[" + json.dumps(str(key)) + "]"


def _from_tfstate(state: dict[str, Any]) -> Iterator[tuple[str, str, dict[str, Any]]]:
    """(address, tf type, attributes) of every managed resource instance in a v4 state."""
    for res in state.get("resources") or []:
        if not isinstance(res, dict) or res.get("mode", "managed") != "managed":
            continue
        rtype, rname = res.get("type"), res.get("name")
        if not rtype or not rname:
            continue
        prefix = f"{res['module']}." if res.get("module") else ""
        for inst in res.get("instances") or []:
            attrs = inst.get("attributes")
            if attrs is None and isinstance(inst.get("attributes_flat"), dict):
                attrs = inst["attributes_flat"]
            yield f"{prefix}{rtype}.{rname}{_index_suffix(inst.get('index_key'))}", rtype, attrs or {}


def _from_show_json(module: dict[str, Any]) -> Iterator[tuple[str, str, dict[str, Any]]]:
    for res in module.get("resources") or []:
        if not isinstance(res, dict) or res.get("mode", "managed") != "managed":
            continue
        rtype = res.get("type")
        address = res.get("address") or f"{rtype}.{res.get('name')}{_index_suffix(res.get('index'))}"
        yield address, rtype, res.get("values") or {}
    for child in module.get("child_modules") or []:
        if isinstance(child, dict):
            yield from _from_show_json(child)


def read_state(path: str) -> list[tuple[str, str, dict[str, Any]]]:
    """Managed resource instances of one state file (tfstate v4 or `terraform show -json`)."""
    state = read_json_file(path, "Terraform state")
    if not isinstance(state, dict):
        raise InputError(f"{path}: not a Terraform state (expected a JSON object)")
    if "format_version" in state and "version" not in state:  # terraform show -json
        root = (state.get("values") or {}).get("root_module") or {}
        return list(_from_show_json(root))
    version = state.get("version")
    if version == 4:
        return list(_from_tfstate(state))
    if version is not None:
        raise InputError(f"{path}: Terraform state version {version} is not supported (expected 4)")
    raise InputError(f"{path}: not a Terraform state (no 'version' nor 'format_version')")


def _state_id(tf_type: str, attrs: dict[str, Any]) -> str | None:
    oid = attrs.get("id")
    if not oid:
        return None
    oid = str(oid)
    if tf_type == "pagerduty_service_integration" and "." in oid:  # imported as SERVICE.INTEGRATION
        oid = oid.rsplit(".", 1)[1]
    return oid


# ------------------------------------------------------------------------------------ .tf scanning

_RESOURCE_RE = re.compile(r'^\s*resource\s+"(pagerduty_[A-Za-z0-9_]+)"\s+"([^"]+)"\s*\{')


def scan_tf_dirs(tf_dirs: list[str]) -> dict[str, tuple[str, int]]:
    """{"pagerduty_x.name": (file, line)} for every resource block in the `*.tf` files of the dirs."""
    out: dict[str, tuple[str, int]] = {}
    for d in tf_dirs:
        base = Path(d)
        if base.is_file():
            files = [base]
        elif base.is_dir():
            files = sorted(p for p in base.rglob("*.tf") if ".terraform" not in p.parts)
        else:
            raise InputError(f"Terraform directory not found: {d}")
        for f in files:
            try:
                text = f.read_text(encoding="utf-8", errors="replace")
            except OSError as exc:
                raise InputError(f"cannot read {f}: {exc.strerror}") from None
            rel = d if f == base else os.path.join(d, f.relative_to(base).as_posix())
            rel = rel.replace(os.sep, "/")
            for lineno, line in enumerate(text.splitlines(), start=1):
                m = _RESOURCE_RE.match(line)
                if m:
                    out.setdefault(f"{m.group(1)}.{m.group(2)}", (rel, lineno))
    return out


_INDEX_RE = re.compile(r"\[[^\]]*\]$")


def _location(address: str, locations: dict[str, tuple[str, int]]) -> tuple[str | None, int | None]:
    parts = _INDEX_RE.sub("", address).split(".")
    key = ".".join(parts[-2:])
    file, line = locations.get(key, (None, None))
    return file, line


# ------------------------------------------------------------------------------------------- live


def live_objects(doc: dict[str, Any]) -> dict[str, dict[str, dict[str, Any]]]:
    """{asset type: {id: object}} for every type Terraform can manage (integrations from services)."""
    from pdguard.inventory.store import asset_id

    out: dict[str, dict[str, dict[str, Any]]] = {t: {} for t in TF_TYPES.values()}
    for asset_type, collection in ASSET_COLLECTION.items():
        for obj in doc.get(collection) or []:
            if not isinstance(obj, dict):
                continue
            oid = asset_id(asset_type, obj)
            if oid:
                out[asset_type][oid] = obj
    for svc in doc.get("services") or []:
        if not isinstance(svc, dict):
            continue
        for integ in svc.get("integrations") or []:
            if isinstance(integ, dict) and integ.get("id"):
                if not integ.get("service"):
                    integ = {**integ, "service": {"id": svc.get("id"), "type": "service_reference"}}
                out["integration"][str(integ["id"])] = integ
    return out


def classify(doc: dict[str, Any], tfstate_paths: list[str], tf_dirs: list[str] | None = None) -> dict[str, Any]:
    """The ``input.iac`` document: status of each live object against the Terraform state files."""
    locations = scan_tf_dirs(list(tf_dirs or []))
    managed: dict[tuple[str, str], tuple[str, dict[str, Any]]] = {}
    for path in tfstate_paths:
        for address, tf_type, attrs in read_state(path):
            asset_type = TF_TYPES.get(tf_type)
            if asset_type is None:
                continue
            oid = _state_id(tf_type, attrs)
            if oid is None:
                continue
            managed.setdefault((asset_type, oid), (address, attrs))

    live = live_objects(doc)
    resources: dict[str, dict[str, dict[str, Any]]] = {}
    for asset_type, objs in live.items():
        entries: dict[str, dict[str, Any]] = {}
        for oid, obj in objs.items():
            hit = managed.get((asset_type, oid))
            if hit is None:
                entries[oid] = {"status": "unmanaged", "address": None, "drift": [], "file": None, "line": None}
                continue
            address, attrs = hit
            drift = drift_fields(asset_type, attrs, obj)
            file, line = _location(address, locations)
            entries[oid] = {
                "status": "drifted" if drift else "codified",
                "address": address,
                "drift": drift,
                "file": file,
                "line": line,
            }
        if entries:
            resources[asset_type] = entries

    ghosts = []
    for (asset_type, oid), (address, _attrs) in managed.items():
        if oid not in live.get(asset_type, {}):
            file, line = _location(address, locations)
            ghosts.append({"type": asset_type, "id": oid, "address": address, "file": file, "line": line})
    ghosts.sort(key=lambda g: (g["type"], g["address"]))
    return {"sources": list(tfstate_paths), "resources": resources, "ghosts": ghosts}


def apply_iac(doc: dict[str, Any], iac: dict[str, Any] | None) -> dict[str, Any]:
    """Set ``doc["iac"]`` (what policies see as ``input.iac``); returns the document."""
    doc["iac"] = iac
    return doc


def iac_locations(iac: dict[str, Any] | None) -> dict[tuple[str, str], tuple[str, int]]:
    """{(type, id): (file, line)} of every codified/drifted object (and ghost) with a known location."""
    out: dict[tuple[str, str], tuple[str, int]] = {}
    if not iac:
        return out
    for asset_type, entries in (iac.get("resources") or {}).items():
        for oid, e in entries.items():
            if e.get("file"):
                out[(asset_type, oid)] = (e["file"], int(e.get("line") or 1))
    for g in iac.get("ghosts") or []:
        if g.get("file"):
            out.setdefault((g["type"], g["id"]), (g["file"], int(g.get("line") or 1)))
    return out


def summary(iac: dict[str, Any] | None) -> dict[str, int]:
    """Counts by status (+ ghosts)."""
    out = {"codified": 0, "drifted": 0, "unmanaged": 0, "ghosts": 0}
    if not iac:
        return out
    for entries in (iac.get("resources") or {}).values():
        for e in entries.values():
            out[e["status"]] = out.get(e["status"], 0) + 1
    out["ghosts"] = len(iac.get("ghosts") or [])
    return out
