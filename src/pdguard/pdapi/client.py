"""Async PagerDuty REST API v2 client: auth, regions, bounded concurrency, rate limits, retries.

- Auth: REST API keys (account or user token) are sent as ``Authorization: Token token=<key>``,
  OAuth access tokens as ``Authorization: Bearer <token>``. The key is held only here and never
  appears in an exception message, log line or repr.
- Concurrency: at most ``concurrency`` requests in flight (a priority limiter: requests that
  unblock further work — the first page of a collection, the last page of an incident window,
  the next page of a list read page after page (no total, or a cursor) — go first, so that a
  chain of requests never waits behind the bulk and ends up alone at the end of a scan).
- Rate limits: every response's ``ratelimit-remaining``/``ratelimit-reset`` is honoured (when
  the budget is spent, all requests wait for the reset); a 429 waits ``ratelimit-reset`` seconds
  (exponential backoff with jitter when the header is absent or invalid) and is retried. A reset
  that is not a finite number ≥ 0 is ignored; one above ``max_rate_wait`` (60 s) is capped. 429s
  never spend the fault budget; a request answered 429 more than ``MAX_RATE_WAITS`` (50) times in
  a row fails the scan. A wait longer than a few seconds is logged once (warning).
- Timeouts: ``timeout`` bounds a whole request (connect, headers and the whole body), not one read.
- Faults: 5xx, timeouts, connection errors and unparseable bodies are retried with backoff,
  within a per-request limit and a per-scan budget; 401 raises :class:`AuthError`, 403
  :class:`ForbiddenError` (naming the collection and its OAuth scope) at once.
- Pagination (:meth:`PagerDutyClient.paginate`, :meth:`PagerDutyClient.read_query`): every
  object is accounted for. Objects are de-duplicated by id; repeated pages, an ignored
  ``offset``, pages that shrink or go empty before ``total`` and objects that vanish between
  pages are detected, the suspicious pages re-read once, and whatever is still missing is
  reported through ``warn`` (data lost: the snapshot is incomplete). Without ``total`` the list
  is read page by page on ``more`` (stopping on an empty or repeated page and at the offset cap).
  A streaming caller (``keep=False``) gets each page's new objects as they arrive; only their
  ids are kept for the accounting.
- Transport: a pool of keep-alive HTTP/1.1 connections (httpcore, what httpx runs on, without
  httpx's per-request model layers: about 0.3 ms instead of 1 ms of CPU per request, measured
  against the simulator), gzip accepted, TLS verified like httpx (certifi, SSL_CERT_FILE/DIR),
  HTTP(S)_PROXY/NO_PROXY from the environment honoured (with the proxy's credentials).
"""

from __future__ import annotations

import asyncio
import heapq
import itertools
import json
import logging
import math
import random
import time
import urllib.request
import zlib
from collections.abc import Awaitable, Callable, Hashable, Iterable
from dataclasses import dataclass, field
from http import HTTPStatus
from typing import Any, Literal
from urllib.parse import unquote, urlencode, urlsplit

import httpcore
import orjson

from pdguard import __version__
from pdguard.errors import AuthError, ConfigError, ForbiddenError, ScanError

log = logging.getLogger("pdguard.api")

REGIONS: dict[str, str] = {
    "us": "https://api.pagerduty.com",
    "eu": "https://api.eu.pagerduty.com",
}
ACCEPT = "application/vnd.pagerduty+json;version=2"
PAGE_LIMIT = 100
OFFSET_CAP = 10_000  # the API rejects offset + limit > 10,000
MAX_RATE_WAIT = 60.0  # PagerDuty's rate-limit window is a minute: a longer ratelimit-reset is capped
LONG_WAIT = 5.0  # waits longer than this are logged (once per scan at warning level)
MAX_RATE_WAITS = 50  # 429s in a row one request waits through before the scan gives up

# Scope an OAuth token needs per collection (for the 401/403 message).
SCOPES: dict[str, str] = {
    "services": "services.read",
    "escalation_policies": "escalation_policies.read",
    "schedules": "schedules.read",
    "flexible_schedules": "schedules.read",
    "incidents": "incidents.read",
    "teams": "teams.read",
    "users": "users.read and users:contact_methods.read",
    "business_services": "services.read",
    "service_dependencies": "services.read",
    "addons": "addons.read",
    "extensions": "extensions.read",
    "oncalls": "oncalls.read",
    "standards": "standards.read",
    "standards_scores": "standards.read",
    "audit_records": "audit_records.read, with an admin, account owner or global API key on a plan with Audit Trail",
}

