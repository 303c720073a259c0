"""Continuous mode end to end: `pdguard watch` against the simulator, the store, `diff`."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path

from receiver import receiver

from pdguard.inventory.store import Store
from pdguard.simulator import FaultConfig, sample_account, serve

TOKEN = "watch-token-abc"
NOW = datetime.now(UTC).replace(microsecond=0)  # one clock for both versions of the account


def pdguard(*args: str, env: dict | None = None, timeout: float = 120) -> subprocess.CompletedProcess:
    base = {k: v for k, v in os.environ.items() if k not in ("PAGERDUTY_API_KEY", "PDGUARD_STORE", "PDGUARD_CONFIG")}
    return subprocess.run([sys.executable, "-m", "pdguard", *args], capture_output=True, text=True,
                          env={**base, "PAGERDUTY_API_KEY": TOKEN, **(env or {})}, timeout=timeout)


TIMESTAMP = r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z"


def test_watch_three_ticks_store_three_scans(tmp_path: Path) -> None:
    db = f"sqlite:///{tmp_path / 'inv.sqlite'}"
    with serve(sample_account(), tokens={TOKEN}) as server:
        r = pdguard("watch", "--interval", "1s", "--max-ticks", "3", "--api-url", server.url, "--store", db)
    assert r.returncode == 0, r.stderr
    assert r.stderr.count("pdguard watch: scan ") == 3
    # every line is timestamped (ISO 8601, UTC)
    assert all(re.match(TIMESTAMP + " pdguard", line) for line in r.stderr.splitlines()), r.stderr
    with Store(db) as store:
        scans = store.list_scans()
        assert len(scans) == 3 and all(s["complete"] for s in scans)
        assert store.latest()["id"] == max(s["id"] for s in scans)
        assert len(store.findings(store.latest()["id"])) > 0
    # one word and one number for what is counted: watch's "N assets" is what `inventory scans` lists
    said = re.findall(r"scan (\d+): (\d+) assets, (\d+) findings", r.stderr)
    listing = json.loads(pdguard("inventory", "scans", "--format", "json", "--store", db).stdout)
    by_id = {s["id"]: s for s in listing}
    assert len(said) == 3
    for sid, n_assets, n_findings in said:
        assert by_id[int(sid)]["assets"] == int(n_assets) and by_id[int(sid)]["findings"] == int(n_findings)
    assert "objects" not in r.stderr


def changed_account():
    """The sample account with three known changes: one changed, one added, one removed asset."""
    acc = sample_account(now=NOW)
    ffl = next(s for s in acc.services if s["id"] == "PSVCFFL")
    ffl["description"] = "Feature flag evaluation service"
    score = next(x for x in acc.standards_scores if x["resource_id"] == "PSVCFFL")  # PagerDuty recomputed it
    for row in score["standards"]:
        row["pass"] = True
    score["score"]["passing"] = len(score["standards"])
    new = json.loads(json.dumps(next(s for s in acc.services if s["id"] == "PSVCFFL"), default=str))
    new.update({"id": "PSVCNEW", "name": "New Service", "summary": "New Service", "integrations": []})
    acc.services.append(new)
    acc.teams[:] = [t for t in acc.teams if t["id"] != "PTMGHST"]
    return acc


def test_diff_lists_exactly_the_changes_and_new_fixed_findings(tmp_path: Path) -> None:
    db = f"sqlite:///{tmp_path / 'inv.sqlite'}"
    with serve(sample_account(now=NOW), tokens={TOKEN}) as server:
        assert pdguard("watch", "--once", "--api-url", server.url, "--store", db).returncode == 1
    with serve(changed_account(), tokens={TOKEN}) as server:
        r = pdguard("watch", "--once", "--api-url", server.url, "--store", db,
                    "--on-new-findings", str(tmp_path / "new.json"))
    assert r.returncode == 1, r.stderr
    d = pdguard("diff", "--json", "--store", db)
    assert d.returncode == 0, d.stderr
    diff = json.loads(d.stdout)
    assets = diff["assets"]
    assert [(a["type"], a["id"]) for a in assets["added"]] == [("service", "PSVCNEW")]
    assert [(a["type"], a["id"]) for a in assets["removed"]] == [("team", "PTMGHST")]
    assert [(a["type"], a["id"], a["fields"]) for a in assets["changed"]] == [("service", "PSVCFFL", ["description"])]
    new = diff["findings"]["new"]
    fixed = diff["findings"]["fixed"]
    assert new and {f["resource"]["id"] for f in new} == {"PSVCNEW"}
    assert {"PDG-SVC-001", "PDG-SVC-006"} <= {f["policy_id"] for f in new}
    assert {(f["policy_id"], f["resource"]["id"]) for f in fixed} >= {("PDG-STD-001", "PSVCFFL"),
                                                                       ("PDG-TEAM-001", "PTMGHST")}
    assert {f["resource"]["id"] for f in fixed} <= {"PSVCFFL", "PTMGHST"}
    sent = json.loads((tmp_path / "new.json").read_text())
    assert {f["resource"]["id"] for f in sent["new_findings"]} == {"PSVCNEW"}


def test_failed_or_incomplete_scan_never_becomes_latest(tmp_path: Path) -> None:
    db = f"sqlite:///{tmp_path / 'inv.sqlite'}"
    with serve(sample_account(), tokens={TOKEN}) as server:
        assert pdguard("watch", "--once", "--api-url", server.url, "--store", db).returncode == 1
    with Store(db) as store:
        good = store.latest()["id"]
    broken = FaultConfig(p_5xx=1.0, paths=["/incidents"])
    with serve(sample_account(), tokens={TOKEN}, faults=broken) as server:
        r = pdguard("watch", "--once", "--api-url", server.url, "--store", db, "--timeout", "2")
    assert r.returncode == 2 and "Traceback" not in r.stderr
    errors = [line for line in r.stderr.splitlines() if "error:" in line or "failed" in line]
    assert len(errors) == 1, r.stderr  # the error, once
    assert re.match(TIMESTAMP + r" pdguard watch: error: tick 1 failed: incidents: HTTP 503", errors[0])
    assert all(re.match(TIMESTAMP + " pdguard", line) for line in r.stderr.splitlines()), r.stderr
    with serve(sample_account(), tokens={TOKEN}, faults=FaultConfig(null_items=["services"])) as server:
        r = pdguard("watch", "--once", "--api-url", server.url, "--store", db)
    assert r.returncode == 2 and "INCOMPLETE" in r.stderr
    with Store(db) as store:
        scans = store.list_scans()
        assert [s["complete"] for s in sorted(scans, key=lambda s: s["id"])] == [True, False]
        assert store.latest()["id"] == good


def test_watch_keeps_going_after_a_failed_tick(tmp_path: Path) -> None:
    db = f"sqlite:///{tmp_path / 'inv.sqlite'}"
    with serve(sample_account(), tokens={TOKEN}, faults=FaultConfig(burst_5xx=200)) as server:
        r = pdguard("watch", "--interval", "1s", "--max-ticks", "3", "--api-url", server.url, "--store", db,
                    "--timeout", "2")
    assert r.returncode == 0
    assert re.search(r"error: tick \d failed \(retrying at the next tick\): ", r.stderr), r.stderr
    with Store(db) as store:
        assert 1 <= len(store.list_scans()) < 3  # the failed tick stored nothing, the later ones did


def account_with(*new_ids: str):
    """The sample account plus services that each bring new findings (no escalation policy…)."""
    acc = sample_account(now=NOW)
    base = json.loads(json.dumps(next(s for s in acc.services if s["id"] == "PSVCFFL"), default=str))
    for sid in new_ids:
        acc.services.append({**base, "id": sid, "name": f"New {sid}", "summary": f"New {sid}", "integrations": []})
    return acc


def test_webhook_down_two_ticks_then_up_every_finding_exactly_once(tmp_path: Path) -> None:
    """Cron-style ticks (`watch --once`): the webhook answers 500 on ticks 2 and 3 (exit 4, the
    findings stay in the outbox), is back on tick 4: each new finding of ticks 2 and 3 arrives
    exactly once; tick 5 sends nothing. Secrets in the URL never reach the output, even at -vv."""
    db = f"sqlite:///{tmp_path / 'inv.sqlite'}"
    secret = "wHsEcReT0123456789abcdef"
    with receiver() as rec:
        hook = f"http://hookuser:{secret}@{rec.url.removeprefix('http://')}/services/T0AB12CD/B0EF34GH/{secret}?k={secret}"
        outputs = []

        def tick(account, *extra: str) -> int:
            with serve(account, tokens={TOKEN}) as server:
                r = pdguard("-vv", "watch", "--once", "--api-url", server.url, "--store", db,
                            "--on-new-findings", hook, "--notify-format", "json", *extra)
            outputs.append(r.stdout + r.stderr)
            return r.returncode

        assert tick(account_with()) == 1  # first scan: nothing is "new" yet
        rec.down()
        assert tick(account_with("PSVCNEW1")) == 4
        assert tick(account_with("PSVCNEW1", "PSVCNEW2")) == 4
        rec.up()
        assert tick(account_with("PSVCNEW1", "PSVCNEW2")) == 1
        assert tick(account_with("PSVCNEW1", "PSVCNEW2")) == 1
    received = [f for body in rec.accepted for f in body["new_findings"]]
    fps = [f["fingerprint"] for f in received]
    assert len(fps) == len(set(fps)) > 0, "a finding was delivered twice"
    assert {f["resource"]["id"] for f in received} == {"PSVCNEW1", "PSVCNEW2"}
    assert [s for _, s in rec.requests] == [500] * 3 + [500] * 3 + [200]  # notify.retries: 2 per tick
    # what arrived is exactly what the two diffs called new
    with Store(db) as store:
        scans = sorted(s["id"] for s in store.list_scans())
    from pdguard.inventory.diff import diff_scans

    with Store(db) as store:
        expected = {f["fingerprint"] for a, b in ((scans[0], scans[1]), (scans[1], scans[2]))
                    for f in diff_scans(store, a, b)["findings"]["new"]}
    assert set(fps) == expected
    for text in outputs:
        assert secret not in text and "hookuser" not in text and "T0AB12CD" not in text
    assert "could not notify http://***@127.0.0.1" in outputs[1]
    assert "HTTP Request: POST http://***@127.0.0.1" in outputs[3]  # httpx's -vv line, redacted


def test_watch_slack_body_by_option(tmp_path: Path) -> None:
    db = f"sqlite:///{tmp_path / 'inv.sqlite'}"
    with receiver() as rec:
        for account in (account_with(), account_with("PSVCNEW1")):
            with serve(account, tokens={TOKEN}) as server:
                r = pdguard("watch", "--once", "--api-url", server.url, "--store", db,
                            "--on-new-findings", f"{rec.url}/slack", "--notify-format", "slack")
            assert r.returncode == 1, r.stderr
    assert len(rec.accepted) == 1
    body = rec.accepted[0]
    assert set(body) == {"text", "blocks"} and "New PSVCNEW1" in body["text"]


def test_once_an_incomplete_tick_exits_2_even_when_a_notification_also_fails(tmp_path: Path) -> None:
    """`watch --once` exit codes rank 2 (error, incomplete scan) over 4 (a notification not
    delivered) over 1 (failing findings): an incomplete inventory must not read as "stored, only
    the webhook failed" to cron because the outbox still holds an undelivered message."""
    db = f"sqlite:///{tmp_path / 'inv.sqlite'}"
    with receiver() as rec:
        hook = f"{rec.url}/hook"

        def tick(account, faults: FaultConfig | None = None) -> subprocess.CompletedProcess:
            with serve(account, tokens={TOKEN}, faults=faults) as server:
                return pdguard("watch", "--once", "--api-url", server.url, "--store", db,
                               "--on-new-findings", hook, "--notify-format", "json")

        assert tick(account_with()).returncode == 1
        rec.down()
        assert tick(account_with("PSVCNEW1")).returncode == 4  # the new findings wait in the outbox
        r = tick(account_with("PSVCNEW1"), FaultConfig(null_items=["services"]))  # incomplete; still down
        assert r.returncode == 2, r.stderr
        assert "INCOMPLETE" in r.stderr and "could not notify" in r.stderr
