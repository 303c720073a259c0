"""How a scan keeps its requests in flight: the order the API sees them (the simulator records
it) and the priority limiter behind it. Requests that unblock others go first, so that a chain
of requests (a list read page after page, a cursor) never waits behind the bulk of a scan and
ends up alone in flight at its end."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime

import pytest

from pdguard.pdapi.client import PriorityLimiter
from pdguard.scanner import ScanOptions, scan
from pdguard.simulator import FaultConfig, generate_account, serve

NOW = datetime(2026, 11, 26, 9, 0, tzinfo=UTC)
TOKEN = "pipeline-token"


@pytest.fixture(scope="module")
def account():
    # > 100 audit records per 31-day window (cursor pages) and 13 pages of services
    return generate_account(services=1300, escalation_policies=40, schedules=10, users=50, teams=6,
                            incidents=50, seed=3, now=NOW)


def served(account, faults: FaultConfig | None = None) -> list[str]:
    """The paths of a scan's requests in the order the API served them (one at a time)."""
    with serve(account, tokens={TOKEN}, now=NOW, record=True, faults=faults or FaultConfig()) as server:
        result = scan(ScanOptions(api_key=TOKEN, api_url=server.url, now=NOW, concurrency=1, audit_days=60))
        assert result.meta["complete"] is True
        assert server.recorded is not None
        return [r.path for r in server.recorded]


def positions(paths: list[str], path: str) -> list[int]:
    return [n for n, p in enumerate(paths) if p == path]


def test_a_cursor_chain_is_never_left_for_the_end(account) -> None:
    paths = served(account)
    audit = positions(paths, "/audit/records")
    assert len(audit) >= 4  # two windows, more than one page each
    # each page is asked as soon as the one before it is read: at most a request or two in between
    assert all(b - a <= 3 for a, b in zip(audit, audit[1:], strict=False)), audit
    assert audit[-1] < len(paths) // 2, (audit, len(paths))  # done long before the scan's tail


def test_a_list_without_total_is_read_page_after_page_first(account) -> None:
    paths = served(account, FaultConfig(no_total=["/services"]))
    pages = positions(paths, "/services")
    assert len(pages) == 13  # no total: one page after the other, on `more`
    # the second page waits only for the other collections' first pages (first in line too); from
    # there on, each page is asked as soon as the one before it is read
    assert all(b - a <= 3 for a, b in zip(pages[1:], pages[2:], strict=False)), pages


def test_priority_limiter_order_and_cancellation() -> None:
    async def main() -> list[str]:
        lim = PriorityLimiter(1)
        order: list[str] = []
        await lim.acquire()  # the only slot is taken: everyone below queues

        async def one(name: str, prio: int) -> None:
            await lim.acquire(prio)
            order.append(name)
            lim.release()

        tasks = [asyncio.ensure_future(one(n, p)) for n, p in
                 (("bulk-1", 10), ("chain", 0), ("bulk-2", 10), ("gone", 0), ("late", 20))]
        await asyncio.sleep(0)
        tasks[3].cancel()  # a cancelled waiter gives its turn away, it does not hold the slot
        await asyncio.sleep(0)
        lim.release()
        await asyncio.gather(*tasks, return_exceptions=True)
        await asyncio.wait_for(lim.acquire(), 1)  # the slot is free again
        return order

    assert asyncio.run(main()) == ["chain", "bulk-1", "bulk-2", "late"]
