"""Scan integrity (issue 8): every object accounted for, or the snapshot says what is missing.

Each case runs the scanner over real HTTP against the simulator misbehaving the way real
servers and proxies do (FaultConfig). Each ends with either a complete, exact snapshot or
`meta.complete: false` with a warning naming the collection — never a silent loss — and each
run's wall time is bounded (to catch hangs; speed targets live in benchmarks/).
"""

from __future__ import annotations

import base64
import dataclasses
import json
import logging
import os
import re
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from pdguard.errors import AuthError, ConfigError, ScanError
from pdguard.pdapi.client import MAX_RATE_WAITS, PagerDutyClient, check_api_key, check_api_url
from pdguard.scanner import (
    ALL_COLLECTIONS,
    CORE_COLLECTIONS,
    OPTIONAL_COLLECTIONS,
    SUPPLEMENTARY_COLLECTIONS,
    Scanner,
    ScanOptions,
    scan,
)
from pdguard.simulator import FaultConfig, generate_account, sample_account, serve

NOW = datetime(2026, 11, 26, 9, 0, tzinfo=UTC)
TOKEN = "u+integrity-token-12345"
PAGED = ("services", "escalation_policies", "schedules", "users", "teams", "business_services", "addons",
         "extensions", "oncalls")


@pytest.fixture(scope="module")
def account():
    return generate_account(services=250, escalation_policies=30, schedules=10, users=120, teams=12,
                            incidents=900, business_services=3, seed=8, now=NOW)


@pytest.fixture(scope="module")
def baseline(account) -> dict:
    """What a clean scan of the account collects (ids per collection)."""
    with serve(account, tokens={TOKEN}, now=NOW) as server:
        doc = scan(opts(server)).document
    assert doc["meta"]["complete"], doc["meta"]["warnings"]
    return doc


def opts(server, **kw) -> ScanOptions:
    base = dict(api_key=TOKEN, api_url=server.url, now=NOW, backoff_base=0.01, timeout=5.0, max_duration=60)
    base.update(kw)
    return ScanOptions(**base)


def timed_scan(server, bound: float = 30.0, **kw) -> dict:
    t0 = time.monotonic()
    doc = scan(opts(server, **kw)).document
    took = time.monotonic() - t0
    assert took < bound, f"scan took {took:.1f}s (bound {bound}s): a hang?"
    return doc


def ids(objs: list) -> list:
    return sorted(o["id"] if "id" in o else json.dumps(o, sort_keys=True) for o in objs)


def assert_exact(doc: dict, baseline: dict, names=PAGED + ("incidents",)) -> None:
    for name in names:
        got = ids(doc[name])
        assert len(got) == len(set(got)), f"{name}: duplicates"
        assert got == ids(baseline[name]), name
    assert doc["meta"]["complete"] is True, doc["meta"]["warnings"]
    assert all(s["status"] in ("complete", "excluded") for s in doc["meta"]["collections_status"].values())


def assert_incomplete(doc: dict, name: str, pattern: str) -> dict:
    meta = doc["meta"]
    assert meta["complete"] is False
    st = meta["collections_status"][name]
    assert st["status"] == "incomplete", st
    assert any(re.search(pattern, w) for w in st["warnings"]), st["warnings"]
    assert any(re.search(pattern, w) for w in meta["warnings"])
    if st["expected"] is not None:
        assert st["got"] < st["expected"]  # never "complete" with fewer objects than announced
    got = [o["id"] for o in doc[name] if isinstance(o, dict) and "id" in o]
    assert len(got) == len(set(got)), "each object once"
    return st


# --- accounting on a clean scan -----------------------------------------------------------------

def test_clean_scan_accounts_for_every_collection(account, baseline) -> None:
    status = baseline["meta"]["collections_status"]
    assert set(status) == set(ALL_COLLECTIONS)
    for name in PAGED + ("incidents",):
        st = status[name]
        assert st == {"status": "complete", "expected": len(baseline[name]), "got": len(baseline[name]),
                      "warnings": []}, name
    assert status["services"]["expected"] == 250
    assert sorted(baseline["meta"]["collections"]) == sorted(ALL_COLLECTIONS)
    with serve(account, tokens={TOKEN}, now=NOW) as server:
        doc = timed_scan(server, collections=tuple(c for c in ALL_COLLECTIONS if c not in ("addons", "incidents")))
    st = doc["meta"]["collections_status"]
    assert st["addons"]["status"] == st["incidents"]["status"] == "excluded"
    assert "addons" not in doc["meta"]["collections"] and "incidents" not in doc["meta"]["collections"]
    assert doc["meta"]["complete"] is True


# --- an ignored offset / a repeated page ----------------------------------------------------------

def test_server_ignoring_offset_is_detected_and_retried_once(account) -> None:
    with serve(account, tokens={TOKEN}, now=NOW, faults=FaultConfig(ignore_offset=["/services"])) as server:
        doc = timed_scan(server)
        requests = server.stats.by_path["/services"]
    st = assert_incomplete(doc, "services", r"^services: 100 unique objects of 250 announced .*ignored `offset`")
    assert st == {**st, "expected": 250, "got": 100}
    assert requests == 3 + 2  # three pages, the two repeated ones re-read once
    assert doc["meta"]["collections_status"]["users"]["status"] == "complete"


def test_ignored_offset_without_total_stops_on_the_repeated_page(account) -> None:
    faults = FaultConfig(ignore_offset=["/services"], no_total=["/services"])
    with serve(account, tokens={TOKEN}, now=NOW, faults=faults) as server:
        doc = timed_scan(server)
        requests = server.stats.by_path["/services"]
    st = assert_incomplete(doc, "services", r"^services: the page at offset 100 .*repeated objects already read")
    assert st["expected"] is None and st["got"] == 100
    assert requests == 3  # page 1, page 2 (repeated), page 2 once more, then stop


