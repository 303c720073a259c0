"""`pdguard explain`: why a finding is there - the finding, the policy's text, and the excerpt of the
snapshot it judged (the resource, the objects it references, and the entries that name it).

Like `conftest --trace`, but for a reader: no evaluation trace, the evidence instead. Every string
from PagerDuty goes through `safe_text` in the text form (the JSON form is data).
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from pdguard.errors import ConfigError
from pdguard.findings import Finding, PolicyInfo, Report
from pdguard.textsafe import safe_text

# resource type -> collection (as data.pdguard.lib.collection_of)
COLLECTION_OF = {
    "service": "services", "escalation_policy": "escalation_policies", "schedule": "schedules",
    "flexible_schedule": "flexible_schedules", "incident": "incidents", "team": "teams", "user": "users",
    "business_service": "business_services", "service_dependency": "service_dependencies", "addon": "addons",
    "extension": "extensions", "standard": "standards",
}
# reference type -> collection
REFERENCE_COLLECTION = {
    "service_reference": "services", "technical_service_reference": "services",
    "escalation_policy_reference": "escalation_policies", "schedule_reference": "schedules",
    "schedule_v3_reference": "flexible_schedules", "user_reference": "users", "team_reference": "teams",
    "business_service_reference": "business_services", "incident_reference": "incidents",
}
MAX_ITEMS = 25  # longer lists in an excerpt are cut (the rest counted)
MAX_RELATED = 20


@dataclass
class Excerpt:
    collection: str | None
    resource: dict[str, Any] | None
    references: dict[str, dict[str, Any]] = field(default_factory=dict)  # "users/PUSR001" -> object
    related: dict[str, list[Any]] = field(default_factory=dict)  # "oncalls" -> entries naming it

    def as_dict(self) -> dict[str, Any]:
        return {"collection": self.collection, "resource": self.resource, "references": self.references,
                "related": self.related}


def _index(doc: dict[str, Any]) -> dict[str, dict[str, dict[str, Any]]]:
    out: dict[str, dict[str, dict[str, Any]]] = {}
    for coll in set(COLLECTION_OF.values()):
        items = doc.get(coll)
        if isinstance(items, list):
            out[coll] = {str(o["id"]): o for o in items if isinstance(o, dict) and "id" in o}
    return out


def _refs(value: Any) -> list[tuple[str, str]]:
    """(collection, id) of every reference inside value."""
    found: list[tuple[str, str]] = []
    if isinstance(value, dict):
        coll = REFERENCE_COLLECTION.get(str(value.get("type")))
        if coll and "id" in value:
            found.append((coll, str(value["id"])))
        for v in value.values():
            found += _refs(v)
    elif isinstance(value, list):
        for v in value:
            found += _refs(v)
    return found


def _cut(value: Any) -> Any:
    """The value with lists longer than MAX_ITEMS cut (and a note of how many were left out)."""
    if isinstance(value, dict):
        return {k: _cut(v) for k, v in value.items()}
    if isinstance(value, list):
        head = [_cut(v) for v in value[:MAX_ITEMS]]
        return head + ([f"... {len(value) - MAX_ITEMS} more"] if len(value) > MAX_ITEMS else [])
    return value


def _mentions(value: Any, rid: str) -> bool:
    if isinstance(value, dict):
        return str(value.get("id")) == rid or str(value.get("resource_id")) == rid or any(
            _mentions(v, rid) for v in value.values())
    if isinstance(value, list):
        return any(_mentions(v, rid) for v in value)
    return False


def find_resource(doc: dict[str, Any], wanted: str, rtype: str | None = None) -> tuple[str, dict[str, Any]] | None:
    """(resource type, object) with this id - or this name when no id matches."""
    index = _index(doc)
    types = [rtype] if rtype else list(COLLECTION_OF)
    for t in types:
        obj = index.get(COLLECTION_OF.get(t, ""), {}).get(wanted)
        if obj is not None:
            return t, obj
    for t in types:
        for obj in index.get(COLLECTION_OF.get(t, ""), {}).values():
            if obj.get("name") == wanted:
                return t, obj
    return None


def excerpt(doc: dict[str, Any], rtype: str, rid: str) -> Excerpt:
    """The resource, the objects it references (one step), and the entries of other collections
    that name it (on-calls, scores, dependencies, standards' scopes, objects referencing it)."""
    index = _index(doc)
    coll = COLLECTION_OF.get(rtype)
    resource = index.get(coll or "", {}).get(rid)
    ex = Excerpt(coll, _cut(resource) if resource is not None else None)
    if resource is not None:
        for rcoll, ref_id in _refs(resource):
            obj = index.get(rcoll, {}).get(ref_id)
            key = f"{rcoll}/{ref_id}"
            if obj is not None and key not in ex.references and (rcoll, ref_id) != (coll, rid):
                ex.references[key] = _cut(obj)
    for name in ("oncalls", "standards_scores", "service_dependencies", "standards"):
        items = doc.get(name)
        if isinstance(items, list):
            hits = [_cut(o) for o in items if _mentions(o, rid)]
            if hits:
                ex.related[name] = hits[:MAX_RELATED] + (
                    [f"... {len(hits) - MAX_RELATED} more"] if len(hits) > MAX_RELATED else [])
    back = []
    for other, objs in index.items():
        for oid, obj in objs.items():
            if (other, oid) != (coll, rid) and (coll, rid) in _refs(obj):
                back.append({"type": other, "id": oid, "name": obj.get("name") or obj.get("summary")})
    if back:
        ex.related["referenced_by"] = back[:MAX_RELATED] + (
            [f"... {len(back) - MAX_RELATED} more"] if len(back) > MAX_RELATED else [])
    return ex


def select(report: Report, *, fingerprint: str | None = None, policy_id: str | None = None,
           resource: str | None = None) -> list[Finding]:
    """The findings (waived ones too) with this fingerprint (or a unique prefix of 8+ characters),
    or of this policy about this resource (id or name)."""
    everything = list(report.findings) + list(report.waived)
    if fingerprint:
        fp = fingerprint.strip().lower()
        if len(fp) < 8:
            raise ConfigError("a fingerprint needs at least 8 characters (the JSON report and SARIF give 32)")
        hits = [f for f in everything if f.fingerprint.startswith(fp)]
        if len({f.fingerprint for f in hits}) > 1:
            raise ConfigError(f"fingerprint {fp} is ambiguous ({len(hits)} findings): give more characters")
        return hits
    return [f for f in everything if f.policy_id == policy_id
            and resource in (f.resource.id, f.resource.name)]


def as_json(findings: list[Finding], info: PolicyInfo | None, ex: Excerpt, meta: dict[str, Any]) -> str:
    return json.dumps({
        "findings": [f.model_dump(mode="json") for f in findings],
        "policy": info.model_dump(mode="json") if info else None,
        "input": {"scanned_at": meta.get("scanned_at"), "account": meta.get("account_subdomain"), **ex.as_dict()},
    }, indent=2, ensure_ascii=False)


def _block(value: Any, indent: str = "    ") -> list[str]:
    text = json.dumps(value, indent=2, ensure_ascii=False)
    return [indent + line for line in safe_text(text, multiline=True).splitlines()]


def as_text(findings: list[Finding], info: PolicyInfo | None, ex: Excerpt, meta: dict[str, Any],
            rtype: str, rid: str, policy_id: str | None = None) -> str:
    lines: list[str] = []
    if findings:
        for f in findings:
            state = f"waived ({f.waiver.reason})" if f.waived and f.waiver else f.severity
            lines += [
                "  ".join(safe_text(part) for part in (f.policy_id, state, f.title)),
                "  " + safe_text(f"{f.resource.type} {f.resource.id} {json.dumps(f.resource.name)}"),
                "  finding: " + safe_text(f.msg),
                f"  fingerprint: {f.fingerprint}",
            ]
            if f.details:
                lines.append("  details (part of the fingerprint): " + safe_text(json.dumps(f.details, sort_keys=True)))
    else:
        lines.append(safe_text(f"{policy_id} reports nothing about {rtype} {rid}: it passes"))
    if info is not None:
        lines += ["", safe_text(f"Why - {info.title} ({info.file}, package {info.package}):")]
        lines += ["  " + safe_text(info.description or "(no description)")]
        if info.settings:
            lines.append("  settings it reads: " + ", ".join(info.settings))
        if info.remediation:
            lines += ["", "Remediation:", "  " + safe_text(" ".join(info.remediation.split()))]
        if info.docs_url:
            lines.append(f"  {info.docs_url}")
    when = meta.get("scanned_at")
    lines += ["", f"The input it judged (snapshot of {safe_text(str(meta.get('account_subdomain') or 'the account'))}, "
                  f"scanned at {safe_text(str(when))}):"]
    if ex.resource is None:
        lines.append("  " + safe_text(f"{rtype} {rid} is not in the snapshot (a planned object, or one the scan did "
                                      "not collect)"))
    else:
        lines.append("  " + safe_text(f"{ex.collection}/{rid}:"))
        lines += _block(ex.resource)
    if ex.references:
        lines += ["", "  what it references:"]
        for key, obj in ex.references.items():
            lines.append("  " + safe_text(f"{key}:"))
            lines += _block(obj)
    if ex.related:
        lines += ["", "  what names it:"]
        for key, items in ex.related.items():
            lines.append("  " + safe_text(f"{key}:"))
            lines += _block(items)
    return "\n".join(lines)
