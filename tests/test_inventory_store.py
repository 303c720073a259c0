"""Inventory store: schema/migrations, save_scan, latest/incomplete scans, queries, the lock."""

from __future__ import annotations

import multiprocessing
import os
import threading
import time
from pathlib import Path

import pytest
import sqlalchemy as sa

from pdguard.findings import Finding, Report, Resource, fingerprint
from pdguard.inventory.store import (
    MIGRATIONS,
    SCHEMA_VERSION,
    Store,
    StoreError,
    StoreLockedError,
    content_hash,
    default_store_url,
    normalize_url,
)


def make_doc(scanned_at: str = "2026-11-26T09:00:00Z", complete: bool = True, **collections: list) -> dict:
    doc = {
        "schema_version": "2.0",
        "meta": {"scanned_at": scanned_at, "region": "us", "account_subdomain": "acme", "counts": {},
                 "warnings": [] if complete else ["services: HTTP 500"], "complete": complete,
                 "duration_seconds": 2.0},
    }
    for key in ("services", "escalation_policies", "schedules", "incidents", "teams", "users",
                "business_services", "service_dependencies", "addons", "extensions", "oncalls", "standards",
                "standards_scores"):
        doc[key] = collections.get(key, [])
    doc["iac"] = None
    return doc


def finding(policy: str, rtype: str, rid: str, name: str = "", severity: str = "high", waived: bool = False) -> Finding:
    return Finding(policy_id=policy, title=f"title {policy}", severity=severity, msg=f"{policy} on {rid}",
                   resource=Resource(type=rtype, id=rid, name=name or rid),
                   fingerprint=fingerprint(policy, rtype, rid, {}), waived=waived)


def report(*findings: Finding, waived: tuple[Finding, ...] = ()) -> Report:
    return Report(findings=list(findings), waived=list(waived))


SERVICES = [
    {"id": "PS1", "type": "service", "name": "api", "description": "API",
     "escalation_policy": {"id": "PE1", "type": "escalation_policy_reference"},
     "integrations": [{"id": "PI1", "type": "generic_events_api_inbound_integration", "name": "events"}],
     "last_incident_timestamp": "2026-11-25T00:00:00Z"},
    {"id": "PS2", "type": "service", "name": "web", "escalation_policy": None, "integrations": []},
]


@pytest.fixture()
def store(tmp_path: Path) -> Store:
    s = Store(f"sqlite:///{tmp_path / 'inv.sqlite'}")
    yield s
    s.close()


def test_migrations_are_versioned_and_idempotent(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'inv.sqlite'}"
    s = Store(url)
    assert s.schema_version() == SCHEMA_VERSION == len(MIGRATIONS)
    s.close()
    s2 = Store(url)  # re-open: nothing re-applied
    with s2.engine.connect() as conn:
        rows = conn.execute(sa.text("SELECT version, name FROM schema_migrations ORDER BY version")).all()
        tables = set(sa.inspect(conn).get_table_names())
    assert [r[0] for r in rows] == list(range(1, SCHEMA_VERSION + 1))
    assert [r[1] for r in rows][2] == "configs stored once"
    assert {"scans", "assets", "findings", "configs", "schema_migrations", "pdguard_store", "outbox"} <= tables
    s2.close()