AuthType = Literal["token", "bearer"]


class PriorityLimiter:
    """A semaphore whose waiters are served by priority (lower first), then FIFO."""

    def __init__(self, slots: int) -> None:
        self._free = slots
        self._waiters: list[tuple[int, int, asyncio.Future[None]]] = []
        self._seq = itertools.count()

    async def acquire(self, priority: int = 10) -> None:
        if self._free > 0 and not self._waiters:
            self._free -= 1
            return
        fut: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        heapq.heappush(self._waiters, (priority, next(self._seq), fut))
        try:
            await fut
        except asyncio.CancelledError:
            if fut.done() and not fut.cancelled():
                self.release()
            raise

    def release(self) -> None:
        while self._waiters:
            _, _, fut = heapq.heappop(self._waiters)
            if not fut.done():
                fut.set_result(None)
                return
        self._free += 1


@dataclass
class ClientStats:
    requests: int = 0
    retries: int = 0
    rate_limited: int = 0
    rate_wait_seconds: float = 0.0  # time requests spent waiting for the rate limit
    by_collection: dict[str, int] = field(default_factory=dict)


@dataclass
class Tally:
    """What the queries of one collection announced and returned (``meta.collections_status``).

    ``expected`` counts each object once: the sum of what every query announced, less the objects
    that two queries both returned (an incident window continued at its boundary second, an
    incident resolved between the unresolved and the resolved query). It is None as soon as one
    query announced no total.
    """

    announced: int | None = 0
    read: int = 0  # unique objects per query, summed over the queries
    keys: set[Hashable] = field(default_factory=set)

    def add(self, announced: int | None, keys: Iterable[Hashable]) -> None:
        mine = set(keys)
        self.read += len(mine)
        self.keys |= mine
        self.announced = None if announced is None or self.announced is None else self.announced + announced

    @property
    def expected(self) -> int | None:
        if self.announced is None:
            return None
        return self.announced - (self.read - len(self.keys))


@dataclass
class Query:
    """One list query read to its end (:meth:`PagerDutyClient.read_query`)."""

    items: list[Any]  # each object once (first occurrence), in offset order; non-objects as returned
    total: int | None  # what the server announced; None when it gave no total
    at_cap: bool = False  # objects remain past the offset cap (reported only with ``continues``)
    last_page: list[Any] = field(default_factory=list)  # the page at the highest offset read


@dataclass
class _Page:
    offset: int
    raw: list[Any]  # emptied once seen when the caller streams (read_query keep=False)
    echo: int | None  # the offset the server says it answered
    more: bool
    keys: list[Hashable | None]
    total: int | None = None
    limit: int | None = None
    count: int = 0  # len(raw) as returned


def item_key(item: Any) -> Hashable | None:
    """What makes an object unique in a list: its id, or its content when it has none (on-call
    entries). None for a non-object (``null``), which the scanner reports."""
    if not isinstance(item, dict):
        return None
    oid = item.get("id")
    if isinstance(oid, str) and oid:
        return oid
    if isinstance(oid, int) and not isinstance(oid, bool):
        return str(oid)
    try:
        return orjson.dumps(item, option=orjson.OPT_SORT_KEYS)
    except TypeError:
        return json.dumps(item, sort_keys=True, default=str)


def check_api_key(key: str) -> None:
    """Reject a key that no HTTP header can carry, before any request. The key is never shown."""
    if not key:
        raise AuthError("no PagerDuty API key: set PAGERDUTY_API_KEY or pass --api-key")
    if key != key.strip():
        if key.endswith(("\n", "\r")):
            what = "a trailing newline"
        elif key.startswith(("\n", "\r")):
            what = "a leading newline"
        else:
            what = "leading or trailing whitespace"
        raise ConfigError(f"the PagerDuty API key has {what} (read from a file or `echo`?): remove it")
    for pos, ch in enumerate(key, 1):
        code = ord(ch)
        if code > 0x7E:
            raise ConfigError(f"the PagerDuty API key contains a non-ASCII character (position {pos}); "
                              "keys are plain ASCII: copy it again")
        if ch.isspace():
            raise ConfigError(f"the PagerDuty API key contains whitespace (position {pos}): copy it again")
        if code < 0x20 or code == 0x7F:
            raise ConfigError(f"the PagerDuty API key contains a control character (position {pos}): copy it again")


