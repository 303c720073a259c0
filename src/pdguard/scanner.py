"""Collectors: a whole PagerDuty account → one snapshot document (a dict; see snapshot.py).

Every collection is read with the fewest requests the API allows: list endpoints with the
``include[]`` that expand what policies need (no per-object follow-up requests), 100 items per
page, all pages after the first fetched concurrently. Team members are derived from the users'
``teams`` (users are read with ``include[]=teams``) instead of one request per team. The only
per-object endpoints are those the API offers nothing else for: service dependencies (one
request per business service; per technical service only with ``service_dependencies: all``)
and Service Standards scores (batches of 100 service ids).

Incidents: every unresolved incident (``date_range=all``, triggered + acknowledged) plus the
resolved incidents of the lookback window (default 90 days). The window is cut into requests
of at most 6 months; a window holding more than the API's 10,000-offset cap is read up to the
cap (sorted by ``created_at``) and continued from the last incident's timestamp, so every page
is full and only the few incidents sharing the boundary second are read twice (then
de-duplicated by id). A window whose server gives no ``total`` is read on ``more`` and, when it
reaches the cap, halved in time (each half read on its own).

Accounting (``meta.collections_status``): every list query counts its unique objects against
the ``total`` it announced (see :meth:`PagerDutyClient.read_query`); anything unaccounted for
is a warning naming the collection and makes the snapshot incomplete. Core collections
(:data:`CORE_COLLECTIONS`) are required: a 401/403 there fails the scan. An optional one
(:data:`OPTIONAL_COLLECTIONS`) answering 403 is skipped with a warning naming its OAuth scope
and ``--exclude``: it is then not in ``meta.collections`` and the snapshot is incomplete. A scan
that reaches ``max_duration`` stops: what was not finished is not collected, the snapshot is
incomplete.
"""

from __future__ import annotations

import asyncio
import gc
import re
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from pydantic import ValidationError

from pdguard import __version__
from pdguard.errors import ForbiddenError, ScanError
from pdguard.pdapi.client import MAX_RATE_WAIT, OFFSET_CAP, AuthType, PagerDutyClient, Tally
from pdguard.snapshot import COLLECTIONS, MODELS, SCHEMA_VERSION

# What `--exclude` can name: every collection of the document; Service Standards scores come with `standards`.
ALL_COLLECTIONS: tuple[str, ...] = tuple(k for k in COLLECTIONS if k not in ("standards_scores", "flexible_schedules"))
# Required: a 401/403 on one of these fails the scan (exit 2).
CORE_COLLECTIONS: frozenset[str] = frozenset({"services", "escalation_policies", "schedules", "users", "teams"})
# Optional: a 403 skips the collection with a warning (scope, --exclude); the snapshot is incomplete.
OPTIONAL_COLLECTIONS: frozenset[str] = frozenset({
    "incidents", "business_services", "service_dependencies", "addons", "extensions", "oncalls", "standards",
})
DEFAULT_MAX_DURATION = 1800.0  # seconds: a whole scan stops (incomplete) past this
MAX_WINDOW = timedelta(days=180)  # the API rejects since/until spans longer than 6 months
SCHEDULE_HORIZON = timedelta(days=7)  # final_schedule rendered over the next 7 days
ISO = "%Y-%m-%dT%H:%M:%SZ"


@dataclass
class ScanOptions:
    api_key: str
    region: str = "us"
    api_url: str | None = None
    auth_type: AuthType = "token"
    concurrency: int = 8
    timeout: float = 30.0
    incidents_since: datetime | None = None  # default: now - lookback_days
    lookback_days: int = 90
    collections: tuple[str, ...] = ALL_COLLECTIONS
    service_dependencies: str = "business"  # or "all"
    max_retries: int = 6
    retry_budget: int = 200
    backoff_base: float = 0.5
    now: datetime | None = None
    max_duration: float | None = DEFAULT_MAX_DURATION  # seconds for the whole scan; None = unbounded
    max_rate_wait: float = MAX_RATE_WAIT  # cap on one ratelimit-reset wait


@dataclass(repr=False)
class ScanResult:
    document: dict[str, Any]
    requests: int
    retries: int
    rate_limited: int
    by_collection: dict[str, int] = field(default_factory=dict)

    def __repr__(self) -> str:
        # Short on purpose: asyncio may repr the task result, and the document can be 100+ MB.
        return f"ScanResult(requests={self.requests}, counts={self.document.get('meta', {}).get('counts')})"