def test_save_scan_stores_assets_and_findings(store: Store) -> None:
    doc = make_doc(services=SERVICES, users=[{"id": "PU1", "name": "Ann", "email": "ann@x"}],
                   incidents=[{"id": "Q1", "title": "boom"}], oncalls=[{"escalation_level": 1}],
                   standards_scores=[{"resource_id": "PS1", "score": {}}],
                   service_dependencies=[{"supporting_service": {"id": "PS1", "type": "service"},
                                          "dependent_service": {"id": "PB1", "type": "business_service"}}])
    rep = report(finding("PDG-SVC-002", "service", "PS2", "web"),
                 waived=(finding("PDG-SVC-001", "service", "PS1", "api", waived=True),))
    sid = store.save_scan(doc, rep)
    assert isinstance(sid, int)

    scan = store.get_scan(sid)
    assert scan["complete"] is True and scan["account"] == "acme" and scan["region"] == "us"
    assert scan["scanned_at"] == "2026-11-26T09:00:00Z"
    assert scan["started_at"] == "2026-11-26T08:59:58Z"  # scanned_at - duration_seconds
    assert scan["counts"]["incidents"] == 1
    assert store.latest()["id"] == sid

    listing = store.assets()
    keys = {(a["type"], a["id"]) for a in listing}
    # integrations are stored as their own assets; incidents, oncalls, standards scores are not
    assert keys == {("service", "PS1"), ("service", "PS2"), ("integration", "PI1"), ("user", "PU1"),
                    ("service_dependency", "PS1->PB1")}
    assert [a["id"] for a in store.assets(type="service")] == ["PS1", "PS2"]

    svc = store.asset("PS2")
    assert svc["config"]["name"] == "web"
    assert [f["policy_id"] for f in svc["findings"]] == ["PDG-SVC-002"]
    api = store.asset("PS1")
    assert api["findings"][0]["waived"] is True
    assert store.asset("PI1")["config"]["service"]["id"] == "PS1"
    assert store.asset("NOPE") is None

    fs = store.findings(sid)
    assert {(f["policy_id"], f["waived"]) for f in fs} == {("PDG-SVC-002", False), ("PDG-SVC-001", True)}
    assert fs[0]["title"].startswith("title ")  # the whole Finding is kept
    scans = store.list_scans()
    assert scans[0]["assets"] == 5 and scans[0]["findings"] == 1


def test_incomplete_scan_is_flagged_and_never_latest(store: Store) -> None:
    first = store.save_scan(make_doc("2026-11-26T09:00:00Z", services=SERVICES))
    broken = store.save_scan(make_doc("2026-11-26T17:00:00Z", complete=False, services=SERVICES[:1]))
    scan = store.get_scan(broken)
    assert scan["complete"] is False
    assert "HTTP 500" in scan["error"]
    assert store.latest()["id"] == first
    assert store.previous(broken + 1)["id"] == first
    # default reads go to the latest complete scan
    assert {a["id"] for a in store.assets(type="service")} == {"PS1", "PS2"}
    assert [s["id"] for s in store.list_scans()] == [broken, first]


def test_empty_store_and_missing_scan(store: Store) -> None:
    assert store.latest() is None
    assert store.assets() == [] and store.findings() == []
    with pytest.raises(StoreError, match="no complete scan"):
        store.require_scan(None)
    with pytest.raises(StoreError, match="no scan 42"):
        store.require_scan(42)


def test_content_hash_ignores_volatile_fields(store: Store) -> None:
    a = store.save_scan(make_doc(services=SERVICES))
    moved = [dict(SERVICES[0], last_incident_timestamp="2026-11-26T10:00:00Z"), SERVICES[1]]
    b = store.save_scan(make_doc(services=moved))
    ha = {x["id"]: x["content_hash"] for x in store.assets(a)}
    hb = {x["id"]: x["content_hash"] for x in store.assets(b)}
    assert ha == hb


def test_schedule_renders_of_another_window_are_not_a_change() -> None:
    """A schedule is rendered for each scan's window (final schedule, overrides, each layer's
    entries): the next scan's render is not a configuration change; a new layer user is."""
    def schedule(start: str, users: list[str]) -> dict:
        entries = [{"start": start, "end": "2026-12-03T09:00:00Z", "user": {"id": users[0]}}]
        sub = {"rendered_schedule_entries": entries, "rendered_coverage_percentage": 99.5}
        return {"id": "PS1", "type": "schedule", "name": "primary",
                "schedule_layers": [{"id": "L1", "users": [{"user": {"id": u}} for u in users], **sub}],
                "final_schedule": {"name": "Final Schedule", **sub}, "overrides_subschedule": {"name": "Overrides", **sub}}

    first = schedule("2026-11-26T09:00:00Z", ["PU1"])
    assert content_hash("schedule", first) == content_hash("schedule", schedule("2026-11-27T09:00:00Z", ["PU1"]))
    assert content_hash("schedule", first) != content_hash("schedule", schedule("2026-11-26T09:00:00Z", ["PU2"]))
    flexible = {"id": "PF1", "type": "schedule_v3", "rotations": [], "final_schedule": {"type": "final_schedule"}}
    assert content_hash("flexible_schedule", flexible) == content_hash("flexible_schedule",
                                                                        dict(flexible, final_schedule=None))