def check_api_url(url: str) -> str:
    """An API base URL must be http(s)://host[:port][/path]; return it without a trailing slash.

    Credentials in it (``user:password@``) are refused: nothing would send them as credentials
    (the key travels in its own header), and the URL is recorded in ``meta.api_url``."""
    shown = url.rsplit("@", 1)[-1]  # never echo credentials embedded in a URL
    try:
        parts = urlsplit(url.strip())
        host = parts.hostname
        _ = parts.port
    except ValueError:
        raise ConfigError(f"--api-url '{shown}' is not a valid URL") from None
    if parts.scheme.lower() not in ("http", "https") or not host:
        hint = f": did you mean https://{shown}?" if "://" not in url else ""
        raise ConfigError(f"--api-url '{shown}' needs an http:// or https:// scheme and a host{hint}")
    if "@" in parts.netloc:
        raise ConfigError(f"--api-url '{parts.scheme}://***@{shown}' carries credentials (user:password@): remove "
                          "them (the API key goes in PAGERDUTY_API_KEY or --api-key)")
    return url.strip().rstrip("/")


def _redact(text: str, secret: str | None) -> str:
    if secret and secret in text:
        text = text.replace(secret, "***")
    return text


class PagerDutyClient:
    def __init__(
        self,
        api_key: str,
        *,
        region: str = "us",
        api_url: str | None = None,
        auth_type: AuthType = "token",
        concurrency: int = 8,
        timeout: float = 30.0,
        max_retries: int = 6,
        retry_budget: int = 200,
        backoff_base: float = 0.5,
        backoff_max: float = 30.0,
        max_rate_wait: float = MAX_RATE_WAIT,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
        prepare: Callable[[bytes], bytes] | None = None,
    ) -> None:
        """``prepare``: applied to every 200 body before it is decoded (the scanner drops links there)."""
        check_api_key(api_key)
        if region not in REGIONS:
            raise ScanError(f"unknown region '{region}' (choose us or eu)")
        if not (timeout > 0 and math.isfinite(timeout)):
            raise ConfigError(f"timeout must be a positive number of seconds, got {timeout}")
        self.region = region
        self.base_url = check_api_url(api_url) if api_url else REGIONS[region]
        self._key = api_key
        self._auth = f"Bearer {api_key}" if auth_type == "bearer" else f"Token token={api_key}"
        self.concurrency = concurrency
        self.timeout = timeout
        self.max_retries = max_retries
        self.retry_budget = retry_budget
        self.backoff_base = backoff_base
        self.backoff_max = backoff_max
        self.max_rate_wait = max_rate_wait
        self._sleep = sleep
        self._prepare = prepare
        self._limiter = PriorityLimiter(concurrency)
        self._paused_until = 0.0
        self._logged: set[str] = set()
        self._http: _Transport | None = None
        self.stats = ClientStats()

    def __repr__(self) -> str:  # never show the key
        return f"PagerDutyClient(base_url={self.base_url!r}, region={self.region!r})"

    async def __aenter__(self) -> PagerDutyClient:
        self._http = _Transport(
            self.base_url,
            {"Accept": ACCEPT, "Authorization": self._auth, "User-Agent": f"pdguard/{__version__}"},
            timeout=self.timeout,
            max_connections=self.concurrency,
        )
        return self

    async def __aexit__(self, *exc: object) -> None:
        if self._http is not None:
            await self._http.aclose()
            self._http = None

    # -- low level -------------------------------------------------------------------------

    def _backoff(self, attempt: int) -> float:
        cap = min(self.backoff_max, self.backoff_base * (2**attempt))
        return random.uniform(cap / 2, cap)

    def _log_once(self, key: str, msg: str, *args: Any) -> None:
        """A warning the first time (per client, i.e. per scan), debug-level detail after that."""
        if key in self._logged:
            log.info(msg, *args)
        else:
            self._logged.add(key)
            log.warning(msg, *args)

    async def _wait(self, delay: float, collection: str, why: str) -> None:
        if delay > LONG_WAIT:
            self._log_once("long-wait", "%s: waiting %.0f s for %s (further long waits are logged with -v)",
                           collection, delay, why)
        await self._sleep(delay)

    async def _wait_rate_window(self, collection: str) -> None:
        delay = self._paused_until - time.monotonic()
        if delay > 0:
            self.stats.rate_wait_seconds += delay
            await self._wait(delay, collection, "the API rate limit to reset")

    def _reset_seconds(self, raw: str | None, collection: str) -> float | None:
        """``ratelimit-reset`` in seconds, capped at ``max_rate_wait``; None when absent or not a
        finite number ≥ 0 (the header is untrusted: ``inf``, ``NaN``, ``-5`` or text are ignored)."""
        if raw is None:
            return None
        try:
            value = float(raw.strip())
        except ValueError:
            value = math.nan
        if not math.isfinite(value) or value < 0:
            self._log_once("bad-reset", "%s: ignoring an invalid ratelimit-reset header (%r)", collection, raw[:40])
            return None
        if value > self.max_rate_wait:
            self._log_once("huge-reset", "%s: ratelimit-reset of %s s is beyond the %g s cap; waiting %g s at most",
                           collection, raw[:40], self.max_rate_wait, self.max_rate_wait)
            return self.max_rate_wait
        return value

    def _pause(self, seconds: float) -> None:
        self._paused_until = max(self._paused_until, time.monotonic() + seconds)

    def _note_ratelimit(self, headers: dict[str, str], collection: str) -> None:
        remaining = headers.get("ratelimit-remaining")
        if remaining is None:
            return
        try:
            spent = float(remaining) <= 0  # NaN compares False: not spent
        except ValueError:
            return
        if spent:
            reset = self._reset_seconds(headers.get("ratelimit-reset"), collection)
            if reset is not None:  # without a valid reset, do not guess: a 429 will say when
                self._pause(reset)

    def _spend_retry(self, collection: str, what: str) -> None:
        self.stats.retries += 1
        if self.stats.retries > self.retry_budget:
            raise ScanError(f"{collection}: giving up after {self.retry_budget} retries in this scan (last: {what})")

    async def get(
        self, path: str, params: list[tuple[str, Any]] | None = None, *, collection: str, priority: int = 10,
        missing_ok: bool = False,
    ) -> dict[str, Any] | None:
        """GET `path` and return the decoded JSON object, retrying what can be retried.

        ``missing_ok``: a 404 returns None (an object listed a moment ago may be gone) instead of raising.
        """
        assert self._http is not None, "use 'async with PagerDutyClient(...)'"
        attempt = 0
        rate_waits = 0
        while True:
            await self._limiter.acquire(priority)
            try:
                await self._wait_rate_window(collection)
                self.stats.requests += 1
                self.stats.by_collection[collection] = self.stats.by_collection.get(collection, 0) + 1
                try:
                    # The whole request (connect, headers, every chunk of the body) within `timeout`:
                    # httpcore's own timeout bounds each read, so a dripping body would outlive it.
                    # (`asyncio.timeout`, not `wait_for`: no task in between, the request starts now.)
                    async with asyncio.timeout(self.timeout):
                        resp = await self._http.get(path, params)
                except (TimeoutError, httpcore.TimeoutException):
                    resp = None
                    problem = f"timeout ({self.timeout:g} s for the whole request)"
                except httpcore.UnsupportedProtocol:
                    raise ScanError(f"{collection}: cannot reach {self.base_url}: not an http(s) URL") from None
                except (httpcore.NetworkError, httpcore.ProtocolError, httpcore.ProxyError, OSError) as exc:
                    resp = None
                    problem = f"connection error ({type(exc).__name__})"
            finally:
                self._limiter.release()

            if resp is not None:
                # Let the request that takes the freed slot go out before this body is decoded:
                # decoding first would leave the slot idle for that long.
                await asyncio.sleep(0)
                self._note_ratelimit(resp.headers, collection)
                status = resp.status_code
                if status == 200:
                    try:
                        raw = resp.body()
                        body = orjson.loads(self._prepare(raw) if self._prepare else raw)
                    except (orjson.JSONDecodeError, UnicodeDecodeError, zlib.error):
                        problem = "malformed JSON in a 200 response"
                    else:
                        if isinstance(body, dict):
                            return body
                        problem = f"expected a JSON object, got {type(body).__name__}"
                elif status == 401:
                    raise AuthError(
                        "authentication failed (401): PagerDuty did not accept the API key (wrong, revoked, "
                        "or for the other service region: --region us|eu)", status=401, collection=collection)
                elif status == 402:  # the account's plan lacks the feature (e.g. Audit Trail)
                    raise ForbiddenError(
                        f"{collection}: not available on this account's plan (402) at {path}"
                        f" ({SCOPES.get(collection, 'read')})", status=402, collection=collection)
                elif status == 403:
                    raise ForbiddenError(
                        f"{collection}: access denied (403) at {path}: the API key cannot read {collection}"
                        f" (OAuth scope {SCOPES.get(collection, 'read')})", status=403, collection=collection)
                elif status == 429:
                    self.stats.rate_limited += 1
                    rate_waits += 1
                    if rate_waits > MAX_RATE_WAITS:
                        raise ScanError(f"{collection}: still rate limited after {MAX_RATE_WAITS} waits at {path}")
                    wait = self._reset_seconds(resp.headers.get("ratelimit-reset"), collection)
                    if wait is None:
                        wait = self._backoff(min(rate_waits, 6))
                    self._pause(wait + random.uniform(0, 0.05))
                    log.info("%s: 429 from %s, waiting %.2fs", collection, path, wait)
                    continue  # 429s never spend the fault budget (attempts, retry budget)
                elif status == 404 and missing_ok:
                    return None
                elif 500 <= status < 600:
                    problem = f"HTTP {status}"
                else:
                    raise ScanError(f"{collection}: HTTP {status} at {path}: {_api_error(resp, self._key)}")

            attempt += 1
            if attempt > self.max_retries:
                raise ScanError(f"{collection}: {problem} at {path}, {self.max_retries} retries exhausted")
            self._spend_retry(collection, problem)
            delay = self._backoff(attempt - 1)
            log.info("%s: %s at %s, retry %d in %.2fs", collection, problem, path, attempt, delay)
            await self._wait(delay, collection, f"a retry after {problem}")

    # -- pagination ------------------------------------------------------------------------

    async def paginate(
        self,
        path: str,
        key: str,
        params: list[tuple[str, Any]] | None = None,
        *,
        collection: str,
        warn: Callable[[str], None],
        max_items: int = OFFSET_CAP,
        on_page: Callable[[list[Any], int], None] | None = None,
        first_priority: int = 0,
        note: Callable[[str], None] | None = None,
        tally: Tally | None = None,
        keep: bool = True,
        page_limit: int = PAGE_LIMIT,
    ) -> list[Any]:
        """Every object of a classic offset-paginated list, each once (see :meth:`read_query`)."""
        q = await self.read_query(path, key, params, collection=collection, warn=warn, note=note, on_page=on_page,
                                  first_priority=first_priority, tally=tally, cap=max_items, keep=keep,
                                  page_limit=page_limit)
        return q.items

    async def read_query(
        self,
        path: str,
        key: str,
        params: list[tuple[str, Any]] | None = None,
        *,
        collection: str,
        warn: Callable[[str], None],
        note: Callable[[str], None] | None = None,
        on_page: Callable[[list[Any], int], None] | None = None,
        first_priority: int = 0,
        tally: Tally | None = None,
        cap: int = OFFSET_CAP,
        continues: bool = False,
        keep: bool = True,
        page_limit: int = PAGE_LIMIT,
        on_last: Callable[[list[Any]], None] | None = None,
        split_past_cap: bool = False,
    ) -> Query:
        """Read one list query with the fewest requests, accounting for every object.

        The first page asks ``total=true``. With a total, the remaining pages (their offsets are
        then known) are fetched concurrently, the page at the highest offset first when the list
        goes past the cap and ``continues`` (the caller reads on from there: incident windows).
        Without a total, pages are read one by one while ``more`` is true, stopping on an empty
        or repeated page and at the offset cap.

        ``warn`` receives what means data is missing (the snapshot is then incomplete): fewer
        unique objects than announced (after re-reading every suspicious page once: repeated,
        empty, short, overlapping, or answering another offset), a page that repeats objects
        already read when there is no total to check against, the offset cap (unless
        ``continues``). ``note`` receives oddities that lost nothing (``more: true`` after the
        announced total). ``on_page(items, offset)`` sees each page's objects not seen before, as
        it arrives. ``keep=False`` streams: pages are not held (only their ids, for the
        accounting, and the page at the highest offset), ``items`` is empty. ``on_last`` sees the
        page at the cap as soon as it arrives (``continues`` with a total past the cap): the
        caller can start the next query from there while this one finishes. ``split_past_cap``:
        a total past the cap ends the query after its first page (nothing said, nothing tallied,
        ``at_cap`` true): the caller splits the query (on-calls by escalation policy); without a
        total, the same once the pages reach the cap with ``more`` still true.
        """
        base = list(params or [])
        cap = min(cap, OFFSET_CAP)
        note_ = note or (lambda m: log.warning("%s", m))
        emitted: set[Hashable] = set()
        limit = page_limit
        newest: list[Any] = [-1, []]  # (offset, raw) of the page at the highest offset read
        at_last: list[int | None] = [None]  # the offset whose page goes to on_last

        async def fetch(off: int, prio: int = 10, *, first: bool = False) -> _Page:
            lim = page_limit if first else max(1, min(limit, cap - off))
            query = base + [("limit", lim), ("offset", off)] + ([("total", "true")] if first else [])
            body = await self.get(path, query, collection=collection, priority=prio)
            assert body is not None
            raw = _page_items(body, key, collection, path)
            page = _Page(off, raw, _int(body.get("offset")), bool(body.get("more")), [item_key(i) for i in raw],
                         _int(body.get("total")), _int(body.get("limit")), len(raw))
            if on_page is not None:
                fresh = []
                for item, k in zip(raw, page.keys, strict=True):
                    if k is None:
                        fresh.append(item)
                    elif k not in emitted:
                        emitted.add(k)
                        fresh.append(item)
                on_page(fresh, off)
            if off >= newest[0]:
                newest[0], newest[1] = off, raw
            if on_last is not None and off == at_last[0]:
                at_last[0] = None  # once (not again on a re-read)
                on_last(raw)
            if not keep:
                page.raw = []
            return page

        first = await fetch(0, first_priority, first=True)
        if first.limit is not None and first.limit >= 1:
            limit = first.limit
        total = first.total if first.total is not None and first.total >= 0 else None
        if total is None:
            pages, at_cap, more = await self._sequential(first, fetch, cap, collection, path, warn, note_)
            if at_cap and more and split_past_cap:  # no total said so before: the cap did
                return Query([], None, True, newest[1])
            if at_cap and more and not continues:
                warn(f"{collection}: stopped at the API's {cap:,}-object offset cap while the server still "
                     f"answered more=true (it gave no total): the list may be incomplete")
            items, keys = _assemble(pages)
            if tally is not None:
                tally.add(None, keys)
            return Query(items if keep else [], None, at_cap and more, newest[1])

        want = min(total, cap)
        at_cap = total > cap
        if at_cap and split_past_cap:
            return Query([], total, True, newest[1])
        if at_cap and not continues:
            warn(f"{collection}: {total:,} objects but the API pages only {cap:,}; the rest were not collected")
        offsets = list(range(limit, want, limit))
        if at_cap and continues and offsets:
            at_last[0] = offsets[-1]
        tasks = [fetch(o, 0 if (at_cap and continues and o == offsets[-1]) else 10) for o in offsets]
        pages = [[first]] + [[p] for p in await asyncio.gather(*tasks)]
        items, keys = _assemble(pages)
        if len(keys) < want:
            # Re-read every suspicious page once before concluding anything.
            odd = [i for i, flags in enumerate(_flags(pages, want, limit)) if flags]
            again = await asyncio.gather(*(fetch(pages[i][0].offset) for i in odd))
            for i, page in zip(odd, again, strict=True):
                pages[i].append(page)
            items, keys = _assemble(pages)
        flags = _flags(pages, want, limit)
        if len(keys) < want:
            warn(_shortfall(collection, path, len(keys), want, flags, pages))
        elif any("overlap" in f or "repeated" in f for f in flags):
            note_(f"{collection}: pages of {path} overlapped (the list changed while it was read); "
                  f"all {want:,} announced objects were collected")
        if pages[-1][-1].more and not at_cap and len(keys) >= want:
            note_(f"{collection}: the server still answered more=true after all {total:,} items; stopped at its total")
        if tally is not None:
            tally.add(want if (at_cap and continues) else total, keys)
        return Query(items if keep else [], total, at_cap, newest[1])

    async def _sequential(
        self, first: _Page, fetch: Callable[..., Awaitable[_Page]], cap: int, collection: str, path: str,
        warn: Callable[[str], None], note: Callable[[str], None],
    ) -> tuple[list[list[_Page]], bool, bool]:
        """Pages on ``more`` one by one (no total). Returns (pages, reached the cap, last more)."""
        pages = [[first]]
        seen = {k for k in first.keys if k is not None}
        more = first.more
        off = first.count
        while more:
            if off >= cap:
                return pages, True, more
            page = await fetch(off, 0)  # each page unblocks the next: a chain goes first
            problem = _odd(page, seen)
            if problem:
                retry = await fetch(off, 0)  # once, before concluding
                if _odd(retry, seen) is None:
                    page = retry
                elif problem == "empty":
                    note(f"{collection}: the server answered more=true but an empty page at offset {off:,} of "
                         f"{path} (also on a retry); stopped there")
                    return pages, False, False
                else:
                    warn(f"{collection}: the page at offset {off:,} of {path} repeated objects already read, also "
                         f"on a retry (the server ignores `offset`, or a proxy repeats pages), and the server gave "
                         f"no total to check against: stopped there; the list may be incomplete")
                    return pages, False, False
            pages.append([page])
            seen.update(k for k in page.keys if k is not None)
            off += page.count
            more = page.more
        return pages, False, more


