"""Async PagerDuty REST API v2 client: auth, regions, bounded concurrency, rate limits, retries.

- Auth: REST API keys (account or user token) are sent as ``Authorization: Token token=<key>``,
  OAuth access tokens as ``Authorization: Bearer <token>``. The key is held only here and never
  appears in an exception message, log line or repr.
- Concurrency: at most ``concurrency`` requests in flight (a priority limiter: requests that
  unblock further work — the first page of a collection, the last page of an incident window —
  go first).
- Rate limits: every response's ``ratelimit-remaining``/``ratelimit-reset`` is honoured (when
  the budget is spent, all requests wait for the reset); a 429 waits ``ratelimit-reset`` seconds
  (exponential backoff with jitter when the header is absent) and is retried.
- Faults: 5xx, timeouts, connection errors and unparseable bodies are retried with backoff,
  within a per-request limit and a per-scan budget; 401/403 raise :class:`AuthError` at once.
"""

from __future__ import annotations

import asyncio
import heapq
import itertools
import json
import logging
import random
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any, Literal

import httpx

from pdguard import __version__
from pdguard.errors import AuthError, ScanError

log = logging.getLogger("pdguard.api")

REGIONS: dict[str, str] = {
    "us": "https://api.pagerduty.com",
    "eu": "https://api.eu.pagerduty.com",
}
ACCEPT = "application/vnd.pagerduty+json;version=2"
PAGE_LIMIT = 100
OFFSET_CAP = 10_000  # the API rejects offset + limit > 10,000