def test_load_document_round_trip(store: Store) -> None:
    store.save_scan(make_doc(services=SERVICES, users=[{"id": "PU1", "name": "Ann"}]))
    doc = store.load_document()
    assert doc["schema_version"] == "2.0"
    assert {s["id"] for s in doc["services"]} == {"PS1", "PS2"}
    assert doc["users"] == [{"id": "PU1", "name": "Ann"}]
    assert doc["meta"]["account_subdomain"] == "acme"


def test_save_is_one_transaction(store: Store) -> None:
    # a database error while inserting findings rolls back the scan row and its assets too
    bad = make_doc(services=SERVICES)
    rep = report(finding("PDG-X", "service", "PS1"))
    rep.findings[0].policy_id = None  # type: ignore[assignment]  # NOT NULL violation
    with pytest.raises(StoreError, match="cannot save scan"):
        store.save_scan(bad, rep)
    assert store.list_scans() == []
    with store.engine.connect() as conn:
        assert conn.execute(sa.text("SELECT count(*) FROM assets")).scalar() == 0
        assert conn.execute(sa.text("SELECT count(*) FROM configs")).scalar() == 0


def _count(store: Store, table: str) -> int:
    with store.engine.connect() as conn:
        return int(conn.execute(sa.text(f"SELECT count(*) FROM {table}")).scalar() or 0)


REF_SCHEDULE = {
    "id": "PSC1", "type": "schedule", "name": "rota", "time_zone": "UTC",
    "schedule_layers": [{"id": "PL1", "start": "2026-01-01T00:00:00Z", "end": None, "users": [
        {"user": {"id": "PU1", "type": "user_reference", "summary": "Ann"}}]}],
    "final_schedule": {"name": "Final Schedule", "rendered_coverage_percentage": 100.0, "rendered_schedule_entries": [
        {"user": {"id": "PU1", "type": "user_reference", "summary": "Ann"},
         "start": "2026-11-26T09:00:00Z", "end": "2026-11-27T09:00:00Z"}]},
    "escalation_policies": [{"id": "PE1", "type": "escalation_policy_reference", "summary": "ep"}],
}
INTEGRATED = {
    "id": "PS3", "type": "service", "name": "db", "last_incident_timestamp": None,
    "teams": [{"id": "PT1", "type": "team_reference", "summary": "core"}],
    "integrations": [
        {"id": "PI2", "type": "events_api_v2_inbound_integration", "name": "v2",
         "service": {"id": "PS3", "type": "service_reference", "summary": "db", "self": "https://x/services/PS3"}},
        {"id": "PI3", "type": "generic_email_inbound_integration", "name": "mail"},  # no service reference
    ],
}


def test_objects_round_trip_exactly(store: Store) -> None:
    """What is stored comes back as it was: shared configs, volatile fields and integration rows
    are reassembled into the same objects."""
    doc = make_doc(services=[*SERVICES, INTEGRATED], schedules=[REF_SCHEDULE])
    sid = store.save_scan(doc)
    back = store.load_document(sid)
    assert sorted(back["services"], key=lambda s: s["id"]) == [*SERVICES, INTEGRATED]
    assert back["schedules"] == [REF_SCHEDULE]
    assert store.asset("PS3")["config"] == INTEGRATED
    assert store.asset("PI3")["config"]["service"] == {"id": "PS3", "type": "service_reference"}
    assert [a["config"] for a in store.assets(sid, type="service", with_config=True)] == [SERVICES[0], INTEGRATED,
                                                                                           SERVICES[1]]
    assert store.asset_configs(sid, [("service", "PS3"), ("schedule", "PSC1")]) == {
        ("service", "PS3"): INTEGRATED, ("schedule", "PSC1"): REF_SCHEDULE}


def test_unchanged_objects_are_stored_once(store: Store) -> None:
    store.save_scan(make_doc(services=[*SERVICES, INTEGRATED], schedules=[REF_SCHEDULE]))
    configs = _count(store, "configs")
    later = dict(REF_SCHEDULE, final_schedule={"name": "Final Schedule", "rendered_coverage_percentage": 50.0,
                                               "rendered_schedule_entries": []})
    moved = [dict(SERVICES[0], last_incident_timestamp="2026-11-26T16:00:00Z"), SERVICES[1], INTEGRATED]
    b = store.save_scan(make_doc("2026-11-26T17:00:00Z", services=moved, schedules=[later]))
    assert _count(store, "configs") == configs  # only volatile fields changed: nothing new to store
    assert _count(store, "assets") == 2 * 7  # 3 services, 3 integrations, 1 schedule
    assert store.asset("PS1", b)["config"]["last_incident_timestamp"] == "2026-11-26T16:00:00Z"
    assert store.asset("PSC1", b)["config"]["final_schedule"]["rendered_coverage_percentage"] == 50.0
    store.save_scan(make_doc("2026-11-27T01:00:00Z", services=[dict(SERVICES[1], name="web2")]))
    assert _count(store, "configs") == configs + 1


