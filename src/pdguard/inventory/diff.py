"""What changed between two stored scans: assets added / removed / changed, findings new / fixed.

Assets are matched by (type, id). Only assets whose ``content_hash`` differs have their configs
loaded and compared field by field on their :func:`~pdguard.inventory.store.stable_view`
(top-level fields; volatile fields such as a service's ``last_incident_timestamp`` are ignored,
and references to other assets are compared on their id and type: renaming a team changes the
team, not the services that reference it). Both scans must come from snapshots of the same
schema major.
For scalar fields (string, number, bool, null on both sides) the old and new values are given.

Findings are matched by fingerprint. ``new``: active (not waived) in B, not active in A.
``fixed``: active in A, absent from B. ``waived``: active in A, waived in B.
"""

from __future__ import annotations

from typing import Any

from pdguard.inventory.store import Store, StoreError, schema_major, stable_view

_SCALARS = (str, int, float, bool, type(None))


def _scan_summary(scan: dict[str, Any]) -> dict[str, Any]:
    return {k: scan.get(k) for k in ("id", "scanned_at", "account", "region", "complete")}


def resolve_pair(store: Store, a: int | None = None, b: int | None = None,
                 account: str | None = None) -> tuple[dict[str, Any], dict[str, Any]]:
    """The two scans to compare, of one account. Default B: the latest complete scan (of `account`;
    with A given, of A's account); default A: the complete scan of B's account before B."""
    if b is None and a is not None and account is None:
        account = store.require_scan(a)["account"]
    scan_b = store.require_scan(b, account)
    if a is None:
        scan_a = store.previous(scan_b["id"])
        if scan_a is None:
            raise StoreError(f"no complete scan before scan {scan_b['id']} (of account {scan_b['account'] or '-'} "
                             "and the same snapshot schema) to diff against")
    else:
        scan_a = store.require_scan(a, account)
    if scan_a["account"] != scan_b["account"]:
        raise StoreError(f"scan {scan_a['id']} (account {scan_a['account'] or '-'}) and scan {scan_b['id']} "
                         f"(account {scan_b['account'] or '-'}) are of different accounts: diff two scans of one account")
    if schema_major(scan_a) != schema_major(scan_b):
        raise StoreError(
            f"scan {scan_a['id']} (snapshot schema {schema_major(scan_a)}.x) and scan {scan_b['id']} "
            f"(schema {schema_major(scan_b)}.x) cannot be compared: diff two scans stored by the same pdguard"
        )
    return scan_a, scan_b


def changed_fields(asset_type: str, old: dict[str, Any], new: dict[str, Any]) -> tuple[list[str], dict[str, Any]]:
    """Top-level field names whose values differ, and {field: {old, new}} for scalar ones."""
    old, new = stable_view(asset_type, old), stable_view(asset_type, new)
    fields: list[str] = []
    values: dict[str, Any] = {}
    for key in sorted(set(old) | set(new)):
        o, n = old.get(key), new.get(key)
        if o == n:
            continue
        fields.append(key)
        if isinstance(o, _SCALARS) and isinstance(n, _SCALARS):
            values[key] = {"old": o, "new": n}
    return fields, values


def _finding_summary(f: dict[str, Any]) -> dict[str, Any]:
    return {
        "fingerprint": f["fingerprint"],
        "policy_id": f["policy_id"],
        "severity": f.get("severity"),
        "title": f.get("title"),
        "msg": f.get("msg"),
        "resource": f.get("resource"),
    }