def test_proxy_repeating_page_one_for_incidents(account, baseline) -> None:
    with serve(account, tokens={TOKEN}, now=NOW, faults=FaultConfig(repeat_first_page=["/incidents"])) as server:
        doc = timed_scan(server)
        assert server.stats.faults["repeat_first_page"] > 0
    st = assert_incomplete(doc, "incidents", r"^incidents: \d+ unique objects of \d+ announced .*repeated")
    assert st["got"] < len(baseline["incidents"])
    assert "incidents" in doc["meta"]["collections"]  # read, but incomplete
    for name in PAGED:  # the other collections are untouched and exact
        assert ids(doc[name]) == ids(baseline[name])


def test_ignored_offset_on_every_incident_query(account) -> None:
    # The unresolved query (date_range=all) and every resolved window are accounted for.
    big = dataclasses.replace(account, incidents=[dict(i, status="triggered") if n % 3 == 0 else i
                                                  for n, i in enumerate(account.incidents)])
    with serve(big, tokens={TOKEN}, now=NOW, faults=FaultConfig(ignore_offset=["/incidents"])) as server:
        doc = timed_scan(server)
    warnings = doc["meta"]["collections_status"]["incidents"]["warnings"]
    assert len([w for w in warnings if "ignored `offset`" in w]) == 2, warnings  # both queries named
    assert doc["meta"]["complete"] is False


# --- no total ----------------------------------------------------------------------------------

def test_missing_total_everywhere_pages_on_more_exactly(account, baseline) -> None:
    with serve(account, tokens={TOKEN}, now=NOW, faults=FaultConfig(no_total=["/"])) as server:
        doc = timed_scan(server)
        statuses = dict(server.stats.by_status)
    assert_exact(doc, baseline)
    assert "400" not in statuses
    st = doc["meta"]["collections_status"]["services"]
    assert st["expected"] is None and st["got"] == 250


@pytest.fixture(scope="module")
def big():
    acc = generate_account(services=20, escalation_policies=5, schedules=3, users=10, teams=2, incidents=16_000,
                           business_services=1, seed=3, now=NOW)
    return acc


def expected_incidents(acc, lookback_days: int = 90) -> set[str]:
    since = NOW - timedelta(days=lookback_days)
    return {i["id"] for i in acc.incidents
            if i["status"] != "resolved" or since <= datetime.fromisoformat(i["created_at"].replace("Z", "+00:00")) < NOW}


def test_incident_window_without_total_is_split_at_the_cap(big) -> None:
    want = expected_incidents(big)
    assert sum(1 for i in big.incidents if i["id"] in want and i["status"] == "resolved") > 10_000
    with serve(big, tokens={TOKEN}, now=NOW, faults=FaultConfig(no_total=["/incidents"])) as server:
        doc = timed_scan(server, bound=90, concurrency=16)
        statuses = dict(server.stats.by_status)
    got = [i["id"] for i in doc["incidents"]]
    assert len(got) == len(set(got)) and set(got) == want
    assert "400" not in statuses  # never asked past the offset cap
    assert doc["meta"]["complete"] is True, doc["meta"]["warnings"]
    assert doc["meta"]["collections_status"]["incidents"]["expected"] is None


def _resolved_in_last_90_days(account) -> list[dict]:
    """The account's resolved incidents created in the 90 days before NOW, oldest first."""
    since = NOW - timedelta(days=90)

    def created(i):
        return datetime.fromisoformat(i["created_at"].replace("Z", "+00:00"))

    return sorted((i for i in account.incidents if i["status"] == "resolved" and since <= created(i) < NOW),
                  key=created)


def test_cap_continuation_keeps_incidents_sharing_the_boundary_second(big) -> None:
    """A window past the 10,000 cap continues from the last incident's second: incidents created in
    that same second after the cap must be read by the next request, not skipped."""
    resolved = _resolved_in_last_90_days(big)
    assert len(resolved) > 10_020
    shared = resolved[9_990]["created_at"]
    same = {i["id"] for i in resolved[9_990:10_021]}  # 10 before the cap, 21 after it: one second
    incidents = [dict(i, created_at=shared) if i["id"] in same else i for i in big.incidents]
    acc = dataclasses.replace(big, incidents=incidents)
    want = expected_incidents(acc)
    with serve(acc, tokens={TOKEN}, now=NOW) as server:
        doc = timed_scan(server, bound=90, concurrency=16)
    got = [i["id"] for i in doc["incidents"]]
    assert len(got) == len(set(got))
    assert same <= set(got), f"{len(same - set(got))} incidents of the boundary second lost"
    assert set(got) == want
    st = doc["meta"]["collections_status"]["incidents"]
    assert st == {"status": "complete", "expected": len(want), "got": len(want), "warnings": []}


@pytest.mark.parametrize("total", [True, False])
def test_more_than_10000_incidents_in_one_second_are_said_and_skipped_past(big, total: bool) -> None:
    """Nothing can page past the offset cap within one second (the API filters by the second):
    the scan says so naming the second, steps past it (never re-reads it forever) and reads the
    rest of the window."""
    resolved = _resolved_in_last_90_days(big)
    assert len(resolved) > 10_200
    storm = resolved[100]["created_at"]
    same = {i["id"] for i in resolved[100:10_150]}  # 10,050 incidents created in one second
    acc = dataclasses.replace(big, incidents=[dict(i, created_at=storm) if i["id"] in same else i
                                              for i in big.incidents])
    want = expected_incidents(acc)
    # (without a total the window is halved down to that second: ~2,400 requests, past the
    # simulator's default 960 a minute)
    faults = FaultConfig(rate_limit=10**9, no_total=[] if total else ["/incidents"])
    with serve(acc, tokens={TOKEN}, now=NOW, faults=faults) as server:
        doc = timed_scan(server, bound=90, concurrency=16)
        statuses = dict(server.stats.by_status)
    assert set(statuses) == {200}  # never asked past the cap
    got = [i["id"] for i in doc["incidents"]]
    assert len(got) == len(set(got)) and set(got) <= want
    assert want - set(got) <= same  # only incidents of that second are missing
    assert len(set(got) & same) >= 10_000  # the first 10,000 of it were read
    if total:  # counted: `expected` holds the skipped ones
        st = assert_incomplete(doc, "incidents", rf"^incidents: 10,050 incidents created at {storm}, more than "
                                                 r"the 10,000 the API pages in one query: 50 were skipped")
        assert st["got"] == len(got) == len(want) - 50 and st["expected"] == len(want)
    else:
        st = assert_incomplete(doc, "incidents", rf"^incidents: more than 10,000 incidents created in the second "
                                                 rf"{storm} and no total from the server; some were skipped")
        assert st["got"] == len(got) and st["expected"] is None