def test_prune_drops_configs_no_scan_uses(store: Store) -> None:
    store.save_scan(make_doc(services=[SERVICES[0]]))
    store.save_scan(make_doc("2026-11-26T17:00:00Z", services=[dict(SERVICES[0], name="renamed")]))
    assert _count(store, "configs") == 3  # api, renamed, their integration PI1
    store.prune(1)
    assert _count(store, "configs") == 2
    assert store.load_document()["services"][0]["name"] == "renamed"


def _legacy_store(url: str) -> None:
    """A store written by pdguard 0.1: schema version 2, one scan of a 1.x snapshot."""
    engine = sa.create_engine(url)
    with engine.begin() as conn:
        conn.execute(sa.text("CREATE TABLE schema_migrations (version INTEGER PRIMARY KEY, name VARCHAR(200) "
                             "NOT NULL, applied_at VARCHAR(40) NOT NULL)"))
        for version, name, fn in MIGRATIONS[:2]:
            fn(conn)
            conn.execute(sa.text("INSERT INTO schema_migrations VALUES (:v, :n, 'then')"), {"v": version, "n": name})
        conn.execute(sa.text(
            "INSERT INTO scans (id, scanned_at, stored_at, account, region, complete, meta, counts) VALUES "
            "(1, '2026-11-25T09:00:00Z', 'then', 'acme', 'us', 1, '{\"schema_version\": \"1.0\"}', '{}')"))
        conn.execute(sa.text(
            "INSERT INTO assets (scan_id, type, id, name, config, content_hash) VALUES (1, 'service', 'PS1', 'api', "
            "'{\"id\": \"PS1\", \"name\": \"api\", \"escalation_policy\": {\"id\": \"PE1\", "
            "\"type\": \"escalation_policy\", \"escalation_rules\": []}}', 'h')"))
    engine.dispose()


def test_store_of_pdguard_0_1_is_migrated_and_its_1x_scans_kept_apart(tmp_path: Path) -> None:
    from pdguard.errors import InputError
    from pdguard.inventory.diff import diff_scans

    url = f"sqlite:///{tmp_path / 'old.sqlite'}"
    _legacy_store(url)
    s = Store(url)
    try:
        assert s.schema_version() == SCHEMA_VERSION
        assert s.asset("PS1")["config"]["escalation_policy"]["type"] == "escalation_policy"  # old rows readable
        with pytest.raises(InputError, match="stored scan 1: schema 1.0 .* rescan"):
            s.load_document(1)
        new = s.save_scan(make_doc(services=SERVICES))
        assert s.previous(new) is None  # the 1.x scan is not what a 2.x scan is compared with
        with pytest.raises(StoreError, match="no complete scan before"):
            diff_scans(s)
        with pytest.raises(StoreError, match="cannot be compared"):
            diff_scans(s, 1, new)
        with pytest.raises(InputError, match="schema 1.0"):
            s.save_scan(dict(make_doc(), schema_version="1.0"))
    finally:
        s.close()


