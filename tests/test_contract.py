"""The simulator serves only what PagerDuty's OpenAPI spec has, and the scanner asks only what it accepts.

Strict on purpose: PagerDuty's schemas leave `additionalProperties` open, which would accept any
invented field; here every field of every object the simulator serves must be a property of the
spec's schema for that endpoint ($ref/allOf/oneOf/anyOf resolved), with the right type and enum
value. A scan of the bundled sample account and of a generated account runs over HTTP through a
recording simulator; every request it sends is checked against the spec's parameters for that
path (names, types, enums, include[] values) and every response against the response schema.

Two documented leniencies, both where the spec is known to disagree with the live API:
- `null` is accepted for any field (PagerDuty returns null for many fields the spec does not mark
  nullable: `description`, `num_loops`, `html_url`...).
- `ids[]` is accepted for the array parameter `ids` of `/standards/scores/{resource_type}`:
  PagerDuty's own Go client (go-pagerduty, used by terraform-provider-pagerduty) sends it so.

The spec describes list responses with `include[]` only in their reference form, so an included
sub-object is checked against the full object's schema (`INCLUDED`).

Skips when ../shared (the reference spec) is absent.
"""

from __future__ import annotations

import json
import re
from collections import Counter
from datetime import UTC, datetime
from functools import lru_cache
from typing import Any

import pytest
from conftest import SHARED

from pdguard.scanner import ScanOptions, scan
from pdguard.simulator import generate_account, sample_account, serve
from pdguard.simulator.server import Recorded

SPEC_PATH = SHARED / "pagerduty-rest-openapiv3.json"
pytestmark = pytest.mark.skipif(not SPEC_PATH.is_file(), reason=f"the PagerDuty OpenAPI spec is not here: {SPEC_PATH}")

NOW = datetime(2026, 11, 26, 9, 0, tzinfo=UTC)
TOKEN = "contract-token"

CONTACT_METHODS = {
    "email_contact_method": "EmailContactMethod",
    "phone_contact_method": "PhoneContactMethod",
    "sms_contact_method": "PhoneContactMethod",
    "push_notification_contact_method": "PushContactMethod",
    "whatsapp_contact_method": "WhatsAppContactMethod",
}
TARGETS = {"user": "User", "schedule": "Schedule", "schedule_v3_reference": "EscalationTargetReference"}
# (path, include[] value) -> (where in the body the included objects are, schema name or {type: schema name})
INCLUDED: dict[tuple[str, str], tuple[str, str | dict[str, str]]] = {
    ("/services", "integrations"): ("services[].integrations[]", "Integration"),
    ("/services", "escalation_policies"): ("services[].escalation_policy", "EscalationPolicy"),
    ("/services", "teams"): ("services[].teams[]", "Team"),
    ("/escalation_policies", "services"): ("escalation_policies[].services[]", "Service"),
    ("/escalation_policies", "teams"): ("escalation_policies[].teams[]", "Team"),
    ("/escalation_policies", "targets"): ("escalation_policies[].escalation_rules[].targets[]", TARGETS),
    ("/users", "contact_methods"): ("users[].contact_methods[]", CONTACT_METHODS),
    ("/users", "notification_rules"): ("users[].notification_rules[]", "NotificationRule"),
    ("/users", "teams"): ("users[].teams[]", "Team"),
}
def _template_regex(template: str) -> re.Pattern[str]:
    parts = re.split(r"(\{[^/]+?\})", template)
    return re.compile("^" + "".join(f"(?P<{x[1:-1]}>[^/]+)" if x.startswith("{") else re.escape(x) for x in parts) + "$")


_DATE_TIME = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})$")


