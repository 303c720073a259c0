"""Audit records of a simulated account, and ``GET /audit/records`` as PagerDuty serves them.

Faithful to the spec and the behaviour notes (``pagerduty-api-behaviour.md``):

- records newest first (``execution_time`` descending), in the ``AuditRecord`` shape: ``id``,
  ``execution_time`` (millisecond precision), ``execution_context``, ``actors`` (user, API key or
  app references; absent when PagerDuty does not name one), ``method`` (``type``:
  browser | oauth | api_token | identity_provider | other; ``truncated_token`` for tokens),
  ``root_resource``, ``action`` (create | update | delete), ``details`` (``resource``,
  ``fields`` with ``value``/``before_value``, ``references`` with ``added``/``removed``);
- cursor pagination: ``limit`` (at most 100), ``next_cursor`` (null on the last page), an opaque
  ``cursor`` that only works with the query it came from; no ``offset``, ``total`` or ``more``;
- ``since`` defaults to 24 hours before ``until`` (default now), ``until`` may not be more than
  31 days after ``since`` (HTTP 400); records are kept 12 months;
- the account-wide list needs an admin or account-owner user key, or an account (global) key,
  on a plan with Audit Trail: HTTP 403 otherwise (the behaviour notes; the spec also lists a 402
  "Account does not have the abilities", which the scanner treats the same way);
  ``/{resource}/{id}/audit/records`` answer any key that reads the resource (role-based
  access), Audit Trail still required.
"""

from __future__ import annotations

import base64
import hashlib
import json
import random
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from pdguard.simulator.account import Account, make_ref, parse_time

MAX_LIMIT = 100
MAX_SPAN = timedelta(days=31)
RETENTION = timedelta(days=365)
ADMIN_ROLES = ("admin", "owner")
ROOT_TYPES = {  # root_resource_types[] value -> reference type of the root resource
    "users": "user_reference", "teams": "team_reference", "schedules": "schedule_reference",
    "escalation_policies": "escalation_policy_reference", "services": "service_reference",
    "ip_allow_lists": "ip_allow_list_reference",
}
# /{collection}/{id}/audit/records -> reference type of the root resource
RESOURCE_PATHS = {
    "services": "service_reference", "escalation_policies": "escalation_policy_reference",
    "schedules": "schedule_reference", "teams": "team_reference", "users": "user_reference",
}


class AuditError(Exception):
    def __init__(self, status: int, message: str, code: int, errors: list[str] | None = None) -> None:
        super().__init__(message)
        self.status, self.message, self.code, self.errors = status, message, code, errors