Progress = Callable[[str, int, int | None], None]  # (collection, items so far, total or None)


def _iso(dt: datetime) -> str:
    return dt.astimezone(UTC).strftime(ISO)


def _parse_ts(value: Any) -> datetime | None:
    if not isinstance(value, str):
        return None
    try:
        return datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None


class Scanner:
    def __init__(self, options: ScanOptions, progress: Progress | None = None) -> None:
        self.o = options
        self.now = (options.now or datetime.now(UTC)).replace(microsecond=0)
        self.warnings: list[str] = []
        self.complete = True  # False once anything the account holds was not collected
        self._progress = progress
        self._counts: dict[str, int] = {}
        self._tallies: dict[str, Tally] = {}
        self._notes: dict[str, list[str]] = {}  # collection -> its warnings
        self._lost_in: set[str] = set()  # collections missing data
        self.forbidden: dict[str, str] = {}  # optional collections skipped on a 403 -> why

    def warn(self, msg: str) -> None:
        if msg not in self.warnings:
            self.warnings.append(msg)
            name = _collection_of(msg)
            if name:
                self._notes.setdefault(name, []).append(msg)

    def lost(self, msg: str) -> None:
        """A warning that means data is missing from the snapshot: it is marked incomplete."""
        self.complete = False
        name = _collection_of(msg)
        if name:
            self._lost_in.add(name)
        self.warn(msg)

    def _tally(self, collection: str) -> Tally:
        return self._tallies.setdefault(collection, Tally())

    def _tick(self, collection: str, n: int, total: int | None = None) -> None:
        self._counts[collection] = self._counts.get(collection, 0) + n
        if self._progress:
            self._progress(collection, self._counts[collection], total)

    def _clean(self, collection: str, items: list[Any]) -> list[dict[str, Any]]:
        """Drop `null`/non-object items with a warning; check objects against the model.

        The API's own JSON is kept as it is (unknown fields included); a field of an unexpected
        type is recorded as a warning, never a crash.
        """
        model = MODELS.get(collection)
        out: list[dict[str, Any]] = []
        bad_fields = 0
        for item in items:
            if not isinstance(item, dict):
                self.lost(f"{collection}: skipped an item that is {'null' if item is None else type(item).__name__}, not an object")
                continue
            if model is not None:
                try:
                    model.model_validate(item)
                except ValidationError as exc:
                    bad_fields += 1
                    if bad_fields <= 3:
                        err = exc.errors()[0]
                        loc = ".".join(str(x) for x in err["loc"])
                        self.warn(f"{collection}: object {item.get('id', '?')}: field '{loc}': {err['msg']}")
                    if "id" not in item:
                        continue
            out.append(item)
        if bad_fields > 3:
            self.warn(f"{collection}: {bad_fields} objects had fields of an unexpected type (kept as returned)")
        return out

    async def _list(
        self, client: PagerDutyClient, collection: str, path: str, key: str, params: list[tuple[str, Any]],
        on_page: Callable[[list[Any]], None] | None = None,
    ) -> list[dict[str, Any]]:
        def page(items: list[Any]) -> None:
            self._tick(collection, len(items))
            if on_page:
                on_page(items)

        items = await client.paginate(path, key, params, collection=collection, warn=self.lost, note=self.warn,
                                      on_page=page, tally=self._tally(collection))
        return self._clean(collection, items)

    # -- collectors ------------------------------------------------------------------------

    async def services(self, c: PagerDutyClient, on_page: Callable[[list[Any]], None] | None = None
                       ) -> list[dict[str, Any]]:
        inc = [("include[]", x) for x in ("integrations", "auto_pause_notifications_parameters")]
        return await self._list(c, "services", "/services", "services", inc, on_page)

    async def escalation_policies(self, c: PagerDutyClient) -> list[dict[str, Any]]:
        return await self._list(c, "escalation_policies", "/escalation_policies", "escalation_policies", [])

    async def schedules(self, c: PagerDutyClient) -> list[dict[str, Any]]:
        params = [("include[]", "schedule_layers"), ("include[]", "final_schedule"),
                  ("since", _iso(self.now)), ("until", _iso(self.now + SCHEDULE_HORIZON))]
        return await self._list(c, "schedules", "/schedules", "schedules", params)

    async def users(self, c: PagerDutyClient) -> list[dict[str, Any]]:
        inc = [("include[]", x) for x in ("contact_methods", "notification_rules")]
        return await self._list(c, "users", "/users", "users", inc)

    async def simple(self, c: PagerDutyClient, collection: str) -> list[dict[str, Any]]:
        return await self._list(c, collection, f"/{collection}", collection, [])

    async def oncalls(self, c: PagerDutyClient) -> list[dict[str, Any]]:
        items = await c.paginate("/oncalls", "oncalls", [], collection="oncalls", warn=self.lost, note=self.warn,
                                 on_page=lambda page: self._tick("oncalls", len(page)), tally=self._tally("oncalls"))
        return self._clean("oncalls", items)

    async def standards(self, c: PagerDutyClient) -> list[dict[str, Any]]:
        body = await c.get("/standards", [("resource_type", "technical_service")], collection="standards", priority=0)
        standards = body.get("standards")
        if not isinstance(standards, list):
            raise ScanError("standards: response from /standards has no 'standards' list")
        standards = self._clean("standards", standards)
        self._tick("standards", len(standards))
        return standards

    async def scores(self, c: PagerDutyClient, standards: asyncio.Future[Any], ids: list[str]) -> list[Any]:
        """Scores of up to 100 services: one request per page of services, started as the page arrives."""
        if not ids or not await standards:
            return []
        resp = await c.get("/standards/scores/technical_services", [("ids", ",".join(ids))],
                           collection="standards_scores")
        got = resp.get("resources")
        if not isinstance(got, list):
            raise ScanError("standards_scores: response has no 'resources' list")
        self._tick("standards_scores", len(got))
        return self._clean("standards_scores", got)

    async def dependencies(
        self, c: PagerDutyClient, business_ids: list[str], service_ids: list[str]
    ) -> list[dict[str, Any]]:
        targets = [("business_services", i) for i in business_ids]
        if self.o.service_dependencies == "all":
            targets += [("technical_services", i) for i in service_ids]

        async def one(kind: str, oid: str) -> list[Any]:
            body = await c.get(f"/service_dependencies/{kind}/{oid}", None, collection="service_dependencies")
            rel = body.get("relationships")
            if not isinstance(rel, list):
                raise ScanError(f"service_dependencies: response for {kind}/{oid} has no 'relationships' list")
            self._tick("service_dependencies", len(rel))
            return rel

        seen: dict[str, dict[str, Any]] = {}
        for rels in await asyncio.gather(*(one(k, i) for k, i in targets)):
            for r in self._clean("service_dependencies", rels):
                rid = r.get("id") or f"{(r.get('supporting_service') or {}).get('id')}->{(r.get('dependent_service') or {}).get('id')}"
                seen.setdefault(str(rid), r)
        return list(seen.values())

    async def incidents(self, c: PagerDutyClient) -> list[dict[str, Any]]:
        since = self.o.incidents_since or (self.now - timedelta(days=self.o.lookback_days))
        if since.tzinfo is None:
            since = since.replace(tzinfo=UTC)
        by_id: dict[str, dict[str, Any]] = {}

        def add(items: list[Any]) -> None:
            for it in self._clean("incidents", items):
                by_id.setdefault(str(it.get("id")), it)

        async def unresolved() -> None:
            params = [("date_range", "all"), ("statuses[]", "triggered"), ("statuses[]", "acknowledged"),
                      ("sort_by", "created_at:asc")]
            items = await c.paginate("/incidents", "incidents", params, collection="incidents", warn=self.lost,
                                     note=self.warn, on_page=lambda page: self._tick("incidents", len(page)),
                                     tally=self._tally("incidents"))
            add(items)

        async def resolved_window(start: datetime, end: datetime) -> None:
            """Resolved incidents created in [start, end), at most 6 months per request."""
            while start < end:
                stop = min(end, start + MAX_WINDOW)
                start = await self._window(c, start, stop, add)

        windows = []
        cursor = since
        # Independent ≤ 6-month windows run concurrently; each continues past the offset cap itself.
        while cursor < self.now:
            nxt = min(self.now, cursor + MAX_WINDOW)
            windows.append((cursor, nxt))
            cursor = nxt
        await asyncio.gather(unresolved(), *(resolved_window(a, b) for a, b in windows))
        return list(by_id.values())

    async def _window(
        self, c: PagerDutyClient, start: datetime, stop: datetime, add: Callable[[list[Any]], None]
    ) -> datetime:
        """Read resolved incidents in [start, stop). Returns where the next request must start
        (``stop`` when the window is done, the boundary second when the offset cap was hit)."""
        params = [("since", _iso(start)), ("until", _iso(stop)), ("statuses[]", "resolved"),
                  ("sort_by", "created_at:asc")]
        q = await c.read_query("/incidents", "incidents", params, collection="incidents", warn=self.lost,
                               note=self.warn, on_page=lambda page: self._tick("incidents", len(page)),
                               tally=self._tally("incidents"), continues=True)
        add(q.items)
        if not q.at_cap:
            return stop
        if q.total is None:
            # No total: nothing says how many lie past the cap. Halve the window; read each half.
            if stop - start <= timedelta(seconds=1):
                self.lost(f"incidents: more than {OFFSET_CAP:,} incidents created in the second {_iso(start)} "
                          "and no total from the server; some were skipped")
                return stop
            mid = max(start + timedelta(seconds=1), (start + (stop - start) / 2).replace(microsecond=0))

            async def half(a: datetime, b: datetime) -> None:
                while a < b:
                    a = await self._window(c, a, b, add)

            await asyncio.gather(half(start, mid), half(mid, stop))
            return stop
        # Sorted by created_at: continue from the last incident's second. The incidents sharing that
        # second are read again (de-duplicated by id); starting one second later would lose them.
        stamps = [t for t in (_parse_ts(it.get("created_at")) for it in q.last_page if isinstance(it, dict)) if t]
        boundary = max(stamps) if stamps else None
        if boundary is None or boundary <= start:
            # More than 10,000 incidents share one second: step past it, say so.
            self.lost(f"incidents: more than {OFFSET_CAP:,} incidents created at {_iso(start)}; some were skipped")
            return start + timedelta(seconds=1)
        return boundary.astimezone(UTC).replace(microsecond=0)

    # -- orchestration ---------------------------------------------------------------------

    async def _guarded(self, name: str, coro: Any) -> Any:
        """Run one collection's task; a 403 on an optional collection skips it (warning, incomplete)."""
        try:
            return await coro
        except ForbiddenError as exc:
            coll = _status_name(exc.collection or name)
            if coll not in OPTIONAL_COLLECTIONS:
                raise
            if coll not in self.forbidden:
                self.forbidden[coll] = str(exc)
                self.lost(f"{coll}: skipped: {str(exc).removeprefix(f'{exc.collection}: ')}; the snapshot is "
                          f"incomplete: grant that scope, or pass --exclude {coll} to scan without it")
            return []

    async def _await_all(
        self, tasks: dict[str, asyncio.Future[Any]], helpers: list[Any], started: float
    ) -> set[str]:
        """Wait for every collection task until the scan's deadline. The first failure cancels the
        rest and is raised; at the deadline what is left is cancelled and its names returned."""
        if not tasks:
            return set()
        limit = self.o.max_duration
        timeout = None if limit is None else max(0.0, limit - (time.monotonic() - started))
        pending: set[asyncio.Future[Any]] = set()
        try:
            done, pending = await asyncio.wait(tasks.values(), timeout=timeout, return_when=asyncio.FIRST_EXCEPTION)
        except BaseException:  # cancelled from outside (Ctrl-C): stop every request
            done = set()
            pending = set(tasks.values())
            raise
        finally:
            failed = next((t for t in done if not t.cancelled() and t.exception() is not None), None)
            if failed is not None or pending:
                rest = [*pending, *(h for h in helpers if isinstance(h, asyncio.Future)),
                        *(t for h in helpers if isinstance(h, list) for t in h)]
                for t in rest:
                    t.cancel()
                await asyncio.gather(*rest, return_exceptions=True)
        if failed is not None:
            raise failed.exception()  # type: ignore[misc]
        unfinished = {name for name, t in tasks.items() if t in pending}
        if unfinished:
            want = set(self.o.collections)
            if "users" in unfinished and "teams" in want:
                unfinished.add("teams")  # members come from users
            names = sorted(unfinished & want)
            took = _duration(limit or 0)
            self.lost(f"scan stopped at its --max-duration of {took}: {', '.join(names)} not finished; the "
                      "inventory is incomplete (raise --max-duration, or --exclude what is slow)")
            for name in names:
                self.lost(f"{name}: not finished within --max-duration ({took}); not collected")
        return unfinished

    def _settle(self, doc: dict[str, Any], want: set[str], unfinished: set[str]) -> dict[str, dict[str, Any]]:
        """``meta.collections_status``; empties what was not collected (forbidden, unfinished)."""
        status: dict[str, dict[str, Any]] = {}
        if "service_dependencies" in want and "business_services" in self.forbidden:
            self.forbidden.setdefault("service_dependencies", "read through business_services")
            self.lost("service_dependencies: not collected: they are read through business_services, which this "
                      "key cannot read (403)")
        for name in ALL_COLLECTIONS:
            tally = self._tallies.get(name)
            expected = tally.expected if tally is not None and name in want else None
            if name not in want:
                state = "excluded"
            elif name in self.forbidden or name in unfinished:
                state = "forbidden" if name in self.forbidden else "incomplete"
                expected = None if name in self.forbidden else expected
                doc[name] = []
                if name == "standards":
                    doc["standards_scores"] = []
            else:
                got = len(doc[name])
                if expected is not None and got < expected and name not in self._lost_in:
                    self.lost(f"{name}: {got:,} of {expected:,} announced objects collected")
                state = "incomplete" if name in self._lost_in else "complete"
            status[name] = {"status": state, "expected": expected, "got": len(doc[name]),
                            "warnings": list(self._notes.get(name, []))}
        return status

    async def run(self) -> ScanResult:
        o = self.o
        started = time.monotonic()
        want = set(o.collections)
        unknown = want - set(ALL_COLLECTIONS)
        if unknown:
            raise ScanError(f"unknown collection(s): {', '.join(sorted(unknown))}")
        doc: dict[str, Any] = {k: [] for k in MODELS}
        async with PagerDutyClient(
            o.api_key, region=o.region, api_url=o.api_url, auth_type=o.auth_type, concurrency=o.concurrency,
            timeout=o.timeout, max_retries=o.max_retries, retry_budget=o.retry_budget, backoff_base=o.backoff_base,
            max_rate_wait=o.max_rate_wait,
        ) as client:
            tasks: dict[str, asyncio.Future[Any]] = {}

            def start(name: str, coro: Any) -> None:
                tasks[name] = asyncio.ensure_future(self._guarded(name, coro))

            score_tasks: list[asyncio.Future[Any]] = []
            standards_list: asyncio.Future[Any] | None = None
            if "standards" in want:
                standards_list = asyncio.ensure_future(self._guarded("standards", self.standards(client)))

            def services_page(items: list[Any]) -> None:
                if standards_list is not None:
                    ids = [str(i["id"]) for i in items if isinstance(i, dict) and i.get("id")]
                    for k in range(0, len(ids), 100):
                        score_tasks.append(asyncio.ensure_future(self.scores(client, standards_list, ids[k:k + 100])))

            if "services" in want or "standards" in want or o.service_dependencies == "all":
                start("services", self.services(client, services_page))
            if "escalation_policies" in want:
                start("escalation_policies", self.escalation_policies(client))
            if "schedules" in want:
                start("schedules", self.schedules(client))
            if "incidents" in want:
                start("incidents", self.incidents(client))
            if "users" in want or "teams" in want:
                start("users", self.users(client))
            if "teams" in want:
                start("teams", self.simple(client, "teams"))
            if "business_services" in want or "service_dependencies" in want:
                start("business_services", self.simple(client, "business_services"))
            for name in ("addons", "extensions", "oncalls"):
                if name in want:
                    start(name, self.oncalls(client) if name == "oncalls" else self.simple(client, name))

            async def after_services() -> None:
                assert standards_list is not None
                await tasks["services"]  # every page's score batch has been started by now
                try:
                    doc["standards"] = await standards_list
                finally:  # every batch awaited, whatever happened (no exception left unretrieved)
                    batches = await asyncio.gather(*score_tasks, return_exceptions=True)
                for batch in batches:
                    if isinstance(batch, BaseException):
                        raise batch
                doc["standards_scores"] = [s for batch in batches for s in batch]

            async def after_business() -> None:
                bs = await tasks["business_services"]
                svc_ids: list[str] = []
                if o.service_dependencies == "all":
                    svc_ids = [s["id"] for s in await tasks["services"]]
                doc["service_dependencies"] = await self.dependencies(client, [b["id"] for b in bs], svc_ids)

            extra: dict[str, asyncio.Future[Any]] = {}
            if "standards" in want:
                extra["standards"] = asyncio.ensure_future(self._guarded("standards", after_services()))
            if "service_dependencies" in want:
                extra["service_dependencies"] = asyncio.ensure_future(
                    self._guarded("service_dependencies", after_business()))
            helpers = [*([standards_list] if standards_list else []), score_tasks]
            unfinished = await self._await_all({**tasks, **extra}, helpers, started)
            for name, task in tasks.items():
                if name in want and name not in unfinished:
                    doc[name] = task.result()
            if "teams" in want and not {"users", "teams"} & unfinished:
                _derive_members(doc["teams"], tasks["users"].result())
            stats = client.stats

        status = self._settle(doc, want, unfinished)

        counts = {k: len(v) for k, v in doc.items() if isinstance(v, list)}
        scanned_at = _iso(self.now)
        meta = {
            "account_subdomain": _subdomain(doc),
            "region": o.region,
            "api_url": o.api_url or client.base_url,
            "scanned_at": scanned_at,
            "pdguard_version": __version__,
            "counts": counts,
            "warnings": list(self.warnings),
            "complete": self.complete and all(v["status"] in ("complete", "excluded") for v in status.values()),
            "incidents_since": _iso(o.incidents_since or (self.now - timedelta(days=o.lookback_days))),
            # The truth: what was read. Excluded, forbidden (403) and unfinished collections are not listed.
            "collections": sorted(k for k in want if k not in self.forbidden and k not in unfinished),
            "collections_status": status,
            "requests": stats.requests,
            "duration_seconds": round(time.monotonic() - started, 3),
        }
        document = {"schema_version": SCHEMA_VERSION, "meta": meta, **doc, "iac": None}
        return ScanResult(document, stats.requests, stats.retries, stats.rate_limited, dict(stats.by_collection))