@pytest.mark.parametrize("total", [True, False])
def test_a_list_exactly_at_the_offset_cap_is_whole(account, total: bool) -> None:
    """The cap's boundary (`max_items` stands in for the API's 10,000): a list of exactly the cap is
    read whole without a cap warning; one object more is cut at the cap, with the warning, and no
    request ever asks past the cap."""
    import asyncio

    async def read(url: str, cap: int) -> tuple[list, list[str]]:
        warnings: list[str] = []
        async with PagerDutyClient(TOKEN, api_url=url, backoff_base=0.01, timeout=5.0) as client:
            items = await client.paginate("/services", "services", collection="services", warn=warnings.append,
                                          max_items=cap, note=warnings.append)
        return items, warnings

    faults = FaultConfig(no_total=[] if total else ["/services"])
    with serve(account, tokens={TOKEN}, now=NOW, faults=faults) as server:
        whole, said = asyncio.run(read(server.url, 250))
        assert len({s["id"] for s in whole}) == len(whole) == 250 and said == []
        cut, said = asyncio.run(read(server.url, 249))
        assert len({s["id"] for s in cut}) == len(cut) == 249
        assert len(said) == 1 and re.search(r"offset cap|the API pages only 249", said[0]), said
        assert set(server.stats.by_status) == {200}


def test_pages_smaller_than_asked_follow_the_limit_the_server_answers(account, baseline) -> None:
    """Asked for 250 a page, the API answers 100 (its maximum) and says `limit: 100`: the offsets of
    the other pages follow the limit the server answered, so every object is read."""
    import asyncio

    async def read(url: str) -> tuple[list, list[str]]:
        said: list[str] = []
        async with PagerDutyClient(TOKEN, api_url=url, backoff_base=0.01, timeout=5.0) as client:
            items = await client.paginate("/services", "services", collection="services", warn=said.append,
                                          note=said.append, page_limit=250)
        return items, said

    with serve(account, tokens={TOKEN}, now=NOW) as server:
        items, said = asyncio.run(read(server.url))
        assert server.stats.by_path["/services"] == 3
    assert said == [] and ids(items) == ids(baseline["services"])


def _read_teams(answer) -> tuple[list, list[str], list[int]]:
    """Read /teams with the client from a tiny server whose pages `answer(offset, limit)` gives as
    (teams, more) (no total): (items, warnings and notes, offsets asked)."""
    import asyncio

    served: list[int] = []

    class Lister(BaseHTTPRequestHandler):
        def do_GET(self) -> None:  # noqa: N802 - http.server API
            q = dict(urllib.parse.parse_qsl(urllib.parse.urlsplit(self.path).query))
            offset, limit = int(q.get("offset", 0)), int(q.get("limit", 25))
            served.append(offset)
            page, more = answer(offset, limit)
            body = json.dumps({"teams": page, "offset": offset, "limit": limit, "more": more, "total": None}).encode()
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args: object) -> None:
            pass

    async def read(url: str) -> tuple[list, list[str]]:
        said: list[str] = []
        async with PagerDutyClient(TOKEN, api_url=url, backoff_base=0.01, timeout=5.0) as client:
            items = await client.paginate("/teams", "teams", collection="teams", warn=said.append, note=said.append)
        return items, said

    httpd = ThreadingHTTPServer(("127.0.0.1", 0), Lister)
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    try:
        items, said = asyncio.run(read(f"http://127.0.0.1:{httpd.server_port}"))
    finally:
        httpd.shutdown()
        httpd.server_close()
    return items, said, served


TEAMS = [{"id": f"PT{n:04d}", "type": "team", "name": f"team {n}"} for n in range(250)]


def test_a_page_overlapping_by_one_without_a_total_is_taken() -> None:
    """Without a total, a list that grows while it is read (an object created at its head) shifts
    the next page by one: that page repeats one object already read and brings new ones. It is
    taken (the repeat de-duplicated) and paging goes on: only a page with nothing new stops it."""
    teams = list(TEAMS)

    def answer(offset: int, limit: int) -> tuple[list, bool]:
        page = teams[offset:offset + limit]
        more = offset + len(page) < len(teams)
        if offset == 0 and teams[0]["id"] != "PTNEW":
            teams.insert(0, {"id": "PTNEW", "type": "team", "name": "created while paging"})
        return page, more

    items, said, served = _read_teams(answer)
    got = [t["id"] for t in items]
    assert len(got) == len(set(got)) == 250 and set(got) == {t["id"] for t in TEAMS}
    assert said == [] and served == [0, 100, 200]


def test_an_empty_page_without_a_total_is_read_once_more() -> None:
    """Without a total, a page that comes back empty while `more` said there was more (a hiccup of
    the server or a proxy) is read once more before concluding: here the second read has the
    objects, and the list is read to its end."""
    hiccups = [100]

    def answer(offset: int, limit: int) -> tuple[list, bool]:
        if offset in hiccups:
            hiccups.remove(offset)
            return [], True
        page = TEAMS[offset:offset + limit]
        return page, offset + len(page) < len(TEAMS)

    items, said, served = _read_teams(answer)
    assert sorted(t["id"] for t in items) == [t["id"] for t in TEAMS]
    assert said == [] and served == [0, 100, 100, 200]


def test_fewer_objects_than_announced_is_never_complete() -> None:
    """The accounting's last word, whatever lost the objects without saying so: a collection
    holding fewer objects than its queries announced is incomplete, with a warning."""
    scanner = Scanner(ScanOptions(api_key="k", collections=("teams",)))
    scanner._tally("teams").add(3, ["PT1", "PT2", "PT3"])
    scanner.emit("teams", (0,), [{"id": "PT1"}, {"id": "PT2"}])
    status = scanner._settle({"teams"}, set())["teams"]
    assert status == {"status": "incomplete", "expected": 3, "got": 2,
                      "warnings": ["teams: 2 of 3 announced objects collected"]}
    assert scanner.complete is False