def _ms(dt: datetime) -> str:
    return dt.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.") + f"{dt.microsecond // 1000:03d}Z"


TERRAFORM_KEY = {"id": "PKEYTF1", "type": "api_key_reference", "summary": "terraform-ci",
                 "self": None, "html_url": None}


def make_record(rid: str, at: datetime, root: dict[str, Any], action: str, *, actor: dict[str, Any] | None,
                method: str, fields: list[dict[str, Any]] | None = None, resource: dict[str, Any] | None = None,
                references: list[dict[str, Any]] | None = None, remote: str = "203.0.113.10") -> dict[str, Any]:
    """One audit record; `root`/`resource`/`actor` are objects or references."""
    root_ref = make_ref(root)
    rec: dict[str, Any] = {
        "id": rid,
        "self": f"https://api.pagerduty.com/audit/records/{rid}",
        "execution_time": _ms(at),
        "execution_context": {"request_id": f"req-{rid.lower()}", "remote_address": remote},
        "method": {"type": method},
        "root_resource": root_ref,
        "action": action,
        "details": {"resource": make_ref(resource) if resource is not None else root_ref},
    }
    if method in ("api_token", "oauth"):
        rec["method"]["truncated_token"] = hashlib.sha256(rid.encode()).hexdigest()[:4]
    if actor is not None:
        rec["actors"] = [make_ref(actor)]
    if fields:
        rec["details"]["fields"] = fields
    if references:
        rec["details"]["references"] = references
    return rec


def generate_records(account: Account, now: datetime, seed: int = 0) -> list[dict[str, Any]]:
    """Deterministic records over the last 60 days: web edits of some services, Terraform (an
    API key) updating escalation policies, members added to teams, services created and
    deleted. Newest first. Uses its own random stream: the account itself is unchanged."""
    rng = random.Random(f"audit:{seed}")
    people = [u for u in account.users if u.get("role") in ADMIN_ROLES] or account.users[:1]
    out: list[dict[str, Any]] = []

    def when() -> datetime:
        return now - timedelta(days=rng.randrange(60), seconds=rng.randrange(86_400), milliseconds=rng.randrange(1000))

    def rid() -> str:
        return f"R{len(out):05d}{rng.randrange(36**4):04X}"

    for i, svc in enumerate(account.services):
        if i % 6 == 0 and people:
            out.append(make_record(rid(), when(), svc, "update", actor=rng.choice(people), method="browser",
                                   fields=[{"name": "description", "description": "Description",
                                            "before_value": "", "value": svc.get("description") or ""}]))
        elif i % 23 == 1:
            out.append(make_record(rid(), when(), svc, "create", actor=TERRAFORM_KEY, method="api_token",
                                   fields=[{"name": "name", "value": svc.get("name")}]))
    for i, ep in enumerate(account.escalation_policies):
        if i % 4 == 0:
            out.append(make_record(rid(), when(), ep, "update", actor=TERRAFORM_KEY, method="api_token",
                                   fields=[{"name": "num_loops", "before_value": "0",
                                            "value": str(ep.get("num_loops") or 0)}]))
    for team in account.teams:
        members = [u for u in account.users if any(t.get("id") == team["id"] for t in u.get("teams") or [])]
        if members and people:
            out.append(make_record(rid(), when(), team, "update", actor=rng.choice(people), method="browser",
                                   references=[{"name": "members", "added": [make_ref(rng.choice(members))]}]))
    for _ in range(max(1, len(account.services) // 50)):
        gone = {"id": f"PGONE{rng.randrange(36**2):02X}", "type": "service", "summary": "retired-service",
                "self": None, "html_url": None}
        out.append(make_record(rid(), when(), gone, "delete", actor=rng.choice(people) if people else None,
                               method="browser", fields=[{"name": "name", "before_value": "retired-service"}]))
    out.sort(key=lambda r: r["execution_time"], reverse=True)
    return out


# ------------------------------------------------------------------------------------- serving


@dataclass
class Query:
    since: datetime
    until: datetime
    limit: int
    root_types: frozenset[str]
    actions: frozenset[str]
    actor_type: str | None
    actor_id: str | None
    method_type: str | None


def _first(q: dict[str, list[str]], name: str) -> str | None:
    values = q.get(name)
    return values[0] if values else None


def _time(value: str, name: str) -> datetime:
    try:
        return parse_time(value)
    except ValueError:
        raise AuditError(400, "Invalid Input Provided", 2001, [f"{name} is not a valid ISO 8601 date"]) from None


def parse_query(q: dict[str, list[str]], now: datetime) -> Query:
    until = _time(u, "until") if (u := _first(q, "until")) else now
    since = _time(s, "since") if (s := _first(q, "since")) else until - timedelta(hours=24)
    if until < since:
        raise AuditError(400, "Invalid Input Provided", 2001, ["until must be after since"])
    if until - since > MAX_SPAN:
        raise AuditError(400, "Invalid Input Provided", 2001, ["until may not be more than 31 days after since"])
    raw = _first(q, "limit")
    try:
        limit = int(raw) if raw else MAX_LIMIT
    except ValueError:
        raise AuditError(400, "Invalid Input Provided", 2001, ["limit must be an integer"]) from None
    limit = min(max(limit, 1), MAX_LIMIT)
    roots = frozenset(q.get("root_resource_types[]", []))
    bad = roots - set(ROOT_TYPES)
    if bad:
        raise AuditError(400, "Invalid Input Provided", 2001, [f"root_resource_types[] has invalid values: {sorted(bad)}"])
    actor_type, actor_id = _first(q, "actor_type"), _first(q, "actor_id")
    if actor_id and not actor_type:
        raise AuditError(400, "Invalid Input Provided", 2001, ["actor_id must be qualified by actor_type"])
    return Query(since, until, limit, roots, frozenset(q.get("actions[]", [])), actor_type, actor_id,
                 _first(q, "method_type"))


def _matches(rec: dict[str, Any], query: Query, root: tuple[str, str] | None, oldest: datetime) -> bool:
    at = parse_time(rec["execution_time"])
    if not (query.since <= at < query.until) or at < oldest:
        return False
    rr = rec.get("root_resource") or {}
    if root is not None and (rr.get("type"), rr.get("id")) != root:
        return False
    if query.root_types and rr.get("type") not in {ROOT_TYPES[t] for t in query.root_types}:
        return False
    if query.actions and rec.get("action") not in query.actions:
        return False
    if query.method_type and (rec.get("method") or {}).get("type") != query.method_type:
        return False
    if query.actor_type:
        actors = rec.get("actors") or []
        if not any(a.get("type") == query.actor_type and (not query.actor_id or a.get("id") == query.actor_id)
                   for a in actors):
            return False
    return True


def _fingerprint(q: dict[str, list[str]], root: tuple[str, str] | None) -> str:
    key = sorted((k, tuple(v)) for k, v in q.items() if k not in ("cursor", "limit"))
    return hashlib.sha256(json.dumps([key, root]).encode()).hexdigest()[:12]


def page(account: Account, q: dict[str, list[str]], now: datetime, *, root: tuple[str, str] | None = None,
         role: str | None = None, account_key: bool = True) -> dict[str, Any]:
    """One page of ``GET /audit/records`` (``root``: the per-resource endpoint's resource).

    ``account_key``: the request carries an account-level (global) key; else ``role`` is the
    role of the key's user."""
    if not account.audit_trail:
        raise AuditError(403, "Access Denied", 2010, ["Audit Trail is not available on this account's plan"])
    if root is None and not account_key and role not in ADMIN_ROLES:
        raise AuditError(403, "Access Denied", 2010,
                         ["Only admins, account owners, or global API tokens can access audit records"])
    query = parse_query(q, now)
    fp = _fingerprint(q, root)
    start = 0
    cursor = _first(q, "cursor")
    if cursor:
        try:
            data = json.loads(base64.urlsafe_b64decode(cursor.encode() + b"==="))
            start, cursor_fp = int(data["o"]), str(data["q"])
        except (ValueError, KeyError, TypeError):
            raise AuditError(400, "Invalid Input Provided", 2001, ["cursor is not valid"]) from None
        if cursor_fp != fp or start < 0:
            raise AuditError(400, "Invalid Input Provided", 2001, ["cursor does not belong to this query"])
    records = [r for r in account.audit_records if _matches(r, query, root, now - RETENTION)]
    records.sort(key=lambda r: r["execution_time"], reverse=True)
    chunk = records[start:start + query.limit]
    nxt = None
    if start + query.limit < len(records):
        nxt = base64.urlsafe_b64encode(json.dumps({"o": start + query.limit, "q": fp}).encode()).decode().rstrip("=")
    return {"records": chunk, "next_cursor": nxt, "limit": query.limit}


def sample_records(account: Account, now: datetime) -> list[dict[str, Any]]:
    """The demo account's story: Ava (admin) edits checkout-api in the web UI, Terraform's key
    updates the Platform escalation policy, Ava adds Sam to the Platform team, Ben deletes a
    retired service; a record of two months ago falls outside the default 30-day window."""
    by_id = {o["id"]: o for name in ("services", "escalation_policies", "teams", "users")
             for o in getattr(account, name)}
    ava, ben, sam = by_id.get("PUSRAVA"), by_id.get("PUSRBEN"), by_id.get("PUSRSAM")
    out = []
    if "PSVCCHK" in by_id and ava:
        out.append(make_record("RSAMPLE0001", now - timedelta(days=2, hours=3, milliseconds=412), by_id["PSVCCHK"],
                               "update", actor=ava, method="browser",
                               fields=[{"name": "description", "description": "Description",
                                        "before_value": "Checkout API", "value": by_id["PSVCCHK"].get("description")}]))
    if "PEPPLAT" in by_id:
        out.append(make_record("RSAMPLE0002", now - timedelta(days=10, minutes=7), by_id["PEPPLAT"], "update",
                               actor=TERRAFORM_KEY, method="api_token",
                               fields=[{"name": "num_loops", "before_value": "1", "value": "2"}]))
    if "PTMPLAT" in by_id and ava and sam:
        out.append(make_record("RSAMPLE0003", now - timedelta(days=5, hours=1), by_id["PTMPLAT"], "update",
                               actor=ava, method="browser",
                               references=[{"name": "members", "added": [make_ref(sam)]}]))
    if ben:
        gone = {"id": "PSVCOLD", "type": "service", "summary": "legacy-reports", "self": None, "html_url": None}
        out.append(make_record("RSAMPLE0004", now - timedelta(days=20), gone, "delete", actor=ben, method="browser",
                               fields=[{"name": "name", "before_value": "legacy-reports"}]))
    if "PSVCCHK" in by_id and ava:
        out.append(make_record("RSAMPLE0005", now - timedelta(days=61), by_id["PSVCCHK"], "update", actor=ava,
                               method="browser", fields=[{"name": "name", "before_value": "checkout",
                                                          "value": "checkout-api"}]))
    out.sort(key=lambda r: r["execution_time"], reverse=True)
    return out