class Spec:
    def __init__(self, raw: dict[str, Any]) -> None:
        self.raw = raw
        self.gets = {p: ops["get"] for p, ops in raw["paths"].items() if "get" in ops}
        self._patterns = [(_template_regex(p), p) for p in self.gets]
        # literal paths first: /users/me before /users/{id}
        self._patterns.sort(key=lambda x: x[1].count("{"))

    def resolve(self, node: Any) -> Any:
        while isinstance(node, dict) and "$ref" in node:
            target: Any = self.raw
            for part in node["$ref"][2:].split("/"):
                target = target[int(part)] if isinstance(target, list) else target[part]
            node = target
        return node

    def schema(self, name: str) -> dict[str, Any]:
        return self.raw["components"]["schemas"][name]

    def match(self, path: str) -> tuple[str, dict[str, str]] | None:
        for rx, template in self._patterns:
            m = rx.match(path)
            if m:
                return template, m.groupdict()
        return None

    def response_schema(self, template: str) -> dict[str, Any]:
        return self.gets[template]["responses"]["200"]["content"]["application/json"]["schema"]

    # -- bodies -------------------------------------------------------------------------------
    def _flatten(self, schema: Any) -> list[dict[str, Any]]:
        """allOf branches (nested ones too) as a flat list of resolved schemas."""
        out: list[dict[str, Any]] = []
        stack = [self.resolve(schema)]
        while stack:
            s = stack.pop(0)
            if "allOf" in s:
                stack = [self.resolve(b) for b in s["allOf"]] + [{k: v for k, v in s.items() if k != "allOf"}] + stack
            else:
                out.append(s)
        return out

    def check(self, schema: Any, value: Any, where: str, errors: list[str],
              overrides: dict[str, Any] | None = None) -> None:
        """Append to `errors` every way `value` departs from `schema` (no extra property allowed)."""
        overrides = overrides or {}
        key = re.sub(r"\[\d+\]", "[]", where)
        if key in overrides:
            schema, overrides = overrides[key], {k: v for k, v in overrides.items() if k != key}
            if isinstance(schema, dict) and "by_type" in schema:
                name = schema["by_type"].get(value.get("type")) if isinstance(value, dict) else None
                if name is None:
                    errors.append(f"{where}: included object of unexpected type {value!r:.80}")
                    return
                schema = self.schema(name)
        if value is None:
            return
        branches = self._flatten(schema)
        for b in branches:
            for kind in ("oneOf", "anyOf"):
                if kind in b:
                    tries = []
                    for option in b[kind]:
                        e: list[str] = []
                        self.check(option, value, where, e, overrides)
                        if not e:
                            break
                        tries.append(e)
                    else:
                        errors.extend(min(tries, key=len) if tries else [f"{where}: no {kind} branch"])
        plain = [b for b in branches if "oneOf" not in b and "anyOf" not in b]
        types = {b.get("type") for b in plain if b.get("type")}
        props: dict[str, list[Any]] = {}
        declares = False
        extra_schema = None
        for b in plain:
            if "properties" in b:
                declares = True
                for k, v in b["properties"].items():
                    props.setdefault(k, []).append(v)
            if isinstance(b.get("additionalProperties"), dict) and b["additionalProperties"]:
                extra_schema = b["additionalProperties"]
            if "enum" in b and value not in b["enum"]:
                errors.append(f"{where}: {value!r:.80} is not one of {b['enum']}")
        if isinstance(value, dict):
            if types - {"object"}:
                errors.append(f"{where}: an object where the spec has {sorted(types)}")
                return
            for k, v in value.items():
                if k in props:
                    for s in props[k]:
                        self.check(s, v, f"{where}.{k}", errors, overrides)
                elif extra_schema is not None and not declares:
                    self.check(extra_schema, v, f"{where}.{k}", errors, overrides)
                elif declares or extra_schema is not None:
                    errors.append(f"{where}.{k}: not in the spec")
                # else: the spec declares a free-form object here
            return
        if isinstance(value, list):
            if types and "array" not in types:
                errors.append(f"{where}: an array where the spec has {sorted(types)}")
                return
            items = [b["items"] for b in plain if "items" in b]
            for i, v in enumerate(value):
                for s in items:
                    self.check(s, v, f"{where}[{i}]", errors, overrides)
            return
        if declares:
            errors.append(f"{where}: {value!r:.60} where the spec has an object")
            return
        ok = {"string": isinstance(value, str), "boolean": isinstance(value, bool),
              "integer": isinstance(value, int) and not isinstance(value, bool),
              "number": isinstance(value, int | float) and not isinstance(value, bool)}
        for t in types:
            if t in ok and not ok[t]:
                errors.append(f"{where}: {value!r:.60} is not a {t}")
        if isinstance(value, str) and any(b.get("format") == "date-time" for b in plain) and not _DATE_TIME.match(value):
            errors.append(f"{where}: {value!r} is not an RFC 3339 date-time")

    def check_response(self, rec: Recorded) -> list[str]:
        found = self.match(rec.path)
        assert found, rec.path
        template = found[0]
        includes = {v for k, v in rec.query if k == "include[]"}
        overrides: dict[str, Any] = {}
        for inc in includes:
            spot = INCLUDED.get((template, inc))
            if spot:
                where, target = spot
                overrides[f"{template}.{where}"] = {"by_type": target} if isinstance(target, dict) else self.schema(target)
        errors: list[str] = []
        self.check(self.response_schema(template), json.loads(rec.body), template, errors, overrides)
        return errors

    # -- requests -----------------------------------------------------------------------------
    def parameters(self, template: str) -> dict[tuple[str, str], dict[str, Any]]:
        raw = list(self.raw["paths"][template].get("parameters", [])) + list(self.gets[template].get("parameters", []))
        return {(p["in"], p["name"]): p for p in (self.resolve(x) for x in raw)}

    def check_value(self, schema: Any, value: str, where: str) -> list[str]:
        s = self.resolve(schema)
        if s.get("type") == "array":
            return self.check_value(s.get("items", {}), value, where)
        t = s.get("type")
        if t == "integer":
            if not re.fullmatch(r"-?\d+", value):
                return [f"{where}: {value!r} is not an integer"]
            n = int(value)
            if ("minimum" in s and n < s["minimum"]) or ("maximum" in s and n > s["maximum"]):
                return [f"{where}: {n} is out of [{s.get('minimum')}, {s.get('maximum')}]"]
        if t == "boolean" and value not in ("true", "false"):
            return [f"{where}: {value!r} is not true/false"]
        if "enum" in s and value not in [str(e) for e in s["enum"]]:
            return [f"{where}: {value!r} is not one of {s['enum']}"]
        if s.get("format") == "date-time" and not _DATE_TIME.match(value):
            return [f"{where}: {value!r} is not an RFC 3339 date-time"]
        return []

    def check_request(self, rec: Recorded) -> list[str]:
        if rec.method != "GET":
            return [f"{rec.method} {rec.path}: the scanner only reads"]
        found = self.match(rec.path)
        if found is None:
            return [f"GET {rec.path}: no such path in the spec"]
        template, path_params = found
        params = self.parameters(template)
        errors: list[str] = []
        for name, value in path_params.items():
            p = params.get(("path", name))
            errors += self.check_value(p["schema"], value, f"{template} {name}") if p else [f"{template}: {name}?"]
        accept = params.get(("header", "Accept"))
        if accept and rec.accept != self.resolve(accept["schema"]).get("default"):
            errors.append(f"{template}: Accept header {rec.accept!r}")
        names = Counter(k for k, _ in rec.query)
        for name, value in rec.query:
            p = params.get(("query", name))
            if p is None and name.endswith("[]"):
                base = params.get(("query", name[:-2]))
                if base is not None and self.resolve(base["schema"]).get("type") == "array":
                    p = base  # `ids[]` for the array `ids` (see the module docstring)
            if p is None:
                errors.append(f"{template}: query parameter {name!r} is not in the spec")
                continue
            s = self.resolve(p["schema"])
            repeatable = s.get("type") == "array" or (p.get("explode") and name.endswith("[]")) or name.endswith("[]")
            if names[name] > 1 and not repeatable:
                errors.append(f"{template}: {name!r} given {names[name]} times")
            errors += self.check_value(s, value, f"{template} {name}")
        for (where, name), p in params.items():
            if where == "query" and p.get("required") and not (names[name] or names[f"{name}[]"]):
                errors.append(f"{template}: required query parameter {name!r} missing")
        return errors


