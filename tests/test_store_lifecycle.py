"""Store lifecycle: schema identity (older → migrate, newer → refuse, foreign → refuse and never
write), prune and retention, on SQLite and (when PDGUARD_TEST_POSTGRES_URL is set) Postgres."""

from __future__ import annotations

import hashlib
import json
import os
import sqlite3
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import sqlalchemy as sa

from pdguard.findings import Finding, Report, Resource, fingerprint
from pdguard.inventory.store import (
    MIGRATIONS,
    SCHEMA_VERSION,
    NewerStoreError,
    NotAStoreError,
    Store,
    StoreError,
)
from pdguard.snapshot import SCHEMA_VERSION as SNAPSHOT_VERSION

POSTGRES_URL = os.environ.get("PDGUARD_TEST_POSTGRES_URL")
needs_postgres = pytest.mark.skipif(not POSTGRES_URL, reason="PDGUARD_TEST_POSTGRES_URL is not set (no Postgres)")


def doc(scanned_at: str, *, complete: bool = True, account: str = "acme", services: int = 2) -> dict:
    return {
        "schema_version": SNAPSHOT_VERSION,
        "meta": {"scanned_at": scanned_at, "account_subdomain": account, "region": "us", "complete": complete,
                 "warnings": [] if complete else ["services: HTTP 500"], "counts": {}, "collections": ["services"]},
        "services": [{"id": f"PS{i}", "name": f"svc-{i}"} for i in range(services)],
    }


def report(*rids: str) -> Report:
    return Report(findings=[Finding(policy_id="PDG-SVC-002", title="t", severity="high", msg=f"m {r}",
                                    resource=Resource(type="service", id=r),
                                    fingerprint=fingerprint("PDG-SVC-002", "service", r, {})) for r in rids])


def digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def siblings(path: Path) -> list[str]:
    return sorted(p.name for p in path.parent.iterdir())


def pdguard(*args: str) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if k not in ("PDGUARD_STORE", "PDGUARD_CONFIG")}
    return subprocess.run([sys.executable, "-m", "pdguard", *args], capture_output=True, text=True, env=env,
                          timeout=120)


# ------------------------------------------------------------------------------------- identity


def make_v2_store(path: Path) -> None:
    """A store exactly as pdguard schema version 2 wrote it (no marker, no outbox, no window_end)."""
    engine = sa.create_engine(f"sqlite:///{path}")
    with engine.begin() as conn:
        conn.exec_driver_sql("CREATE TABLE schema_migrations (version INTEGER PRIMARY KEY, name VARCHAR(200) "
                             "NOT NULL, applied_at VARCHAR(40) NOT NULL)")
    for version, name, fn in MIGRATIONS[:2]:
        with engine.begin() as conn:
            fn(conn)
            conn.exec_driver_sql("INSERT INTO schema_migrations VALUES (?, ?, '2026-01-01T00:00:00Z')", (version, name))
    with engine.begin() as conn:
        conn.exec_driver_sql(
            "INSERT INTO scans (id, scanned_at, stored_at, account, complete, meta, counts) VALUES "
            "(1, '2026-11-20T09:00:00Z', '2026-11-20T09:01:00Z', 'acme', 1, '{}', '{}')")
        conn.exec_driver_sql("INSERT INTO assets VALUES (1, 'service', 'PS1', 'api', '{\"id\": \"PS1\"}', 'h')")
    engine.dispose()