def _odd(page: _Page, seen: set[Hashable]) -> str | None:
    """Why a page read without a total cannot be trusted: empty, or nothing in it is new."""
    if not page.count:
        return "empty"
    keys = [k for k in page.keys if k is not None]
    if keys and all(k in seen for k in keys):
        return "repeated"
    return None


def _assemble(pages: list[list[_Page]]) -> tuple[list[Any], set[Hashable]]:
    """Objects in offset order, each once; a non-object item is kept (from the last read of its page).
    A streamed page (its objects already handed on) contributes its ids only."""
    items: list[Any] = []
    seen: set[Hashable] = set()
    for reads in pages:
        for n, page in enumerate(reads):
            last = n == len(reads) - 1
            if not page.raw and page.count:
                seen.update(k for k in page.keys if k is not None)
                continue
            for item, k in zip(page.raw, page.keys, strict=True):
                if k is None:
                    if last:
                        items.append(item)
                elif k not in seen:
                    seen.add(k)
                    items.append(item)
    return items, seen


def _flags(pages: list[list[_Page]], want: int, limit: int) -> list[set[str]]:
    """What is wrong with each page (its latest read), in offset order."""
    out: list[set[str]] = []
    before: set[Hashable] = set()
    for reads in pages:
        page = reads[-1]
        flags: set[str] = set()
        keys = {k for k in page.keys if k is not None}
        expect = max(0, min(limit, want - page.offset))
        if page.echo is not None and page.echo != page.offset:
            flags.add("offset")
        if not page.count and expect:
            flags.add("empty")
        elif page.count < expect:
            flags.add("short")
        if keys and keys <= before:
            flags.add("repeated")
        elif keys & before:
            flags.add("overlap")
        before |= keys
        out.append(flags)
    return out


