"""Audit records (who changed what): collected over HTTP from the simulator as an optional,
supplementary collection; a key that may not read them costs one request and one warning, and
the scan goes on, complete, without actors. Diffs and drift entries then name the actors."""

from __future__ import annotations

import json
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from pdguard.scanner import ScanOptions, scan
from pdguard.simulator import generate_account, sample_account, serve
from pdguard.simulator.account import minimum_scan_requests, parse_time
from pdguard.simulator.server import FaultConfig
from pdguard.snapshot import dump_document

NOW = datetime(2026, 11, 26, 9, 0, tzinfo=UTC)
TOKENS = {"global": None, "ava": "PUSRAVA", "ben": "PUSRBEN"}  # account key; an admin's; a limited user's


def run(server, token: str = "global", **kw) -> tuple[dict, object]:
    result = scan(ScanOptions(api_key=token, api_url=server.url, now=NOW, backoff_base=0.01, **kw))
    return result.document, result


def audit_requests(server) -> int:
    return sum(n for path, n in server.stats.by_path.items() if path.endswith("/audit/records"))


def test_audit_records_are_collected() -> None:
    account = sample_account(now=NOW)
    with serve(account, tokens=TOKENS, now=NOW) as server:
        doc, result = run(server)
        assert audit_requests(server) == 1  # 30 days: one window, one page
    meta = doc["meta"]
    assert meta["complete"] is True and "audit_records" in meta["collections"]
    assert meta["audit_window"] == {"since": "2026-10-27T09:00:00Z", "until": "2026-11-26T09:00:00Z"}
    assert meta["collections_status"]["audit_records"] == {"status": "complete", "expected": None, "got": 4,
                                                           "warnings": []}
    # newest first; the record of 61 days ago is outside the default window
    assert [r["id"] for r in doc["audit_records"]] == ["RSAMPLE0001", "RSAMPLE0003", "RSAMPLE0002", "RSAMPLE0004"]
    first = doc["audit_records"][0]
    assert first["actors"] == [{"id": "PUSRAVA", "type": "user_reference", "summary": "Ava Adams"}]
    assert first["root_resource"] == {"id": "PSVCCHK", "type": "service_reference", "summary": "checkout-api"}
    # what the snapshot leaves out: the end of a token, the remote address
    assert all("execution_context" not in r and "truncated_token" not in r["method"] for r in doc["audit_records"])
    api_key = doc["audit_records"][2]
    assert api_key["method"] == {"type": "api_token"} and api_key["actors"][0]["type"] == "api_key_reference"


def test_an_admins_key_reads_them_too() -> None:
    with serve(sample_account(now=NOW), tokens=TOKENS, now=NOW) as server:
        doc, _ = run(server, "ava")
    assert doc["meta"]["collections_status"]["audit_records"]["status"] == "complete"


@pytest.mark.parametrize("how", ["user_role", "no_scope", "no_audit_trail", "402"])
def test_forbidden_says_so_once_and_the_scan_goes_on(how: str) -> None:
    account = sample_account(now=NOW)
    token, faults = "global", FaultConfig()
    if how == "user_role":
        token = "ben"  # a limited user's key: account-wide audit records are for admins
    elif how == "no_scope":
        faults = FaultConfig(forbid=["/audit"])
    elif how == "no_audit_trail":
        account.audit_trail = False
    else:
        faults = FaultConfig(forbid=["/audit"], forbid_status=402)
    with serve(account, tokens=TOKENS, now=NOW, faults=faults) as server:
        doc, _ = run(server, token, audit_days=365)  # 12 windows: still one request
        assert audit_requests(server) == 1
    with serve(account, tokens=TOKENS, now=NOW) as server:
        baseline, _ = run(server, "global")
    meta = doc["meta"]
    assert meta["complete"] is True
    assert "audit_records" not in meta["collections"] and doc["audit_records"] == []
    status = meta["collections_status"]["audit_records"]
    assert status["status"] == "forbidden" and len(status["warnings"]) == 1
    warnings = [w for w in meta["warnings"] if w.startswith("audit_records:")]
    assert len(warnings) == 1 and "will not name who changed what" in warnings[0]
    assert ("(402)" if how == "402" else "(403)") in warnings[0]
    for name in ("services", "escalation_policies", "schedules", "users", "teams", "incidents"):
        assert [o["id"] for o in doc[name]] == [o["id"] for o in baseline[name]], name
        assert meta["collections_status"][name]["status"] == "complete"