def test_an_older_store_is_migrated_and_keeps_its_data(tmp_path: Path) -> None:
    path = tmp_path / "old.sqlite"
    make_v2_store(path)
    with Store(f"sqlite:///{path}") as store:
        assert store.schema_version() == SCHEMA_VERSION
        scan = store.latest()
        assert scan["id"] == 1 and [a["id"] for a in store.assets(1)] == ["PS1"]
        with store.engine.connect() as conn:
            assert conn.execute(sa.text("SELECT window_end FROM scans WHERE id = 1")).scalar() == "2026-11-20T09:00:00Z"
            assert conn.execute(sa.text("SELECT value FROM pdguard_store WHERE key = 'application'")).scalar() == "pdguard"
        # and it works as a current store. Its scan came from a 1.x snapshot: the first 2.x scan is
        # not compared with it (as diff does not), so it is a baseline; the next one notifies.
        store.save_scan(doc("2026-11-26T09:00:00Z"), report("PS0"), notify=[("k", "label")])
        assert store.pending_notifications("k") == []
        sid = store.save_scan(doc("2026-11-26T17:00:00Z"), report("PS0", "PS1"), notify=[("k", "label")])
        assert [(n["scan_id"], n["fingerprint"]) for n in store.pending_notifications("k")] == [
            (sid, fingerprint("PDG-SVC-002", "service", "PS1", {}))]


OLD_SERVICE = {"id": "PS1", "type": "service", "name": "api", "last_incident_timestamp": "2026-11-19T08:00:00Z",
               "escalation_policy": {"id": "PE1", "type": "escalation_policy_reference", "summary": "ops"}}


def make_old_store(url: str, version: int) -> None:
    """A store exactly as the pdguard of store schema `version` (1 to SCHEMA_VERSION - 1) left it,
    built with its own (frozen) migrations, holding one complete scan of PS1 (and PS2) with a finding
    on PS1: from a 1.x snapshot, whole objects in `assets.config`, before version 3; from version 3
    (snapshot 2.0, configs stored once: pdguard 0.2 before the marker) a 2.x scan whose objects are in
    `configs` and whose asset rows keep config_hash and their volatile fields; from version 5 an
    undelivered notification of that scan (target "old-hook"); from version 6 its window end."""
    from pdguard.inventory.store import encode_asset, normalize_url

    engine = sa.create_engine(normalize_url(url))
    with engine.begin() as conn:
        conn.exec_driver_sql("CREATE TABLE schema_migrations (version INTEGER PRIMARY KEY, name VARCHAR(200) "
                             "NOT NULL, applied_at VARCHAR(40) NOT NULL)")
    for number, name, fn in MIGRATIONS[:version]:
        with engine.begin() as conn:
            fn(conn)
            conn.execute(sa.text("INSERT INTO schema_migrations VALUES (:v, :n, '2026-01-01T00:00:00Z')"),
                         {"v": number, "n": name})
    meta = '{"schema_version": "2.0", "collections": ["services"]}' if version >= 3 else "{}"
    finding = report("PS1").findings[0]
    with engine.begin() as conn:
        window = (", window_end", ", '2026-11-20T09:00:00Z'") if version >= 6 else ("", "")
        conn.execute(sa.text(  # the first id of a new table (on Postgres: from its sequence)
            f"INSERT INTO scans (scanned_at, stored_at, account, complete, meta, counts{window[0]}) VALUES "
            f"('2026-11-20T09:00:00Z', '2026-11-20T09:01:00Z', 'acme', :c, :m, '{{}}'{window[1]})"),
            {"c": True, "m": meta})
        if version >= 5:
            conn.execute(sa.text(
                "INSERT INTO outbox (scan_id, target_key, target_label, fingerprint, finding, created_at, attempts) "
                "VALUES (1, 'old-hook', 'https://hooks.example/***', 'fp-old', '{}', '2026-11-20T09:01:00Z', 1)"))
        for obj in (OLD_SERVICE, {"id": "PS2", "type": "service", "name": "web"}):
            shared, config_hash, volatile, digest_ = encode_asset("service", obj)
            if version >= 3:
                conn.execute(sa.text("INSERT INTO configs (hash, config) VALUES (:h, :c)"), {"h": config_hash, "c": shared})
                conn.execute(sa.text(
                    "INSERT INTO assets (scan_id, type, id, name, content_hash, config_hash, volatile) "
                    "VALUES (1, 'service', :i, :n, :d, :h, :v)"),
                    {"i": obj["id"], "n": obj["name"], "d": digest_, "h": config_hash, "v": volatile})
            else:
                conn.execute(sa.text("INSERT INTO assets (scan_id, type, id, name, config, content_hash) "
                                     "VALUES (1, 'service', :i, :n, :c, :d)"),
                             {"i": obj["id"], "n": obj["name"], "c": json.dumps(obj), "d": digest_})
        conn.execute(sa.text(
            "INSERT INTO findings (scan_id, fingerprint, policy_id, severity, resource_type, resource_id, msg, waived) "
            "VALUES (1, :f, 'PDG-SVC-002', 'high', 'service', 'PS1', 'm', :w)"), {"f": finding.fingerprint, "w": False})
    engine.dispose()