def _status_name(collection: str) -> str:
    return "standards" if collection == "standards_scores" else collection


def _collection_of(msg: str) -> str | None:
    """The collection a warning is about: its ``name:`` prefix."""
    name = _status_name(msg.split(":", 1)[0])
    return name if name in ALL_COLLECTIONS else None


def _duration(seconds: float) -> str:
    whole = int(round(seconds))
    if whole >= 60 and whole % 60 == 0:
        return f"{whole // 60}m" if whole < 3600 or whole % 3600 else f"{whole // 3600}h"
    return f"{seconds:g}s"


def _derive_members(teams: list[dict[str, Any]], users: list[dict[str, Any]]) -> None:
    members: dict[str, list[dict[str, Any]]] = {t["id"]: [] for t in teams}
    for u in users:
        for t in u.get("teams") or []:
            if isinstance(t, dict) and t.get("id") in members:
                ref = {"id": u["id"], "type": "user_reference", "summary": u.get("name") or u.get("summary")}
                members[t["id"]].append({"user": ref, "role": None})
    for t in teams:
        t["members"] = members[t["id"]]


_SUBDOMAIN = re.compile(r"^https?://([a-z0-9-]+)\.(?:eu\.)?pagerduty\.com/", re.I)


def _subdomain(doc: dict[str, Any]) -> str | None:
    for key in ("users", "services", "escalation_policies", "schedules", "teams"):
        for obj in doc.get(key) or []:
            url = obj.get("html_url") if isinstance(obj, dict) else None
            if isinstance(url, str):
                m = _SUBDOMAIN.match(url)
                if m and m.group(1).lower() not in ("api", "app", "www"):
                    return m.group(1).lower()
    return None


def scan(options: ScanOptions, progress: Progress | None = None) -> ScanResult:
    """Run a whole scan (blocking). Raises ScanError/AuthError; never returns a partial document
    silently: warnings and `meta.complete` say what is missing."""
    # Decoding 100+ MB of JSON allocates millions of containers and none of them form cycles:
    # with the cyclic GC running, json.loads spends half its time in collections (measured 3.0 s
    # vs 1.5 s on a 150 MB account). Pause it for the scan, restore it after.
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        return asyncio.run(Scanner(options, progress).run())
    finally:
        if was_enabled:
            gc.enable()