# --- objects vanishing between pages, pages shrinking or going empty ----------------------------

@pytest.mark.parametrize(("n", "pattern"), [
    (3, r"^services: 247 unique objects of 250 announced .*shrank or came back empty .*offset 200"),
    (100, r"^services: 150 unique objects of 250 announced .*shrank or came back empty .*offset 200"),
])
def test_objects_vanishing_between_pages(account, n: int, pattern: str) -> None:
    with serve(account, tokens={TOKEN}, now=NOW, faults=FaultConfig(vanish={"/services": n})) as server:
        doc = timed_scan(server)
        requests = server.stats.by_path["/services"]
        assert server.stats.faults["vanish"] == min(n, 100)
    st = assert_incomplete(doc, "services", pattern)
    assert st["expected"] == 250
    assert requests > 3  # the short/empty page was re-read once before concluding


def test_vanishing_users_without_total_leaves_expected_unknown(account) -> None:
    # Without a total nothing counts a shifted list: collections_status must not invent a count
    # it was never given — `expected: null` (unknown), `got` what was read.
    faults = FaultConfig(vanish={"/users": 5}, no_total=["/users"])
    with serve(account, tokens={TOKEN}, now=NOW, faults=faults) as server:
        doc = timed_scan(server)
    st = doc["meta"]["collections_status"]["users"]
    assert st["expected"] is None and st["got"] == 115


def test_objects_lost_from_a_list_read_only_for_another_collection_make_the_scan_incomplete(account) -> None:
    """Users excluded but read for the teams' members: users vanishing while they are paged leave
    members out of the teams, so the scan is incomplete although every collection it lists is
    complete or excluded."""
    with serve(account, tokens={TOKEN}, now=NOW, faults=FaultConfig(vanish={"/users": 5})) as server:
        doc = timed_scan(server, collections=("teams",))
    meta = doc["meta"]
    assert meta["collections"] == ["teams"] and meta["collections_status"]["users"]["status"] == "excluded"
    assert any(w.startswith("users: 115 unique objects of 120 announced") for w in meta["warnings"]), meta["warnings"]
    assert meta["complete"] is False
    assert_teams_incomplete_for_the_users(doc)


def assert_teams_incomplete_for_the_users(doc: dict) -> None:
    """Every team listed, but the status says their members may be missing, and why."""
    meta = doc["meta"]
    teams = meta["collections_status"]["teams"]
    why = ("teams: members may be missing: not every user was read (team members come from the users' teams "
           "references; see the users warnings)")
    assert teams["status"] == "incomplete" and teams["warnings"] == [why], teams
    assert why in meta["warnings"] and meta["complete"] is False
    assert teams["got"] == teams["expected"] == 12 == len(doc["teams"])


@pytest.mark.parametrize("faults", [FaultConfig(vanish={"/users": 5}), FaultConfig(null_items=("users",))],
                         ids=["users-vanish", "null-user"])
def test_users_lost_make_the_teams_incomplete(account, faults: FaultConfig) -> None:
    """Team members are derived from the users' `teams` references: when users are lost (objects
    vanishing between pages, a null in a page), the teams' status must not say complete although
    every team was listed - their members may be missing - and a warning says why."""
    with serve(account, tokens={TOKEN}, now=NOW, faults=faults) as server:
        doc = timed_scan(server)
    assert doc["meta"]["collections_status"]["users"]["status"] == "incomplete"
    assert_teams_incomplete_for_the_users(doc)


def test_users_fewer_than_announced_when_read_only_for_the_members() -> None:
    """The accounting's last word for users read only for the team members (users excluded): fewer
    than announced, lost without a warning, still makes the teams incomplete."""
    scanner = Scanner(ScanOptions(api_key="k", collections=("teams",)))
    scanner._tally("users").add(3, ["PU1", "PU2", "PU3"])
    scanner._check("users", [{"id": "PU1"}, {"id": "PU2"}], scanner.listed.setdefault("users", set()))
    scanner._tally("teams").add(1, ["PT1"])
    scanner.emit("teams", (0,), [{"id": "PT1"}])
    status = scanner._settle({"teams"}, set())
    assert status["users"]["status"] == "excluded"
    assert status["teams"]["status"] == "incomplete"
    assert status["teams"]["warnings"] == ["teams: members may be missing: not every user was read (team members come "
                                           "from the users' teams references; see the users warnings)"]
    assert "users: 2 of 3 announced objects read" in scanner.warnings and scanner.complete is False


def test_users_complete_leave_the_teams_complete(account, baseline) -> None:
    assert baseline["meta"]["collections_status"]["teams"]["status"] == "complete"
    assert not any(w.startswith("teams:") for w in baseline["meta"]["warnings"])


# --- bounded waits --------------------------------------------------------------------------------

@pytest.mark.parametrize("reset", ["inf", "-inf", "nan", "-5", "1e9", "3600", "abc", ""])
def test_bad_ratelimit_reset_values_are_bounded(account, baseline, reset: str, caplog) -> None:
    faults = FaultConfig(burst_429=4, ratelimit_headers={"ratelimit-reset": reset})
    caplog.set_level(logging.WARNING, logger="pdguard.api")
    with serve(account, tokens={TOKEN}, now=NOW, faults=faults) as server:
        doc = timed_scan(server, bound=20, max_rate_wait=0.5, max_duration=40)
        assert server.stats.faults["429"] == 4
    assert_exact(doc, baseline)
    if reset in ("1e9", "3600"):
        assert "beyond the 0.5 s cap" in caplog.text
    elif reset:
        assert "ignoring an invalid ratelimit-reset header" in caplog.text


