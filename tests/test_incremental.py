"""Incremental rescans: a tick after a complete scan reads incidents only since that scan (less an
overlap) plus every unresolved one, merges the resolved history from the store, and evaluates
the snapshot a full scan gives. Every comparison is with a full scan of the same account at the
same moment, over real HTTP (the simulator)."""

from __future__ import annotations

import copy
import datetime as dt
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from conftest import free_port

from pdguard.config import Config
from pdguard.engine.base import InputRef
from pdguard.engine.embedded import EmbeddedEngine
from pdguard.evaluate import evaluate
from pdguard.inventory.incremental import IncrementalSettings, plan_scan
from pdguard.inventory.store import Store
from pdguard.scanner import BaseMismatch, ScanOptions, scan
from pdguard.simulator import generate_account, serve
from pdguard.simulator.account import Account, iso, make_ref

T1 = datetime(2026, 11, 20, 9, 0, 0, tzinfo=UTC)
T2 = T1 + timedelta(hours=8)
TOKEN = "inc-token"


def account(now: datetime = T1, **kw: Any) -> Account:
    kw = {"services": 120, "escalation_policies": 20, "schedules": 10, "users": 50, "teams": 8,
          "incidents": 2500, "seed": 7, **kw}
    return generate_account(now=now, **kw)


class Sim:
    """The account served at one port (the API URL stays the same from tick to tick)."""

    def __init__(self) -> None:
        self.port = free_port()
        self.requests = 0

    def scan(self, acc: Account, now: datetime, store: Store | None = None, *, save: bool = True,
             settings: IncrementalSettings | None = None, full: bool = False, **kw: Any) -> dict[str, Any]:
        with serve(acc, tokens={TOKEN}, now=now, port=self.port) as server:
            opts = ScanOptions(api_key=TOKEN, api_url=server.url, now=now, **kw)
            if store is not None and not full:
                opts = plan_scan(store, opts, settings or IncrementalSettings()).opts
            doc = scan(opts).document
            self.requests = server.stats.requests
        if store is not None and save:
            store.save_scan(doc)
        return doc


