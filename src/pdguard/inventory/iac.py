"""IaC status of live PagerDuty objects against Terraform state (``input.iac``).

Reads local state files in either form:

* a ``terraform.tfstate`` (state format version 4): ``resources[]`` with ``module``, ``mode``,
  ``type``, ``name`` and ``instances[].attributes`` (+ ``index_key``);
* the output of ``terraform show -json``: ``values.root_module.resources[]`` and
  ``child_modules[]`` recursively, each with ``address``, ``mode``, ``type`` and ``values``.

Each live object of a mapped type gets a status:

* ``codified``  - in state, and the arguments compared by :mod:`pdguard.inventory.tfmap` are equal
  once what the provider and the API represent differently is normalised away;
* ``drifted``   - in state, some arguments differ (``drift`` lists their Terraform names);
* ``unmanaged`` - live but in no state file.

State entries whose object is not live are ``ghosts`` (only for collections that were collected:
an object of a collection the scan left out is unknown, not gone). With ``tf_dirs``, ``*.tf`` files are
scanned for ``resource "pagerduty_x" "name" {`` lines so that each address gets a ``file``
(path as given + relative path inside the directory) and ``line`` for SARIF. Module addresses
are matched on their last ``type.name`` part (a heuristic: the first file declaring it wins).
"""

from __future__ import annotations

import json
import os
import re
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

from pdguard.errors import InputError
from pdguard.inventory import audit, tfmap
from pdguard.inventory.tfmap import RESOURCES, Ctx
from pdguard.snapshot import read_json_file

# Terraform resource type -> inventory asset type (the mapping itself lives in tfmap).
TF_TYPES: dict[str, str] = {t: r.asset_type for t, r in RESOURCES.items()}
ASSET_TO_TF: dict[str, str] = {v: k for k, v in TF_TYPES.items()}
# Asset type -> snapshot collection (integrations are nested in services, memberships in teams).
ASSET_COLLECTION: dict[str, str] = {r.asset_type: r.collection for r in RESOURCES.values() if r.collection}
# Where the objects of the types without a collection of their own come from.
_PARENT_COLLECTION = {"integration": "services", "team_membership": "teams"}


def drift_fields(asset_type: str, attrs: dict[str, Any], live: dict[str, Any], ctx: Ctx | None = None) -> list[str]:
    """Terraform arguments of `attrs` (state) that differ from the live object, noise removed."""
    return tfmap.drift_fields(ASSET_TO_TF[asset_type], attrs, live, ctx or Ctx())


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


def state_id(tf_type: str, attrs: dict[str, Any]) -> str | None:
    """The id of the PagerDuty object a state entry manages (the inventory's id for it)."""
    oid = attrs.get("id")
    if not oid:
        return None
    oid = str(oid)
    if oid.startswith("tf:"):  # a planned object's placeholder (pdguard.inventory.plan)
        return oid
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


def collected(doc: dict[str, Any], collection: str) -> bool:
    """Was `collection` collected? (`meta.collections` when the snapshot says, else the key is there.)"""
    names = (doc.get("meta") or {}).get("collections")
    if isinstance(names, list):
        return collection in names
    return isinstance(doc.get(collection), list)


def asset_collected(doc: dict[str, Any], asset_type: str) -> bool:
    if asset_type == "team_membership":  # members are derived: a team without the key says nothing
        teams = [t for t in doc.get("teams") or [] if isinstance(t, dict)]
        return collected(doc, "teams") and all("members" in t for t in teams)
    return collected(doc, ASSET_COLLECTION.get(asset_type) or _PARENT_COLLECTION[asset_type])


def memberships(doc: dict[str, Any]) -> Iterator[dict[str, Any]]:
    """Team memberships as objects {id: "USER:TEAM", user, team, role} from `teams[].members`."""
    for team in doc.get("teams") or []:
        if not isinstance(team, dict) or not team.get("id"):
            continue
        for m in team.get("members") or []:
            uid = tfmap.ref_id((m or {}).get("user")) if isinstance(m, dict) else None
            if uid:
                yield {"id": f"{uid}:{team['id']}", "type": "team_membership", "user": m.get("user"),
                       "team": {"id": team["id"], "type": "team_reference", "summary": team.get("name")},
                       "role": m.get("role")}