def check_migrated_old_store(url: str, version: int) -> None:
    from pdguard.inventory.diff import diff_scans

    with Store(url) as store:
        assert store.schema_version() == SCHEMA_VERSION
        with store.engine.connect() as conn:
            assert conn.execute(sa.text("SELECT value FROM pdguard_store WHERE key = 'application'")).scalar() == "pdguard"
            assert conn.execute(sa.text("SELECT window_end FROM scans WHERE id = 1")).scalar() == "2026-11-20T09:00:00Z"
        assert store.asset("PS1", 1)["config"] == OLD_SERVICE
        # a 2.x scan: PS2 renamed, PS1 only moved in a volatile field; PS2's finding is new
        moved = dict(OLD_SERVICE, last_incident_timestamp="2026-11-26T08:00:00Z")
        new_doc = dict(doc("2026-11-26T09:00:00Z"), services=[moved, {"id": "PS2", "type": "service", "name": "www"}])
        sid = store.save_scan(new_doc, report("PS1", "PS2"), notify=[("k", "hook")])
        pending = [n["fingerprint"] for n in store.pending_notifications("k")]
        old_pending = [(n["scan_id"], n["fingerprint"]) for n in store.pending_notifications("old-hook")]
        assert old_pending == ([(1, "fp-old")] if version >= 5 else [])
        if version < 3:  # a 1.x scan is not compared with a 2.x one: this scan is the baseline
            assert pending == []
            return
        assert pending == [fingerprint("PDG-SVC-002", "service", "PS2", {})]
        result = diff_scans(store)
        assert (result["a"]["id"], result["b"]["id"]) == (1, sid)
        assert [c["id"] for c in result["assets"]["changed"]] == ["PS2"]
        with store.engine.connect() as conn:
            assert conn.execute(sa.text("SELECT count(*) FROM configs")).scalar() == 3  # PS1 once, PS2 twice
        assert store.prune(keep=1).deleted == [1]
        with store.engine.connect() as conn:
            stored = set(conn.execute(sa.text("SELECT hash FROM configs")).scalars())
            used = set(conn.execute(sa.text("SELECT config_hash FROM assets")).scalars())
        assert stored == used and len(stored) == 2  # the old PS2 config went with scan 1, PS1's stays
        assert store.asset("PS1", sid)["config"] == moved


@pytest.mark.parametrize("version", range(1, SCHEMA_VERSION))
def test_every_older_store_is_recognised_and_migrated(tmp_path: Path, version: int) -> None:
    """Stores of every released schema version open and migrate, keeping their scans, configs and
    notifications; version 3 is a store of pdguard with configs stored once but without the marker
    table (it came with version 4)."""
    url = f"sqlite:///{tmp_path / 'old.sqlite'}"
    make_old_store(url, version)
    check_migrated_old_store(url, version)