def test_reset_header_validation_and_default_cap() -> None:
    c = PagerDutyClient("k")
    assert c.max_rate_wait == 60
    assert c._reset_seconds("3600", "x") == 60 and c._reset_seconds("1e300", "x") == 60
    assert c._reset_seconds("12.5", "x") == 12.5 and c._reset_seconds("0", "x") == 0
    # the boundary: up to the cap a reset is honoured as given, just past it the cap is waited
    assert c._reset_seconds("59.5", "x") == 59.5 and c._reset_seconds("60", "x") == 60
    assert c._reset_seconds("60.5", "x") == 60 and c._reset_seconds("600", "x") == 60
    for bad in ("inf", "Infinity", "-inf", "nan", "NaN", "-1", "", "soon", None):
        assert c._reset_seconds(bad, "x") is None, bad


def test_spent_budget_with_huge_reset_stops_at_the_deadline_loudly(account, caplog) -> None:
    """`ratelimit-remaining: 0` + `ratelimit-reset: 3600`: the wait is capped (60 s) and logged at
    warning level, and the scan's deadline cuts it: incomplete, never a silent hang."""
    faults = FaultConfig(ratelimit_headers={"ratelimit-remaining": "0", "ratelimit-reset": "3600"}, paths=["/teams"])
    caplog.set_level(logging.WARNING, logger="pdguard.api")
    t0 = time.monotonic()
    with serve(account, tokens={TOKEN}, now=NOW, faults=faults) as server:
        doc = timed_scan(server, bound=15, max_duration=3)
    assert time.monotonic() - t0 < 15
    meta = doc["meta"]
    assert meta["complete"] is False
    assert any(w.startswith("scan stopped at its --max-duration of 3s") for w in meta["warnings"])
    unfinished = [k for k, v in meta["collections_status"].items() if v["status"] == "incomplete"]
    assert unfinished and not set(unfinished) & set(meta["collections"])  # not listed as collected
    for name in unfinished:
        assert doc[name] == []
        assert any("not finished within --max-duration" in w for w in meta["collections_status"][name]["warnings"])
    assert "beyond the 60 s cap" in caplog.text
    assert re.search(r"waiting \d+ s for the API rate limit", caplog.text)


def test_spent_budget_with_capped_reset_completes(account, baseline, caplog) -> None:
    faults = FaultConfig(ratelimit_headers={"ratelimit-remaining": "0", "ratelimit-reset": "3600"}, paths=["/teams"])
    with serve(account, tokens={TOKEN}, now=NOW, faults=faults) as server:
        doc = timed_scan(server, bound=20, max_rate_wait=0.3)
    assert_exact(doc, baseline)


def test_slow_drip_body_is_cut_at_the_whole_request_timeout(account, baseline) -> None:
    # Each chunk arrives well within the timeout; the whole body would take 30 s.
    faults = FaultConfig(burst_drip=2, drip_seconds=30, paths=["/teams"])
    with serve(account, tokens={TOKEN}, now=NOW, faults=faults) as server:
        doc = timed_scan(server, bound=12, timeout=1.5)
        assert server.stats.faults["drip"] == 2
    assert_exact(doc, baseline)


def test_dripping_every_time_fails_within_the_retry_bound(account) -> None:
    faults = FaultConfig(burst_drip=100, drip_seconds=30, paths=["/escalation_policies"])
    t0 = time.monotonic()
    with serve(account, tokens={TOKEN}, now=NOW, faults=faults) as server, \
            pytest.raises(ScanError, match=r"escalation_policies: timeout \(1 s for the whole request\)"):
        scan(opts(server, timeout=1, max_retries=2))
    assert time.monotonic() - t0 < 12


def test_429s_never_spend_the_fault_retry_budget(account, baseline) -> None:
    # One request in flight: it meets all twelve 429s, far more than max_retries and the budget.
    faults = FaultConfig(burst_429=12, ratelimit_headers={"ratelimit-reset": "0"})
    with serve(account, tokens={TOKEN}, now=NOW, faults=faults) as server:
        doc = timed_scan(server, bound=40, concurrency=1, max_retries=1, retry_budget=0)
        assert server.stats.faults["429"] == 12
    assert_exact(doc, baseline)


@pytest.mark.parametrize("headers", ["reset", "none"])
def test_a_429_waits_before_its_retry(account, headers: str) -> None:
    """A 429 is retried after its `ratelimit-reset` (here 1 s, the budget not said to be spent:
    a gateway's 429), or after a backoff when it gives no reset (here at least 1 s): never at
    once, which would keep the account's budget spent for every other client of it."""
    if headers == "reset":
        faults = FaultConfig(burst_429=1, ratelimit_headers={"ratelimit-reset": "1", "ratelimit-remaining": "5"},
                             paths=["/teams"])
        backoff = 0.01
    else:
        faults = FaultConfig(burst_429=1, rate_429_reset_header=False, paths=["/teams"])
        backoff = 1.0  # the first wait is between 1 and 2 s
    with serve(account, tokens={TOKEN}, now=NOW, faults=faults) as server:
        t0 = time.monotonic()
        doc = timed_scan(server, bound=20, collections=("teams",), backoff_base=backoff)
        took = time.monotonic() - t0
        assert server.stats.faults["429"] == 1 and server.stats.by_path["/teams"] == 2
    assert len(doc["teams"]) == 12 and doc["meta"]["complete"] is True
    assert took >= 1.0, f"retried after {took:.2f}s"


@pytest.mark.parametrize("n", [MAX_RATE_WAITS, MAX_RATE_WAITS + 1])
def test_one_request_waits_through_50_429s_and_no_more(account, n: int) -> None:
    faults = FaultConfig(burst_429=n, ratelimit_headers={"ratelimit-reset": "0"}, paths=["/teams"])
    with serve(account, tokens={TOKEN}, now=NOW, faults=faults) as server:  # /teams: one page, one request
        if n > MAX_RATE_WAITS:
            with pytest.raises(ScanError, match=f"teams: still rate limited after {MAX_RATE_WAITS} waits at /teams"):
                scan(opts(server, collections=("teams",)))
        else:
            doc = timed_scan(server, bound=20, collections=("teams",))
            assert len(doc["teams"]) == 12 and doc["meta"]["complete"] is True
        assert server.stats.faults["429"] == n


