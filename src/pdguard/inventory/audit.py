"""Who changed what: PagerDuty audit records (``input.audit_records``) mapped to inventory assets.

The scan collects ``GET /audit/records`` (account-wide, cursor-paginated, newest first) over the
audit window ``meta.audit_window`` when the key may read it (an admin or account-owner key, or a
global API key, on a plan with Audit Trail; OAuth scope ``audit_records.read``). Without access
the collection is ``forbidden`` and nothing here has actors to give: entries simply carry none.

A record names its ``root_resource`` (a user, team, schedule, escalation policy or service
reference) and, in ``details.resource``, the object actually touched (a user's notification
rule, a team member...). This module turns records into *changes* of assets::

    {"at": "2026-11-25T10:12:03.412Z", "action": "update", "method": "browser",
     "actors": [{"id": "PU1", "type": "user_reference", "summary": "Ann Adams"}], "record": "R1"}

keyed by (asset type, id) as the inventory stores assets (``team_membership`` ids are
``USER:TEAM``). Diffs (``pdguard diff``) and drift entries (``input.iac``) name the latest change
of an asset in the window that matters to them. Actors and summaries come from PagerDuty:
untrusted text, shown through :mod:`pdguard.textsafe` like every other name.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from datetime import UTC, datetime
from typing import Any

from pdguard.units import parse_time

# Reference type of a root resource -> inventory asset type.
ROOT_TYPES: dict[str, str] = {
    "service_reference": "service",
    "escalation_policy_reference": "escalation_policy",
    "schedule_reference": "schedule",
    "team_reference": "team",
    "user_reference": "user",
}
# GET /audit/records root_resource_types[] filter values for the types above.
ROOT_RESOURCE_TYPES = ("users", "teams", "schedules", "escalation_policies", "services")
# How many changes per asset a stored scan keeps (the latest ones).
KEEP_PER_ASSET = 5
# Audit records are kept 12 months; one query may span at most 31 days (spec: `until` "may not be
# more than 31 days after `since`").
RETENTION_DAYS = 365
MAX_WINDOW_DAYS = 31


def _ref(value: Any) -> dict[str, Any] | None:
    if isinstance(value, dict) and isinstance(value.get("id"), str) and isinstance(value.get("type"), str):
        return value
    return None


def _actor(ref: dict[str, Any]) -> dict[str, Any]:
    return {k: ref.get(k) for k in ("id", "type", "summary")}


def change_of(record: dict[str, Any]) -> dict[str, Any] | None:
    """The change a record describes (without its assets), or None when it is not usable."""
    at = record.get("execution_time")
    if parse_time(at) is None:
        return None
    actors = [_actor(a) for a in record.get("actors") or [] if _ref(a)]
    method = record.get("method") if isinstance(record.get("method"), dict) else {}
    return {"at": at, "action": record.get("action"), "method": method.get("type"), "actors": actors,
            "record": record.get("id")}


def assets_of(record: dict[str, Any]) -> Iterator[tuple[str, str]]:
    """(asset type, id) of the inventory assets a record changed: its root resource, and a team
    membership when the record adds, removes or updates a member of a team."""
    root = _ref(record.get("root_resource"))
    if root is None or root["type"] not in ROOT_TYPES:
        return
    root_type = ROOT_TYPES[root["type"]]
    yield root_type, root["id"]
    details = record.get("details") if isinstance(record.get("details"), dict) else {}
    if root_type != "team":
        return
    members: set[str] = set()
    res = _ref(details.get("resource"))
    if res is not None and res["type"] == "user_reference":  # a member's team role
        members.add(res["id"])
    for refs in details.get("references") or []:
        if isinstance(refs, dict) and refs.get("name") in ("members", "team_members", "users"):
            for side in ("added", "removed"):
                for u in refs.get(side) or []:
                    if _ref(u) and u["type"] == "user_reference":
                        members.add(u["id"])
    for uid in sorted(members):
        yield "team_membership", f"{uid}:{root['id']}"


def changes_by_asset(records: Iterable[Any]) -> dict[tuple[str, str], list[dict[str, Any]]]:
    """{(asset type, id): [change, ...]} newest first, each record once (by id)."""
    out: dict[tuple[str, str], list[dict[str, Any]]] = {}
    seen: set[Any] = set()
    for record in records:
        if not isinstance(record, dict):
            continue
        rid = record.get("id")
        if rid is not None:
            if rid in seen:
                continue
            seen.add(rid)
        change = change_of(record)
        if change is None:
            continue
        for key in assets_of(record):
            out.setdefault(key, []).append(change)
    for changes in out.values():
        changes.sort(key=lambda c: parse_time(c["at"]) or datetime.min.replace(tzinfo=UTC), reverse=True)
    return out


def latest(changes: Iterable[dict[str, Any]] | None, *, after: Any = None, until: Any = None) -> dict[str, Any] | None:
    """The newest change strictly after `after` and at or before `until` (timestamps; None: open)."""
    lo, hi = parse_time(after), parse_time(until)
    best: tuple[datetime, dict[str, Any]] | None = None
    for c in changes or []:
        at = parse_time(c.get("at"))
        if at is None or (lo is not None and at <= lo) or (hi is not None and at > hi):
            continue
        if best is None or at > best[0]:
            best = (at, c)
    return best[1] if best else None


def stored_index(doc: dict[str, Any]) -> dict[str, Any] | None:
    """What a stored scan keeps of its audit records: the window and the latest changes per asset
    (``{"window": {since, until}, "changes": {"type:id": [change...]}}``); None when the scan did
    not collect audit records."""
    meta = doc.get("meta") if isinstance(doc.get("meta"), dict) else {}
    if "audit_records" not in (meta.get("collections") or []):
        return None
    changes = changes_by_asset(doc.get("audit_records") or [])
    return {"window": meta.get("audit_window"),
            "changes": {f"{t}:{i}": cs[:KEEP_PER_ASSET] for (t, i), cs in sorted(changes.items())}}


def index_changes(index: dict[str, Any] | None) -> dict[tuple[str, str], list[dict[str, Any]]]:
    """The changes of a :func:`stored_index` by (asset type, id)."""
    out: dict[tuple[str, str], list[dict[str, Any]]] = {}
    for key, changes in ((index or {}).get("changes") or {}).items():
        asset_type, _, oid = str(key).partition(":")
        if isinstance(changes, list):
            out[(asset_type, oid)] = [c for c in changes if isinstance(c, dict)]
    return out


def describe(change: dict[str, Any] | None) -> str:
    """ "Ann Adams (user) at 2026-11-25T10:12:03Z via browser" - plain text, not yet made safe."""
    if not change:
        return "unknown"
    who = ", ".join(
        f"{a.get('summary') or a.get('id')} ({str(a.get('type') or '').removesuffix('_reference') or 'actor'})"
        for a in change.get("actors") or []
    ) or f"an actor PagerDuty does not name ({change.get('method') or 'unknown method'})"
    text = f"{who} at {change.get('at')}"
    if change.get("method") and change.get("actors"):
        text += f" via {change['method']}"
    return text


# ------------------------------------------------------------------------------------ diffs


def attach_actors(result: dict[str, Any], scans: Iterable[dict[str, Any]]) -> dict[str, Any]:
    """Name who changed each asset of a :func:`pdguard.inventory.diff.diff_scans` result.

    `scans` are the stored scans whose audit records may cover the interval (A, B] of the diff
    (their ``meta.audit`` from :func:`stored_index`). Each added, removed and changed entry gets
    ``changed_by``: the newest change of that asset in (A.scanned_at, B.scanned_at], or None.
    ``result["audit"]`` says whether audit records were collected for the interval at all
    (``collected``) and whether their windows reach back to A (``covers_interval``): without
    them None means "unknown", not "nobody".
    """
    after, until = result["a"].get("scanned_at"), result["b"].get("scanned_at")
    lo, hi = parse_time(after), parse_time(until)
    changes: dict[tuple[str, str], list[dict[str, Any]]] = {}
    seen: set[Any] = set()
    earliest: datetime | None = None
    collected = False
    for scan in scans:
        at = parse_time(scan.get("scanned_at"))
        if at is None or lo is None or hi is None or not lo < at <= hi:
            continue
        index = (scan.get("meta") or {}).get("audit")
        if not isinstance(index, dict):
            continue
        collected = True
        since = parse_time(((index.get("window") or {}) if isinstance(index.get("window"), dict) else {}).get("since"))
        if since is not None and (earliest is None or since < earliest):
            earliest = since
        for key, cs in index_changes(index).items():
            for c in cs:
                rid = (c.get("record"), key)
                if c.get("record") is not None and rid in seen:
                    continue
                seen.add(rid)
                changes.setdefault(key, []).append(c)
    for kind in ("added", "removed", "changed"):
        for entry in result["assets"][kind]:
            entry["changed_by"] = latest(changes.get((entry["type"], entry["id"])), after=after, until=until)
    result["audit"] = {"collected": collected,
                       "covers_interval": bool(collected and earliest is not None and lo is not None and earliest <= lo)}
    return result
