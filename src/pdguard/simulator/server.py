"""A PagerDuty-faithful local REST API v2 server (read-only) over an `Account`, with fault injection.

Faithful behaviours (checked against PagerDuty's OpenAPI spec and the behaviour notes in
``pagerduty-api-behaviour.md``; ``tests/test_contract.py`` holds every response to the spec):
classic pagination envelope (`offset`, `limit` ≤ 100, `more`, `total` null unless `total=true`),
`offset+limit > 10000` → 400 (code 2002), `include[]` expansion vs `<type>_reference` forms,
incidents `since`/`until` (default last month, max 6 months, `date_range=all`), `statuses[]`,
`urgencies[]`, `service_ids[]`, `sort_by`, `ratelimit-*` headers and 429s, the error envelope
`{"error": {"message", "code", "errors"?}}`, `Token token=` / `Bearer` auth (401 code 2006,
403 code 2010).

Schedules: the `/schedules` list never renders `final_schedule` or `overrides_subschedule`
(whatever `include[]` says); `GET /schedules/{id}` renders the layers, overrides and final
schedule for `since`/`until` only when `time_zone` is given too, cutting entries at the window's
edges unless `overflow=true`. Flexible schedules: `/v3/schedules` lists `schedule_v3_reference`s
(no `total`), `GET /v3/schedules/{id}` returns the object (`include[]=final_schedule` with
`since`/`until` adds the computed assignments), `GET /schedules/{id}` is 404 for them.
`/oncalls` is computed for `since`/`until` (default now; `earliest`), leaves out schedules on
no escalation policy and gives direct user targets null `start`/`end`. `/audit/records` and
`/{resource}/{id}/audit/records`: cursor-paginated audit records (see ``simulator.audit``: 31-day
windows, admin-level keys only for the account-wide list, 403 without Audit Trail).

`record=True` keeps every request (method, path, query, Accept header, status, body) in
`server.recorded` for contract tests.
"""

from __future__ import annotations

import bisect
import calendar
import json
import random
import socket
import threading
import time
from collections import Counter
from collections.abc import Callable, Collection, Iterable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, parse_qsl, urlsplit

import orjson

from pdguard.simulator.account import EXPANSIONS, INTERNAL_FIELDS, Account, make_ref, parse_time
from pdguard.simulator.render import Window, compute_oncalls, render_flexible, render_schedule, zone
from pdguard.snapshot import COLLECTIONS

MAX_LIMIT = 100
DEFAULT_LIMIT = 25
MAX_OFFSET_PLUS_LIMIT = 10000
OFFSET_MESSAGE = (
    "Offset+limit exceeds maximum allowed value of 10000. Please try to refine your search to reduce "
    "the returned set of records below this number, like adding a date range."
)
JSON = "application/json; charset=utf-8"
_DRIP = "X-Pdguard-Sim-Drip"  # internal: the handler sends this response's body slowly (never sent)

# path -> collection, for paginated list endpoints
LIST_ENDPOINTS = {
    "/services": "services",
    "/escalation_policies": "escalation_policies",
    "/schedules": "schedules",
    "/incidents": "incidents",
    "/teams": "teams",
    "/users": "users",
    "/business_services": "business_services",
    "/addons": "addons",
    "/extensions": "extensions",
    "/oncalls": "oncalls",
    "/v3/schedules": "flexible_schedules",
}
# GET /x/{id}: the object under its singular key (schedules and flexible schedules are rendered)
SINGULAR = {k: v for k, v in COLLECTIONS.items()
            if k in LIST_ENDPOINTS.values() and k not in ("oncalls", "schedules", "flexible_schedules")}
V3_MAX_LIMIT = 1000  # /v3/schedules: limit 1..1000, default 100, no `total` in the response
V3_DEFAULT_LIMIT = 100


@dataclass
class Recorded:
    """One request the simulator answered (kept when the server runs with `record=True`)."""

    method: str
    path: str
    query: list[tuple[str, str]]
    accept: str | None
    status: int
    body: bytes


@dataclass
class FaultConfig:
    """Fault injection and rate limiting. Random decisions come from `random.Random(seed)`.

    Faults (except `latency_ms` and the real `rate_limit`) only hit paths starting with one of
    `paths` (all paths when None).
    """

    latency_ms: float = 0.0  # response time: each response goes out this long after its request arrived
    #   (the time the simulator takes to prepare it counts toward it, as in a real API's response time;
    #   one that takes longer to prepare goes out when ready: see ServerStats.late_seconds)
    rate_limit: int | None = None  # requests per window; None = unlimited (headers still sent)
    window_seconds: float = 60.0
    rate_429_probability: float = 0.0  # random 429s
    rate_429_reset_header: bool = True  # include ratelimit-reset on random 429s
    rate_429_reset_seconds: int = 1
    p_5xx: float = 0.0  # random 500/502/503
    burst_5xx: int = 0  # the next N (faultable) requests fail with 503
    p_timeout: float = 0.0  # sleep `timeout_sleep` seconds before answering
    timeout_sleep: float = 5.0
    p_truncated: float = 0.0  # 200 with a truncated JSON body
    null_items: Collection[str] = ()  # collections whose list pages carry `null` in place of the first object
    always_more: bool = False  # broken server: `more: true` forever, offset ignored
    paths: Collection[str] | None = None  # path prefixes faults apply to
    seed: int = 0
    # --- Scan-integrity faults (issue 8): how real servers and proxies lose objects. The first
    # four take their own path prefixes; the others hit the faultable paths (`paths`).
    ignore_offset: Collection[str] = ()  # `offset` ignored: page 1 served, the asked offset echoed, `more` from it
    repeat_first_page: Collection[str] = ()  # a caching proxy keyed without `offset` (or the audit records'
    #   `cursor`): later pages = the query's page 1
    no_total: Collection[str] = ()  # `total` stays null even with `total=true`
    vanish: Mapping[str, int] = field(default_factory=dict)  # path -> n: once page 1 of it is served, its first n
    #   objects are deleted (offsets shift under a client that is paging)
    forbid: Collection[str] = ()  # path prefixes answered 403 (code 2010) whatever the key: a missing OAuth scope
    forbid_status: int = 403  # 402: the spec's "Account does not have the abilities" (a feature not on the plan)
    burst_429: int = 0  # the next N faultable requests answer 429
    ratelimit_headers: Mapping[str, str] = field(default_factory=dict)  # replace rate-limit headers of faultable
    #   responses (429s included), e.g. {"ratelimit-reset": "inf"} or {"ratelimit-remaining": "0", ...: "3600"}
    burst_drip: int = 0  # the next N faultable 200s send their body in small chunks over `drip_seconds`
    drip_seconds: float = 10.0

    def applies_to(self, path: str) -> bool:
        return self.paths is None or any(path.startswith(p) for p in self.paths)