def test_url_resolution(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from pdguard.config import Config

    monkeypatch.delenv("PDGUARD_STORE", raising=False)

    assert normalize_url(str(tmp_path / "x.db")) == f"sqlite:///{tmp_path / 'x.db'}"
    assert default_store_url(Config(store=str(tmp_path / "y.db"))) == f"sqlite:///{tmp_path / 'y.db'}"
    assert default_store_url(Config()).endswith("inventory.sqlite")
    s = Store(None, config=Config(store=str(tmp_path / "z.db")))
    assert (tmp_path / "z.db").exists()
    s.close()
    monkeypatch.setenv("PDGUARD_STORE", str(tmp_path / "env.db"))
    assert default_store_url(Config(store="ignored.db")) == f"sqlite:///{tmp_path / 'env.db'}"
    with pytest.raises(StoreError):
        Store("mysql://nope/db")


def test_lock_blocks_a_second_holder_thread(store: Store) -> None:
    other = Store(store.url)
    entered = threading.Event()
    release = threading.Event()

    def holder() -> None:
        with store.lock():
            entered.set()
            release.wait(5)

    t = threading.Thread(target=holder)
    t.start()
    assert entered.wait(5)
    started = time.monotonic()
    with pytest.raises(StoreLockedError, match="locked by another pdguard process"):
        with other.lock(timeout=0.3):
            pass
    assert time.monotonic() - started >= 0.25
    release.set()
    t.join(5)
    with other.lock(timeout=1):  # free again
        pass
    other.close()


def _hold_lock(url: str, ready: multiprocessing.Event, done: multiprocessing.Event) -> None:  # type: ignore[valid-type]
    s = Store(url)
    with s.lock():
        ready.set()
        done.wait(10)


@pytest.mark.skipif(os.name != "posix", reason="fork-based process test")
def test_lock_blocks_another_process(store: Store) -> None:
    ctx = multiprocessing.get_context("fork")
    ready, done = ctx.Event(), ctx.Event()
    p = ctx.Process(target=_hold_lock, args=(store.url, ready, done))
    p.start()
    try:
        assert ready.wait(10)
        with pytest.raises(StoreLockedError):
            with store.lock(timeout=0.2):
                pass
    finally:
        done.set()
        p.join(10)
    with store.lock(timeout=2):
        pass


def test_lock_waits_until_released(store: Store) -> None:
    other = Store(store.url)
    got: list[float] = []

    def waiter() -> None:
        with other.lock(timeout=5):
            got.append(time.monotonic())

    with store.lock():
        t = threading.Thread(target=waiter)
        t.start()
        time.sleep(0.3)
        assert got == []  # still waiting
        released = time.monotonic()
    t.join(5)
    assert len(got) == 1 and got[0] >= released
    other.close()


def test_postgres_round_trip_and_lock(pg_schema) -> None:
    _, url, _ = pg_schema
    s = Store(url)
    try:
        a = s.save_scan(make_doc(services=SERVICES), report(finding("PDG-SVC-002", "service", "PS2")))
        b = s.save_scan(make_doc(complete=False, services=SERVICES[:1]))
        assert s.latest()["id"] == a and s.get_scan(b)["complete"] is False
        assert {x["id"] for x in s.assets(type="service")} == {"PS1", "PS2"}
        assert s.asset("PS2")["findings"][0]["policy_id"] == "PDG-SVC-002"
        other = Store(url)
        with s.lock():
            with pytest.raises(StoreLockedError):
                with other.lock(timeout=0.2):
                    pass
        other.close()
    finally:
        s.close()


def test_postgres_lock_is_the_stores_not_the_databases(pg_schema) -> None:
    """Two stores in two schemas of one database are two stores: a watch on one never waits for a
    watch on the other (nor does `inventory prune` say that a watch is using its store)."""
    import uuid

    schema, url, admin = pg_schema
    other_schema = f"t_{uuid.uuid4().hex[:12]}"
    with admin.begin() as conn:
        conn.exec_driver_sql(f"CREATE SCHEMA {other_schema}")
    try:
        with Store(url) as a, Store(url.replace(schema, other_schema)) as b, Store(url) as a2:
            with a.lock(timeout=0):
                with b.lock(timeout=0):  # another store: free
                    pass
                with pytest.raises(StoreLockedError):  # the same store: taken
                    with a2.lock(timeout=0.2):
                        pass
            with a2.lock(timeout=0):  # released
                pass
    finally:
        with admin.begin() as conn:
            conn.exec_driver_sql(f"DROP SCHEMA {other_schema} CASCADE")


def test_postgres_connection_dropped_between_ticks_is_replaced(pg_schema) -> None:
    """`watch` keeps the store open for months, ticks hours apart: a pooled connection the server
    (a restart, a failover) or a NAT dropped in between must not fail the next tick."""
    _, url, admin = pg_schema
    with Store(url) as store:
        first = store.save_scan(make_doc(services=SERVICES))
        with store.engine.connect() as conn:
            pid = conn.execute(sa.text("SELECT pg_backend_pid()")).scalar()
        with admin.begin() as conn:  # this test's own connection, nobody else's
            assert conn.execute(sa.text("SELECT pg_terminate_backend(:p)"), {"p": pid}).scalar()
        assert store.latest()["id"] == first