def by_id(doc: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {i["id"]: i for i in doc["incidents"]}


def fingerprints(doc: dict[str, Any]) -> set[str]:
    report = evaluate(InputRef(doc=doc), Config(), engine=EmbeddedEngine(), today=dt.date(2026, 11, 20))
    return {f.fingerprint for f in [*report.findings, *report.waived]}


def new_incident(acc: Account, iid: str, created: datetime, status: str, **extra: Any) -> dict[str, Any]:
    """An incident as the simulator's generator makes them (service, policy, teams of a service)."""
    template = copy.deepcopy(next(i for i in acc.incidents if i["status"] == "resolved"))
    svc = next(s for s in acc.services if s.get("escalation_policy"))
    template.update({
        "id": iid, "title": f"new incident {iid}", "summary": f"new incident {iid}", "created_at": iso(created),
        "updated_at": iso(created), "last_status_change_at": iso(created), "status": status,
        "resolved_at": iso(created + timedelta(minutes=30)) if status == "resolved" else None,
        "incident_number": 100_000 + len(acc.incidents), "service": make_ref(svc), "urgency": "high",
        "incident_key": iid.lower(), **extra})
    acc.incidents.append(template)
    return template


def resolve(inc: dict[str, Any], at: datetime) -> None:
    inc.update(status="resolved", resolved_at=iso(at), last_status_change_at=iso(at), updated_at=iso(at),
               assignments=[], acknowledgements=[])


@pytest.fixture()
def store(tmp_path: Path) -> Store:
    s = Store(f"sqlite:///{tmp_path / 'inv.sqlite'}")
    yield s
    s.close()


def open_in_window(acc: Account, since: datetime) -> list[dict[str, Any]]:
    return [i for i in acc.incidents if i["status"] != "resolved"
            and datetime.fromisoformat(i["created_at"].replace("Z", "+00:00")) >= since]


def test_incremental_tick_equals_a_full_scan_with_changes_between_ticks(store: Store) -> None:
    sim = Sim()
    acc = account()
    first = sim.scan(acc, T1, store)
    full_requests = sim.requests
    assert first["meta"]["incremental"] is False

    # Eight hours later: new incidents (open and already resolved), open ones resolved (one of them
    # before the overlap: it must be read again), one acknowledged, a service added, one removed.
    acc2 = copy.deepcopy(acc)
    window_start = T1 - timedelta(days=80)
    opened = open_in_window(acc2, window_start)
    assert len(opened) >= 4, "the generated account must hold open incidents in the window"
    for inc in opened[:3]:
        resolve(inc, T1 + timedelta(hours=2))
    triggered = next(i for i in opened[3:] if i["status"] == "triggered")
    triggered.update(status="acknowledged", acknowledgements=[{"at": iso(T1 + timedelta(hours=1)),
                                                              "acknowledger": triggered["assignments"][0]["assignee"]
                                                              if triggered.get("assignments") else None}])
    for n in range(6):
        new_incident(acc2, f"PNEW{n:03d}", T1 + timedelta(hours=1 + n), "resolved" if n % 2 else "triggered")
    added = copy.deepcopy(acc2.services[10])
    added.update(id="PSVCADD", name="added-service", summary="added-service")
    acc2.services.append(added)
    acc2.services.remove(acc2.services[20])

    incremental = sim.scan(acc2, T2, store, save=False)
    incremental_requests = sim.requests
    full = Sim.scan(sim, acc2, T2)

    meta = incremental["meta"]
    assert meta["incremental"] is True and meta["complete"] is True
    merged = meta["incidents_merged"]
    assert merged["from_scan"] == 1 and merged["merged"] > 1000 and merged["refetched"] >= 3
    assert merged["until"] == "2026-11-20T08:00:00Z"  # the base's window end less the 1-hour overlap
    assert meta["collections_status"]["incidents"] == full["meta"]["collections_status"]["incidents"]
    assert by_id(incremental) == by_id(full)
    assert {"PNEW000", "PNEW001"} <= by_id(incremental).keys()
    assert by_id(incremental)[triggered["id"]]["status"] == "acknowledged"
    assert all(by_id(incremental)[i["id"]]["status"] == "resolved" for i in opened[:3])
    assert [s["id"] for s in incremental["services"]] == [s["id"] for s in full["services"]]
    assert fingerprints(incremental) == fingerprints(full)
    assert incremental_requests <= full_requests - 12  # the 90 days of resolved incidents were not read


def test_an_incident_that_shows_late_is_read_in_the_overlap(store: Store) -> None:
    """An incident created 10 minutes before the base scan but listed by PagerDuty only after it
    (and resolved since) is in the overlap that the next tick reads again."""
    sim = Sim()
    acc = account()
    sim.scan(acc, T1, store)
    acc2 = copy.deepcopy(acc)
    late = new_incident(acc2, "PLATE01", T1 - timedelta(minutes=10), "resolved")
    incremental = sim.scan(acc2, T2, store, save=False)
    full = sim.scan(acc2, T2)
    assert late["id"] in by_id(full)
    assert by_id(incremental) == by_id(full)
    # Without the overlap it is lost until the next full rescan: what the overlap is for.
    lost = sim.scan(acc2, T2, store, save=False, settings=IncrementalSettings(overlap=0))
    assert late["id"] not in by_id(lost)


def test_a_copy_read_again_replaces_the_stored_one(store: Store) -> None:
    """Resolved incidents in the overlap are read again: a change is seen; an incident resolved
    before the overlap and unresolved now (reopened) comes with the unresolved ones."""
    sim = Sim()
    acc = account()
    recent = [new_incident(acc, "PRECENT", T1 - timedelta(minutes=20), "resolved")]
    sim.scan(acc, T1, store)
    acc2 = copy.deepcopy(acc)
    recent = [i for i in acc2.incidents if i["id"] == "PRECENT"]
    recent[0]["priority"] = {"id": "PPRIO01", "type": "priority_reference", "summary": "P1"}
    old = next(i for i in acc2.incidents if i["status"] == "resolved"
               and iso(T1 - timedelta(days=30)) < i["created_at"] < iso(T1 - timedelta(days=3)))
    old.update(status="triggered", resolved_at=None)
    incremental = sim.scan(acc2, T2, store, save=False)
    full = sim.scan(acc2, T2)
    assert by_id(incremental)[recent[0]["id"]]["priority"]["summary"] == "P1"
    assert by_id(incremental)[old["id"]]["status"] == "triggered"
    assert by_id(incremental) == by_id(full)
    assert len(incremental["incidents"]) == len(by_id(incremental))  # each incident once


def test_many_incidents_resolved_since_are_read_back_in_one_window(store: Store) -> None:
    """When more base incidents were resolved since than reading back from the oldest of them takes
    pages, the scan reads back (fewer requests) instead of one GET per incident; same result."""
    sim = Sim()
    acc = account()
    for n in range(150):  # open incidents of the last two days
        new_incident(acc, f"POPEN{n:03d}", T1 - timedelta(hours=47) + timedelta(minutes=10 * n), "triggered")
    sim.scan(acc, T1, store)
    acc2 = copy.deepcopy(acc)
    for inc in acc2.incidents:
        if inc["id"].startswith("POPEN"):
            resolve(inc, T1 + timedelta(hours=1))
    incremental = sim.scan(acc2, T2, store, save=False)
    requests = sim.requests
    full = sim.scan(acc2, T2)
    merged = incremental["meta"]["incidents_merged"]
    assert merged["until"] < "2026-11-18T11:00:00Z"  # read back from the oldest of them
    assert merged["refetched"] < 150
    assert requests < full["meta"]["requests"]
    assert by_id(incremental) == by_id(full)


def test_incidents_that_left_the_window_are_dropped(store: Store) -> None:
    sim = Sim()
    acc = account()
    sim.scan(acc, T1, store)
    later = T1 + timedelta(days=3)
    incremental = sim.scan(acc, later, store, save=False)
    full = sim.scan(acc, later)
    assert incremental["meta"]["incremental"] is True
    assert by_id(incremental) == by_id(full)
    since = full["meta"]["incidents_since"]
    assert all(i["created_at"] >= since or i["status"] != "resolved" for i in incremental["incidents"])


def test_one_full_scan_every_n_ticks(store: Store) -> None:
    sim = Sim()
    acc = account(incidents=300)
    settings = IncrementalSettings(full_every=3)
    kinds = []
    for tick in range(7):
        doc = sim.scan(acc, T1 + timedelta(hours=8 * tick), store, settings=settings)
        kinds.append("inc" if doc["meta"]["incremental"] else "full")
    assert kinds == ["full", "inc", "inc", "full", "inc", "inc", "full"]
    assert [s["meta"].get("incidents_merged", {}).get("run", 0) for s in reversed(store.list_scans())] == \
        [0, 1, 2, 0, 1, 2, 0]
    # full_every: 1 is a full scan on every tick
    assert not sim.scan(acc, T1 + timedelta(days=3), store, settings=IncrementalSettings(full_every=1))["meta"][
        "incremental"]


def plan(store: Store, url: str, now: datetime = T2, **kw: Any) -> Any:
    return plan_scan(store, ScanOptions(api_key=TOKEN, api_url=url, now=now, **kw), IncrementalSettings())


def test_when_a_tick_scans_in_full(store: Store) -> None:
    sim = Sim()
    acc = account(incidents=300)
    url = f"http://127.0.0.1:{sim.port}"
    first = plan(store, url)
    assert not first.incremental and first.reason == "first scan of this account"
    sim.scan(acc, T1, store)
    assert plan(store, url).incremental
    assert "--full" in plan_scan(store, ScanOptions(api_key=TOKEN, api_url=url, now=T2), IncrementalSettings(),
                                 full=True).reason
    assert "off" in plan_scan(store, ScanOptions(api_key=TOKEN, api_url=url, now=T2),
                              IncrementalSettings(enabled=False)).reason
    assert "lookback" in plan(store, url, lookback_days=30).reason
    assert "API URL" in plan(store, "http://127.0.0.1:1").reason
    assert "account" in plan(store, url, account="eu").reason  # another configured account: its own first scan
    assert "older than" in plan(store, url, now=T1 + timedelta(days=91)).reason
    assert "previous tick failed" in plan_scan(store, ScanOptions(api_key=TOKEN, api_url=url, now=T2),
                                               IncrementalSettings(), last_failed=True).reason
    assert not plan(store, url, collections=("services",)).incremental
    assert "clocks disagree" in plan(store, url, now=T1 - timedelta(minutes=1)).reason  # the base ends after now
    # an incomplete newest scan: the next tick is full
    incomplete = copy.deepcopy(store.load_document(None))
    incomplete["meta"].update(complete=False, scanned_at=iso(T1 + timedelta(hours=1)))
    store.save_scan(incomplete)
    assert "incomplete" in plan(store, url).reason


def test_a_changed_incidents_since_means_a_full_scan(store: Store) -> None:
    """With a fixed --incidents-since (no lookback in days), moving it is a change of window: the
    history of the base starts at the old date, so an incremental tick would miss what lies before
    it. The same date keeps the tick incremental."""
    sim = Sim()
    acc = account(incidents=300)
    url = f"http://127.0.0.1:{sim.port}"
    fixed = T1 - timedelta(days=60)
    sim.scan(acc, T1, store, incidents_since=fixed)
    assert plan(store, url, incidents_since=fixed).incremental
    earlier = plan(store, url, incidents_since=fixed - timedelta(days=20))
    assert not earlier.incremental and "lookback changed" in earlier.reason
    assert not plan(store, url, incidents_since=fixed + timedelta(days=1)).incremental
    doc = sim.scan(acc, T2, store, save=False, incidents_since=fixed - timedelta(days=20))
    assert doc["meta"]["incremental"] is False and doc["meta"]["complete"] is True


def test_a_damaged_history_means_a_full_scan_never_a_hole(store: Store) -> None:
    sim = Sim()
    acc = account(incidents=300)
    url = f"http://127.0.0.1:{sim.port}"
    sim.scan(acc, T1, store)
    with store.engine.begin() as conn:  # a chunk lost (e.g. by hand)
        conn.execute(sa.text("DELETE FROM incident_chunks WHERE hash = (SELECT chunk_hash FROM "
                             "scan_incident_chunks WHERE part <> 'unresolved' ORDER BY part DESC LIMIT 1)"))
    p = plan(store, url)
    assert not p.incremental and "misses its part" in p.reason
    doc = sim.scan(acc, T2, store, save=False)
    assert doc["meta"]["incremental"] is False and doc["meta"]["complete"] is True


def test_resolved_incidents_without_a_creation_time_mean_a_full_scan(store: Store) -> None:
    """The merge places stored incidents by creation day: one it cannot place would be dropped from
    the window (a hole), so a base holding any is not merged."""
    sim = Sim()
    acc = account(incidents=300)
    url = f"http://127.0.0.1:{sim.port}"
    doc = sim.scan(acc, T1, save=False)
    next(i for i in doc["incidents"] if i["status"] == "resolved")["created_at"] = None
    store.save_scan(doc)
    p = plan(store, url)
    assert not p.incremental and "1 resolved incidents without a creation time" in p.reason


def test_another_account_behind_the_same_url_is_not_merged(store: Store) -> None:
    sim = Sim()
    sim.scan(account(incidents=300), T1, store)
    other = account(incidents=300, subdomain="globex", seed=8)
    with pytest.raises(BaseMismatch, match="globex"):
        sim.scan(other, T2, store, save=False)


def test_history_is_stored_compactly_and_pruned_with_its_scans(store: Store) -> None:
    sim = Sim()
    acc = account()
    first = sim.scan(acc, T1, store)
    sim.scan(acc, T2, store)
    with store.engine.connect() as conn:
        chunks = conn.execute(sa.text("SELECT COUNT(*) FROM incident_chunks")).scalar()
        links = conn.execute(sa.text("SELECT scan_id, COUNT(*) FROM scan_incident_chunks GROUP BY scan_id")).all()
    parts = dict(links)
    # Day chunks that did not change are stored once: the second scan adds a few (today, the
    # unresolved ids, the day that left the window), not a second copy of the whole history.
    assert chunks <= parts[1] + 4, (chunks, parts)
    history = store.incident_history(1)
    assert len(history.resolved) + len(history.unresolved) == len(first["incidents"])
    store.prune(keep=1)
    with store.engine.connect() as conn:
        left = set(conn.execute(sa.text("SELECT hash FROM incident_chunks")).scalars())
        linked = set(conn.execute(sa.text("SELECT chunk_hash FROM scan_incident_chunks")).scalars())
    assert left == linked and linked


def test_history_round_trip_on_postgres(pg_schema) -> None:
    _name, url, _admin = pg_schema
    sim = Sim()
    acc = account(incidents=400)
    with Store(url) as store:
        first = sim.scan(acc, T1, store)
        incremental = sim.scan(acc, T2, store)
        assert incremental["meta"]["incremental"] is True
        assert by_id(incremental) == by_id(sim.scan(acc, T2))
        history = store.incident_history(1)
        assert len(history.resolved) + len(history.unresolved) == len(first["incidents"])
        store.prune(keep=1)
        with store.engine.connect() as conn:
            left = set(conn.execute(sa.text("SELECT hash FROM incident_chunks")).scalars())
            linked = set(conn.execute(sa.text("SELECT chunk_hash FROM scan_incident_chunks")).scalars())
        assert left == linked and linked


def test_watch_ticks_incremental_and_full_as_configured(tmp_path: Path) -> None:
    from conftest import run_pdguard

    from pdguard.simulator import sample_account

    (tmp_path / "pdguard.yaml").write_text("watch: {full_every: 2, overlap: 30m}\n")
    db = f"sqlite:///{tmp_path / 'inv.sqlite'}"
    env = {"PAGERDUTY_API_KEY": TOKEN}
    with serve(sample_account(), tokens={TOKEN}) as server:
        r = run_pdguard("watch", "--interval", "1s", "--max-ticks", "3", "--api-url", server.url, "--store", db,
                        cwd=tmp_path, env=env)
        assert r.returncode == 0, r.stderr
        lines = [line for line in r.stderr.splitlines() if "assets" in line]
        assert len(lines) == len(r.stderr.splitlines()) - 1 == 3  # one line per tick (after "watching every")
        assert "; full scan (first scan of this account)" in lines[0]
        assert "; incremental (incidents read since" in lines[1] and "the history of scan 1 merged)" in lines[1]
        assert "; full scan (scheduled full rescan (one tick in 2))" in lines[2]
        r = run_pdguard("watch", "--once", "--full", "--api-url", server.url, "--store", db, cwd=tmp_path, env=env)
        assert "; full scan (full scan requested (--full))" in r.stderr, r.stderr
        (tmp_path / "pdguard.yaml").write_text("watch: {incremental: false}\n")
        r = run_pdguard("watch", "--once", "--api-url", server.url, "--store", db, cwd=tmp_path, env=env)
        assert "incremental rescans are off" in r.stderr, r.stderr
        (tmp_path / "pdguard.yaml").write_text("watch: {full_every: 0}\n")
        r = run_pdguard("watch", "--once", "--api-url", server.url, "--store", db, cwd=tmp_path, env=env)
        assert r.returncode == 2 and "watch.full_every" in r.stderr
    with Store(db) as store:
        kinds = [s["meta"]["incremental"] for s in reversed(store.list_scans())]
    assert kinds == [False, True, False, False, False]


def test_watch_scans_in_full_when_another_account_answers(tmp_path: Path) -> None:
    """The same URL and key scheme, another PagerDuty account (its subdomain): nothing is merged,
    the tick scans that account in full and says why."""
    from conftest import run_pdguard

    port = free_port()
    db = f"sqlite:///{tmp_path / 'inv.sqlite'}"
    env = {"PAGERDUTY_API_KEY": TOKEN}
    with serve(account(incidents=300, now=datetime.now(UTC)), tokens={TOKEN}, port=port) as server:
        r = run_pdguard("watch", "--once", "--api-url", server.url, "--store", db, env=env, cwd=tmp_path)
        assert r.returncode in (0, 1), r.stderr
    other = account(incidents=300, subdomain="globex", seed=8, now=datetime.now(UTC))
    with serve(other, tokens={TOKEN}, port=port) as server:
        r = run_pdguard("watch", "--once", "--api-url", server.url, "--store", db, env=env, cwd=tmp_path)
        assert r.returncode in (0, 1), r.stderr
    assert "is not the one of stored scan 1 (acme)" in r.stderr and "scanning in full" in r.stderr
    with Store(db) as store:
        latest = store.latest("globex")
        assert latest is not None and latest["meta"]["incremental"] is False
        assert latest["counts"]["incidents"] == len(
            [i for i in other.incidents if i["status"] != "resolved" or i["created_at"] >= latest["meta"][
                "incidents_since"]])


def test_incidents_exactly_at_the_window_edges(store: Store) -> None:
    """Created exactly at the lookback's start (in a full scan: `since` is inclusive), a second
    before it (out), exactly where the overlap starts and a second before it (merged from the
    history): the incremental tick holds exactly what the full scan holds."""
    sim = Sim()
    acc = account()
    since2 = T2 - timedelta(days=90)
    read_from = T1 - timedelta(hours=1)
    edges = {"PEDGE01": since2, "PEDGE02": since2 - timedelta(seconds=1), "PEDGE03": read_from,
             "PEDGE04": read_from - timedelta(seconds=1), "PEDGE05": T1 - timedelta(seconds=1)}
    for iid, at in edges.items():
        new_incident(acc, iid, at, "resolved")
    sim.scan(acc, T1, store)
    incremental = sim.scan(acc, T2, store, save=False)
    full = sim.scan(acc, T2)
    assert incremental["meta"]["incidents_merged"]["since"] == iso(since2)
    got = {i for i in by_id(incremental) if i.startswith("PEDGE")}
    assert got == {i for i in by_id(full) if i.startswith("PEDGE")} == {"PEDGE01", "PEDGE03", "PEDGE04", "PEDGE05"}
    assert by_id(incremental) == by_id(full)


def test_an_incident_resolved_since_created_exactly_at_the_window_start_is_kept(store: Store) -> None:
    """Unresolved at the base scan, resolved before the tick, created exactly at the tick's window
    start (`since` is inclusive): read again by id, it stays in the snapshot as in a full scan."""
    sim = Sim()
    acc = account()
    since2 = T2 - timedelta(days=90)
    inc = new_incident(acc, "PEDGE10", since2, "triggered")
    sim.scan(acc, T1, store)
    resolve(inc, T1 + timedelta(hours=1))
    incremental = sim.scan(acc, T2, store, save=False)
    full = sim.scan(acc, T2)
    assert incremental["meta"]["incidents_merged"]["refetched"] >= 1
    assert by_id(incremental)["PEDGE10"]["status"] == "resolved"
    assert by_id(incremental) == by_id(full)