def live_objects(doc: dict[str, Any]) -> dict[str, dict[str, dict[str, Any]]]:
    """{asset type: {id: object}} for every type Terraform can manage: the objects the store keeps as
    assets (:func:`pdguard.inventory.store.iter_assets`: integrations from their services) and the
    team memberships."""
    from pdguard.inventory.store import iter_assets

    out: dict[str, dict[str, dict[str, Any]]] = {t: {} for t in TF_TYPES.values()}
    for asset_type, oid, obj in iter_assets(doc):
        if asset_type in out:
            out[asset_type][oid] = obj
    for m in memberships(doc):
        out["team_membership"][m["id"]] = m
    return out


StateEntry = tuple[str, str, dict[str, Any]]  # (address, Terraform type, attributes)


def classify(doc: dict[str, Any], tfstate_paths: list[str], tf_dirs: list[str] | None = None, *,
             extra_state: Iterable[StateEntry] = (), extra_source: str | None = None,
             sources: list[str] | None = None,
             locations: dict[str, tuple[str, int]] | None = None) -> dict[str, Any]:
    """The ``input.iac`` document: status of each live object against the Terraform state files.

    `extra_state` entries (a plan's post-apply state, read from `extra_source`) come before the
    files' and win over them. Each managed entry names its ``source``: the state file (or plan)
    it is managed in, so policies can tell objects of different states apart. `locations`: the
    :func:`scan_tf_dirs` of `tf_dirs`, when the caller has read them already.
    """
    if locations is None:
        locations = scan_tf_dirs(list(tf_dirs or []))
    managed: dict[tuple[str, str], tuple[str, dict[str, Any], str | None]] = {}
    batches: list[tuple[Iterable[StateEntry], str | None]] = [
        (extra_state, extra_source), *((read_state(p), p) for p in tfstate_paths)]
    for batch, source in batches:
        for address, tf_type, attrs in batch:
            asset_type = TF_TYPES.get(tf_type)
            if asset_type is None:
                continue
            oid = state_id(tf_type, attrs)
            if oid is None:
                continue
            managed.setdefault((asset_type, oid), (address, attrs, source))

    ctx = Ctx.of(doc)
    live = live_objects(doc)
    changes = audit_changes(doc)
    resources: dict[str, dict[str, dict[str, Any]]] = {}
    for asset_type, objs in live.items():
        entries: dict[str, dict[str, Any]] = {}
        for oid, obj in objs.items():
            hit = managed.get((asset_type, oid))
            if hit is None:
                entries[oid] = {"status": "unmanaged", "address": None, "drift": [], "file": None, "line": None,
                                "source": None}
                continue
            address, attrs, source = hit
            drift = drift_fields(asset_type, attrs, obj, ctx)
            file, line = _location(address, locations)
            entries[oid] = {
                "status": "drifted" if drift else "codified",
                "address": address,
                "drift": drift,
                "file": file,
                "line": line,
                "source": source,
            }
            if drift:  # who changed it by hand, when the audit records say
                entries[oid]["changed_by"] = audit.latest(changes.get((asset_type, oid)))
        if entries:
            resources[asset_type] = entries

    ghosts = []
    for (asset_type, oid), (address, _attrs, source) in managed.items():
        if oid not in live.get(asset_type, {}) and asset_collected(doc, asset_type):
            file, line = _location(address, locations)
            ghosts.append({"type": asset_type, "id": oid, "address": address, "file": file, "line": line,
                           "source": source, "changed_by": audit.latest(changes.get((asset_type, oid)))})
    ghosts.sort(key=lambda g: (g["type"], g["address"]))
    return {"sources": list(sources if sources is not None else tfstate_paths), "resources": resources, "ghosts": ghosts}


def audit_changes(doc: dict[str, Any]) -> dict[tuple[str, str], list[dict[str, Any]]]:
    """Changes of assets from the document's audit records (none when they were not collected)."""
    if not collected(doc, "audit_records"):
        return {}
    return audit.changes_by_asset(doc.get("audit_records") or [])


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