def test_a_marked_store_with_another_migration_history_is_refused_untouched(tmp_path: Path) -> None:
    path = tmp_path / "inv.sqlite"
    Store(f"sqlite:///{path}").close()
    con = sqlite3.connect(path)
    con.execute("UPDATE schema_migrations SET name = 'store marker' WHERE version = 3")
    con.commit()
    con.close()
    before, files = digest(path), siblings(path)
    with pytest.raises(StoreError, match="different migration history .*migration 3 is 'store marker'"):
        Store(f"sqlite:///{path}")
    assert digest(path) == before and siblings(path) == files


def test_a_store_written_by_a_newer_pdguard_is_refused_untouched(tmp_path: Path) -> None:
    path = tmp_path / "inv.sqlite"
    Store(f"sqlite:///{path}").close()
    con = sqlite3.connect(path)
    con.execute("INSERT INTO schema_migrations VALUES (?, 'from the future', '2030-01-01T00:00:00Z')",
                (SCHEMA_VERSION + 1,))
    con.commit()
    con.close()
    before, files = digest(path), siblings(path)
    with pytest.raises(NewerStoreError, match="newer pdguard.*upgrade pdguard"):
        Store(f"sqlite:///{path}")
    assert digest(path) == before and siblings(path) == files
    r = pdguard("inventory", "scans", "--store", str(path))
    assert r.returncode == 2, r.stderr
    assert r.stderr.strip().count("\n") == 0 and "upgrade pdguard" in r.stderr and "Traceback" not in r.stderr
    assert digest(path) == before


def foreign_sqlite(path: Path, wal: bool = False) -> None:
    con = sqlite3.connect(path)
    if wal:
        con.execute("PRAGMA journal_mode=WAL")
    con.execute("CREATE TABLE customers (id INTEGER PRIMARY KEY, name TEXT)")
    con.execute("INSERT INTO customers VALUES (1, 'Ann')")
    con.commit()
    con.close()


@pytest.mark.parametrize("kind", ["garbage", "foreign", "foreign-wal", "rails", "lookalike-scans", "other-migrations",
                                  "other-marker"])