def _shortfall(collection: str, path: str, got: int, want: int, flags: list[set[str]],
               pages: list[list[_Page]]) -> str:
    def where(flag: str) -> str:
        offs = [pages[i][-1].offset for i, f in enumerate(flags) if flag in f]
        shown = ", ".join(f"{o:,}" for o in offs[:3]) + (", …" if len(offs) > 3 else "")
        return f"offset {shown}"

    retried = " (suspicious pages re-read once)" if any(len(r) > 1 for r in pages) else ""
    if any("repeated" in f or "offset" in f for f in flags):
        flag = "repeated" if any("repeated" in f for f in flags) else "offset"
        cause = (f"the server ignored `offset` or repeated pages (page at {where(flag)} repeated objects "
                 f"already read)")
    elif any("empty" in f or "short" in f for f in flags):
        flag = "empty" if any("empty" in f for f in flags) else "short"
        cause = (f"pages shrank or came back empty before the announced total (page at {where(flag)}): "
                 f"objects vanished while the list was read")
    elif any("overlap" in f for f in flags):
        cause = "pages overlapped: the list changed while it was read"
    else:
        cause = "objects vanished between pages"
    return (f"{collection}: {got:,} unique objects of {want:,} announced at {path}: {cause}{retried}; "
            f"{want - got:,} missing")