def test_5xx_still_spend_the_budget(account) -> None:
    with serve(account, tokens={TOKEN}, now=NOW, faults=FaultConfig(burst_5xx=3)) as server, \
            pytest.raises(ScanError, match="giving up after 1 retries"):
        scan(opts(server, concurrency=1, retry_budget=1))


@pytest.mark.parametrize(("limit", "ok"), [(2, True), (1, False)])
def test_retry_limits_are_exact(account, limit: int, ok: bool) -> None:
    """`max_retries` N and `retry_budget` N each allow exactly N retries: two 503s in a row on the one
    /teams request are absorbed by a limit of 2, and a limit of 1 fails with that limit named."""
    for option, message in (("max_retries", r"teams: HTTP 503 at /teams, 1 retries exhausted"),
                            ("retry_budget", r"teams: giving up after 1 retries in this scan")):
        faults = FaultConfig(burst_5xx=2, paths=["/teams"])
        with serve(account, tokens={TOKEN}, now=NOW, faults=faults) as server:
            if ok:
                doc = timed_scan(server, bound=20, collections=("teams",), **{option: limit})
                assert len(doc["teams"]) == 12 and doc["meta"]["complete"] is True
                assert server.stats.by_path["/teams"] == 3
            else:
                with pytest.raises(ScanError, match=message):
                    scan(opts(server, collections=("teams",), **{option: limit}))
                assert server.stats.by_path["/teams"] == 2


def test_deadline_stops_a_slow_scan(account) -> None:
    t0 = time.monotonic()
    with serve(account, tokens={TOKEN}, now=NOW, faults=FaultConfig(latency_ms=400)) as server:
        doc = timed_scan(server, bound=10, max_duration=1.5, concurrency=2)
    assert time.monotonic() - t0 < 10
    meta = doc["meta"]
    assert meta["complete"] is False
    assert meta["warnings"][0].startswith("scan stopped at its --max-duration of 1.5s")
    assert meta["collections"] != sorted(ALL_COLLECTIONS)


# --- partial permissions --------------------------------------------------------------------------

PATHS = {"standards": "/standards", "addons": "/addons", "extensions": "/extensions", "oncalls": "/oncalls",
         "service_dependencies": "/service_dependencies", "incidents": "/incidents",
         "business_services": "/business_services", "flexible_schedules": "/v3/schedules"}


def test_optional_and_core_sets() -> None:
    # audit records: optional too, but a 403 leaves the scan complete (tests/test_scan_audit.py)
    assert set(PATHS) | SUPPLEMENTARY_COLLECTIONS == OPTIONAL_COLLECTIONS
    assert SUPPLEMENTARY_COLLECTIONS == {"audit_records"}
    assert CORE_COLLECTIONS == {"services", "escalation_policies", "schedules", "users", "teams"}
    assert not CORE_COLLECTIONS & OPTIONAL_COLLECTIONS
    assert CORE_COLLECTIONS | OPTIONAL_COLLECTIONS == set(ALL_COLLECTIONS)


@pytest.mark.parametrize("name", sorted(PATHS))
def test_403_on_an_optional_collection_skips_it(account, baseline, name: str) -> None:
    with serve(account, tokens={TOKEN}, now=NOW, faults=FaultConfig(forbid=[PATHS[name]])) as server:
        doc = timed_scan(server)
    meta = doc["meta"]
    skipped = {name} | ({"service_dependencies"} if name == "business_services" else set())
    for s in skipped:
        assert meta["collections_status"][s]["status"] == "forbidden"
        assert s not in meta["collections"]
        assert doc[s] == []
    scope = r"OAuth scope \S+\.read"
    assert any(re.search(rf"^{name}: skipped: access denied \(403\).*{scope}.*--exclude {name}", w)
               for w in meta["warnings"]), meta["warnings"]
    assert meta["complete"] is False
    for other in set(PAGED) - skipped:
        assert ids(doc[other]) == ids(baseline[other]), other
        assert meta["collections_status"][other]["status"] == "complete"
    if name == "standards":
        assert doc["standards_scores"] == []
    # Knowingly excluded: complete.
    with serve(account, tokens={TOKEN}, now=NOW, faults=FaultConfig(forbid=[PATHS[name]])) as server:
        doc = timed_scan(server, collections=tuple(c for c in ALL_COLLECTIONS if c not in skipped))
    assert doc["meta"]["complete"] is True
    assert all(doc["meta"]["collections_status"][s]["status"] == "excluded" for s in skipped)


def test_403_on_standards_scores_skips_standards(account) -> None:
    with serve(account, tokens={TOKEN}, now=NOW, faults=FaultConfig(forbid=["/standards/scores"])) as server:
        doc = timed_scan(server)
    st = doc["meta"]["collections_status"]["standards"]
    assert st["status"] == "forbidden" and doc["standards"] == [] and doc["standards_scores"] == []
    assert "standards" not in doc["meta"]["collections"]


@pytest.mark.parametrize("name", sorted(CORE_COLLECTIONS))
def test_403_on_a_core_collection_fails(account, name: str) -> None:
    with serve(account, tokens={TOKEN}, now=NOW, faults=FaultConfig(forbid=[f"/{name}"])) as server, \
            pytest.raises(AuthError, match=rf"^{name}: access denied \(403\) at /{name}.*OAuth scope"):
        scan(opts(server))


# --- bad key values, a scheme-less URL ---------------------------------------------------------------

@pytest.mark.parametrize(("key", "what"), [
    (TOKEN + "\n", "trailing newline"), (TOKEN + "\r\n", "trailing newline"), ("\n" + TOKEN, "leading newline"),
    (" " + TOKEN, "whitespace"), (TOKEN + " ", "whitespace"), (TOKEN[:5] + "é" + TOKEN[5:], "non-ASCII"),
    (TOKEN[:5] + "\x01" + TOKEN[5:], "control character"), (TOKEN[:5] + " " + TOKEN[5:], "whitespace"),
    (TOKEN[:5] + "\u200b" + TOKEN[5:], "non-ASCII"),
])
def test_bad_key_values_are_one_error_before_any_request(key: str, what: str) -> None:
    with pytest.raises(ConfigError, match=what) as err:
        check_api_key(key)
    assert TOKEN not in str(err.value) and TOKEN[5:] not in str(err.value)
    with serve(sample_account(), tokens={TOKEN}) as server:
        with pytest.raises(ConfigError, match=what):
            scan(ScanOptions(api_key=key, api_url=server.url))
        assert server.stats.requests == 0