def test_not_a_pdguard_store_is_refused_and_never_written(tmp_path: Path, kind: str) -> None:
    path = tmp_path / "data.db"
    if kind == "garbage":
        path.write_bytes(b"this is not a database\n" * 100)
    elif kind.startswith("foreign"):
        foreign_sqlite(path, wal=kind == "foreign-wal")
    elif kind == "rails":  # a schema_migrations table that is not ours
        con = sqlite3.connect(path)
        con.execute("CREATE TABLE schema_migrations (version VARCHAR NOT NULL PRIMARY KEY)")
        con.execute("INSERT INTO schema_migrations VALUES ('20240101000000')")
        con.commit()
        con.close()
    elif kind == "other-migrations":  # pdguard's tables before the marker, other migrations' rows
        make_v2_store(path)
        con = sqlite3.connect(path)
        con.execute("UPDATE schema_migrations SET name = 'add_customers' WHERE version = 2")
        con.commit()
        con.close()
    elif kind == "other-marker":  # a marker table of our name that names another application
        con = sqlite3.connect(path)
        con.execute("CREATE TABLE pdguard_store (key TEXT PRIMARY KEY, value TEXT)")
        con.execute("INSERT INTO pdguard_store VALUES ('application', 'not-pdguard')")
        con.commit()
        con.close()
    else:  # only a table named like one of ours, without pdguard's migrations
        con = sqlite3.connect(path)
        con.execute("CREATE TABLE scans (id INTEGER PRIMARY KEY, what TEXT)")
        con.commit()
        con.close()
    before, files = digest(path), siblings(path)
    with pytest.raises(NotAStoreError, match="not a pdguard inventory store"):
        Store(f"sqlite:///{path}")
    assert digest(path) == before, "pdguard wrote into a database that is not its store"
    assert siblings(path) == files, "pdguard created files beside a database that is not its store"
    r = pdguard("inventory", "scans", "--store", str(path))
    assert r.returncode == 2 and "not a pdguard inventory store" in r.stderr and "Traceback" not in r.stderr
    assert len(r.stderr.strip().splitlines()) == 1
    assert digest(path) == before and siblings(path) == files
    if kind.startswith("foreign"):
        con = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
        tables = {r[0] for r in con.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
        con.close()
        assert tables == {"customers"}


def test_an_empty_file_becomes_a_store(tmp_path: Path) -> None:
    path = tmp_path / "empty.sqlite"
    path.touch()
    with Store(f"sqlite:///{path}") as store:
        assert store.schema_version() == SCHEMA_VERSION


def test_watch_refuses_a_foreign_store_before_scanning(tmp_path: Path) -> None:
    path = tmp_path / "app.db"
    foreign_sqlite(path)
    before = digest(path)
    r = subprocess.run([sys.executable, "-m", "pdguard", "watch", "--once", "--store", str(path),
                        "--api-url", "http://127.0.0.1:9"], capture_output=True, text=True, timeout=60,
                       env={**os.environ, "PAGERDUTY_API_KEY": "k"})
    assert r.returncode == 2 and "not a pdguard inventory store" in r.stderr
    assert digest(path) == before


def pg_tables(admin: sa.Engine, schema: str) -> set[str]:
    with admin.connect() as conn:
        return set(sa.inspect(conn).get_table_names(schema=schema))


@needs_postgres
def test_postgres_foreign_schema_refused_and_untouched(pg_schema) -> None:
    schema, url, admin = pg_schema
    with admin.begin() as conn:
        conn.exec_driver_sql(f"CREATE TABLE {schema}.invoices (id int primary key)")
    with pytest.raises(NotAStoreError, match="not a pdguard inventory store.*invoices"):
        Store(url)
    assert pg_tables(admin, schema) == {"invoices"}


@needs_postgres
@pytest.mark.parametrize("version", range(1, SCHEMA_VERSION))
def test_postgres_older_store_is_recognised_and_migrated(pg_schema, version: int) -> None:
    """On Postgres too: every later migration runs over a store of each older version holding data."""
    schema, url, admin = pg_schema
    make_old_store(url, version)
    check_migrated_old_store(url, version)
    assert {"configs", "outbox", "pdguard_store"} <= pg_tables(admin, schema)


@needs_postgres
def test_postgres_newer_refused_older_migrated(pg_schema) -> None:
    schema, url, admin = pg_schema
    with Store(url) as store:
        assert store.schema_version() == SCHEMA_VERSION
        assert store.label.startswith("postgresql") and "options" not in store.label.split("?")[0]
        store.save_scan(doc("2026-11-26T09:00:00Z"), report("PS1"))
        sid = store.save_scan(doc("2026-11-26T17:00:00Z"), report("PS1", "PS0"), notify=[("k", "hook")])
        assert [r["fingerprint"] for r in store.pending_notifications("k")] == [
            fingerprint("PDG-SVC-002", "service", "PS0", {})]
        result = store.prune(keep=1)
        assert result.deleted == [sid - 1] and result.undelivered == 0
    with admin.begin() as conn:
        conn.exec_driver_sql(f"INSERT INTO {schema}.schema_migrations VALUES ({SCHEMA_VERSION + 1}, 'x', 'y')")
    with pytest.raises(NewerStoreError, match="upgrade pdguard"):
        Store(url)


# ------------------------------------------------------------------------------------------ prune


def iso(days_ago: float) -> str:
    return (datetime.now(UTC) - timedelta(days=days_ago)).replace(microsecond=0).isoformat().replace("+00:00", "Z")


@pytest.fixture()
def store(tmp_path: Path):
    s = Store(f"sqlite:///{tmp_path / 'inv.sqlite'}")
    yield s
    s.close()


def ids(store: Store) -> list[int]:
    return sorted(s["id"] for s in store.list_scans())


def test_prune_keep_n_never_deletes_the_latest_complete_scan(store: Store) -> None:
    good = store.save_scan(doc(iso(10)), report("PS1"))
    failed = [store.save_scan(doc(iso(9 - i), complete=False)) for i in range(4)]
    # keep 1: the newest scan is an incomplete one; the latest COMPLETE scan survives anyway
    assert [d["id"] for d in store.prune_plan(keep=1)] == failed[:3]
    result = store.prune(keep=1)
    assert result.deleted == failed[:3]
    assert ids(store) == [good, failed[3]] and store.latest()["id"] == good


def test_prune_older_than_and_both_rules(store: Store) -> None:
    now = datetime.now(UTC).replace(microsecond=0)

    def ago(days: float) -> str:
        return (now - timedelta(days=days)).isoformat().replace("+00:00", "Z")

    a = store.save_scan(doc(ago(200)))
    b = store.save_scan(doc(ago(120)))
    c = store.save_scan(doc(ago(100)))
    at_limit = store.save_scan(doc(ago(90)))  # exactly 90 days old: not OLDER than 90 days
    d = store.save_scan(doc(ago(30)))
    e = store.save_scan(doc(ago(1)))
    day = 86400.0
    assert [x["id"] for x in store.prune_plan(older_than=90 * day, now=now)] == [a, b, c]
    # either rule keeps a scan: the newest 5 are kept by --keep, even though b, c are old
    assert [x["id"] for x in store.prune_plan(keep=5, older_than=90 * day, now=now)] == [a]
    # the latest complete scan is kept even when everything is old
    assert store.latest()["id"] == e
    assert [x["id"] for x in store.prune_plan(older_than=0.5, now=now)] == [a, b, c, at_limit, d]


def test_prune_reads_scan_times_without_an_offset_as_utc(store: Store) -> None:
    """A stored `scanned_at` without an offset is UTC (as everywhere in the store), never a crash of
    the retention that `watch` applies after every tick."""
    now = datetime(2026, 11, 26, 9, 0, tzinfo=UTC)
    old = store.save_scan(doc("2026-11-20T08:59:59"))  # naive: 6 days and 1 second before now
    at_limit = store.save_scan(doc("2026-11-20T09:00:00"))
    store.save_scan(doc("2026-11-26T08:00:00+01:00"))
    assert [x["id"] for x in store.prune_plan(older_than=6 * 86400.0, now=now)] == [old]
    assert store.prune(older_than=6 * 86400.0, now=now).deleted == [old] and at_limit in ids(store)


def test_prune_counts_per_account(store: Store) -> None:
    a1 = store.save_scan(doc(iso(5), account="eu"))
    b1 = store.save_scan(doc(iso(4), account="us"))
    a2 = store.save_scan(doc(iso(3), account="eu"))
    b2 = store.save_scan(doc(iso(2), account="us"))
    assert store.prune(keep=1).deleted == [a1, b1]
    assert ids(store) == [a2, b2]


def test_prune_cascades_assets_findings_and_outbox(store: Store) -> None:
    first = store.save_scan(doc(iso(3)), report("PS0"))
    second = store.save_scan(doc(iso(2)), report("PS0", "PS1"), notify=[("hook", "https://x/***")])
    third = store.save_scan(doc(iso(1)), report("PS0", "PS1"), notify=[("hook", "https://x/***")])
    assert len(store.pending_notifications("hook")) == 1
    result = store.prune(keep=1)
    assert result.deleted == [first, second] and result.undelivered == 1
    with store.engine.connect() as conn:
        for table in ("assets", "findings", "outbox"):
            left = conn.execute(sa.text(f"SELECT DISTINCT scan_id FROM {table}")).scalars().all()
            assert set(left) <= {third}, table
    assert store.latest()["id"] == third


def test_inventory_prune_cli(tmp_path: Path) -> None:
    path = tmp_path / "inv.sqlite"
    with Store(f"sqlite:///{path}") as s:
        for i in range(5):
            s.save_scan(doc(iso(10 - i), services=300), report("PS1"))
    r = pdguard("inventory", "prune", "--store", str(path), "--keep", "2", "--dry-run")
    assert r.returncode == 0 and r.stdout.count("would delete scan") == 3
    r = pdguard("inventory", "prune", "--store", str(path), "--keep", "2")
    assert r.returncode == 0, r.stderr
    assert "pruned 3 scan(s) (keep 2): 1, 2, 3" in r.stderr and "MB ->" in r.stderr
    with Store(f"sqlite:///{path}") as s:
        assert ids(s) == [4, 5]
    r = pdguard("inventory", "prune", "--store", str(path))
    assert r.returncode == 2 and "--keep" in r.stderr
    r = pdguard("inventory", "prune", "--store", str(path), "--older-than", "90")
    assert r.returncode == 2 and "give a unit" in r.stderr


def test_watch_applies_the_retention_setting(tmp_path: Path) -> None:
    from pdguard.simulator import sample_account, serve

    db = tmp_path / "inv.sqlite"
    cfg = tmp_path / "pdguard.yaml"
    cfg.write_text("store_retention: {keep: 2}\n")
    with serve(sample_account(), tokens={"tok"}) as server:
        r = subprocess.run([sys.executable, "-m", "pdguard", "--config", str(cfg), "watch", "--interval", "1s",
                            "--max-ticks", "3", "--api-url", server.url, "--store", str(db)],
                           capture_output=True, text=True, timeout=180,
                           env={**os.environ, "PAGERDUTY_API_KEY": "tok"})
    assert r.returncode == 0, r.stderr
    assert "pruned 1 scan(s)" in r.stderr
    with Store(f"sqlite:///{db}") as s:
        assert ids(s) == [2, 3]


@pytest.fixture(params=["sqlite", "postgres"])
def any_store_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'inv.sqlite'}"
    return request.getfixturevalue("pg_schema")[1]