def _int(value: Any) -> int | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    return None


def _page_items(body: dict[str, Any], key: str, collection: str, path: str) -> list[Any]:
    items = body.get(key)
    if items is None:
        raise ScanError(f"{collection}: response from {path} has no '{key}' list")
    if not isinstance(items, list):
        raise ScanError(f"{collection}: '{key}' in the response from {path} is not a list")
    return items


def _api_error(resp: _Response, secret: str) -> str:
    try:
        err = orjson.loads(resp.body()).get("error", {})
        msg = err.get("message") or resp.reason_phrase
        errors = err.get("errors") or []
        if errors:
            msg = f"{msg}: {'; '.join(str(e) for e in errors)}"
    except Exception:
        msg = resp.reason_phrase
    return _redact(str(msg), secret)


@dataclass
class _Response:
    status_code: int
    headers: dict[str, str]  # lower-case names
    content: bytes

    @property
    def reason_phrase(self) -> str:
        try:
            return HTTPStatus(self.status_code).phrase
        except ValueError:
            return f"HTTP {self.status_code}"

    def body(self) -> bytes:
        """The body, gunzipped/inflated when the server compressed it (raises zlib.error if broken)."""
        if self.headers.get("content-encoding", "identity").lower() in ("gzip", "deflate", "x-gzip"):
            return zlib.decompress(self.content, 47)  # 32 + 15: a gzip or zlib header, detected
        return self.content