@lru_cache(maxsize=1)
def spec() -> Spec:
    return Spec(json.loads(SPEC_PATH.read_text()))


def recorded_scan(account: Any) -> tuple[list[Recorded], dict[str, Any]]:
    with serve(account, tokens={TOKEN}, now=NOW, record=True) as server:
        doc = scan(ScanOptions(api_key=TOKEN, api_url=server.url, now=NOW, backoff_base=0.01)).document
        assert server.recorded is not None
        return list(server.recorded), doc


ACCOUNTS = {
    "sample": lambda: sample_account(now=NOW),
    "generated": lambda: generate_account(services=230, escalation_policies=30, schedules=40, users=120, teams=12,
                                          incidents=900, business_services=4, seed=7, now=NOW),
}


@pytest.fixture(scope="module", params=list(ACCOUNTS))
def scanned(request: pytest.FixtureRequest) -> tuple[Any, list[Recorded], dict[str, Any]]:
    account = ACCOUNTS[request.param]()
    recorded, doc = recorded_scan(account)
    return account, recorded, doc


def _report(errors: list[str], limit: int = 25) -> str:
    common = Counter(re.sub(r"\[\d+\]", "[]", e) for e in errors).most_common(limit)
    return "\n".join(f"{n:5d} x {e}" for e, n in common)


