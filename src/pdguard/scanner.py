"""Collectors: a whole PagerDuty account → one snapshot document (schema 2.1; see snapshot.py).

Each object is fetched once, with the fewest requests the API allows:

- List endpoints, 100 items per page (1,000 for ``/v3/schedules``), all pages after the first
  fetched concurrently. ``include[]`` only for what no list endpoint returns: a service's
  ``integrations`` and ``auto_pause_notifications_parameters``, a user's ``contact_methods`` and
  ``notification_rules``. Every other link stays the API's reference; team members are derived
  from the users' ``teams`` references instead of one request per team.
- Classic schedules: the list with ``include[]=schedule_layers`` (it never renders a final
  schedule); who is on call when is ``GET /oncalls?since=<scanned_at>&until=<+7 days>``, every
  shift of every escalation level (layers, restrictions and overrides applied), one page per 100
  shifts instead of one render per schedule. Past the API's offset cap that window is read by
  batches of escalation policy ids (:meth:`Scanner.oncalls`).
- Per-object requests only where the API has no list: one per flexible schedule
  (``GET /v3/schedules/{id}`` with ``include[]=final_schedule`` and the same window), service
  dependencies (one per business service; per technical service only with
  ``service_dependencies: all``) and Service Standards scores (batches of 100 service ids,
  started as each page of services arrives).

Incidents: every unresolved incident (``date_range=all``, triggered + acknowledged) plus the
resolved incidents of the lookback window (default 90 days). The window is cut into requests
of at most 6 months; a window holding more than the API's 10,000-offset cap is read up to the
cap (sorted by ``created_at``) and continued from the last incident's second as soon as the
page at the cap arrives (the incidents sharing that second are read twice, then de-duplicated
by id). A window whose server gives no ``total`` is read on ``more`` and, when it reaches the
cap, halved in time (each half read on its own). Nothing pages past more than 10,000 incidents
created in one second: the scan steps past that second, says so and is incomplete (with a total,
one more request counts what was skipped, which ``expected`` then includes).

Incremental (``ScanOptions.incident_base``, what ``watch`` does after a complete scan): resolved
incidents are read only since the base scan's window end less an overlap; the base's incidents
resolved since are read again; the resolved history of the rest of the window comes from the
store (:class:`IncidentBase`, :mod:`pdguard.inventory.incremental`): the same snapshot as a full
scan, with ``meta.incremental`` and ``meta.incidents_merged``.

Accounting (``meta.collections_status``): every list query counts its unique objects against
the ``total`` it announced (see :meth:`PagerDutyClient.read_query`); anything unaccounted for
is a warning naming the collection and makes the snapshot incomplete. Core collections
(:data:`CORE_COLLECTIONS`) are required: a 401/403 there fails the scan. An optional one
(:data:`OPTIONAL_COLLECTIONS`) answering 403 is skipped with a warning naming its OAuth scope
and ``--exclude``: it is then not in ``meta.collections`` and the snapshot is incomplete. A scan
that reaches ``max_duration`` stops: what was not finished is not collected, the snapshot is
incomplete. A reference the snapshot cannot resolve (an escalation target whose schedule,
flexible schedule or user is not in it, a service's escalation policy that is not) is a named
warning and makes the snapshot incomplete.

Memory and CPU: pages are handed to a sink as they arrive (:class:`FileSink` spools each
collection to a temporary file next to the output and assembles the document at the end, in a
stable order; :class:`MemorySink` builds it in memory); the scan keeps only small indexes (ids,
team memberships, escalation targets). Objects get a cheap type check, not a model validation.
No object keeps its ``self``/``html_url`` links (they follow from type and id;
``meta.api_url``/``meta.web_url`` give the hosts): they are cut from the page bytes before
decoding, and references are ``{id, type, summary}``. A Service Standards score lists each
standard by ``id``/``type`` with ``active`` and ``pass`` (the standard itself is in
``standards``).
"""

from __future__ import annotations

import asyncio
import bisect
import contextlib
import os
import re
import shutil
import tempfile
import time
import warnings
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import orjson

from pdguard import __version__
from pdguard.errors import ConfigError, ForbiddenError, ScanError
from pdguard.pdapi.client import MAX_RATE_WAIT, OFFSET_CAP, PAGE_LIMIT, AuthType, PagerDutyClient, Tally
from pdguard.snapshot import COLLECTIONS, SCHEMA_VERSION, dump_document

# What `--exclude` can name: every collection of the document; Service Standards scores come with `standards`.
ALL_COLLECTIONS: tuple[str, ...] = tuple(k for k in COLLECTIONS if k != "standards_scores")
# Required: a 401/403 on one of these fails the scan (exit 2).
CORE_COLLECTIONS: frozenset[str] = frozenset({"services", "escalation_policies", "schedules", "users", "teams"})
# Optional: a 403 skips the collection with a warning (scope, --exclude); the snapshot is incomplete.
OPTIONAL_COLLECTIONS: frozenset[str] = frozenset({
    "flexible_schedules", "incidents", "business_services", "service_dependencies", "addons", "extensions",
    "oncalls", "standards", "audit_records",
})
# Optional and about the account's history, not its configuration: a 403/402 (a key below admin
# level, a plan without Audit Trail) is said once and the scan stays complete - no policy judges
# them, diffs and drift entries simply name no actor.
SUPPLEMENTARY_COLLECTIONS: frozenset[str] = frozenset({"audit_records"})
AUDIT_DAYS = 30  # default audit window: the last 30 days (one query)
AUDIT_RETENTION = timedelta(days=365)  # PagerDuty keeps audit records 12 months
AUDIT_MAX_SPAN = timedelta(days=31)  # one /audit/records query spans at most 31 days
DEFAULT_MAX_DURATION = 1800.0  # seconds: a whole scan stops (incomplete) past this
MAX_WINDOW = timedelta(days=180)  # the API rejects since/until spans longer than 6 months
SCHEDULE_HORIZON = timedelta(days=7)  # on-calls and flexible schedules: [scanned_at, scanned_at + 7 days)
ONCALL_EP_BATCH = 100  # escalation policy ids per /oncalls query when the window is past the offset cap
V3_PAGE_LIMIT = 1000  # /v3/schedules pages hold up to 1,000 references
MAX_REFERENCE_WARNINGS = 20  # named unresolved references; the rest are counted
ISO = "%Y-%m-%dT%H:%M:%SZ"
# The oldest incident window start accepted: PagerDuty holds nothing older, and earlier years
# broke the scan (before 1000 the API rejects the `since` it is sent; before 1970 a window reaches
# back thousands of 6-month windows; an offset past year 1 or 9999 overflows the conversion to UTC).
EARLIEST_INCIDENTS_SINCE = datetime(1970, 1, 1, tzinfo=UTC)