# Scope an OAuth token needs per collection (for the 401/403 message).
SCOPES: dict[str, str] = {
    "services": "services.read",
    "escalation_policies": "escalation_policies.read",
    "schedules": "schedules.read",
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
    by_collection: dict[str, int] = field(default_factory=dict)


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
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
    ) -> None:
        if not api_key:
            raise AuthError("no PagerDuty API key: set PAGERDUTY_API_KEY or pass --api-key")
        if region not in REGIONS:
            raise ScanError(f"unknown region '{region}' (choose us or eu)")
        self.region = region
        self.base_url = (api_url or REGIONS[region]).rstrip("/")
        self._key = api_key
        self._auth = f"Bearer {api_key}" if auth_type == "bearer" else f"Token token={api_key}"
        self.concurrency = concurrency
        self.timeout = timeout
        self.max_retries = max_retries
        self.retry_budget = retry_budget
        self.backoff_base = backoff_base
        self.backoff_max = backoff_max
        self._sleep = sleep
        self._limiter = PriorityLimiter(concurrency)
        self._paused_until = 0.0
        self._http: httpx.AsyncClient | None = None
        self.stats = ClientStats()

    def __repr__(self) -> str:  # never show the key
        return f"PagerDutyClient(base_url={self.base_url!r}, region={self.region!r})"

    async def __aenter__(self) -> PagerDutyClient:
        self._http = httpx.AsyncClient(
            base_url=self.base_url,
            headers={
                "Accept": ACCEPT,
                "Authorization": self._auth,
                "User-Agent": f"pdguard/{__version__}",
            },
            timeout=httpx.Timeout(self.timeout),
            limits=httpx.Limits(max_connections=self.concurrency, max_keepalive_connections=self.concurrency),
            follow_redirects=False,
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

    async def _wait_rate_window(self) -> None:
        delay = self._paused_until - time.monotonic()
        if delay > 0:
            await self._sleep(delay)

    def _note_ratelimit(self, headers: httpx.Headers) -> None:
        remaining = headers.get("ratelimit-remaining")
        reset = headers.get("ratelimit-reset")
        if remaining is None or reset is None:
            return
        try:
            if int(float(remaining)) <= 0:
                self._paused_until = max(self._paused_until, time.monotonic() + float(reset))
        except ValueError:
            return

    def _spend_retry(self, collection: str, what: str) -> None:
        self.stats.retries += 1
        if self.stats.retries > self.retry_budget:
            raise ScanError(f"{collection}: giving up after {self.retry_budget} retries in this scan (last: {what})")

    async def get(
        self, path: str, params: list[tuple[str, Any]] | None = None, *, collection: str, priority: int = 10
    ) -> dict[str, Any]:
        """GET `path` and return the decoded JSON object, retrying what can be retried."""
        assert self._http is not None, "use 'async with PagerDutyClient(...)'"
        attempt = 0
        rate_waits = 0
        while True:
            await self._limiter.acquire(priority)
            try:
                await self._wait_rate_window()
                self.stats.requests += 1
                self.stats.by_collection[collection] = self.stats.by_collection.get(collection, 0) + 1
                try:
                    resp = await self._http.get(path, params=params)
                except httpx.TimeoutException:
                    resp = None
                    problem = "timeout"
                except httpx.TransportError as exc:
                    resp = None
                    problem = f"connection error ({type(exc).__name__})"
            finally:
                self._limiter.release()

            if resp is not None:
                self._note_ratelimit(resp.headers)
                status = resp.status_code
                if status == 200:
                    try:
                        body = json.loads(resp.content)
                    except (json.JSONDecodeError, UnicodeDecodeError):
                        problem = "malformed JSON in a 200 response"
                    else:
                        if isinstance(body, dict):
                            return body
                        problem = f"expected a JSON object, got {type(body).__name__}"
                elif status in (401, 403):
                    reason = "authentication failed (401)" if status == 401 else "access denied (403)"
                    raise AuthError(
                        f"{collection}: {reason} at {path}; the API key needs read access"
                        f" (OAuth scope {SCOPES.get(collection, 'read')})"
                    )
                elif status == 429:
                    self.stats.rate_limited += 1
                    rate_waits += 1
                    if rate_waits > 50:
                        raise ScanError(f"{collection}: still rate limited after {rate_waits - 1} waits at {path}")
                    reset = resp.headers.get("ratelimit-reset")
                    try:
                        wait = float(reset) if reset is not None else self._backoff(min(rate_waits, 6))
                    except ValueError:
                        wait = self._backoff(min(rate_waits, 6))
                    wait = max(wait, 0.0) + random.uniform(0, 0.05)
                    self._paused_until = max(self._paused_until, time.monotonic() + wait)
                    log.info("%s: 429 from %s, waiting %.2fs", collection, path, wait)
                    continue  # 429s do not spend the fault budget
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
            await self._sleep(delay)

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
        on_page: Callable[[list[Any]], None] | None = None,
        first_priority: int = 0,
        note: Callable[[str], None] | None = None,
    ) -> list[Any]:
        """Fetch every page of a classic offset-paginated list with the fewest requests.

        The first page asks for ``total=true``; the remaining pages (their offsets are then
        known) are fetched concurrently. A list longer than the 10,000-offset cap is cut there
        with a warning (``warn``: data is missing); a server that keeps answering ``more: true``
        cannot make this loop: the number of pages is fixed by ``total`` (or by the cap when no
        total is given), and ``note`` records the oddity.
        """
        base = list(params or [])
        first = await self.get(
            path, base + [("limit", PAGE_LIMIT), ("offset", 0), ("total", "true")],
            collection=collection, priority=first_priority,
        )
        items = _page_items(first, key, collection, path)
        if on_page:
            on_page(items)
        if not first.get("more"):
            return items
        limit = _int(first.get("limit")) or PAGE_LIMIT
        total = _int(first.get("total"))
        cap = min(max_items, OFFSET_CAP)
        if total is None:
            # No total from the server: walk sequentially, bounded by the cap.
            offset = len(items)
            while offset + limit <= cap:
                page = await self.get(path, base + [("limit", limit), ("offset", offset)], collection=collection)
                got = _page_items(page, key, collection, path)
                items.extend(got)
                if on_page:
                    on_page(got)
                if not page.get("more") or not got:
                    return items
                offset += len(got)
            warn(f"{collection}: stopped at the {cap:,}-item offset cap of the API; the list may be incomplete")
            return items
        want = min(total, cap)
        if total > cap:
            warn(f"{collection}: {total:,} items but the API pages only {cap:,}; the rest were not collected")
        offsets = list(range(len(items), want, limit))
        last_more = [bool(first.get("more"))]

        async def fetch(off: int) -> list[Any]:
            page = await self.get(path, base + [("limit", limit), ("offset", off)], collection=collection)
            got = _page_items(page, key, collection, path)
            if off == offsets[-1]:
                last_more[0] = bool(page.get("more"))
            if on_page:
                on_page(got)
            return got

        for chunk in await asyncio.gather(*(fetch(o) for o in offsets)):
            items.extend(chunk)
        if len(items) < want:
            warn(f"{collection}: server announced {total:,} items but returned {len(items):,}")
        elif last_more[0] and total <= cap and note is not None:
            note(f"{collection}: the server still answered more=true after all {total:,} items; stopped at its total")
        return items


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


def _api_error(resp: httpx.Response, secret: str) -> str:
    try:
        err = resp.json().get("error", {})
        msg = err.get("message") or resp.reason_phrase
        errors = err.get("errors") or []
        if errors:
            msg = f"{msg}: {'; '.join(str(e) for e in errors)}"
    except Exception:
        msg = resp.reason_phrase
    return _redact(str(msg), secret)
