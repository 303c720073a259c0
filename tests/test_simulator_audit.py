"""The simulator's /audit/records over HTTP: cursor pagination, 31-day windows, who may read them."""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from datetime import UTC, datetime, timedelta

import pytest

from pdguard.simulator import generate_account, sample_account, serve
from pdguard.simulator.audit import make_record

NOW = datetime(2026, 11, 26, 9, 0, tzinfo=UTC)
TOKENS = {"global": None, "ava": "PUSRAVA", "ben": "PUSRBEN"}
MONTH = "since=2026-10-27T09:00:00Z&until=2026-11-26T09:00:00Z"


def get(server, path: str, token: str = "global") -> tuple[int, dict]:
    req = urllib.request.Request(server.url + path, headers={"Authorization": f"Token token={token}",
                                                             "Accept": "application/vnd.pagerduty+json;version=2"})
    try:
        with urllib.request.urlopen(req, timeout=10) as r:
            return r.status, json.loads(r.read())
    except urllib.error.HTTPError as e:
        return e.code, json.loads(e.read())


@pytest.fixture(scope="module")
def server():
    account = sample_account(now=NOW)
    ben = next(u for u in account.users if u["id"] == "PUSRBEN")
    svc = next(s for s in account.services if s["id"] == "PSVCCRT")
    # 30 more records on cart-service, one a day, to page through; one 13 months ago (past retention)
    for n in range(30):
        account.audit_records.append(make_record(f"RCART{n:03d}", NOW - timedelta(days=n, hours=12), svc, "update",
                                                 actor=ben, method="browser"))
    account.audit_records.append(make_record("RANCIENT", NOW - timedelta(days=400), svc, "update", actor=ben,
                                             method="browser"))
    with serve(account, tokens=TOKENS, now=NOW) as s:
        yield s


def test_default_window_is_the_last_24_hours(server) -> None:
    status, body = get(server, "/audit/records")
    assert status == 200 and [r["id"] for r in body["records"]] == ["RCART000"]
    assert body["next_cursor"] is None and body["limit"] == 100
    assert "total" not in body and "offset" not in body and "more" not in body  # cursor pagination only


def test_cursor_pages_newest_first(server) -> None:
    seen: list[str] = []
    cursor = None
    pages = 0
    while True:
        status, body = get(server, f"/audit/records?{MONTH}&limit=7" + (f"&cursor={cursor}" if cursor else ""))
        assert status == 200 and len(body["records"]) <= 7
        seen += [r["id"] for r in body["records"]]
        pages += 1
        cursor = body["next_cursor"]
        if cursor is None:
            break
    times = [t for t in seen]
    assert len(seen) == len(set(seen)) == 34 and pages == 5  # 30 cart records + 4 of the sample story
    assert times[0] == "RCART000" and "RANCIENT" not in seen and "RSAMPLE0005" not in seen
    status, body = get(server, f"/audit/records?{MONTH}&limit=500")
    assert body["limit"] == 100  # at most 100 a page


def test_windows_longer_than_31_days_are_refused(server) -> None:
    ok, _ = get(server, "/audit/records?since=2026-10-26T09:00:00Z&until=2026-11-26T09:00:00Z")  # 31 days
    assert ok == 200
    status, body = get(server, "/audit/records?since=2026-10-26T08:59:59Z&until=2026-11-26T09:00:00Z")
    assert status == 400 and body["error"]["code"] == 2001
    assert "31 days" in body["error"]["errors"][0]
    assert get(server, "/audit/records?since=2026-11-26T09:00:00Z&until=2026-11-25T09:00:00Z")[0] == 400
    assert get(server, "/audit/records?since=yesterday")[0] == 400


def test_records_are_kept_12_months(server) -> None:
    status, body = get(server, "/audit/records?since=2025-10-15T00:00:00Z&until=2025-11-15T00:00:00Z")
    assert status == 200 and body["records"] == []


def test_cursors_belong_to_their_query(server) -> None:
    _, body = get(server, f"/audit/records?{MONTH}&limit=5")
    cursor = body["next_cursor"]
    assert get(server, f"/audit/records?{MONTH}&limit=5&actions[]=update&cursor={cursor}")[0] == 400
    assert get(server, f"/audit/records?{MONTH}&cursor=not-a-cursor")[0] == 400


def test_filters(server) -> None:
    _, body = get(server, f"/audit/records?{MONTH}&root_resource_types[]=teams")
    assert [r["id"] for r in body["records"]] == ["RSAMPLE0003"]
    _, body = get(server, f"/audit/records?{MONTH}&actions[]=delete")
    assert [r["id"] for r in body["records"]] == ["RSAMPLE0004"]
    _, body = get(server, f"/audit/records?{MONTH}&actor_type=api_key_reference")
    assert [r["id"] for r in body["records"]] == ["RSAMPLE0002"]
    assert get(server, f"/audit/records?{MONTH}&root_resource_types[]=widgets")[0] == 400


def test_only_admin_level_keys_list_the_whole_account(server) -> None:
    assert get(server, f"/audit/records?{MONTH}", "ava")[0] == 200  # admin
    status, body = get(server, f"/audit/records?{MONTH}", "ben")  # limited user
    assert status == 403 and body["error"]["code"] == 2010
    # a resource's own audit records: role-based, any key that reads it
    status, body = get(server, f"/services/PSVCCHK/audit/records?{MONTH}", "ben")
    assert status == 200 and [r["id"] for r in body["records"]] == ["RSAMPLE0001"]
    assert get(server, f"/services/PNOPE00/audit/records?{MONTH}", "ben")[0] == 404


def test_no_audit_trail_on_the_plan() -> None:
    account = sample_account(now=NOW)
    account.audit_trail = False
    with serve(account, tokens=TOKENS, now=NOW) as s:
        assert get(s, f"/audit/records?{MONTH}")[0] == 403
        assert get(s, f"/services/PSVCCHK/audit/records?{MONTH}")[0] == 403


def test_generated_accounts_have_deterministic_records() -> None:
    a = generate_account(services=60, seed=5, now=NOW)
    b = generate_account(services=60, seed=5, now=NOW)
    assert a.audit_records == b.audit_records and a.audit_records
    times = [r["execution_time"] for r in a.audit_records]
    assert times == sorted(times, reverse=True)
    assert {r["action"] for r in a.audit_records} == {"create", "update", "delete"}