def check_incidents_since(since: datetime, shown: str | None = None) -> datetime:
    """`since` (naive: UTC) if it is a usable start of the incident window, else a one-line
    :class:`ConfigError` (exit 2) naming ``--incidents-since``: before 1970-01-01, or out of the
    calendar once converted to UTC. `shown`: the value as the user wrote it."""
    aware = since if since.tzinfo is not None else since.replace(tzinfo=UTC)
    try:
        utc: datetime | None = aware.astimezone(UTC)
    except OverflowError:  # 0001-01-01T00:00:00+14:00, 9999-12-31T23:59:59-14:00
        utc = None
    if utc is None or utc < EARLIEST_INCIDENTS_SINCE:
        value = shown if shown is not None else since.isoformat()
        why = "outside the years 1 to 9999 in UTC" if utc is None else "PagerDuty holds no older incidents"
        raise ConfigError(f"--incidents-since: '{value}' is out of range ({why}): give a date from 1970-01-01 on")
    return aware
# Collections whose objects carry an `id` (the others: oncalls, service_dependencies may lack one, scores).
_WITH_ID = frozenset(COLLECTIONS) - {"oncalls", "standards_scores", "service_dependencies"}
_SCORE_FIELDS = ("id", "type", "active", "pass")  # of each standard in a score (the rest is in `standards`)


@dataclass
class ScanOptions:
    api_key: str = field(repr=False)  # never shown (asyncio and tracebacks may repr the options)
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
    audit_since: datetime | None = None  # start of the audit window; default: now - audit_days
    audit_days: int = AUDIT_DAYS
    account: str | None = None  # the configured account's name (`accounts:` in pdguard.yaml) -> meta.account
    incident_base: IncidentBase | None = None  # incremental: read incidents since the base, merge its history


@dataclass
class IncidentBase:
    """What an incremental scan takes from the previous complete scan of the account (its incident
    history, see :mod:`pdguard.inventory.incidents`) instead of reading it again.

    The scan reads every unresolved incident and the resolved ones created since `read_from` (the
    base's window end less the overlap); base incidents that were unresolved and are not any more
    are read again (by id, or by reading further back when that takes fewer requests); the base's
    resolved incidents created in ``[since, read_from)`` complete the window. The result is the
    snapshot a full scan gives, with ``meta.incremental`` true and ``meta.incidents_merged``.
    """

    scan_id: int
    read_from: datetime
    resolved: list[dict[str, Any]]  # the base's resolved incidents (at least those created since `since`)
    unresolved: list[tuple[str, str | None, str | None]]  # the base's unresolved ones: (id, created_at, status)
    subdomain: str | None = None  # the base's account: a scan that finds another one is refused (BaseMismatch)
    run: int = 1  # incremental scans in a row, this one included


class BaseMismatch(ScanError):
    """An incremental scan found another account than its base's: nothing is merged (scan in full)."""


@dataclass(repr=False)
class ScanResult:
    """What a scan produced: the snapshot written to `path` (streamed) or held in memory."""

    meta: dict[str, Any]
    requests: int
    retries: int
    rate_limited: int
    by_collection: dict[str, int] = field(default_factory=dict)
    path: Path | None = None
    _document: dict[str, Any] | None = None

    @property
    def document(self) -> dict[str, Any]:
        """The whole document (read from `path` on first use when the scan streamed to a file)."""
        if self._document is None:
            assert self.path is not None
            self._document = orjson.loads(self.path.read_bytes())
        return self._document

    def __repr__(self) -> str:
        # Short on purpose: asyncio may repr the task result, and the document can be 100+ MB.
        return f"ScanResult(requests={self.requests}, counts={self.meta.get('counts')}, path={self.path})"


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


# ------------------------------------------------------------------------------------------ links

# `self` and `html_url` of every object (top level and nested): a URL built from the object's
# type and id (`meta.api_url` / `meta.web_url` give the hosts). Dropped from the raw page bytes
# before decoding: a regex on JSON is safe here because a `"` inside a JSON string is always
# escaped, so `,"self":"` can only be a key; a URL with an escape in it (`\/`) is left as it is.
_LINK = re.compile(rb',"(?:self|html_url)":(?:null|"[^"\\]*")')
_WEB = re.compile(rb'"html_url":"(https://[a-z0-9-]+\.(?:eu\.)?pagerduty\.com)/', re.I)


# ------------------------------------------------------------------------------------------ sinks


class Sink:
    """Where a scan's objects go. Pieces of a collection are ordered by their key at the end."""

    def add(self, collection: str, key: tuple[Any, ...], items: list[dict[str, Any]]) -> None:
        raise NotImplementedError

    def drop(self, collection: str) -> None:
        """Forget a collection (not collected after all: forbidden, or unfinished at the deadline)."""
        raise NotImplementedError

    def finish(self, head: dict[str, Any], iac: Any) -> None:
        raise NotImplementedError

    def abort(self) -> None:
        pass


class MemorySink(Sink):
    """Keeps the document in memory (tests, `watch`, `demo`, small accounts)."""

    def __init__(self) -> None:
        self.pieces: dict[str, list[tuple[tuple[Any, ...], list[dict[str, Any]]]]] = {k: [] for k in COLLECTIONS}
        self.document: dict[str, Any] | None = None

    def add(self, collection: str, key: tuple[Any, ...], items: list[dict[str, Any]]) -> None:
        if items:
            self.pieces[collection].append((key, items))

    def drop(self, collection: str) -> None:
        self.pieces[collection] = []

    def finish(self, head: dict[str, Any], iac: Any) -> None:
        doc = dict(head)
        for name in COLLECTIONS:
            doc[name] = [o for _k, items in sorted(self.pieces[name], key=lambda p: p[0]) for o in items]
        doc["iac"] = iac
        self.document = doc


class FileSink(Sink):
    """Streams each collection to a spool file as pages arrive; `finish` assembles the snapshot
    and puts it in place (:func:`pdguard.fileout.place_output`: atomic, through symlinks); a failed
    scan leaves the target untouched.

    The file is byte for byte what `dump_document` gives for the same document: the keys in the
    order `schema_version`, `meta`, the collections of `COLLECTIONS`, `iac`. An incomplete scan
    goes to `incomplete_target` when one is given (the last good snapshot stays as it was).
    """

    def __init__(self, target: str | os.PathLike[str],
                 incomplete_target: str | os.PathLike[str] | None = None) -> None:
        from pdguard.fileout import refuse_dangling, resolve_target

        refuse_dangling(target, what="snapshot")  # before the spool directory is made beside it
        self.target = target
        self.incomplete_target = incomplete_target
        here = resolve_target(target)
        spool_in = here.parent if not (here.exists() and not here.is_file()) else None  # a device: anywhere
        if spool_in is not None:
            spool_in.mkdir(parents=True, exist_ok=True)
        self.dir = Path(tempfile.mkdtemp(prefix=".pdguard-scan.", suffix=".spool",
                                         dir=str(spool_in) if spool_in else None))
        self.files: dict[str, Any] = {}
        self.index: dict[str, list[tuple[tuple[Any, ...], int, int]]] = {k: [] for k in COLLECTIONS}
        self.path: Path | None = None  # where the snapshot was put

    def add(self, collection: str, key: tuple[Any, ...], items: list[dict[str, Any]]) -> None:
        if not items:
            return
        fh = self.files.get(collection)
        if fh is None:
            fh = self.files[collection] = open(self.dir / f"{collection}.json", "w+b")  # noqa: SIM115
        data = dump_document(items)[1:-1]
        start = fh.tell()
        fh.write(data)
        self.index[collection].append((key, start, len(data)))

    def drop(self, collection: str) -> None:
        self.index[collection] = []

    def finish(self, head: dict[str, Any], iac: Any) -> None:
        from pdguard.fileout import place_output

        tmp = self.dir / "snapshot.json"
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        try:
            _write_all(fd, dump_document(head)[:-1])
            for name in COLLECTIONS:
                _write_all(fd, b',"' + name.encode() + b'":[')
                fh = self.files.get(name)
                if fh is not None:
                    fh.flush()
                    for n, (_key, start, length) in enumerate(sorted(self.index[name], key=lambda p: p[0])):
                        if n:
                            _write_all(fd, b",")
                        _copy_range(fh.fileno(), fd, start, length)
                _write_all(fd, b"]")
            _write_all(fd, b',"iac":' + dump_document(iac) + b"}")
            os.fsync(fd)
        finally:
            os.close(fd)
        for fh in self.files.values():
            fh.close()
        self.files.clear()
        complete = head["meta"].get("complete", True) is not False
        target = self.target if complete or self.incomplete_target is None else self.incomplete_target
        place_output(target, tmp, what="snapshot")
        self.path = Path(target)
        shutil.rmtree(self.dir, ignore_errors=True)

    def abort(self) -> None:
        for fh in self.files.values():
            fh.close()
        self.files.clear()
        shutil.rmtree(self.dir, ignore_errors=True)