def test_an_error_body_echoing_the_key_never_shows_it() -> None:
    """A gateway or proxy that echoes the request's Authorization header in its error body: the
    scan fails with the server's message, the key in it replaced by ***."""

    class Echo(BaseHTTPRequestHandler):
        def do_GET(self) -> None:  # noqa: N802 - http.server API
            auth = self.headers["Authorization"]
            body = json.dumps({"error": {"message": f"Bad request ({auth})", "errors": [f"header: {auth}"]}}).encode()
            self.send_response(400)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args: object) -> None:
            pass

    httpd = ThreadingHTTPServer(("127.0.0.1", 0), Echo)
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    try:
        with pytest.raises(ScanError, match=r"HTTP 400 at /\w+: Bad request \(Token token=\*\*\*\): header: Token") as err:
            scan(ScanOptions(api_key=TOKEN, api_url=f"http://127.0.0.1:{httpd.server_port}", now=NOW,
                             collections=("teams",)))
    finally:
        httpd.shutdown()
        httpd.server_close()
    assert TOKEN not in str(err.value)


class _AuthProxy(BaseHTTPRequestHandler):
    """A forward HTTP proxy (absolute-form requests) that wants Basic credentials (407 without)."""

    want = "Basic " + base64.b64encode(b"corp user:p@ss").decode()
    seen: list[str | None] = []

    def do_GET(self) -> None:  # noqa: N802 - http.server API
        self.seen.append(self.headers.get("Proxy-Authorization"))
        if self.headers.get("Proxy-Authorization") != self.want:
            status, headers, body = 407, {"Proxy-Authenticate": 'Basic realm="corp"'}, b"proxy authentication required"
        else:
            fwd = {k: v for k, v in self.headers.items() if not k.lower().startswith("proxy-")}
            opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))  # straight to the API
            try:
                with opener.open(urllib.request.Request(self.path, headers=fwd)) as resp:
                    status, headers, body = resp.status, dict(resp.headers), resp.read()
            except urllib.error.HTTPError as exc:
                status, headers, body = exc.code, dict(exc.headers), exc.read()
        self.send_response(status)
        for k, v in headers.items():
            if k.lower() not in ("content-length", "connection", "transfer-encoding", "date", "server"):
                self.send_header(k, v)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: object) -> None:
        pass


def test_http_proxy_from_the_environment_with_credentials(monkeypatch) -> None:
    """HTTP_PROXY=http://user:password@proxy (percent-encoded) is honoured like httpx does: the
    scan goes through the proxy, which gets the credentials as Proxy-Authorization."""
    proxy = ThreadingHTTPServer(("127.0.0.1", 0), _AuthProxy)
    threading.Thread(target=proxy.serve_forever, daemon=True).start()
    for name in ("NO_PROXY", "no_proxy", "ALL_PROXY", "all_proxy", "http_proxy"):
        monkeypatch.delenv(name, raising=False)
    _AuthProxy.seen = []
    try:
        with serve(sample_account(), tokens={TOKEN}) as server:
            monkeypatch.setenv("HTTP_PROXY", f"http://corp%20user:p%40ss@127.0.0.1:{proxy.server_port}")
            doc = scan(ScanOptions(api_key=TOKEN, api_url=server.url, collections=("teams",))).document
            assert server.stats.requests == len(_AuthProxy.seen) >= 2  # every request went through the proxy
            monkeypatch.setenv("NO_PROXY", "127.0.0.1")  # ... unless NO_PROXY names the host
            scan(ScanOptions(api_key=TOKEN, api_url=server.url, collections=("teams",)))
            assert server.stats.requests == 2 * len(_AuthProxy.seen)
    finally:
        proxy.shutdown()
        proxy.server_close()
    assert doc["meta"]["complete"] is True and doc["teams"]
    assert set(_AuthProxy.seen) == {_AuthProxy.want}


def test_scheme_less_api_url_is_rejected() -> None:
    for url in ("127.0.0.1:8080", "localhost:8080", "api.pagerduty.com", "ftp://x.example", "http://"):
        with pytest.raises(ConfigError, match="http:// or https://"):
            check_api_url(url)
    assert check_api_url("http://127.0.0.1:8080/") == "http://127.0.0.1:8080"
    with pytest.raises(ConfigError) as err:
        check_api_url("user:hunter2@example.com")
    assert "hunter2" not in str(err.value)
    # credentials in the URL: never sent as such, and the URL goes into meta.api_url
    with pytest.raises(ConfigError, match=r"'https://\*\*\*@gw\.example/pd' carries credentials") as err:
        check_api_url("https://gw-user:hunter2@gw.example/pd")
    assert "hunter2" not in str(err.value) and "gw-user" not in str(err.value)


# --- the CLI: exit codes and the gate on incomplete data -------------------------------------------

def pdguard(*args: str, env: dict | None = None, timeout: float = 120) -> subprocess.CompletedProcess:
    base = {k: v for k, v in os.environ.items() if k not in ("PAGERDUTY_API_KEY", "PDGUARD_STORE", "PDGUARD_CONFIG",
                                                            "PAGERDUTY_OAUTH_TOKEN")}
    return subprocess.run([sys.executable, "-m", "pdguard", *args], capture_output=True, text=True,
                          env={**base, "PAGERDUTY_API_KEY": TOKEN, **(env or {})}, timeout=timeout)


def one_error_line(r: subprocess.CompletedProcess) -> str:
    assert "Traceback" not in r.stderr
    errors = [line for line in r.stderr.splitlines() if line.startswith("pdguard: error:")]
    assert len(errors) == 1, r.stderr
    return errors[0]