@dataclass
class ServerStats:
    requests: int = 0
    by_path: Counter = field(default_factory=Counter)
    by_status: Counter = field(default_factory=Counter)
    rate_limited: int = 0  # 429s served (real limit + injected)
    faults: Counter = field(default_factory=Counter)  # kind -> count
    in_flight: int = 0
    max_in_flight: int = 0
    # The simulator's own cost, from the moment a request line is read to the moment its response is
    # written: `service_seconds` sums the time spent preparing responses (routing, rendering, JSON),
    # `late_seconds` the time responses went out after their due time (arrival + latency_ms), which is
    # what the server adds to a client's wait beyond the configured latency (its CPU or GIL, not the client).
    service_seconds: float = 0.0
    late_seconds: float = 0.0
    lock: threading.Lock = field(default_factory=threading.Lock, repr=False, compare=False)

    @property
    def faults_served(self) -> int:
        return sum(self.faults.values())

    def as_dict(self) -> dict[str, Any]:
        with self.lock:
            return {
                "requests": self.requests,
                "by_path": dict(self.by_path),
                "by_status": {str(k): v for k, v in self.by_status.items()},
                "rate_limited": self.rate_limited,
                "faults": dict(self.faults),
                "faults_served": sum(self.faults.values()),
                "max_in_flight": self.max_in_flight,
                "service_seconds": round(self.service_seconds, 6),
                "late_seconds": round(self.late_seconds, 6),
            }

    def reset(self) -> None:
        with self.lock:
            self.requests = self.rate_limited = self.max_in_flight = 0
            self.service_seconds = self.late_seconds = 0.0
            self.by_path.clear()
            self.by_status.clear()
            self.faults.clear()


class ApiError(Exception):
    def __init__(self, status: int, message: str, code: int, errors: list[str] | None = None) -> None:
        super().__init__(message)
        self.status = status
        self.body: dict[str, Any] = {"error": {"message": message, "code": code}}
        if errors:
            self.body["error"]["errors"] = errors


def _bad_input(*errors: str) -> ApiError:
    return ApiError(400, "Invalid Input Provided", 2001, list(errors))


def add_months(dt: datetime, months: int) -> datetime:
    month = dt.month - 1 + months
    year = dt.year + month // 12
    month = month % 12 + 1
    day = min(dt.day, calendar.monthrange(year, month)[1])
    return dt.replace(year=year, month=month, day=day)


class _Collection:
    """One collection, indexed by id; base (reference) forms and serializations built lazily."""

    def __init__(self, name: str, objects: list[dict[str, Any]]) -> None:
        self.name = name
        self.objects = objects
        self.specs = EXPANSIONS.get(name, [])
        self.internal = INTERNAL_FIELDS.get(name, ())
        self.field_of = {inc: fld for inc, fld, _m, _t in self.specs}
        self.by_id: dict[str, int] = {}
        for i, obj in enumerate(objects):
            if isinstance(obj, dict) and "id" in obj:
                self.by_id[obj["id"]] = i
        n = len(objects)
        self._base: list[dict[str, Any] | None] = [None] * n
        self._base_json: list[bytes | None] = [None] * n
        self.frag_cache: dict[tuple, dict[int, bytes]] = {}
        self.lock = threading.Lock()

    def base(self, i: int) -> dict[str, Any]:
        b = self._base[i]
        if b is None:
            obj = self.objects[i]
            b = dict(obj)
            for fld in self.internal:
                b.pop(fld, None)
            for _inc, fld, mode, _target in self.specs:
                if mode == "omit":
                    b.pop(fld, None)
                elif fld in obj:
                    b[fld] = _to_base(obj[fld], mode)
            self._base[i] = b
        return b

    def base_json(self, i: int) -> bytes:
        j = self._base_json[i]
        if j is None:
            j = self._base_json[i] = _dump(self.base(i))
        return j

    def cache_for(self, key: tuple) -> dict[int, bytes]:
        cache = self.frag_cache.get(key)
        if cache is None:
            with self.lock:
                cache = self.frag_cache.setdefault(key, {})
        return cache


def _to_base(value: Any, mode: str) -> Any:
    if mode == "one":
        return make_ref(value)
    if mode == "many":
        return [make_ref(v) for v in value or []]
    if mode == "rule_targets":
        return [dict(rule, targets=[make_ref(t) for t in rule.get("targets", [])]) for rule in value or []]
    if mode.startswith("item:"):
        key = mode[5:]
        return [dict(item, **{key: make_ref(item.get(key))}) for item in value or []]
    return value