def test_windows_of_31_days_and_cursor_pages() -> None:
    account = generate_account(services=1300, escalation_policies=40, schedules=10, users=50, teams=6,
                               incidents=50, seed=3, now=NOW)
    since = NOW - timedelta(days=60)
    expected = [r["id"] for r in account.audit_records if parse_time(r["execution_time"]) >= since]
    assert len(expected) > 250  # more than 100 a window: several pages each
    with serve(account, tokens=TOKENS, now=NOW) as server:
        doc, _ = run(server, audit_days=60)
        got_requests = audit_requests(server)
    assert [r["id"] for r in doc["audit_records"]] == expected  # all of them, each once, newest first
    assert got_requests == minimum_scan_requests(account, NOW, audit_days=60)["audit_records"]
    assert got_requests >= 4  # 2 windows (31 + 29 days), each over more than one page
    assert doc["meta"]["audit_window"]["since"] == "2026-09-27T09:00:00Z"


def test_a_repeated_cursor_stops_the_window_and_says_records_are_missing() -> None:
    """A caching proxy keyed without `cursor` answers every later page with the first one (and
    its `next_cursor`): each window stops at the repeat instead of looping, and the snapshot says
    records are missing (incomplete) - what was read is kept, once."""
    account = generate_account(services=1300, escalation_policies=40, schedules=10, users=50, teams=6,
                               incidents=50, seed=3, now=NOW)
    with serve(account, tokens=TOKENS, now=NOW, faults=FaultConfig(repeat_first_page=["/audit"])) as server:
        doc, _ = run(server, audit_days=60, max_duration=60)
        assert audit_requests(server) == 4  # per window: its first page, then the repeat
        assert server.stats.faults["repeat_first_page"] == 2
    meta = doc["meta"]
    status = meta["collections_status"]["audit_records"]
    assert meta["complete"] is False and status["status"] == "incomplete"
    assert status["got"] == len(doc["audit_records"]) == 200  # the first page of each window, once
    assert any(w.startswith("audit_records: /audit/records repeated a cursor for ") for w in status["warnings"])


def test_the_window_never_spans_more_than_31_days_nor_reaches_past_retention() -> None:
    account = sample_account(now=NOW)
    with serve(account, tokens=TOKENS, now=NOW, record=True) as server:
        doc, _ = run(server, audit_days=365)
        asked = [dict(r.query) for r in server.recorded if r.path == "/audit/records"]
    assert len(asked) == 12 and all(r.status == 200 for r in server.recorded)
    spans = sorted((parse_time(q["since"]), parse_time(q["until"])) for q in asked)
    assert all(b - a <= timedelta(days=31) for a, b in spans)
    assert spans[0][0] == NOW - timedelta(days=365) and spans[-1][1] == NOW
    assert all(spans[i][1] == spans[i + 1][0] for i in range(len(spans) - 1))  # no gap, no overlap
    assert [r["id"] for r in doc["audit_records"]][-1] == "RSAMPLE0005"  # 61 days ago: now in the window
    with serve(account, tokens=TOKENS, now=NOW, record=True) as server:
        run(server, audit_since=NOW - timedelta(days=800))
        first = min(parse_time(dict(r.query)["since"]) for r in server.recorded if r.path == "/audit/records")
    assert first == NOW - timedelta(days=365)  # PagerDuty keeps 12 months


def test_audit_days_zero_excludes_them(tmp_path: Path) -> None:
    from pdguard.config import Config
    from pdguard.pipeline import scan_options

    opts = scan_options(Config(), api_key="k", audit_days=0)
    assert "audit_records" not in opts.collections
    with serve(sample_account(now=NOW), tokens=TOKENS, now=NOW) as server:
        doc, _ = run(server, collections=opts.collections)
        assert audit_requests(server) == 0
    assert doc["meta"]["collections_status"]["audit_records"]["status"] == "excluded"
    assert doc["meta"]["complete"] is True


# --------------------------------------------------------------------------- actors in diffs and drift

def _changed_account(at: datetime, base: datetime = NOW):
    """The sample account (made at `base`) with checkout-api's description edited by Ben in the
    web UI an hour before `at` (and the audit record of that edit)."""
    from pdguard.simulator.audit import make_record

    account = sample_account(now=base)
    svc = next(s for s in account.services if s["id"] == "PSVCCHK")
    svc["description"] = "Checkout REST API (edited by hand)"
    ben = next(u for u in account.users if u["id"] == "PUSRBEN")
    account.audit_records.insert(0, make_record("RHANDEDIT", at - timedelta(hours=1), svc, "update", actor=ben,
                                                method="browser",
                                                fields=[{"name": "description", "before_value": "Checkout REST API",
                                                         "value": svc["description"]}]))
    return account