def test_every_request_the_scanner_sends_is_valid(scanned) -> None:
    _account, recorded, _doc = scanned
    assert recorded
    errors = [e for rec in recorded for e in spec().check_request(rec)]
    assert not errors, _report(errors)


def test_every_field_the_simulator_serves_is_in_the_spec(scanned) -> None:
    _account, recorded, _doc = scanned
    ok = [r for r in recorded if r.status == 200]
    assert len(ok) == len(recorded)
    errors = [e for rec in ok for e in spec().check_response(rec)]
    assert not errors, _report(errors)


def test_the_scan_saw_every_object_the_account_holds(scanned) -> None:
    """The two tests above covered the whole account: every object was served to the scanner."""
    account, recorded, doc = scanned
    served = b"".join(r.body for r in recorded)
    for name in ("services", "escalation_policies", "schedules", "flexible_schedules", "users", "teams",
                 "business_services", "addons", "extensions", "standards"):
        for obj in getattr(account, name):
            assert f'"id":"{obj["id"]}"'.encode() in served, (name, obj["id"])
    paths = {r.path for r in recorded}
    assert {"/v3/schedules", "/oncalls"} <= paths
    assert any(p.startswith("/v3/schedules/") for p in paths)
    # classic schedules: their layers from the list, their shifts from /oncalls over the window
    # (no request per schedule)
    assert not any(p.startswith("/schedules/") for p in paths)
    assert all(("include[]", "schedule_layers") in r.query for r in recorded if r.path == "/schedules")
    windows = {(dict(r.query).get("since"), dict(r.query).get("until")) for r in recorded if r.path == "/oncalls"}
    assert all(dict(r.query).get("time_zone") == "UTC" for r in recorded if r.path == "/oncalls")
    assert windows == {(doc["meta"]["oncall_window"]["since"], doc["meta"]["oncall_window"]["until"])}
    assert doc["meta"]["oncall_window"] == doc["meta"]["schedule_window"]


def test_an_incremental_scan_sends_valid_requests_only(tmp_path) -> None:
    """An incremental tick's own requests: incidents since the base, and `GET /incidents/{id}` for
    the base's incidents resolved since."""
    import copy
    from datetime import timedelta

    from conftest import free_port

    from pdguard.inventory.incremental import IncrementalSettings, plan_scan
    from pdguard.inventory.store import Store
    from pdguard.simulator.account import iso

    before = NOW - timedelta(hours=8)
    account = generate_account(services=60, escalation_policies=10, schedules=6, users=30, teams=5, incidents=600,
                               seed=3, now=before)
    port = free_port()
    with Store(f"sqlite:///{tmp_path / 'inv.sqlite'}") as store:
        with serve(account, tokens={TOKEN}, now=before, port=port) as server:
            store.save_scan(scan(ScanOptions(api_key=TOKEN, api_url=server.url, now=before)).document)
        later = copy.deepcopy(account)
        since = iso(NOW - timedelta(days=80))
        for inc in [i for i in later.incidents if i["status"] != "resolved" and i["created_at"] > since][:2]:
            inc.update(status="resolved", resolved_at=iso(before + timedelta(hours=1)), assignments=[],
                       acknowledgements=[])
        with serve(later, tokens={TOKEN}, now=NOW, port=port, record=True) as server:
            opts = plan_scan(store, ScanOptions(api_key=TOKEN, api_url=server.url, now=NOW),
                             IncrementalSettings()).opts
            doc = scan(opts).document
            recorded = list(server.recorded or [])
    assert doc["meta"]["incremental"] and doc["meta"]["incidents_merged"]["refetched"] == 2
    assert sum(1 for r in recorded if r.path.startswith("/incidents/")) == 2
    errors = [e for rec in recorded for e in spec().check_request(rec)]
    errors += [e for rec in recorded if rec.status == 200 for e in spec().check_response(rec)]
    assert not errors, _report(errors)