def _write_all(fd: int, data: bytes) -> None:
    view = memoryview(data)
    while view:
        view = view[os.write(fd, view):]


def _copy_range(src: int, dst: int, offset: int, length: int) -> None:
    """Append src[offset:offset+length] to dst (in the kernel where the platform allows it)."""
    copy = getattr(os, "copy_file_range", None)
    while length > 0:
        n = 0
        if copy is not None:
            try:
                n = copy(src, dst, length, offset)
            except OSError:
                copy = None
                continue
        else:
            chunk = os.pread(src, min(length, 1 << 20), offset)
            _write_all(dst, chunk)
            n = len(chunk)
        if n <= 0:
            raise OSError("short copy while assembling the snapshot")
        offset += n
        length -= n


# ------------------------------------------------------------------------------------------ scanner


class Scanner:
    def __init__(self, options: ScanOptions, progress: Progress | None = None, sink: Sink | None = None) -> None:
        self.o = options
        self.now = (options.now or datetime.now(UTC)).replace(microsecond=0)
        self.warnings: list[str] = []
        self.complete = True  # False once anything the account holds was not collected
        self._progress = progress
        self._counts: dict[str, int] = {k: 0 for k in COLLECTIONS}
        self._tallies: dict[str, Tally] = {}
        self._notes: dict[str, list[str]] = {}  # collection -> its warnings
        self._lost_in: set[str] = set()  # collections missing data
        self.forbidden: dict[str, str] = {}  # optional collections skipped on a 403 -> why
        self.sink = sink or MemorySink()
        self.ids: dict[str, set[str]] = {k: set() for k in COLLECTIONS}  # ids written, per collection
        self.listed: dict[str, set[str]] = {}  # ids of lists read but not written as such
        self.subdomain: str | None = None
        self.web_url: str | None = None
        # the small indexes the scan needs
        self.user_teams: list[tuple[str, Any, list[str]]] = []  # (user id, name, team ids)
        self.teams: list[dict[str, Any]] = []  # held until the users are read (members)
        self.targets: list[tuple[str, int, str, str]] = []  # (ep id, level, target type, target id)
        self.service_eps: list[tuple[str, str]] = []  # (service id, ep id)
        self.ep_ids: list[str] = []
        self.service_ids: list[str] = []
        self.business_ids: list[str] = []
        self._merge: dict[str, Any] | None = None  # incremental: what the incident history adds (see run)

    # -- bookkeeping ---------------------------------------------------------------------------

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

    def _tick(self, collection: str) -> None:
        if self._progress:
            self._progress(collection, self._counts[collection], None)

    def _check(self, collection: str, items: list[Any], seen: set[str] | None = None) -> list[dict[str, Any]]:
        """The cheap check on the hot path: objects (with a string id where the collection has ids),
        each id once (`seen`: the ids so far). Anything else is skipped with a warning (data is missing)."""
        need_id = collection in _WITH_ID
        seen = self.ids[collection] if seen is None else seen
        out: list[dict[str, Any]] = []
        for item in items:
            if not isinstance(item, dict):
                self.lost(f"{collection}: skipped an item that is {'null' if item is None else type(item).__name__}, "
                          "not an object")
                continue
            oid = item.get("id")
            if need_id:
                if not isinstance(oid, str) or not oid:
                    self.lost(f"{collection}: skipped an object without a string id")
                    continue
                if oid in seen:
                    continue  # read twice (e.g. incidents sharing a window boundary): kept once
                seen.add(oid)
            elif isinstance(oid, str):
                if oid in seen:
                    continue
                seen.add(oid)
            item.pop("self", None)  # normally gone already (see _LINK)
            item.pop("html_url", None)
            out.append(item)
        return out

    def prepare(self, raw: bytes) -> bytes:
        """Every response body before decoding: note the account's web address, drop the links."""
        if self.web_url is None:
            m = _WEB.search(raw)
            if m:
                self.web_url = m.group(1).decode().lower()
                sub = _SUBDOMAIN.match(self.web_url + "/")
                self.subdomain = sub.group(1).lower() if sub and sub.group(1).lower() not in ("api", "app", "www") \
                    else None
        return _LINK.sub(b"", raw)

    def emit(self, collection: str, key: tuple[Any, ...], items: list[Any]) -> list[dict[str, Any]]:
        """Check a page and hand it to the sink; returns the objects kept."""
        kept = self._check(collection, items)
        self._counts[collection] += len(kept)
        self._tick(collection)
        self.sink.add(collection, key, kept)
        return kept

    async def _list(
        self, client: PagerDutyClient, collection: str, path: str, key: str, params: list[tuple[str, Any]],
        on_page: Callable[[list[dict[str, Any]], int], None] | None = None, page_limit: int = PAGE_LIMIT,
        store: bool = True,
    ) -> None:
        def page(items: list[Any], offset: int) -> None:
            if store:
                kept = self.emit(collection, (offset,), items)
            else:  # listed for their ids (or kept for later): checked, not written
                kept = self._check(collection, items, self.listed.setdefault(collection, set()))
            if on_page:
                on_page(kept, offset)

        await client.paginate(path, key, params, collection=collection, warn=self.lost, note=self.warn,
                              on_page=page, tally=self._tally(collection), keep=False, page_limit=page_limit)

    # -- collectors ------------------------------------------------------------------------

    async def services(self, c: PagerDutyClient, on_page: Callable[[list[dict[str, Any]], int], None],
                       store: bool = True) -> None:
        inc = [("include[]", "integrations"), ("include[]", "auto_pause_notifications_parameters")]

        def page(items: list[dict[str, Any]], offset: int) -> None:
            for s in items:
                self.service_ids.append(s["id"])
                ep = s.get("escalation_policy")
                if isinstance(ep, dict) and isinstance(ep.get("id"), str):
                    self.service_eps.append((s["id"], ep["id"]))
            on_page(items, offset)

        await self._list(c, "services", "/services", "services", inc, page, store=store)

    async def escalation_policies(self, c: PagerDutyClient) -> None:
        def page(items: list[dict[str, Any]], _offset: int) -> None:
            for ep in items:
                rules = ep.get("escalation_rules")
                for level, rule in enumerate(rules if isinstance(rules, list) else [], start=1):
                    targets = rule.get("targets") if isinstance(rule, dict) else None
                    for t in targets if isinstance(targets, list) else []:
                        if isinstance(t, dict) and isinstance(t.get("id"), str):
                            self.targets.append((ep["id"], level, str(t.get("type")), t["id"]))
                self.ep_ids.append(ep["id"])

        await self._list(c, "escalation_policies", "/escalation_policies", "escalation_policies", [], page)

    def _window_params(self) -> list[tuple[str, Any]]:
        return [("since", _iso(self.now)), ("until", _iso(self.now + SCHEDULE_HORIZON)), ("time_zone", "UTC"),
                ("overflow", "true")]

    async def _rendered(self, c: PagerDutyClient, collection: str, list_path: str, path: str,
                        params: list[tuple[str, Any]], page_limit: int) -> None:
        """List a collection for its ids, then read each object by id as it is listed (the list
        does not render what the snapshot needs): flexible schedules."""
        renders: list[asyncio.Future[Any]] = []

        async def read(index: int, oid: str) -> None:
            body = await c.get(f"{path}/{oid}", params, collection=collection, missing_ok=True)
            if body is None:
                self.lost(f"{collection}: {oid} was listed but GET {path}/{oid} answered 404 (deleted during the scan?)")
                return
            obj = body.get("schedule")
            if not isinstance(obj, dict):
                raise ScanError(f"{collection}: response from {path}/{oid} has no 'schedule' object")
            self.emit(collection, (index,), [obj])

        def page(items: list[dict[str, Any]], _offset: int) -> None:
            for s in items:
                renders.append(asyncio.ensure_future(read(len(renders), s["id"])))

        async with _cancel_on_failure(renders):
            await self._list(c, collection, list_path, "schedules", [], page, page_limit=page_limit, store=False)
            await asyncio.gather(*renders)

    async def schedules(self, c: PagerDutyClient) -> None:
        """Classic schedules with their layers (`include[]=schedule_layers`; the list renders no
        final schedule: who is on call when comes from `/oncalls` over the same window)."""
        await self._list(c, "schedules", "/schedules", "schedules", [("include[]", "schedule_layers")])

    async def oncalls(self, c: PagerDutyClient, eps_listed: asyncio.Future[Any] | None) -> None:
        """`GET /oncalls` over the schedule window: every shift of every escalation level (layers,
        restrictions and overrides applied), the current ones and those of the next 7 days.

        Past the API's offset cap the window is read again by escalation policy, in batches of
        up to 100 ids (halved while a batch is still past the cap), once the policies are listed.
        """
        # time_zone=UTC: shifts written as the flexible schedules' (else in the account's time zone)
        window = [("since", _iso(self.now)), ("until", _iso(self.now + SCHEDULE_HORIZON)), ("time_zone", "UTC")]
        totals: list[int | None] = []  # what each query read to its end announced (None: no total)

        async def read(extra: list[tuple[str, Any]], key: tuple[int, ...], split: bool = True) -> bool:
            q = await c.read_query("/oncalls", "oncalls", window + extra, collection="oncalls", warn=self.lost,
                                   note=self.warn, tally=self._tally("oncalls"), split_past_cap=split)
            if q.at_cap and split:
                if not extra:
                    totals.append(q.total)  # the whole window's (first in the list)
                return False
            totals.append(q.total)
            self.emit("oncalls", key, q.items)
            return True

        if await read([], (0,)):
            return
        whole = totals.pop()  # the window's total (None: the server gave none)
        if eps_listed is None:
            self.lost(f"oncalls: more than {OFFSET_CAP:,} on-call entries over the window and escalation policies "
                      "were not listed (they split the query): on-calls were not collected")
            return
        # Wait without awaiting the task itself: cancelling this one must not cancel the policies'
        # (their own failure is theirs to report).
        await asyncio.wait([eps_listed])
        ids = sorted(set(self.ep_ids))

        async def part(batch: list[str], key: tuple[int, ...]) -> None:
            if await read([("escalation_policy_ids[]", i) for i in batch], key, split=len(batch) > 1):
                return
            half = len(batch) // 2
            await asyncio.gather(part(batch[:half], (*key, 0)), part(batch[half:], (*key, 1)))

        await asyncio.gather(*(part(ids[k:k + ONCALL_EP_BATCH], (1, k)) for k in range(0, len(ids), ONCALL_EP_BATCH)))
        # Every entry belongs to one escalation policy: the batches account for the window only
        # when every policy was listed, and (with totals) when they add up to the window's total.
        if "escalation_policies" in self._lost_in or eps_listed.cancelled() or eps_listed.exception() is not None:
            self.lost("oncalls: read by escalation policy past the offset cap, but not every escalation policy was "
                      "listed (see the escalation_policies warnings): the on-calls of those missing were not read")
        elif whole is not None and None not in totals and (got := sum(t or 0 for t in totals)) < whole:
            self.lost(f"oncalls: the escalation policies' on-calls add up to {got:,} of the {whole:,} entries the "
                      "window announced: the on-calls of policies not listed were not read")

    async def flexible_schedules(self, c: PagerDutyClient) -> None:
        """`/v3/schedules` lists references only: each flexible schedule is read (and rendered) by id."""
        params = [("include[]", "final_schedule"), *self._window_params()]
        await self._rendered(c, "flexible_schedules", "/v3/schedules", "/v3/schedules", params, V3_PAGE_LIMIT)

    async def users(self, c: PagerDutyClient) -> None:
        inc = [("include[]", "contact_methods"), ("include[]", "notification_rules")]

        def page(items: list[dict[str, Any]], _offset: int) -> None:
            for u in items:
                teams = u.get("teams")
                ids = [t["id"] for t in teams if isinstance(t, dict) and isinstance(t.get("id"), str)] \
                    if isinstance(teams, list) else []
                self.user_teams.append((u["id"], u.get("name") or u.get("summary"), ids))

        await self._list(c, "users", "/users", "users", inc, page, store="users" in self.o.collections)

    async def teams_list(self, c: PagerDutyClient) -> None:
        def page(items: list[dict[str, Any]], _offset: int) -> None:
            self.teams.extend(items)

        await self._list(c, "teams", "/teams", "teams", [], page, store=False)

    async def simple(self, c: PagerDutyClient, collection: str, store: bool = True) -> None:
        def page(items: list[dict[str, Any]], _offset: int) -> None:
            if collection == "business_services":
                self.business_ids.extend(b["id"] for b in items)

        await self._list(c, collection, f"/{collection}", collection, [], page, store=store)

    async def standards(self, c: PagerDutyClient) -> bool:
        body = await c.get("/standards", [("resource_type", "technical_service")], collection="standards", priority=0)
        assert body is not None
        standards = body.get("standards")
        if not isinstance(standards, list):
            raise ScanError("standards: response from /standards has no 'standards' list")
        return bool(self.emit("standards", (0,), standards))

    async def scores(self, c: PagerDutyClient, standards: asyncio.Future[Any], key: tuple[int, int],
                     ids: list[str]) -> None:
        """Scores of up to 100 services: one request per page of services, started as the page arrives."""
        if not ids or not await standards:
            return
        resp = await c.get("/standards/scores/technical_services", [("ids[]", i) for i in ids],
                           collection="standards_scores")
        assert resp is not None
        got = resp.get("resources")
        if not isinstance(got, list):
            raise ScanError("standards_scores: response has no 'resources' list")
        for entry in got:  # each standard is in `standards`: a score keeps its id, type, active and result
            rows = entry.get("standards") if isinstance(entry, dict) else None
            if isinstance(rows, list):
                entry["standards"] = [{k: r[k] for k in _SCORE_FIELDS if k in r} if isinstance(r, dict) else r
                                      for r in rows]
        self.emit("standards_scores", key, got)

    async def dependencies(self, c: PagerDutyClient) -> None:
        targets = [("business_services", i) for i in self.business_ids]
        if self.o.service_dependencies == "all":
            targets += [("technical_services", i) for i in self.service_ids]

        async def one(index: int, kind: str, oid: str) -> None:
            body = await c.get(f"/service_dependencies/{kind}/{oid}", None, collection="service_dependencies")
            assert body is not None
            rel = body.get("relationships")
            if not isinstance(rel, list):
                raise ScanError(f"service_dependencies: response for {kind}/{oid} has no 'relationships' list")
            for r in rel:
                if isinstance(r, dict) and not r.get("id"):
                    sup, dep = r.get("supporting_service") or {}, r.get("dependent_service") or {}
                    r["id"] = f"{sup.get('id')}->{dep.get('id')}"
            self.emit("service_dependencies", (index,), rel)

        await asyncio.gather(*(one(n, k, i) for n, (k, i) in enumerate(targets)))

    def audit_window(self) -> tuple[datetime, datetime]:
        """[since, until) of the audit records read: `audit_since` (default `audit_days` back) up to
        the scan, never further back than PagerDuty keeps them (12 months)."""
        since = self.o.audit_since or (self.now - timedelta(days=self.o.audit_days))
        if since.tzinfo is None:
            since = since.replace(tzinfo=UTC)
        return max(since.astimezone(UTC).replace(microsecond=0), self.now - AUDIT_RETENTION), self.now

    async def audit_records(self, c: PagerDutyClient) -> None:
        """`GET /audit/records`: windows of at most 31 days (newest first), each read page after
        page on `next_cursor` (cursor pagination: no total, no offset). The newest window is read
        first: a key that may not read audit records gets one 403, not one per window; the
        older windows then run concurrently."""
        since, until = self.audit_window()
        windows = []
        end = until
        while end > since:
            start = max(since, end - AUDIT_MAX_SPAN)
            windows.append((start, end))
            end = start
        if not windows:
            return
        await self._audit_part(c, 0, *windows[0])
        rest = [asyncio.ensure_future(self._audit_part(c, n, a, b)) for n, (a, b) in enumerate(windows[1:], 1)]
        async with _cancel_on_failure(rest):
            await asyncio.gather(*rest)

    async def _audit_part(self, c: PagerDutyClient, n: int, start: datetime, end: datetime) -> None:
        cursors: set[str] = set()
        cursor: str | None = None
        page = 0
        while True:
            params: list[tuple[str, Any]] = [("since", _iso(start)), ("until", _iso(end)), ("limit", PAGE_LIMIT)]
            if cursor:
                params.append(("cursor", cursor))
            # Each page unblocks the next (a cursor): first in line, or the chain is the scan's tail.
            body = await c.get("/audit/records", params, collection="audit_records", priority=0)
            assert body is not None
            records = body.get("records")
            if not isinstance(records, list):
                raise ScanError("audit_records: response from /audit/records has no 'records' list")
            for r in records:
                if isinstance(r, dict):  # what the snapshot keeps: no token ends, no remote IPs
                    r.pop("execution_context", None)
                    if isinstance(r.get("method"), dict):
                        r["method"].pop("truncated_token", None)
            self.emit("audit_records", (n, page), records)
            nxt = body.get("next_cursor")
            if not nxt:
                return
            if not isinstance(nxt, str) or nxt in cursors:
                self.lost(f"audit_records: /audit/records repeated a cursor for {_iso(start)}..{_iso(end)}; "
                          "the records after it were not read")
                return
            cursors.add(nxt)
            cursor = nxt
            page += 1

    def incidents_since(self) -> datetime:
        since = self.o.incidents_since or (self.now - timedelta(days=self.o.lookback_days))
        return since if since.tzinfo is not None else since.replace(tzinfo=UTC)

    def _windows(self, start: datetime, stop: datetime) -> list[tuple[datetime, datetime]]:
        windows = []
        cursor = start
        while cursor < stop:
            nxt = min(stop, cursor + MAX_WINDOW)
            windows.append((cursor, nxt))
            cursor = nxt
        return windows

    async def incidents(self, c: PagerDutyClient) -> None:
        since = self.incidents_since()
        base = self.o.incident_base
        read_from = since if base is None else min(self.now, max(since, base.read_from))
        open_now: set[str] = set()  # ids the unresolved query returned

        def unresolved_page(page: list[Any], off: int) -> None:
            open_now.update(x["id"] for x in page if isinstance(x, dict) and isinstance(x.get("id"), str))
            self.emit("incidents", (0, 0, off), page)

        async def unresolved() -> None:
            params = [("date_range", "all"), ("statuses[]", "triggered"), ("statuses[]", "acknowledged"),
                      ("sort_by", "created_at:asc")]
            await c.paginate("/incidents", "incidents", params, collection="incidents", warn=self.lost,
                             note=self.warn, tally=self._tally("incidents"), keep=False, on_page=unresolved_page)
            if base is not None:  # base incidents open then, not now: read again (they were not stored)
                await self._reread(c, base, since, read_from, open_now)

        # Independent ≤ 6-month windows run concurrently; each continues past the offset cap itself.
        windows = self._windows(read_from, self.now)
        await asyncio.gather(unresolved(), *(self._resolved(c, (1, n), a, b) for n, (a, b) in enumerate(windows)))

    async def _reread(self, c: PagerDutyClient, base: IncidentBase, since: datetime, read_from: datetime,
                      open_now: set[str]) -> None:
        """Incremental scan: the base's unresolved incidents that are not unresolved now were resolved
        since (their final form is not in the history). Those created before `since` are out of the
        window (a full scan would not list them); those created since `read_from` are in the windows
        read anyway; the others are read again: one `GET /incidents/{id}` each, or, when that takes
        fewer requests, the resolved incidents created since the oldest of them (the history then
        covers only up to there). Sets ``self._merge``: the history's part of the window."""
        later: list[tuple[datetime, str]] = []
        by_id: list[str] = []  # created_at unreadable: only by id
        for iid, created, _status in base.unresolved:
            if iid in open_now:
                continue
            t = _parse_ts(created)
            if t is None:
                by_id.append(iid)
            elif since <= t < read_from:
                later.append((t.astimezone(UTC), iid))
        later.sort()
        stored = sorted(t for t in (_parse_ts(i.get("created_at")) for i in base.resolved) if t is not None
                        and since <= t < read_from)
        # Cost of reading back from the k-th oldest incident: k requests by id for the older ones plus
        # the pages of what was created since (the history's resolved ones and these incidents).
        best_k, best_cost = len(later), len(later)
        for k, (t, _iid) in enumerate(later):
            start = t.replace(microsecond=0)
            n = len(stored) - bisect.bisect_left(stored, start) + len(later) - k
            cost = k + sum(max(1, -(-n // PAGE_LIMIT)) for _ in self._windows(start, read_from))
            if cost < best_cost:
                best_k, best_cost = k, cost
        merge_until = read_from
        fetch = by_id + [iid for _t, iid in later[:best_k]]
        if best_k < len(later):
            merge_until = later[best_k][0].replace(microsecond=0)
        gone: list[str] = []

        async def one(n: int, iid: str) -> None:
            body = await c.get(f"/incidents/{iid}", None, collection="incidents", missing_ok=True)
            if body is None:  # no longer there: a full scan would not list it either
                gone.append(iid)
                return
            inc = body.get("incident")
            if not isinstance(inc, dict) or inc.get("id") != iid:
                raise ScanError(f"incidents: response from /incidents/{iid} has no 'incident' object")
            t = _parse_ts(inc.get("created_at"))
            if inc.get("status") == "resolved" and t is not None and t < since:
                return  # out of the window now that it is resolved
            self._tally("incidents").add(1, [iid])
            self.emit("incidents", (2, 0, n), [inc])

        extra = [self._resolved(c, (2, 1, n), a, b) for n, (a, b) in enumerate(self._windows(merge_until, read_from))]
        await asyncio.gather(*(one(n, iid) for n, iid in enumerate(fetch)), *extra)
        self._merge = {"since": since, "until": merge_until, "refetched": len(fetch), "gone": len(gone),
                       "read_back": merge_until < read_from}

    def _merge_history(self, base: IncidentBase) -> dict[str, Any]:
        """Add the base's resolved incidents of ``[since, until)`` that no request of this scan
        returned (a fresher copy always wins: it was emitted first); the ``meta.incidents_merged``."""
        assert self._merge is not None
        since, until = self._merge["since"], self._merge["until"]
        picked = []
        for inc in base.resolved:
            t = _parse_ts(inc.get("created_at"))
            if t is not None and since <= t < until and isinstance(inc.get("id"), str):
                picked.append((t.astimezone(UTC).isoformat(), inc["id"], inc))
        picked.sort(key=lambda p: (p[0], p[1]))
        self._tally("incidents").add(len(picked), [p[1] for p in picked])
        before = self._counts["incidents"]
        self.emit("incidents", (3,), [dict(p[2]) for p in picked])
        return {"from_scan": base.scan_id, "since": _iso(since), "until": _iso(until),
                "merged": self._counts["incidents"] - before, "refetched": self._merge["refetched"],
                "gone": self._merge["gone"], "run": base.run}

    async def _resolved(self, c: PagerDutyClient, key: tuple[int, ...], start: datetime, end: datetime) -> None:
        """Resolved incidents created in [start, end) (at most 6 months). Past the offset cap the
        next part starts from the second of the page at the cap as soon as that page is read; the
        parts still reading are awaited at the end."""
        pending: list[asyncio.Future[Any]] = []
        part = 0
        async with _cancel_on_failure(pending):
            while start < end:
                start = await self._part(c, (*key, part), start, end, pending)
                part += 1
            await asyncio.gather(*pending)

    async def _part(self, c: PagerDutyClient, key: tuple[int, ...], start: datetime, stop: datetime,
                    pending: list[asyncio.Future[Any]]) -> datetime:
        """Read resolved incidents in [start, stop); return where the next part starts (``stop``
        when this one is the last). A part still reading goes to `pending`."""
        params = [("since", _iso(start)), ("until", _iso(stop)), ("statuses[]", "resolved"),
                  ("sort_by", "created_at:asc")]
        loop = asyncio.get_running_loop()
        at_cap: asyncio.Future[list[Any]] = loop.create_future()

        def on_last(raw: list[Any]) -> None:
            if not at_cap.done():
                at_cap.set_result(raw)

        query = asyncio.ensure_future(c.read_query(
            "/incidents", "incidents", params, collection="incidents", warn=self.lost, note=self.warn,
            tally=self._tally("incidents"), continues=True, keep=False, on_last=on_last,
            on_page=lambda page, off: self.emit("incidents", (*key, off), page)))
        async with _cancel_on_failure([query]):
            await asyncio.wait({query, at_cap}, return_when=asyncio.FIRST_COMPLETED)
        if query.done():
            q = query.result()  # raises what the query raised
            if not q.at_cap:
                return stop
            if q.total is None:
                await self._halve(c, key, start, stop)
                return stop
            last = q.last_page
        else:
            pending.append(query)  # the pages below the cap are still being read
            last = at_cap.result()
        # Sorted by created_at: continue from the last incident's second. The incidents sharing that
        # second are read again (de-duplicated by id); starting one second later would lose them.
        stamps = [t for t in (_parse_ts(it.get("created_at")) for it in last if isinstance(it, dict)) if t]
        boundary = max(stamps) if stamps else None
        if boundary is None or boundary <= start:
            # More than 10,000 incidents share one second: nothing pages past them (the API filters
            # by the second). Count them, so that `expected` says how many were skipped; step past it.
            await self._storm(c, start)
            return start + timedelta(seconds=1)
        return boundary.astimezone(UTC).replace(microsecond=0)

    async def _storm(self, c: PagerDutyClient, second: datetime) -> None:
        """The resolved incidents created in `second` beyond the 10,000 a query pages: one request
        (``total=true``, one item) counts them; they join the expected count, as skipped."""
        params = [("since", _iso(second)), ("until", _iso(second + timedelta(seconds=1))),
                  ("statuses[]", "resolved"), ("total", "true"), ("limit", 1)]
        body = await c.get("/incidents", params, collection="incidents", priority=0)
        total = body.get("total") if body is not None else None
        if isinstance(total, int) and not isinstance(total, bool) and total > OFFSET_CAP:
            self._tally("incidents").add(total - OFFSET_CAP, [])
            self.lost(f"incidents: {total:,} incidents created at {_iso(second)}, more than the {OFFSET_CAP:,} "
                      f"the API pages in one query: {total - OFFSET_CAP:,} were skipped")
        else:
            self.lost(f"incidents: more than {OFFSET_CAP:,} incidents created at {_iso(second)}; some were skipped")

    async def _halve(self, c: PagerDutyClient, key: tuple[int, ...], start: datetime, stop: datetime) -> None:
        """No total past the cap: nothing says how many lie beyond it. Halve the window; read each half."""
        if stop - start <= timedelta(seconds=1):
            self.lost(f"incidents: more than {OFFSET_CAP:,} incidents created in the second {_iso(start)} "
                      "and no total from the server; some were skipped")
            return
        mid = max(start + timedelta(seconds=1), (start + (stop - start) / 2).replace(microsecond=0))
        await asyncio.gather(self._resolved(c, (*key, 0), start, mid), self._resolved(c, (*key, 1), mid, stop))

    # -- after the lists -------------------------------------------------------------------

    def _members(self) -> None:
        """Team members from the users' `teams` references (no request per team)."""
        members: dict[str, list[dict[str, Any]]] = {t["id"]: [] for t in self.teams}
        for uid, name, team_ids in self.user_teams:
            for tid in team_ids:
                if tid in members:
                    members[tid].append({"user": {"id": uid, "type": "user_reference", "summary": name}, "role": None})
        for t in self.teams:
            t["members"] = members[t["id"]]

    def _check_references(self, collected: set[str]) -> None:
        """Every escalation target and every service's escalation policy must be in the snapshot."""
        where = {"user_reference": ("users", "user"), "user": ("users", "user"),
                 "schedule_reference": ("schedules", "schedule"), "schedule": ("schedules", "schedule"),
                 "schedule_v3_reference": ("flexible_schedules", "flexible schedule")}
        known = {"users": {u for u, _n, _t in self.user_teams}, "schedules": self.ids["schedules"],
                 "flexible_schedules": self.ids["flexible_schedules"],
                 "escalation_policies": self.ids["escalation_policies"]}
        missing: list[str] = []
        if "escalation_policies" in collected:
            for ep_id, level, typ, tid in self.targets:
                coll, what = where.get(typ, (None, typ))
                if coll is None:
                    missing.append(f"escalation_policies: {ep_id} level {level} targets {tid} of unknown type {typ!r}")
                elif coll in collected and tid not in known[coll]:
                    missing.append(f"escalation_policies: {ep_id} level {level} targets {what} {tid} ({typ}), "
                                   f"which is not in the snapshot")
            if "services" in collected:
                for sid, ep_id in self.service_eps:
                    if ep_id not in known["escalation_policies"]:
                        missing.append(f"services: {sid} uses escalation policy {ep_id}, which is not in the snapshot")
        for msg in missing[:MAX_REFERENCE_WARNINGS]:
            self.lost(msg)
        if len(missing) > MAX_REFERENCE_WARNINGS:
            self.lost(f"escalation_policies: {len(missing) - MAX_REFERENCE_WARNINGS} more references the snapshot "
                      "cannot resolve")

    # -- orchestration ---------------------------------------------------------------------

    async def _guarded(self, name: str, coro: Any) -> Any:
        """Run one collection's task; a 403 on an optional collection skips it (warning, incomplete)."""
        try:
            return await coro
        except ForbiddenError as exc:
            coll = _status_name(exc.collection or name)
            if coll not in OPTIONAL_COLLECTIONS:
                raise
            if coll in SUPPLEMENTARY_COLLECTIONS:
                if coll not in self.forbidden:  # said once, the scan goes on and stays complete
                    self.forbidden[coll] = str(exc)
                    self.warn(f"{coll}: not collected: {str(exc).removeprefix(f'{exc.collection}: ')}; diffs and "
                              "drift entries will not name who changed what")
                return None
            if coll not in self.forbidden:
                self.forbidden[coll] = str(exc)
                self.lost(f"{coll}: skipped: {str(exc).removeprefix(f'{exc.collection}: ')}; the snapshot is "
                          f"incomplete: grant that scope, or pass --exclude {coll} to scan without it")
            return None

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
                await _cancel([*pending, *(h for h in helpers if isinstance(h, asyncio.Future)),
                               *(t for h in helpers if isinstance(h, list) for t in h)])
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

    def _settle(self, want: set[str], unfinished: set[str]) -> dict[str, dict[str, Any]]:
        """``meta.collections_status``; drops what was not collected (forbidden, unfinished)."""
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
                self._drop(name)  # read only for another collection (services for the scores)
            elif name in self.forbidden or name in unfinished:
                state = "forbidden" if name in self.forbidden else "incomplete"
                expected = None if name in self.forbidden else expected
                self._drop(name)
                if name == "standards":
                    self._drop("standards_scores")
            else:
                got = self._counts[name]
                if expected is not None and got < expected and name not in self._lost_in:
                    self.lost(f"{name}: {got:,} of {expected:,} announced objects collected")
                state = "incomplete" if name in self._lost_in else "complete"
            status[name] = {"status": state, "expected": expected, "got": self._counts[name],
                            "warnings": list(self._notes.get(name, []))}
        self._members_follow_users(want, status)
        return status

    def _members_follow_users(self, want: set[str], status: dict[str, dict[str, Any]]) -> None:
        """Team members come from the users' `teams` references: users lost (stored or read only
        for the members) make the teams incomplete too, with a warning saying why."""
        teams = status.get("teams")
        if "teams" not in want or teams is None or teams["status"] != "complete":
            return
        lost = "users" in self._lost_in
        if not lost and "users" not in want:  # read only for the members: the accounting's last word
            tally = self._tallies.get("users")
            got = len(self.listed.get("users", ()))
            if tally is not None and tally.expected is not None and got < tally.expected:
                self.lost(f"users: {got:,} of {tally.expected:,} announced objects read")
                lost = True
        if lost:
            self.lost("teams: members may be missing: not every user was read (team members come from the "
                      "users' teams references; see the users warnings)")
            teams["status"] = "incomplete"
            teams["warnings"] = list(self._notes.get("teams", []))

    def _drop(self, name: str) -> None:
        self.sink.drop(name)
        self._counts[name] = 0

    async def run(self) -> ScanResult:
        o = self.o
        started = time.monotonic()
        want = set(o.collections)
        unknown = want - set(ALL_COLLECTIONS)
        if unknown:
            raise ScanError(f"unknown collection(s): {', '.join(sorted(unknown))}")
        async with PagerDutyClient(
            o.api_key, region=o.region, api_url=o.api_url, auth_type=o.auth_type, concurrency=o.concurrency,
            timeout=o.timeout, max_retries=o.max_retries, retry_budget=o.retry_budget, backoff_base=o.backoff_base,
            max_rate_wait=o.max_rate_wait, prepare=self.prepare,
        ) as client:
            tasks: dict[str, asyncio.Future[Any]] = {}

            def start(name: str, coro: Any) -> None:
                tasks[name] = asyncio.ensure_future(self._guarded(name, coro))

            score_tasks: list[asyncio.Future[Any]] = []
            standards_list: asyncio.Future[Any] | None = None
            if "standards" in want:
                standards_list = asyncio.ensure_future(self._guarded("standards", self.standards(client)))

            def services_page(items: list[dict[str, Any]], offset: int) -> None:
                if standards_list is not None:
                    ids = [s["id"] for s in items]
                    for k in range(0, len(ids), 100):
                        score_tasks.append(asyncio.ensure_future(
                            self.scores(client, standards_list, (offset, k), ids[k:k + 100])))

            if "services" in want or "standards" in want or o.service_dependencies == "all":
                start("services", self.services(client, services_page, store="services" in want))
            if "escalation_policies" in want:
                start("escalation_policies", self.escalation_policies(client))
            if "schedules" in want:
                start("schedules", self.schedules(client))
            if "flexible_schedules" in want:
                start("flexible_schedules", self.flexible_schedules(client))
            if "incidents" in want:
                start("incidents", self.incidents(client))
            if "users" in want or "teams" in want:
                start("users", self.users(client))
            if "teams" in want:
                start("teams", self.teams_list(client))
            if "business_services" in want or "service_dependencies" in want:
                start("business_services", self.simple(client, "business_services",
                                                       store="business_services" in want))
            for name in ("addons", "extensions"):
                if name in want:
                    start(name, self.simple(client, name))
            if "oncalls" in want:
                start("oncalls", self.oncalls(client, tasks.get("escalation_policies")))
            if "audit_records" in want:
                start("audit_records", self.audit_records(client))

            async def after_services() -> None:
                assert standards_list is not None
                await tasks["services"]  # every page's score batch has been started by now
                try:
                    await standards_list
                finally:  # every batch awaited, whatever happened (no exception left unretrieved)
                    batches = await asyncio.gather(*score_tasks, return_exceptions=True)
                for batch in batches:
                    if isinstance(batch, BaseException):
                        raise batch

            async def after_business() -> None:
                await tasks["business_services"]
                if o.service_dependencies == "all":
                    await tasks["services"]
                if "business_services" not in self.forbidden:
                    await self.dependencies(client)

            extra: dict[str, asyncio.Future[Any]] = {}
            if "standards" in want:
                extra["standards"] = asyncio.ensure_future(self._guarded("standards", after_services()))
            if "service_dependencies" in want:
                extra["service_dependencies"] = asyncio.ensure_future(
                    self._guarded("service_dependencies", after_business()))
            helpers = [*([standards_list] if standards_list else []), score_tasks]
            unfinished = await self._await_all({**tasks, **extra}, helpers, started)
            stats = client.stats
            base_url = client.base_url

        merged: dict[str, Any] | None = None
        base = o.incident_base
        if base is not None and "incidents" in want and "incidents" not in {*self.forbidden, *unfinished}:
            if base.subdomain and self.subdomain and base.subdomain != self.subdomain:
                raise BaseMismatch(f"incidents: the account scanned ({self.subdomain}) is not the one of stored scan "
                                   f"{base.scan_id} ({base.subdomain}): its incident history is not merged")
            merged = self._merge_history(base)

        if "teams" in want and not {"users", "teams"} & unfinished:
            self._members()
            self.emit("teams", (0,), self.teams)
        status = self._settle(want, unfinished)
        collected = {k for k in want if k not in self.forbidden and k not in unfinished}
        self._check_references(collected)
        for name in collected:  # an unresolved reference makes its collection incomplete
            if name in self._lost_in and status[name]["status"] == "complete":
                status[name]["status"] = "incomplete"
            status[name]["warnings"] = list(self._notes.get(name, []))
        counts = {k: self._counts[k] for k in COLLECTIONS}
        meta = {
            "account_subdomain": self.subdomain,
            "region": o.region,
            "api_url": o.api_url or base_url,
            "web_url": self.web_url,
            "scanned_at": _iso(self.now),
            "pdguard_version": __version__,
            "counts": counts,
            "warnings": list(self.warnings),
            "complete": self.complete and all(
                v["status"] in ("complete", "excluded") or (k in SUPPLEMENTARY_COLLECTIONS and v["status"] == "forbidden")
                for k, v in status.items()),
            **({"account": o.account} if o.account is not None else {}),
            "incidents_since": _iso(self.incidents_since()),
            "incidents_lookback_days": None if o.incidents_since is not None else o.lookback_days,
            "incremental": merged is not None,
            **({"incidents_merged": merged} if merged is not None else {}),
            "schedule_window": {"since": _iso(self.now), "until": _iso(self.now + SCHEDULE_HORIZON)},
            # `oncalls` holds every shift over this window (not only the current ones): schema 2.1.
            **({"oncall_window": {"since": _iso(self.now), "until": _iso(self.now + SCHEDULE_HORIZON)}}
               if "oncalls" in collected else {}),
            # Whose dependencies were read: the business services' only, or every technical service's too.
            **({"service_dependencies": o.service_dependencies} if "service_dependencies" in collected else {}),
            **({"audit_window": dict(zip(("since", "until"), map(_iso, self.audit_window()), strict=True))}
               if "audit_records" in want else {}),
            # The truth: what was read. Excluded, forbidden (403) and unfinished collections are not listed.
            "collections": sorted(collected),
            "collections_status": status,
            "requests": stats.requests,
            "duration_seconds": round(time.monotonic() - started, 3),
        }
        self.sink.finish({"schema_version": SCHEMA_VERSION, "meta": meta}, None)
        result = ScanResult(meta, stats.requests, stats.retries, stats.rate_limited, dict(stats.by_collection))
        if isinstance(self.sink, FileSink):
            result.path = self.sink.path
        elif isinstance(self.sink, MemorySink):
            result._document = self.sink.document
        return result


async def _cancel(tasks: list[asyncio.Future[Any]]) -> None:
    """Cancel `tasks` and wait for them to end (nothing left running, no exception unretrieved)."""
    for t in tasks:
        t.cancel()
    await asyncio.gather(*tasks, return_exceptions=True)


@contextlib.asynccontextmanager
async def _cancel_on_failure(tasks: list[asyncio.Future[Any]]) -> AsyncIterator[None]:
    """If the block fails (or is cancelled), cancel the tasks it started (appended to `tasks`)."""
    try:
        yield
    except BaseException:
        await _cancel(tasks)
        raise


_DROPPED_CONNECT = r"coroutine 'connect_tcp\.<locals>\.try_connect' was never awaited"


def silence_dropped_connects() -> None:
    """anyio >= 4.14 drops, unawaited, the connect coroutine of a connection attempt cancelled
    before its first step - a scan aborted (a one-line error) while connections are opening - and
    Python warns "coroutine ... was never awaited" when it is collected. No socket was opened:
    noise after the error line, so that one warning (and only it) is silenced (once per process;
    every scan makes sure)."""
    if not any(f[0] == "ignore" and f[1] is not None and f[1].pattern == _DROPPED_CONNECT for f in warnings.filters):
        warnings.filterwarnings("ignore", message=_DROPPED_CONNECT, category=RuntimeWarning)


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


_SUBDOMAIN = re.compile(r"^https?://([a-z0-9-]+)\.(?:eu\.)?pagerduty\.com/", re.I)


def scan(options: ScanOptions, progress: Progress | None = None,
         output: str | os.PathLike[str] | None = None, *,
         incomplete_output: str | os.PathLike[str] | None = None) -> ScanResult:
    """Run a whole scan (blocking). Raises ScanError/AuthError; never returns a partial document
    silently: warnings and `meta.complete` say what is missing.

    ``output``: stream the snapshot into this file (put in place when the scan ends; on failure
    the file is left as it was) instead of building it in memory. ``incomplete_output``: where
    an incomplete scan goes instead of ``output`` (the last good snapshot stays).
    """
    # The cyclic GC stays on: the scan keeps little alive (pages are streamed), so collections are
    # cheap, while the per-request cycles of the HTTP stack would pile up without it (measured on
    # the full benchmark account: peak RSS 172 MB with the GC paused, 74 MB with it running).
    if options.incidents_since is not None:  # before the first request or file
        check_incidents_since(options.incidents_since)
    sink: Sink = FileSink(output, incomplete_output) if output is not None else MemorySink()
    try:
        silence_dropped_connects()
        return asyncio.run(Scanner(options, progress, sink).run())
    except BaseException:
        sink.abort()
        raise
