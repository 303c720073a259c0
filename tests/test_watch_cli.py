"""Continuous mode end to end: `pdguard watch` against the simulator, the store, `diff`."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path

from pdguard.inventory.store import Store
from pdguard.simulator import FaultConfig, sample_account, serve

TOKEN = "watch-token-abc"
NOW = datetime.now(UTC).replace(microsecond=0)  # one clock for both versions of the account


def pdguard(*args: str, env: dict | None = None, timeout: float = 120) -> subprocess.CompletedProcess:
    base = {k: v for k, v in os.environ.items() if k not in ("PAGERDUTY_API_KEY", "PDGUARD_STORE", "PDGUARD_CONFIG")}
    return subprocess.run([sys.executable, "-m", "pdguard", *args], capture_output=True, text=True,
                          env={**base, "PAGERDUTY_API_KEY": TOKEN, **(env or {})}, timeout=timeout)


def test_watch_three_ticks_store_three_scans(tmp_path: Path) -> None:
    db = f"sqlite:///{tmp_path / 'inv.sqlite'}"
    with serve(sample_account(), tokens={TOKEN}) as server:
        r = pdguard("watch", "--interval", "1s", "--max-ticks", "3", "--api-url", server.url, "--store", db)
    assert r.returncode == 0, r.stderr
    assert r.stderr.count("pdguard watch: scan ") == 3
    with Store(db) as store:
        scans = store.list_scans()
        assert len(scans) == 3 and all(s["complete"] for s in scans)
        assert store.latest()["id"] == max(s["id"] for s in scans)
        assert len(store.findings(store.latest()["id"])) > 0


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
    assert r.returncode == 2 and "tick failed" in r.stderr and "Traceback" not in r.stderr
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
    assert "tick failed" in r.stderr
    with Store(db) as store:
        assert 1 <= len(store.list_scans()) < 3  # the failed tick stored nothing, the later ones did