def test_prune_never_drops_a_config_a_concurrent_save_uses(any_store_url: str) -> None:
    """A config only pruned scans use is dropped, unless a save running meanwhile stores an object
    with that config (it found the row, so it does not insert it): the prune waits for that save."""
    import threading

    old = {"id": "PS1", "type": "service", "name": "flip"}
    with Store(any_store_url) as store:
        store.save_scan(dict(doc(iso(3), services=0), services=[old]))
        store.save_scan(dict(doc(iso(2), services=0), services=[dict(old, name="flop")]))  # kept: latest
        in_save, go_on = threading.Event(), threading.Event()
        saver = threading.current_thread()

        def pause_after_assets(conn, cursor, statement, params, context, executemany) -> None:  # noqa: ANN001
            if statement.startswith("INSERT INTO assets") and threading.current_thread() is not saver:
                in_save.set()
                go_on.wait(30)

        sa.event.listen(store.engine, "after_cursor_execute", pause_after_assets)
        saved: list[int] = []
        pruned: list[int] = []
        save = threading.Thread(target=lambda: saved.append(store.save_scan(dict(doc(iso(1), services=0),
                                                                                 services=[old]))))
        save.start()
        assert in_save.wait(30)  # the save found "flip"'s config stored and wrote its asset row
        prune = threading.Thread(target=lambda: pruned.extend(store.prune(keep=1).deleted))
        prune.start()
        prune.join(1.0)
        go_on.set()
        save.join(30)
        prune.join(30)
        sa.event.remove(store.engine, "after_cursor_execute", pause_after_assets)
        assert saved and pruned == [1]
        assert store.asset("PS1", saved[0])["config"] == old
        with store.engine.connect() as conn:
            used = set(conn.execute(sa.text("SELECT config_hash FROM assets")).scalars())
            stored = set(conn.execute(sa.text("SELECT hash FROM configs")).scalars())
        assert used <= stored