def test_pdguard_diff_names_the_actor_of_a_change_between_two_scans(tmp_path: Path) -> None:
    from pdguard.inventory.store import Store

    t1, t2 = NOW - timedelta(hours=8), NOW
    url = f"sqlite:///{tmp_path / 'inv.sqlite'}"
    with Store(url) as store:
        with serve(sample_account(now=t1), tokens=TOKENS, now=t1) as server:
            store.save_scan(scan(ScanOptions(api_key="global", api_url=server.url, now=t1)).document)
        with serve(_changed_account(t2, base=t1), tokens=TOKENS, now=t2) as server:
            store.save_scan(scan(ScanOptions(api_key="global", api_url=server.url, now=t2)).document)
    r = subprocess.run([sys.executable, "-m", "pdguard", "diff", "--store", url, "--format", "json"],
                       capture_output=True, text=True)
    assert r.returncode == 0, r.stderr
    diff = json.loads(r.stdout)
    changed = {c["id"]: c for c in diff["assets"]["changed"]}
    assert set(changed) == {"PSVCCHK"} and changed["PSVCCHK"]["fields"] == ["description"]
    by = changed["PSVCCHK"]["changed_by"]
    assert by["actors"] == [{"id": "PUSRBEN", "type": "user_reference", "summary": "Ben Brooks"}]
    assert by["at"] == "2026-11-26T08:00:00.000Z" and by["method"] == "browser" and by["action"] == "update"
    text = subprocess.run([sys.executable, "-m", "pdguard", "diff", "--store", url], capture_output=True, text=True)
    assert "  ~ service PSVCCHK checkout-api\n" in text.stdout
    assert "      by Ben Brooks (user) at 2026-11-26T08:00:00.000Z via browser\n" in text.stdout


def test_drift_findings_name_who_changed_the_object(tmp_path: Path) -> None:
    with serve(_changed_account(NOW), tokens=TOKENS, now=NOW) as server:
        doc = scan(ScanOptions(api_key="global", api_url=server.url, now=NOW)).document
    (tmp_path / "snap.json").write_bytes(dump_document(doc))
    state = {"version": 4, "terraform_version": "1.9.5", "serial": 1, "lineage": "x", "outputs": {}, "resources": [
        {"mode": "managed", "type": "pagerduty_service", "name": "checkout",
         "provider": 'provider["registry.terraform.io/pagerduty/pagerduty"]',
         "instances": [{"schema_version": 1, "attributes": {"id": "PSVCCHK", "name": "checkout-api",
                                                             "description": "Checkout REST API",
                                                             "escalation_policy": "PEPPAYM"}}]}]}
    (tmp_path / "terraform.tfstate").write_text(json.dumps(state))
    r = subprocess.run([sys.executable, "-m", "pdguard", "check", "--snapshot", "snap.json", "--tfstate",
                        "terraform.tfstate", "--format", "json=r.json", "--fail-on", "none"],
                       capture_output=True, text=True, cwd=tmp_path)
    assert r.returncode == 0, r.stderr
    drift = [f for f in json.loads((tmp_path / "r.json").read_text())["findings"] if f["policy_id"] == "PDG-IAC-002"]
    assert len(drift) == 1 and drift[0]["resource"]["id"] == "PSVCCHK"
    assert drift[0]["msg"].endswith(
        "differs from its Terraform code: description; last changed by Ben Brooks (user) at "
        "2026-11-26T08:00:00.000Z via browser")
    assert drift[0]["details"] == {"address": "pagerduty_service.checkout", "drift": ["description"]}


def test_watch_reads_audit_records_since_the_latest_stored_scan(tmp_path: Path) -> None:
    from pdguard.inventory.incremental import audit_since_latest as _audit_since_latest
    from pdguard.inventory.store import Store

    opts = ScanOptions(api_key="k", now=NOW)
    with Store(f"sqlite:///{tmp_path / 'inv.sqlite'}") as store:
        assert _audit_since_latest(store, opts).audit_since is None  # first tick: the whole window
        doc = {"schema_version": "2.0", "meta": {"scanned_at": "2026-11-26T01:00:00Z", "complete": True,
                                                 "collections": ["services"]}, "services": []}
        store.save_scan(doc)
        assert _audit_since_latest(store, opts).audit_since == datetime(2026, 11, 26, 0, 55, tzinfo=UTC)
        short = ScanOptions(api_key="k", now=NOW + timedelta(days=3), audit_days=1)
        assert _audit_since_latest(store, short).audit_since == NOW + timedelta(days=2)  # never past --audit-days
        none = ScanOptions(api_key="k", now=NOW, collections=("services",))
        assert _audit_since_latest(store, none).audit_since is None