def test_included_forms_the_scanner_does_not_ask_for_are_in_the_spec_too() -> None:
    """What a user of the simulator can ask beyond the scan (include[] of other objects, the
    schedules list with its layers, on-calls over a window, a flexible schedule's render)."""
    account = sample_account(now=NOW)
    requests = [
        ("/services", [("include[]", "escalation_policies"), ("include[]", "teams"), ("include[]", "integrations")]),
        ("/escalation_policies", [("include[]", "services"), ("include[]", "teams"), ("include[]", "targets")]),
        ("/users", [("include[]", "teams")]),
        ("/schedules", [("include[]", "schedule_layers"), ("include[]", "final_schedule")]),
        ("/oncalls", [("since", "2026-11-26T09:00:00Z"), ("until", "2026-12-03T09:00:00Z"), ("earliest", "true")]),
        ("/schedules/PSCHGAP", []),
        ("/v3/schedules/PFSSRCH", [("include[]", "final_schedule"), ("since", "2026-11-26T09:00:00Z"),
                                   ("until", "2026-12-03T09:00:00Z"), ("time_zone", "UTC"), ("overflow", "true")]),
    ]
    import httpx

    with serve(account, now=NOW, record=True) as server, httpx.Client(base_url=server.url) as client:
        for path, params in requests:
            paged = path.count("/") == 1
            r = client.get(path, params=params + [("limit", 100)] if paged else params,
                           headers={"Accept": "application/vnd.pagerduty+json;version=2"})
            assert r.status_code == 200, (path, r.text)
        recorded = list(server.recorded or [])
    errors = [e for rec in recorded for e in spec().check_response(rec)]
    assert not errors, _report(errors)


def test_the_checker_rejects_what_the_spec_does_not_have() -> None:
    """The checker itself: an invented field, a wrong enum value, a wrong type, a reference where
    an included object is expected, an unknown parameter or include[] value are all caught."""
    s = spec()
    svc = {"id": "P1", "type": "service", "name": "x", "escalation_policy": {"id": "E", "type": "escalation_policy_reference"}}
    body = {"services": [svc], "limit": 1, "offset": 0, "more": False, "total": None}

    def errors_of(b: dict[str, Any], query: list[tuple[str, str]] | None = None) -> list[str]:
        return s.check_response(Recorded("GET", "/services", query or [], None, 200, json.dumps(b).encode()))

    assert errors_of(body) == []
    assert errors_of({**body, "services": [{**svc, "updated_at": "2026-01-01T00:00:00Z"}]})  # services have none
    assert errors_of({**body, "services": [{**svc, "status": "sleeping"}]})
    assert errors_of({**body, "services": [{**svc, "name": 3}]})
    assert errors_of({**body, "total": "many"})
    integ_ref = {"id": "I", "type": "events_api_v2_inbound_integration_reference"}
    assert errors_of({**body, "services": [{**svc, "integrations": [integ_ref]}]}) == []
    assert errors_of({**body, "services": [{**svc, "integrations": [integ_ref]}]}, [("include[]", "integrations")])
    full = {"id": "I", "type": "events_api_v2_inbound_integration", "name": "Events API V2", "created_at": "2026-01-01T00:00:00Z"}
    assert errors_of({**body, "services": [{**svc, "integrations": [full]}]}, [("include[]", "integrations")]) == []
    assert errors_of({**body, "services": [{**svc, "integrations": [{**full, "integration_key": "k"}]}]},
                     [("include[]", "integrations")])
    ok = Recorded("GET", "/services", [("include[]", "integrations"), ("limit", "100")],
                  "application/vnd.pagerduty+json;version=2", 200, b"")
    assert s.check_request(ok) == []
    for bad in ([("include[]", "schedules")], [("colour", "red")], [("limit", "lots")], [("total", "yes")]):
        assert s.check_request(Recorded("GET", "/services", bad, ok.accept, 200, b"")), bad
    assert s.check_request(Recorded("GET", "/schedules/P1", [("include[]", "final_schedule")], ok.accept, 200, b""))
    assert s.check_request(Recorded("GET", "/services", [], None, 200, b""))  # no versioned Accept header
    assert s.check_request(Recorded("GET", "/standards/scores/technical_services", [], ok.accept, 200, b""))