def diff_scans(store: Store, a: int | None = None, b: int | None = None, *, account: str | None = None) -> dict[str, Any]:
    """Compare scan `a` (default: the complete scan before `b`) with scan `b` (default: latest complete).

    Returns a JSON-serialisable dict::

        {"a": {id, scanned_at, account, region, complete}, "b": {...},
         "assets": {"added": [{type, id, name, changed_by}], "removed": [...],
                    "changed": [{type, id, name, fields: [...], values: {field: {old, new}}, changed_by}]},
         "audit": {"collected": bool, "covers_interval": bool},   # changed_by: see pdguard.inventory.audit
         "findings": {"new": [finding summary], "fixed": [...], "waived": [...]},
         "summary": {added, removed, changed, new_findings, fixed_findings, waived_findings}}
    """
    scan_a, scan_b = resolve_pair(store, a, b, account)
    ida, idb = scan_a["id"], scan_b["id"]
    rows_a = {(r["type"], r["id"]): r for r in store.assets(ida)}
    rows_b = {(r["type"], r["id"]): r for r in store.assets(idb)}

    added = [
        {"type": k[0], "id": k[1], "name": rows_b[k]["name"]} for k in sorted(rows_b.keys() - rows_a.keys())
    ]
    removed = [
        {"type": k[0], "id": k[1], "name": rows_a[k]["name"]} for k in sorted(rows_a.keys() - rows_b.keys())
    ]
    differing = sorted(
        k for k in rows_a.keys() & rows_b.keys() if rows_a[k]["content_hash"] != rows_b[k]["content_hash"]
    )
    changed: list[dict[str, Any]] = []
    if differing:
        old_cfg = store.asset_configs(ida, differing)
        new_cfg = store.asset_configs(idb, differing)
        for k in differing:
            old, new = old_cfg.get(k) or {}, new_cfg.get(k) or {}
            fields, values = changed_fields(k[0], old, new)
            if not fields:  # e.g. stored before a VOLATILE_FIELDS change
                continue
            changed.append({"type": k[0], "id": k[1], "name": rows_b[k]["name"], "fields": fields, "values": values})

    fa = store.findings(ida)
    fb = store.findings(idb)
    active_a = {f["fingerprint"]: f for f in fa if not f["waived"]}
    active_b = {f["fingerprint"]: f for f in fb if not f["waived"]}
    all_b = {f["fingerprint"] for f in fb}
    waived_b = {f["fingerprint"] for f in fb if f["waived"]}
    new = [_finding_summary(active_b[fp]) for fp in active_b if fp not in active_a]
    fixed = [_finding_summary(active_a[fp]) for fp in active_a if fp not in all_b]
    waived = [_finding_summary(active_a[fp]) for fp in active_a if fp in waived_b and fp not in active_b]
    key = lambda f: (f["policy_id"], (f.get("resource") or {}).get("id") or "", f["fingerprint"])  # noqa: E731
    new.sort(key=key)
    fixed.sort(key=key)
    waived.sort(key=key)
    result = {
        "a": _scan_summary(scan_a),
        "b": _scan_summary(scan_b),
        "assets": {"added": added, "removed": removed, "changed": changed},
        "findings": {"new": new, "fixed": fixed, "waived": waived},
        "summary": {
            "added": len(added),
            "removed": len(removed),
            "changed": len(changed),
            "new_findings": len(new),
            "fixed_findings": len(fixed),
            "waived_findings": len(waived),
        },
    }
    return _with_actors(store, result)


def _with_actors(store: Store, result: dict[str, Any]) -> dict[str, Any]:
    """Who changed each asset, from the audit records of the scans stored after A up to B."""
    from pdguard.inventory.audit import attach_actors

    return attach_actors(result, store.list_scans(account=result["b"].get("account"), counts=False))


def _short(value: Any, limit: int = 60) -> str:
    import json

    from pdguard.textsafe import safe_text

    text = safe_text(json.dumps(value, ensure_ascii=False) if not isinstance(value, str) else repr(value))
    return text if len(text) <= limit else text[: limit - 1] + "…"


def render_text(result: dict[str, Any]) -> str:
    """Human-readable rendering of a :func:`diff_scans` result (untrusted names, ids, messages
    and values neutralised: control and bidi characters become visible escapes)."""
    from pdguard.textsafe import safe_data

    result = safe_data(result)
    a, b, s = result["a"], result["b"], result["summary"]
    lines = [
        f"scan {a['id']} ({a.get('scanned_at')}) -> scan {b['id']} ({b.get('scanned_at')})",
        f"assets: {s['added']} added, {s['removed']} removed, {s['changed']} changed; "
        f"findings: {s['new_findings']} new, {s['fixed_findings']} fixed"
        + (f", {s['waived_findings']} waived" if s.get("waived_findings") else ""),
    ]
    assets = result["assets"]
    for kind, title, mark in (("added", "Added:", "+"), ("removed", "Removed:", "-"), ("changed", "Changed:", "~")):
        if assets[kind]:
            lines += ["", title]
        for x in assets[kind]:
            lines.append(f"  {mark} {x['type']} {x['id']} {x['name'] or ''}".rstrip())
            lines += _by(x)
            for field in x.get("fields") or []:
                if field in x["values"]:
                    v = x["values"][field]
                    lines.append(f"      {field}: {_short(v['old'])} -> {_short(v['new'])}")
                else:
                    lines.append(f"      {field}: (changed)")
    findings = result["findings"]
    for title, mark, items in (("New findings:", "+", findings["new"]), ("Fixed findings:", "-", findings["fixed"]),
                               ("Newly waived:", "~", findings.get("waived") or [])):
        if items:
            lines.append("")
            lines.append(title)
            for f in items:
                res = f.get("resource") or {}
                lines.append(
                    f"  {mark} [{f.get('severity')}] {f['policy_id']} {res.get('type')} {res.get('id')}: {f.get('msg')}"
                )
    if not any((assets["added"], assets["removed"], assets["changed"], findings["new"], findings["fixed"])):
        lines.append("no changes")
    elif any((assets["added"], assets["removed"], assets["changed"])) and not (result.get("audit") or {}).get("collected"):
        lines.append("")
        lines.append("who changed what: unknown (these scans hold no audit records: they need an admin-level key "
                     "and Audit Trail)")
    return "\n".join(lines) + "\n"


def _by(entry: dict[str, Any]) -> list[str]:
    """The "by <actor> at <time>" line of an asset entry (its text already made safe)."""
    from pdguard.inventory.audit import describe

    change = entry.get("changed_by")
    return [f"      by {describe(change)}"] if change else []