class SimulatorServer:
    """Serve `account` over HTTP in a background thread (`.start()`/`.stop()` or `with`)."""

    def __init__(
        self,
        account: Account,
        host: str = "127.0.0.1",
        port: int = 0,
        faults: FaultConfig | None = None,
        tokens: Iterable[str] | Mapping[str, str | None] | None = None,
        forbidden_tokens: Iterable[str] | Mapping[str, Iterable[str]] | None = None,
        forbidden_paths: Iterable[str] = ("/standards",),
        now: datetime | Callable[[], datetime] | None = None,
        record: bool = False,
    ) -> None:
        """
        tokens: accepted API keys (None = any request is accepted). A mapping gives the user id
            a token belongs to (user-level key, used by /users/me) or None (account-level key).
        forbidden_tokens: tokens answered with 403 on `forbidden_paths` (a set), or a mapping
            token -> path prefixes (an empty list = every path) to simulate a missing scope.
        now: fixed time or a clock for the incidents default window and /oncalls (default: the real clock).
        record: keep every request and response in `self.recorded` (see `Recorded`).
        """
        self.account = account
        self.host = host
        self.port = port
        self.faults = faults or FaultConfig()
        if tokens is None:
            self.tokens: dict[str, str | None] | None = None
        elif isinstance(tokens, Mapping):
            self.tokens = dict(tokens)
        else:
            self.tokens = {t: None for t in tokens}
        self.forbidden: dict[str, tuple[str, ...]] = {}
        if isinstance(forbidden_tokens, Mapping):
            self.forbidden = {k: tuple(v) for k, v in forbidden_tokens.items()}
        elif forbidden_tokens:
            self.forbidden = {t: tuple(forbidden_paths) for t in forbidden_tokens}
        self._clock: Callable[[], datetime]
        if now is None:
            self._clock = lambda: datetime.now(UTC)
        elif callable(now):
            self._clock = now
        else:
            fixed = now if now.tzinfo else now.replace(tzinfo=UTC)
            self._clock = lambda: fixed
        self.stats = ServerStats()
        self._rng = random.Random(self.faults.seed)
        self._fault_lock = threading.Lock()
        self._burst_left = self.faults.burst_5xx
        self._burst_429_left = self.faults.burst_429
        self._drip_left = self.faults.burst_drip
        self._gone: dict[str, set[int]] = {}  # collection -> indices deleted by the `vanish` fault
        self._vanished: set[str] = set()  # paths whose `vanish` fault has fired
        self._proxy_cache: dict[tuple, bytes] = {}  # `repeat_first_page`: first pages by query without paging
        self._window_start = time.monotonic()
        self._window_count = 0
        self._stop_event = threading.Event()
        self._httpd: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None
        self._query_cache: dict[tuple, list[int]] = {}
        self.recorded: list[Recorded] | None = [] if record else None
        self._oncall_cache: dict[tuple, _Collection] = {}
        self._oncall_lock = threading.Lock()
        self._render_cache: dict[tuple, bytes] = {}
        self._index()

    # ------------------------------------------------------------------ indexing
    def _index(self) -> None:
        self.cols = {
            name: _Collection(name, list(getattr(self.account, name)))
            for name in LIST_ENDPOINTS.values()
            if name != "oncalls"  # computed per request window: see _oncalls
        }
        created = []
        for obj in self.cols["incidents"].objects:
            try:
                created.append(parse_time(obj["created_at"]).timestamp())
            except (KeyError, TypeError, ValueError):
                created.append(0.0)
        self._inc_created = created
        self._inc_order = sorted(range(len(created)), key=created.__getitem__)
        self._inc_sorted_created = [created[i] for i in self._inc_order]
        self._deps = list(self.account.service_dependencies)
        self._scores = {s.get("resource_id"): s for s in self.account.standards_scores}

    def _linked_json(self, coll: str, ref: Any) -> bytes:
        """JSON of the linked object's base form (the reference itself when unknown)."""
        if not isinstance(ref, dict):
            return _dump(ref)
        col = self.cols.get(coll)
        idx = col.by_id.get(ref.get("id")) if col else None
        if idx is None:
            return _dump(ref)
        return col.base_json(idx)

    def _expanded_json(self, col: _Collection, i: int, inc: str) -> bytes | None:
        obj = col.objects[i]
        for name, fld, mode, target in col.specs:
            if name != inc:
                continue
            if fld not in obj:
                return None
            value = obj[fld]
            if target is None or mode == "omit":
                return _dump(value)
            if mode == "one":
                return self._linked_json(target, value)
            if mode == "many":
                return b"[" + b",".join(self._linked_json(target, v) for v in value or []) + b"]"
            if mode == "rule_targets":
                rules = []
                for rule in value or []:
                    rest = {k: v for k, v in rule.items() if k != "targets"}
                    targets = b",".join(
                        _dump(t) if t.get("type") == "schedule_v3_reference"  # stays a reference (spec)
                        else self._linked_json("schedules" if t.get("type") == "schedule_reference" else "users", t)
                        for t in rule.get("targets", [])
                    )
                    rules.append(_dump(rest)[:-1] + (b"," if rest else b"") + b'"targets":[' + targets + b"]}")
                return b"[" + b",".join(rules) + b"]"
            if mode.startswith("item:"):
                key = mode[5:]
                items = []
                for item in value or []:
                    rest = {k: v for k, v in item.items() if k != key}
                    linked = self._linked_json(target, item.get(key))
                    items.append(_dump(rest)[:-1] + (b"," if rest else b"") + _dump(key) + b":" + linked + b"}")
                return b"[" + b",".join(items) + b"]"
        return None

    def _render_json(self, coll: str, i: int, includes: tuple[str, ...], q: dict[str, list[str]],
                     col: _Collection | None = None) -> bytes:
        """One object as JSON: its base form with the included fields expanded."""
        col = col or self.cols[coll]
        if not includes or not col.specs:
            return col.base_json(i)
        parts: list[tuple[str, bytes]] = []
        for inc in includes:
            fld = col.field_of.get(inc)
            if fld is None:
                continue
            value = self._expanded_json(col, i, inc)
            if value is not None:
                parts.append((fld, value))
        if not parts:
            return col.base_json(i)
        replaced = {fld for fld, _ in parts}
        rest = {k: v for k, v in col.base(i).items() if k not in replaced}
        head = _dump(rest)[:-1]
        tail = b",".join(_dump(fld) + b":" + value for fld, value in parts)
        return head + (b"," if rest else b"") + tail + b"}"

    # ------------------------------------------------------------------ lifecycle
    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}"

    def start(self) -> SimulatorServer:
        if self._httpd is not None:
            return self
        server = self

        class Handler(_Handler):
            sim = server

        httpd = _HTTPServer((self.host, self.port), Handler)
        self.port = httpd.server_address[1]
        self._httpd = httpd
        self._stop_event.clear()
        self._thread = threading.Thread(target=httpd.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        if self._httpd is None:
            return
        self._stop_event.set()
        self._httpd.shutdown()
        self._httpd.server_close()
        if self._thread:
            self._thread.join(timeout=5)
        self._httpd = None
        self._thread = None

    def __enter__(self) -> SimulatorServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def inject_burst(self, n: int) -> None:
        """The next `n` faultable requests fail with 503."""
        with self._fault_lock:
            self._burst_left = n

    # ------------------------------------------------------------------ rate limit / faults
    def _rate_headers(self, consume: bool) -> tuple[bool, dict[str, str]]:
        f = self.faults
        limit = f.rate_limit if f.rate_limit is not None else 960
        with self._fault_lock:
            now = time.monotonic()
            if now - self._window_start >= f.window_seconds:
                elapsed = now - self._window_start
                self._window_start += f.window_seconds * int(elapsed // f.window_seconds)
                self._window_count = 0
            exceeded = f.rate_limit is not None and self._window_count >= f.rate_limit
            if consume and not exceeded:
                self._window_count += 1
            remaining = max(0, limit - self._window_count)
            reset = max(1, int(round(self._window_start + f.window_seconds - now)))
        return exceeded, {
            "ratelimit-limit": str(limit),
            "ratelimit-remaining": str(remaining),
            "ratelimit-reset": str(reset),
        }

    def _decide_fault(self, path: str) -> str | None:
        f = self.faults
        if not f.applies_to(path):
            return None
        with self._fault_lock:
            if self._burst_left > 0:
                self._burst_left -= 1
                return "burst_5xx"
            if self._burst_429_left > 0:
                self._burst_429_left -= 1
                return "429"
            roll = self._rng.random
            if f.rate_429_probability and roll() < f.rate_429_probability:
                return "429"
            if f.p_5xx and roll() < f.p_5xx:
                return self._rng.choice(("500", "502", "503"))
            if f.p_timeout and roll() < f.p_timeout:
                return "timeout"
            if f.p_truncated and roll() < f.p_truncated:
                return "truncated"
        return None

    # ------------------------------------------------------------------ request handling
    def handle(self, method: str, raw_path: str, headers: Mapping[str, str]) -> tuple[int, dict[str, str], bytes]:
        status, hdrs, body = self._handle(method, raw_path, headers)
        if self.recorded is not None:
            parts = urlsplit(raw_path)
            accept = headers.get("Accept") or headers.get("accept")
            with self.stats.lock:
                self.recorded.append(Recorded(method, parts.path, parse_qsl(parts.query, keep_blank_values=True),
                                              accept, status, body))
        return status, hdrs, body

    def _handle(self, method: str, raw_path: str, headers: Mapping[str, str]) -> tuple[int, dict[str, str], bytes]:
        parts = urlsplit(raw_path)
        path = parts.path.rstrip("/") or "/"
        query = parse_qs(parts.query, keep_blank_values=True)
        stats = self.stats
        with stats.lock:
            stats.requests += 1
            stats.by_path[path] += 1

        try:
            self._authenticate(path, headers)
        except ApiError as err:
            _, rl = self._rate_headers(consume=True)
            return err.status, rl, _dump(err.body)

        if any(path.startswith(p) for p in self.faults.forbid):
            _, rl = self._rate_headers(consume=True)
            with stats.lock:
                stats.faults["forbid"] += 1
            if self.faults.forbid_status == 402:
                return 402, rl, _dump({"error": {"message": "Account does not have the abilities to perform the "
                                                            "action", "code": 2010}})
            return 403, rl, _dump({"error": {"message": "Access Denied", "code": 2010}})

        exceeded, rl = self._rate_headers(consume=True)
        override = self.faults.ratelimit_headers if self.faults.applies_to(path) else {}
        rl.update(override)
        if exceeded:
            with stats.lock:
                stats.rate_limited += 1
            return 429, rl, _dump({"error": {"message": "Rate Limit Exceeded", "code": 2020}})

        fault = self._decide_fault(path)
        if fault:
            with stats.lock:
                stats.faults[fault] += 1
            if fault == "429":
                with stats.lock:
                    stats.rate_limited += 1
                hdrs = {"ratelimit-limit": rl["ratelimit-limit"], "ratelimit-remaining": "0"}
                if self.faults.rate_429_reset_header:
                    hdrs["ratelimit-reset"] = str(self.faults.rate_429_reset_seconds)
                hdrs.update(override)
                return 429, hdrs, _dump({"error": {"message": "Rate Limit Exceeded", "code": 2020}})
            if fault in ("500",):
                return 500, rl, _dump({"error": {"message": "Internal Server Error", "code": 2000}})
            if fault in ("502", "503", "burst_5xx"):
                status = 502 if fault == "502" else 503
                text = "Bad Gateway" if status == 502 else "Service Unavailable"
                body = f"<html><body><h1>{status} {text}</h1></body></html>".encode()
                return status, {**rl, "Content-Type": "text/html"}, body
            if fault == "timeout":
                self._stop_event.wait(self.faults.timeout_sleep)

        if method not in ("GET", "HEAD"):
            return 405, rl, _dump({"error": {"message": "Method Not Allowed", "code": 2000}})
        try:
            body = self._route(path, query, headers)
        except ApiError as err:
            return err.status, rl, _dump(err.body)
        if fault == "truncated":
            body = body[: max(1, len(body) // 2)]
        if self.faults.burst_drip and self.faults.applies_to(path):
            with self._fault_lock:
                drip = self._drip_left > 0
                self._drip_left -= int(drip)
            if drip:
                with stats.lock:
                    stats.faults["drip"] += 1
                rl[_DRIP] = str(self.faults.drip_seconds)  # read (and removed) by the handler
        return 200, rl, body

    def _authenticate(self, path: str, headers: Mapping[str, str]) -> None:
        if self.tokens is None and not self.forbidden:
            return
        auth = headers.get("Authorization") or headers.get("authorization") or ""
        token = None
        if auth.startswith("Token token="):
            token = auth[len("Token token=") :].strip()
        elif auth.startswith("Bearer "):
            token = auth[len("Bearer ") :].strip()
        if self.tokens is not None and (not token or token not in self.tokens):
            raise ApiError(401, "Authentication failed", 2006)
        if token is not None and token in self.forbidden:
            prefixes = self.forbidden[token]
            if not prefixes or any(path.startswith(p) for p in prefixes):
                raise ApiError(403, "Access Denied", 2010)

    def _route(self, path: str, q: dict[str, list[str]], headers: Mapping[str, str]) -> bytes:
        if path in LIST_ENDPOINTS:
            return self._list(LIST_ENDPOINTS[path], path, q)
        if path.endswith("/audit/records"):
            return self._audit(path, q, headers)
        if path == "/standards":
            active = _first(q, "active")
            rtype = _first(q, "resource_type")
            items = [
                s
                for s in self.account.standards
                if (active is None or str(s.get("active")).lower() == active.lower())
                and (rtype is None or s.get("resource_type") == rtype)
            ]
            return _dump({"standards": items})
        if path.startswith("/standards/scores/"):
            rtype = path.rsplit("/", 1)[1]
            if rtype != "technical_services":
                raise _bad_input("resource_type must be technical_services")
            ids: list[str] = []
            for raw in q.get("ids", []) + q.get("ids[]", []):
                ids.extend(x for x in raw.split(",") if x)
            if not ids:
                raise _bad_input("ids is required")
            if len(ids) > 100:
                raise _bad_input("ids: maximum of 100 items")
            return _dump({"resources": [self._scores[i] for i in ids if i in self._scores]})
        if path.startswith("/service_dependencies/"):
            segs = path.split("/")
            if len(segs) == 4 and segs[2] in ("business_services", "technical_services"):
                return self._dependencies(segs[2], segs[3])
        if path == "/abilities":
            return _dump({"abilities": list(self.account.abilities)})
        if path == "/users/me":
            token = _token(headers)
            uid = (self.tokens or {}).get(token) if token else None
            idx = self.cols["users"].by_id.get(uid) if uid else None
            if idx is None:
                raise ApiError(
                    400,
                    "Invalid Input Provided",
                    2001,
                    ["This endpoint requires a user-level API key or an OAuth token."],
                )
            return b'{"user":' + self._render_json("users", idx, _includes(q), q) + b"}"
        segs = path.split("/")
        if len(segs) == 3 and segs[1] == "schedules":
            return self._schedule(segs[2], q)
        if len(segs) == 4 and segs[1] == "v3" and segs[2] == "schedules":
            return self._flexible(segs[3], q)
        if len(segs) == 3 and "/" + segs[1] in LIST_ENDPOINTS:
            coll = LIST_ENDPOINTS["/" + segs[1]]
            idx = self.cols[coll].by_id.get(segs[2]) if coll in self.cols else None
            if idx is not None and coll in SINGULAR and idx not in self._gone.get(coll, ()):
                return b'{"' + SINGULAR[coll].encode() + b'":' + self._render_json(coll, idx, _includes(q), q) + b"}"
        raise ApiError(404, "Not Found", 2100)

    def _audit(self, path: str, q: dict[str, list[str]], headers: Mapping[str, str]) -> bytes:
        """GET /audit/records (account-wide) and /{resource}/{id}/audit/records: see simulator.audit."""
        from pdguard.simulator import audit

        root = None
        if path != "/audit/records":
            segs = path.split("/")  # ["", "services", "PXXXXXX", "audit", "records"]
            coll = segs[1] if len(segs) == 5 else None
            if coll not in audit.RESOURCE_PATHS or segs[2] not in self.cols[coll].by_id:
                raise ApiError(404, "Not Found", 2100)
            root = (audit.RESOURCE_PATHS[coll], segs[2])
        token = _token(headers)
        uid = (self.tokens or {}).get(token) if token else None
        role = None
        if uid is not None and uid in self.cols["users"].by_id:
            role = self.cols["users"].objects[self.cols["users"].by_id[uid]].get("role")
        later = bool(_first(q, "cursor"))
        proxy_key, cached = self._proxied(path, q, ("cursor",), later=later)
        if cached is not None:
            return cached
        try:
            body = audit.page(self.account, q, self._clock().astimezone(UTC), root=root, role=role,
                              account_key=uid is None)
        except audit.AuditError as err:
            raise ApiError(err.status, err.message, err.code, err.errors) from None
        out = _dump(body)
        if proxy_key is not None and not later:
            self._proxy_cache.setdefault(proxy_key, out)
        return out

    def _proxied(self, path: str, q: dict[str, list[str]], paging: tuple[str, ...], *, later: bool
                 ) -> tuple[tuple | None, bytes | None]:
        """The `repeat_first_page` fault: (the cache key of this query without its paging
        parameters, or None when the fault is off for `path`; the query's first page when this
        request asks a later one and the "proxy" has it)."""
        if not any(path.startswith(p) for p in self.faults.repeat_first_page):
            return None, None
        key = (path, tuple(sorted((k, tuple(v)) for k, v in q.items() if k not in paging)))
        cached = self._proxy_cache.get(key) if later else None
        if cached is not None:
            with self.stats.lock:
                self.stats.faults["repeat_first_page"] += 1
        return key, cached

    def _window(self, q: dict[str, list[str]], need_tz: bool) -> Window | None:
        """The render window of a schedule request; None when the API would render nothing."""
        since_s, until_s, tz_s = _first(q, "since"), _first(q, "until"), _first(q, "time_zone")
        if not since_s and not until_s:
            return None
        since = _parse_or_400(since_s, "since") if since_s else None
        until = _parse_or_400(until_s, "until") if until_s else None
        if since is None:
            since = until - timedelta(weeks=2)  # type: ignore[operator]
        if until is None:
            until = since + timedelta(weeks=2)
        if until <= since:
            raise _bad_input("until must be after since")
        if need_tz and not tz_s:
            return None  # since/until are not honoured without time_zone
        overflow = (_first(q, "overflow") or "").lower() == "true"
        return Window(since, until, zone(tz_s), overflow)

    def _schedule(self, sid: str, q: dict[str, list[str]]) -> bytes:
        """GET /schedules/{id}: the schedule with its layers, overrides and final schedule rendered."""
        col = self.cols["schedules"]
        idx = col.by_id.get(sid)
        if idx is None or idx in self._gone.get("schedules", ()):
            raise ApiError(404, "Not Found", 2100)  # flexible schedules too: they live at /v3/schedules
        w = self._window(q, need_tz=True)
        key = ("schedule", sid, w)
        cached = self._render_cache.get(key)
        if cached is None:
            obj = dict(col.base(idx))
            obj.update(render_schedule(col.objects[idx], w))
            cached = _dump({"schedule": obj})
            if len(self._render_cache) > 4096:
                self._render_cache.clear()
            self._render_cache[key] = cached
        return cached

    def _flexible(self, fid: str, q: dict[str, list[str]]) -> bytes:
        """GET /v3/schedules/{id}; include[]=final_schedule with since/until adds the computed shifts."""
        col = self.cols["flexible_schedules"]
        idx = col.by_id.get(fid)
        if idx is None or idx in self._gone.get("flexible_schedules", ()):
            raise ApiError(404, "Not Found", 2100)
        obj = dict(col.base(idx))
        if "final_schedule" in _includes(q):
            w = self._window(q, need_tz=False)
            if w is not None:
                obj["final_schedule"] = render_flexible(col.objects[idx], w)
        return _dump({"schedule": obj})

    def _oncalls(self, q: dict[str, list[str]]) -> _Collection:
        """The on-call entries for the request's window (default: now), as a collection to page."""
        now = self._clock().astimezone(UTC).replace(microsecond=0)
        since_s, until_s = _first(q, "since"), _first(q, "until")
        since = _parse_or_400(since_s, "since") if since_s else now
        until = _parse_or_400(until_s, "until") if until_s else (since if not since_s else now)
        if until < since:
            raise _bad_input("until must be after since")
        if until - since > timedelta(days=90):
            raise _bad_input("The maximum date range between since and until is 90 days.")
        earliest = (_first(q, "earliest") or "").lower() == "true"
        tz = zone(_first(q, "time_zone"))
        key = (since, until, earliest, str(tz))
        with self._oncall_lock:
            col = self._oncall_cache.get(key)
            if col is None:
                col = _Collection("oncalls", compute_oncalls(self.account, since, until, earliest=earliest, tz=tz))
                if len(self._oncall_cache) > 64:
                    self._oncall_cache.clear()
                self._oncall_cache[key] = col
        return col

    def _dependencies(self, kind: str, oid: str) -> bytes:
        if kind == "business_services":
            known = any(b.get("id") == oid for b in self.account.business_services)
        else:
            known = oid in self.cols["services"].by_id
        if not known:
            raise ApiError(404, "Not Found", 2100)
        rel = [
            d
            for d in self._deps
            if (d.get("supporting_service") or {}).get("id") == oid or (d.get("dependent_service") or {}).get("id") == oid
        ]
        return _dump({"relationships": rel})

    # ------------------------------------------------------------------ lists
    def _list(self, coll: str, path: str, q: dict[str, list[str]]) -> bytes:
        v3 = coll == "flexible_schedules"
        limit = _int(q, "limit", V3_DEFAULT_LIMIT if v3 else DEFAULT_LIMIT)
        offset = _int(q, "offset", 0)
        if limit < 1:
            limit = V3_DEFAULT_LIMIT if v3 else DEFAULT_LIMIT
        limit = min(limit, V3_MAX_LIMIT if v3 else MAX_LIMIT)
        if offset < 0:
            raise _bad_input("offset must be a non-negative integer")
        if offset + limit > MAX_OFFSET_PLUS_LIMIT:
            raise ApiError(400, "Arguments Caused Error", 2002, [OFFSET_MESSAGE])
        want_total = (_first(q, "total") or "").lower() == "true"
        includes = _includes(q)
        col = self._oncalls(q) if coll == "oncalls" else self.cols[coll]
        indices = self._select(coll, q, col)
        f = self.faults
        faulty = f.applies_to(path)
        proxy_key, cached = self._proxied(path, q, ("offset", "total"), later=offset > 0)
        if cached is not None:
            return cached
        if any(path.startswith(p) for p in f.no_total):
            want_total = False
        gone = self._gone.get(coll)
        if gone:
            indices = [i for i in indices if i not in gone]
        broken_more = f.always_more and faulty
        ignored = any(path.startswith(p) for p in f.ignore_offset)
        if broken_more or ignored:
            offset_used = 0
        else:
            offset_used = offset
        page = indices[offset_used : offset_used + limit]
        if broken_more:
            more = True
        elif ignored:
            more = offset + len(page) < len(indices)
        else:
            more = offset_used + len(page) < len(indices)
        n_vanish = f.vanish.get(path, 0)
        if n_vanish and offset == 0 and page:
            with self._fault_lock:
                fire = path not in self._vanished
                self._vanished.add(path)
            if fire:  # deleted right after this page is served: later offsets shift by n
                self._gone.setdefault(coll, set()).update(page[:n_vanish])
                with self.stats.lock:
                    self.stats.faults["vanish"] += len(page[:n_vanish])
        if v3:  # the list holds schedule_v3_references only
            frags = [_dump(make_ref(col.objects[i])) for i in page]
        else:
            cache = col.cache_for((includes,))
            frags = []
            for i in page:
                frag = cache.get(i)
                if frag is None:
                    frag = cache[i] = self._render_json(coll, i, includes, q, col)
                frags.append(frag)
        if faulty and coll in f.null_items and frags:
            frags[0] = b"null"
            with self.stats.lock:
                self.stats.faults["null_items"] += 1
        if broken_more:
            with self.stats.lock:
                self.stats.faults["always_more"] += 1
        tail: dict[str, Any] = {"limit": limit, "offset": offset, "more": more}
        if not v3:  # the v3 list has no `total`
            tail["total"] = len(indices) if want_total else None
        key = b"schedules" if v3 else coll.encode()
        body = b"".join(
            (b'{"', key, b'":[', b",".join(frags), b"],", _dump(tail)[1:])
        )
        if proxy_key is not None and offset == 0:
            self._proxy_cache.setdefault(proxy_key, body)
        return body

    def _select(self, coll: str, q: dict[str, list[str]], col: _Collection) -> list[int]:
        """Indices of the objects matching the query's filters, in response order (cached)."""
        if coll == "incidents":
            return self._select_incidents(q)
        query = _first(q, "query")
        team_ids = set(q.get("team_ids[]", []))
        service_ids = set(q.get("service_ids[]", []))
        user_ids = set(q.get("user_ids[]", []))
        ep_ids = set(q.get("escalation_policy_ids[]", []))
        sched_ids = set(q.get("schedule_ids[]", []))
        sort_by = _first(q, "sort_by")
        key = (coll, id(col), query, frozenset(team_ids), frozenset(service_ids), frozenset(user_ids),
               frozenset(ep_ids), frozenset(sched_ids), sort_by)
        cached = self._query_cache.get(key)
        if cached is not None:
            return cached
        out = []
        ql = query.lower() if query else None
        for i, obj in enumerate(col.objects):
            if obj is None:
                continue
            if ql and ql not in str(obj.get("name") or obj.get("summary") or "").lower():
                continue
            if team_ids:
                teams = obj.get("teams") or ([obj["team"]] if obj.get("team") else [])
                if not any(isinstance(t, dict) and t.get("id") in team_ids for t in teams):
                    continue
            if service_ids and coll == "addons":
                if not any(s.get("id") in service_ids for s in obj.get("services") or []):
                    continue
            if coll == "oncalls":
                if user_ids and (obj.get("user") or {}).get("id") not in user_ids:
                    continue
                if ep_ids and (obj.get("escalation_policy") or {}).get("id") not in ep_ids:
                    continue
                if sched_ids and (obj.get("schedule") or {}).get("id") not in sched_ids:
                    continue
            elif user_ids and coll == "escalation_policies":
                targets = {t.get("id") for r in obj.get("escalation_rules", []) for t in r.get("targets", [])}
                if not targets & user_ids:
                    continue
            out.append(i)
        if sort_by and sort_by.startswith("name"):
            out.sort(key=lambda i: str(col.objects[i].get("name") or "").lower(), reverse=sort_by.endswith(":desc"))
        if len(self._query_cache) > 256:
            self._query_cache.clear()
        self._query_cache[key] = out
        return out

    def _select_incidents(self, q: dict[str, list[str]]) -> list[int]:
        date_all = (_first(q, "date_range") or "") == "all"
        since_s, until_s = _first(q, "since"), _first(q, "until")
        lo = hi = None
        if not date_all:
            since = _parse_or_400(since_s, "since") if since_s else None
            until = _parse_or_400(until_s, "until") if until_s else None
            if since is None and until is None:
                until = self._clock()
                since = add_months(until, -1)
            elif since is None:
                since = add_months(until, -1)
            elif until is None:
                until = self._clock()
                if until < since:
                    until = since
            if until < since:
                raise _bad_input("until must be after since")
            if until > add_months(since, 6):
                raise _bad_input("The maximum date range between since and until is 6 months.")
            lo, hi = since.timestamp(), until.timestamp()
        statuses = frozenset(q.get("statuses[]", []))
        urgencies = frozenset(q.get("urgencies[]", []))
        service_ids = frozenset(q.get("service_ids[]", []))
        team_ids = frozenset(q.get("team_ids[]", []))
        user_ids = frozenset(q.get("user_ids[]", []))
        sort_by = _first(q, "sort_by") or "created_at:asc"
        bad = statuses - {"triggered", "acknowledged", "resolved"}
        if bad:
            raise _bad_input(f"statuses[] has invalid values: {', '.join(sorted(bad))}")
        key = ("incidents", lo, hi, statuses, urgencies, service_ids, team_ids, user_ids, sort_by)
        cached = self._query_cache.get(key)
        if cached is not None:
            return cached
        objs = self.cols["incidents"].objects
        if lo is None:
            candidates = self._inc_order
        else:
            a = bisect.bisect_left(self._inc_sorted_created, lo)
            b = bisect.bisect_left(self._inc_sorted_created, hi)
            candidates = self._inc_order[a:b]
        filtered = bool(statuses or urgencies or service_ids or team_ids or user_ids)
        out = [] if filtered else list(candidates)
        for i in candidates if filtered else ():
            o = objs[i]
            if statuses and o.get("status") not in statuses:
                continue
            if urgencies and o.get("urgency") not in urgencies:
                continue
            if service_ids and (o.get("service") or {}).get("id") not in service_ids:
                continue
            if team_ids and not any(t.get("id") in team_ids for t in o.get("teams") or []):
                continue
            if user_ids and not any((a.get("assignee") or {}).get("id") in user_ids for a in o.get("assignments") or []):
                continue
            out.append(i)
        field_name, _, direction = sort_by.partition(":")
        if field_name == "incident_number":
            out.sort(key=lambda i: objs[i].get("incident_number") or 0)
        elif field_name == "urgency":
            out.sort(key=lambda i: objs[i].get("urgency") or "")
        elif field_name == "resolved_at":
            out.sort(key=lambda i: objs[i].get("resolved_at") or "")
        if direction == "desc":
            out.reverse()
        if len(self._query_cache) > 256:
            self._query_cache.clear()
        self._query_cache[key] = out
        return out


# ---------------------------------------------------------------------------------------------
def _dump(obj: Any) -> bytes:
    try:
        return orjson.dumps(obj)  # compact, UTF-8, like the stdlib call below but ~10x faster
    except TypeError:
        return json.dumps(obj, separators=(",", ":"), ensure_ascii=False).encode()


def _first(q: dict[str, list[str]], name: str) -> str | None:
    values = q.get(name)
    return values[0] if values else None


def _int(q: dict[str, list[str]], name: str, default: int) -> int:
    raw = _first(q, name)
    if raw is None or raw == "":
        return default
    try:
        return int(raw)
    except ValueError:
        raise _bad_input(f"{name} must be an integer") from None


def _includes(q: dict[str, list[str]]) -> tuple[str, ...]:
    return tuple(sorted(set(q.get("include[]", []) + q.get("include", []))))


def _parse_or_400(value: str, name: str) -> datetime:
    try:
        return parse_time(value)
    except ValueError:
        raise ApiError(400, "Invalid Input Provided", 2001, [f"{name} is not a valid ISO 8601 date"]) from None


def _token(headers: Mapping[str, str]) -> str | None:
    auth = headers.get("Authorization") or ""
    if auth.startswith("Token token="):
        return auth[len("Token token=") :].strip()
    if auth.startswith("Bearer "):
        return auth[len("Bearer ") :].strip()
    return None


class _HTTPServer(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True
    request_queue_size = 128


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "pdguard-simulator/1.0"
    sys_version = ""
    sim: SimulatorServer

    def setup(self) -> None:
        super().setup()
        try:
            self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        except OSError:
            pass

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002
        return

    def parse_request(self) -> bool:
        self._arrived = time.monotonic()  # the request line was just read (handle_one_request)
        return super().parse_request()

    def _serve(self, method: str) -> None:
        sim = self.sim
        arrived = getattr(self, "_arrived", None) or time.monotonic()
        with sim.stats.lock:
            sim.stats.in_flight += 1
            sim.stats.max_in_flight = max(sim.stats.max_in_flight, sim.stats.in_flight)
        try:
            try:
                status, headers, body = sim.handle(method, self.path, self.headers)
            except Exception as exc:  # a simulator bug must not kill the connection silently
                status, headers, body = 500, {}, _dump({"error": {"message": f"simulator error: {exc}", "code": 2000}})
            prepared = time.monotonic()
            due = arrived + sim.faults.latency_ms / 1000.0
            if prepared < due:  # the latency is the response time: preparing it took part of it
                sim._stop_event.wait(due - prepared)
            with sim.stats.lock:
                sim.stats.by_status[status] += 1
                sim.stats.service_seconds += prepared - arrived
            try:
                self.send_response(status)
                ctype = headers.pop("Content-Type", JSON) if "Content-Type" in headers else JSON
                drip = float(headers.pop(_DRIP, 0) or 0)
                self.send_header("Content-Type", ctype)
                self.send_header("Content-Length", str(len(body)))
                for k, v in headers.items():
                    self.send_header(k, v)
                self.end_headers()
                if method != "HEAD" and drip > 0 and body:
                    # Slow drip: small chunks spread over `drip` seconds (each read is quick, the whole is not).
                    step = -(-len(body) // min(len(body), 50))
                    chunks = range(0, len(body), step)
                    for k in chunks:
                        self.wfile.write(body[k : k + step])
                        self.wfile.flush()
                        if sim._stop_event.wait(drip / len(chunks)):
                            break
                elif method != "HEAD":
                    self.wfile.write(body)
                late = time.monotonic() - due
                if late > 0:
                    with sim.stats.lock:
                        sim.stats.late_seconds += late
            except (BrokenPipeError, ConnectionResetError):
                self.close_connection = True
        finally:
            with sim.stats.lock:
                sim.stats.in_flight -= 1

    def do_GET(self) -> None:  # noqa: N802
        self._serve("GET")

    def do_HEAD(self) -> None:  # noqa: N802
        self._serve("HEAD")

    def do_POST(self) -> None:  # noqa: N802
        length = int(self.headers.get("Content-Length") or 0)
        if length:
            self.rfile.read(length)
        self._serve("POST")

    do_PUT = do_POST
    do_PATCH = do_POST

    def do_DELETE(self) -> None:  # noqa: N802
        self._serve("DELETE")


@contextmanager
def serve(account: Account, **kwargs: Any) -> Iterator[SimulatorServer]:
    """`with serve(account, faults=FaultConfig(...)) as server: ... server.url ...`"""
    server = SimulatorServer(account, **kwargs)
    server.start()
    try:
        yield server
    finally:
        server.stop()