class _Transport:
    """GET requests on a pool of keep-alive connections to one API host (see the module docstring)."""

    def __init__(self, base_url: str, headers: dict[str, str], *, timeout: float, max_connections: int) -> None:
        import httpx  # only for the SSL context httpx would build (certifi, SSL_CERT_FILE/SSL_CERT_DIR)

        url = urlsplit(base_url)
        self._prefix = f"{url.scheme}://{url.netloc}{url.path.rstrip('/')}"
        self._headers = [(b"Host", url.netloc.encode("ascii")), (b"Accept-Encoding", b"gzip, deflate")]
        self._headers += [(k.encode("ascii"), v.encode("latin-1")) for k, v in headers.items()]
        self._extensions = {"timeout": {"connect": timeout, "read": timeout, "write": timeout, "pool": None}}
        self._pool = httpcore.AsyncConnectionPool(
            ssl_context=httpx.create_ssl_context(trust_env=True) if url.scheme == "https" else None,
            proxy=_environment_proxy(url.scheme, url.hostname or ""),
            max_connections=max_connections,
            max_keepalive_connections=max_connections,
        )

    async def get(self, path: str, params: list[tuple[str, Any]] | None) -> _Response:
        query = urlencode([(k, "true" if v is True else "false" if v is False else v) for k, v in params or []])
        url = f"{self._prefix}{path}?{query}" if query else f"{self._prefix}{path}"
        resp = await self._pool.request("GET", url, headers=self._headers, extensions=self._extensions)
        headers = {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in resp.headers}
        out = _Response(resp.status, headers, resp.content)
        if log.isEnabledFor(logging.DEBUG):  # -vv: one line per request (the key is in a header, never here)
            log.debug('HTTP Request: GET %s "HTTP/1.1 %d %s"', url, out.status_code, out.reason_phrase)
        return out

    async def aclose(self) -> None:
        await self._pool.aclose()


def _environment_proxy(scheme: str, host: str) -> httpcore.Proxy | None:
    """HTTP(S)_PROXY / ALL_PROXY unless NO_PROXY covers the host (like httpx with trust_env),
    its ``user:password@`` (percent-decoded) sent as Basic Proxy-Authorization, as httpx does
    (httpcore itself ignores credentials in a proxy URL)."""
    proxies = urllib.request.getproxies()
    url = proxies.get(scheme) or proxies.get("all")
    if not url or urllib.request.proxy_bypass(host):
        return None
    if "://" not in url:
        url = f"http://{url}"
    if not url.startswith(("http://", "https://")):
        raise ScanError(f"proxy {urlsplit(url).scheme}:// is not supported (use an http:// or https:// proxy)")
    parts = urlsplit(url)
    if "@" not in parts.netloc:
        return httpcore.Proxy(url)
    auth = (unquote(parts.username or ""), unquote(parts.password or ""))
    bare = parts._replace(netloc=parts.netloc.rsplit("@", 1)[1]).geturl()
    return httpcore.Proxy(bare, auth=auth)