@pytest.mark.parametrize("key", [TOKEN + "\n", TOKEN + "é", "\x7f" + TOKEN])
def test_cli_bad_key_exit_2_no_request(key: str, tmp_path: Path) -> None:
    with serve(sample_account(), tokens={TOKEN}) as server:
        t0 = time.monotonic()
        r = pdguard("scan", "--api-url", server.url, "-o", str(tmp_path / "s.json"), env={"PAGERDUTY_API_KEY": key})
        assert time.monotonic() - t0 < 30
        assert server.stats.requests == 0
    assert r.returncode == 2
    line = one_error_line(r)
    assert "API key" in line and TOKEN not in r.stderr
    assert not (tmp_path / "s.json").exists()


def test_cli_scheme_less_api_url(tmp_path: Path) -> None:
    r = pdguard("scan", "--api-url", "127.0.0.1:8080", "-o", str(tmp_path / "s.json"))
    assert r.returncode == 2
    assert "http://" in one_error_line(r)


def test_cli_401_is_about_the_key_and_core_403_exit_2(tmp_path: Path) -> None:
    with serve(sample_account(), tokens={TOKEN}) as server:
        r = pdguard("scan", "--api-url", server.url, "-o", str(tmp_path / "s.json"), env={"PAGERDUTY_API_KEY": "nope"})
    assert r.returncode == 2
    line = one_error_line(r)
    assert "401" in line and "API key" in line and "scope" not in line
    with serve(sample_account(), tokens={TOKEN}, faults=FaultConfig(forbid=["/escalation_policies"])) as server:
        r = pdguard("check", "--api-url", server.url, "--allow-incomplete")
    assert r.returncode == 2
    line = one_error_line(r)
    assert "escalation_policies: access denied (403)" in line and "escalation_policies.read" in line


def test_cli_scan_incomplete_never_replaces_the_last_good_snapshot(tmp_path: Path) -> None:
    out = tmp_path / "snapshot.json"
    with serve(sample_account(), tokens={TOKEN}) as server:
        ok = pdguard("scan", "-q", "--api-url", server.url, "-o", str(out))
    assert ok.returncode == 0, ok.stderr
    good = out.read_bytes()
    with serve(sample_account(), tokens={TOKEN}, faults=FaultConfig(forbid=["/standards"])) as server:
        r = pdguard("scan", "-q", "--api-url", server.url, "-o", str(out))
        assert r.returncode == 2
        line = one_error_line(r)
        assert "incomplete" in line and "--allow-incomplete" in line and "snapshot.incomplete.json" in line
        assert "snapshot.json left unchanged" in line
        assert "--exclude standards" in r.stderr
        assert out.read_bytes() == good  # the last good snapshot stays
        kept = json.loads((tmp_path / "snapshot.incomplete.json").read_text())
        assert kept["meta"]["complete"] is False
        assert kept["meta"]["collections_status"]["standards"]["status"] == "forbidden"
        r = pdguard("scan", "-q", "--api-url", server.url, "-o", str(out), "--allow-incomplete")
    assert r.returncode == 0, r.stderr
    accepted = json.loads(out.read_text())
    assert accepted["meta"]["complete"] is False and "standards" not in accepted["meta"]["collections"]


def test_cli_check_gates_on_incomplete_data(tmp_path: Path) -> None:
    with serve(sample_account(), tokens={TOKEN}, faults=FaultConfig(forbid=["/addons"])) as server:
        r = pdguard("check", "--api-url", server.url, "--format", f"json={tmp_path / 'r.json'}")
        assert r.returncode == 2
        assert "incomplete" in one_error_line(r)
        assert not (tmp_path / "r.json").exists()  # nothing evaluated
        r = pdguard("check", "--api-url", server.url, "--allow-incomplete", "--format", f"json={tmp_path / 'r.json'}",
                    "--fail-on", "none")
    assert r.returncode == 0, r.stderr
    report = json.loads((tmp_path / "r.json").read_text())
    assert report["warnings"][0].startswith("the inventory is incomplete")
    assert any("addons: skipped" in w for w in report["warnings"])
    assert report["meta"]["complete"] is False


def test_cli_max_duration_exit_2_with_a_clear_message(tmp_path: Path) -> None:
    t0 = time.monotonic()
    with serve(sample_account(), tokens={TOKEN}, faults=FaultConfig(latency_ms=1500)) as server:
        r = pdguard("scan", "-q", "--api-url", server.url, "-o", str(tmp_path / "s.json"), "--max-duration", "1s")
    assert time.monotonic() - t0 < 30
    assert r.returncode == 2
    assert "--max-duration of 1s" in one_error_line(r)
    assert not (tmp_path / "s.json").exists()
    r = pdguard("scan", "--max-duration", "soon", "-o", str(tmp_path / "s.json"))
    assert r.returncode == 2 and "--max-duration" in one_error_line(r)


def test_watch_once_agrees_with_check_and_incomplete_never_latest(tmp_path: Path) -> None:
    from pdguard.inventory.store import Store

    db = f"sqlite:///{tmp_path / 'inv.sqlite'}"
    with serve(sample_account(), tokens={TOKEN}) as server:
        first = pdguard("watch", "--once", "--api-url", server.url, "--store", db)
    assert first.returncode == 1, first.stderr  # the sample account has high findings
    with serve(sample_account(), tokens={TOKEN}, faults=FaultConfig(forbid=["/oncalls"])) as server:
        r = pdguard("watch", "--once", "--api-url", server.url, "--store", db)
        assert r.returncode == 2, r.stderr
        assert "INCOMPLETE" in r.stderr
        r = pdguard("watch", "--once", "--api-url", server.url, "--store", db, "--allow-incomplete")
        assert r.returncode == 1, r.stderr  # evaluated and gated like a complete scan
    with Store(db) as store:
        scans = store.list_scans()
        assert [s["complete"] for s in sorted(scans, key=lambda s: s["id"])] == [True, False, False]
        assert store.latest()["id"] == min(s["id"] for s in scans)
