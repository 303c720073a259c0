"""Several PagerDuty accounts: `accounts:` in pdguard.yaml, `--account`, one report and one store
over several accounts (each finding, report, stored scan and diff says which account), and a
single account left exactly as it was. Two simulated accounts built from the same seed hold the
same object ids: what tells their findings apart is the account."""

from __future__ import annotations

import json
import os
import xml.etree.ElementTree as ET
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from conftest import run_pdguard

from pdguard.accounts import combine, snapshot_path, split
from pdguard.findings import Finding, Report, Resource, fingerprint
from pdguard.inventory.store import Store
from pdguard.simulator import generate_account, serve

KEYS = {"PD_KEY_US": "us-secret-key-0001", "PD_KEY_EU": "eu-secret-key-0002"}


def small(subdomain: str) -> Any:
    return generate_account(services=30, escalation_policies=8, schedules=5, users=20, teams=4, incidents=200,
                            seed=11, subdomain=subdomain)


@pytest.fixture()
def two(tmp_path: Path) -> Iterator[dict[str, Any]]:
    """Two accounts (same ids, other subdomains) behind two simulators, and a pdguard.yaml naming them."""
    with serve(small("acme-us"), tokens={KEYS["PD_KEY_US"]}) as us, \
            serve(small("acme-eu"), tokens={KEYS["PD_KEY_EU"]}) as eu:
        cfg = tmp_path / "pdguard.yaml"
        cfg.write_text(
            "accounts:\n"
            f"  - {{name: us, api_url: '{us.url}', api_key_env: PD_KEY_US}}\n"
            f"  - {{name: eu, api_url: '{eu.url}', region: eu, api_key_env: PD_KEY_EU,"
            " scan: {incidents_lookback_days: 30}}\n")
        yield {"cfg": str(cfg), "us": us, "eu": eu, "dir": tmp_path}


def pd(two: dict[str, Any], *args: str, env: dict[str, str] | None = None) -> Any:
    return run_pdguard(*args, "--config", two["cfg"], cwd=two["dir"], env={**KEYS, **(env or {})})


def test_check_over_two_accounts_is_one_report_that_names_each_account(two: dict[str, Any]) -> None:
    d = two["dir"]
    r = pd(two, "check", "--format", "json=r.json", "--format", "sarif=r.sarif", "--format", "junit=r.xml",
           "--format", "markdown=r.md", "--format", "html=r.html", "--format", "table", "-q")
    assert r.returncode == 1, r.stderr
    for key in KEYS.values():
        assert key not in r.stdout + r.stderr
    report = json.loads((d / "r.json").read_text())
    assert set(report["meta"]["accounts"]) == {"us", "eu"}
    assert report["meta"]["accounts"]["eu"]["incidents_lookback_days"] == 30  # the account's own setting
    assert report["meta"]["accounts"]["us"]["incidents_lookback_days"] == 90
    by_account: dict[str, list[dict[str, Any]]] = {"us": [], "eu": []}
    for f in report["findings"]:
        by_account[f["account"]].append(f)
    assert by_account["us"] and by_account["eu"]
    # Same ids in both accounts: the same problem is two findings, with two fingerprints.
    us_keys = {(f["policy_id"], f["resource"]["id"], json.dumps(f["details"], sort_keys=True)): f["fingerprint"]
               for f in by_account["us"]}
    eu_keys = {(f["policy_id"], f["resource"]["id"], json.dumps(f["details"], sort_keys=True)): f["fingerprint"]
               for f in by_account["eu"]}
    shared = us_keys.keys() & eu_keys.keys()
    assert shared and all(us_keys[k] != eu_keys[k] for k in shared)
    assert len({f["fingerprint"] for f in report["findings"]}) == len(report["findings"])
    assert report["summary"]["total"] == len(report["findings"])

    sarif = json.loads((d / "r.sarif").read_text())
    runs = {run["automationDetails"]["id"]: run for run in sarif["runs"]}
    assert set(runs) == {"pdguard/us/", "pdguard/eu/"}
    for name in ("us", "eu"):
        run = runs[f"pdguard/{name}/"]
        assert run["properties"]["account"] == name
        assert {x["partialFingerprints"]["pdguardFingerprint/v1"] for x in run["results"]} == \
            {f["fingerprint"] for f in by_account[name]} | {f["fingerprint"] for f in report["waived"]
                                                            if f["account"] == name}

    suites = [s.get("name") for s in ET.parse(d / "r.xml").getroot()]
    assert any(s.startswith("us: ") for s in suites) and any(s.startswith("eu: ") for s in suites)
    cases = [c.get("classname") for c in ET.parse(d / "r.xml").getroot().iter("testcase")]
    assert any(c.startswith("pdguard.eu.") for c in cases)

    md = (d / "r.md").read_text()
    assert "PagerDuty accounts `us`, `eu`" in md and "| account | policy |" in md and "| `eu` |" in md
    html = (d / "r.html").read_text()
    assert 'data-account="eu"' in html and 'id="account"' in html and "accounts <b>us (acme-us), eu (acme-eu)" in html
    assert "accounts us (acme-us), eu (acme-eu)" in r.stdout and "account eu:" in r.stdout


def test_sarif_of_two_accounts_passes_githubs_rules(two: dict[str, Any], tmp_path: Path) -> None:
    from test_output_sarif import find_multitool, multitool_problems

    tool = find_multitool()
    r = pd(two, "check", "--format", "sarif=two.sarif", "-q")
    assert r.returncode == 1, r.stderr
    r = pd(two, "check", "--format", "sarif=cat.sarif", "--sarif-category", "prod", "-q")
    doc = json.loads((two["dir"] / "cat.sarif").read_text())
    assert [run["automationDetails"]["id"] for run in doc["runs"]] == ["pdguard/prod/us/", "pdguard/prod/eu/"]
    errors, others = multitool_problems(tool, [two["dir"] / "two.sarif", two["dir"] / "cat.sarif"],
                                        tmp_path / "validation.sarif")
    assert not errors, "multitool errors:\n" + "\n".join(errors + others)


def test_one_account_of_several_and_the_single_account_setup(two: dict[str, Any]) -> None:
    d = two["dir"]
    pd(two, "check", "--format", "json=both.json", "-q")
    both = json.loads((d / "both.json").read_text())
    r = pd(two, "check", "--account", "eu", "--format", "json=eu.json", "--format", "sarif=eu.sarif", "-q")
    assert r.returncode == 1, r.stderr
    eu = json.loads((d / "eu.json").read_text())
    assert eu["meta"]["account"] == "eu" and "accounts" not in eu["meta"]
    assert {f["account"] for f in eu["findings"]} == {"eu"}
    # an account's findings keep their fingerprints whether it is checked alone or with the others
    assert {f["fingerprint"] for f in eu["findings"]} == {f["fingerprint"] for f in both["findings"]
                                                          if f["account"] == "eu"}
    assert json.loads((d / "eu.sarif").read_text())["runs"][0]["automationDetails"]["id"] == "pdguard/eu/"

    # No `accounts:`: one implicit account from the flags, fingerprints as they always were.
    plain = d / "plain"
    plain.mkdir()
    r = run_pdguard("check", "--api-url", two["us"].url, "--format", "json=r.json", "-q", cwd=plain,
                    env={"PAGERDUTY_API_KEY": KEYS["PD_KEY_US"]})
    assert r.returncode == 1, r.stderr
    single = json.loads((plain / "r.json").read_text())
    assert "accounts" not in single["meta"] and "account" not in single["meta"]
    for f in single["findings"]:
        assert f["account"] is None
        policy = f["policy_id"] if f["kind"] == "deny" else f"{f['policy_id']}/warn"
        assert f["fingerprint"] == fingerprint(policy, f["resource"]["type"], f["resource"]["id"], f["details"])


def test_scan_writes_one_snapshot_per_account(two: dict[str, Any]) -> None:
    d = two["dir"]
    r = pd(two, "scan", "-o", "snap.json", "-q")
    assert r.returncode == 0, r.stderr
    for name, sub in (("us", "acme-us"), ("eu", "acme-eu")):
        doc = json.loads((d / f"snap.{name}.json").read_text())
        assert doc["meta"]["account"] == name and doc["meta"]["account_subdomain"] == sub
    assert not (d / "snap.json").exists()
    r = pd(two, "scan", "-o", "out/{account}/snapshot.json", "-q", "--account", "eu")
    assert r.returncode == 0, r.stderr
    assert json.loads((d / "out/eu/snapshot.json").read_text())["meta"]["account"] == "eu"
    r = pd(two, "scan", "--account", "us", "-o", "one.json", "-q")  # one account: the file given
    assert r.returncode == 0 and json.loads((d / "one.json").read_text())["meta"]["account"] == "us"
    r = pd(two, "scan", "-o", "-")
    assert r.returncode == 2 and "several accounts" in r.stderr
    # a snapshot names its account: checking it gives that account's fingerprints
    r = pd(two, "check", "--snapshot", "snap.eu.json", "--format", "json=fromfile.json", "-q")
    r2 = pd(two, "check", "--account", "eu", "--format", "json=scanned.json", "-q")
    assert {f["fingerprint"] for f in json.loads((d / "fromfile.json").read_text())["findings"]} == \
        {f["fingerprint"] for f in json.loads((d / "scanned.json").read_text())["findings"]}, r2.stderr


def test_account_errors_are_one_line_exit_2_and_never_show_a_key(two: dict[str, Any]) -> None:
    r = pd(two, "check", "--account", "apac")
    assert r.returncode == 2 and "no such account" in r.stderr and "us, eu" in r.stderr
    r = pd(two, "scan", "--api-key", "flag-key-123", "-o", "x.json")
    assert r.returncode == 2 and "--api-key" in r.stderr and "flag-key-123" not in r.stderr
    r = run_pdguard("check", "--config", two["cfg"], "-q", cwd=two["dir"], env={"PD_KEY_US": KEYS["PD_KEY_US"]})
    assert r.returncode == 2 and "PD_KEY_EU" in r.stderr and KEYS["PD_KEY_US"] not in r.stderr
    assert len(r.stderr.strip().splitlines()) == 1
    elsewhere = two["dir"] / "no-config"
    elsewhere.mkdir()
    r = run_pdguard("check", "--account", "us", "-q", cwd=elsewhere, env={"PAGERDUTY_API_KEY": "k"})
    assert r.returncode == 2 and "no `accounts:`" in r.stderr
    bad = two["dir"] / "bad.yaml"
    bad.write_text("accounts:\n  - {name: us}\n  - {name: US}\n")
    r = run_pdguard("check", "--config", str(bad), cwd=two["dir"])
    assert r.returncode == 2 and "used twice" in r.stderr
    bad.write_text("accounts:\n  - {name: 'us/../x'}\n")
    r = run_pdguard("check", "--config", str(bad), cwd=two["dir"])
    assert r.returncode == 2 and "accounts.0.name" in r.stderr
    r = pd(two, "check", "--snapshot", "x.json", "--account", "us")
    assert r.returncode == 2 and "--snapshot" in r.stderr
    r = pd(two, "check", "--tfstate", "x.tfstate")
    assert r.returncode == 2 and "--account NAME" in r.stderr


def test_watch_keeps_each_account_apart_in_one_store(two: dict[str, Any]) -> None:
    d = two["dir"]
    db = f"sqlite:///{d / 'inv.sqlite'}"
    r = pd(two, "watch", "--once", "--store", db, "--on-new-findings", str(d / "new.json"))
    assert r.returncode == 1, r.stderr
    assert "account us: scan 1:" in r.stderr and "account eu: scan 2:" in r.stderr
    assert "full scan (first scan of account eu)" in r.stderr
    # Something changes in eu only: a service loses its description.
    eu_account = two["eu"].account
    svc = next(s for s in eu_account.services if s.get("description") and s.get("status") == "active")
    svc["description"] = ""
    two["eu"]._index()
    r = pd(two, "watch", "--once", "--store", db, "--on-new-findings", str(d / "new.json"))
    assert r.returncode == 1, r.stderr
    assert "account us: scan 3:" in r.stderr and "since scan 1: +0 -0 ~0 assets, 0 new / 0 fixed" in r.stderr
    assert r.stderr.count("failing); incremental (incidents read since") == 2
    assert "account eu: scan 4:" in r.stderr and "since scan 2: +0 -0 ~1 assets" in r.stderr
    with Store(db) as store:
        assert [(s["id"], s["account"]) for s in store.list_scans()] == [(4, "eu"), (3, "us"), (2, "eu"), (1, "us")]
        assert store.previous(4)["id"] == 2 and store.previous(3)["id"] == 1
        assert store.latest("us")["id"] == 3
        new = store.pending_notifications("x") or []
        assert not new
    sent = json.loads((d / "new.json").read_text())
    assert {f["account"] for f in sent["new_findings"]} == {"eu"}  # only what is new in eu
    assert all(f["resource"]["id"] == svc["id"] for f in sent["new_findings"])

    listing = json.loads(pd(two, "inventory", "scans", "--store", db, "--account", "eu", "--format", "json").stdout)
    assert [s["id"] for s in listing] == [4, 2]
    r = pd(two, "inventory", "list", "--store", db)
    assert r.returncode == 2 and "--account" in r.stderr
    r = pd(two, "inventory", "list", "--store", db, "--account", "us", "--type", "service")
    assert r.returncode == 0 and "scan 3" in r.stdout and "account us" in r.stdout
    r = pd(two, "diff", "--store", db)
    assert r.returncode == 2 and "2 accounts" in r.stderr
    diff = json.loads(pd(two, "diff", "--store", db, "--account", "eu", "--format", "json").stdout)
    assert (diff["a"]["id"], diff["b"]["id"]) == (2, 4) and diff["a"]["account"] == "eu"
    assert [c["id"] for c in diff["assets"]["changed"]] == [svc["id"]]
    r = pd(two, "diff", "1", "4", "--store", db)
    assert r.returncode == 2 and "different accounts" in r.stderr
    r = pd(two, "inventory", "prune", "--store", db, "--keep", "1", "--account", "us")
    assert r.returncode == 0, r.stderr
    with Store(db) as store:
        assert [s["id"] for s in store.list_scans()] == [4, 3, 2]
    # the HTML trend is per account
    r = pd(two, "check", "--store", db, "--format", "html=t.html", "-q")
    html = (d / "t.html").read_text()
    assert "Trend — account us" in html and "Trend — account eu" in html


def report_of(account: str, *rids: str) -> Report:
    return Report(meta={"account": account, "scanned_at": f"2026-11-26T09:0{len(rids)}:00Z"},
                  findings=[Finding(policy_id="P-1", title="t", severity="high", msg="m", account=account,
                                    resource=Resource(type="service", id=r),
                                    fingerprint=fingerprint("P-1", "service", r, {}, account)) for r in rids],
                  warnings=[f"services: something in {account}", "policies: a note about every account"])


def test_combine_and_split_round_trip() -> None:
    combined = combine([("us", report_of("us", "A", "B")), ("eu", report_of("eu", "A"))])
    assert combined.summary.total == 3 and combined.meta["complete"] is True
    assert combined.warnings == ["account us: services: something in us", "account eu: services: something in eu",
                                 "policies: a note about every account"]
    parts = dict(split(combined))
    assert [f.resource.id for f in parts["us"].findings] == ["A", "B"]
    assert parts["eu"].summary.total == 1
    assert parts["eu"].warnings == ["services: something in eu", "policies: a note about every account"]
    assert parts["eu"].meta["account"] == "eu"
    one = report_of("us", "A")
    assert combine([("us", one)]) is one and split(one) == [("us", one)]


def test_snapshot_paths() -> None:
    assert snapshot_path("snapshot.json", None, True) == "snapshot.json"
    assert snapshot_path("snapshot.json", "eu", False) == "snapshot.json"
    assert snapshot_path("snapshot.json", "eu", True) == "snapshot.eu.json"
    assert snapshot_path(os.path.join("a", "snap"), "eu", True) == os.path.join("a", "snap.eu")
    assert snapshot_path("s/{account}.json", "eu", False) == "s/eu.json"


def test_html_account_filter_in_chromium(two: dict[str, Any]) -> None:
    from selenium.webdriver.support.ui import Select
    from test_output_html import _browser

    d = two["dir"]
    r = pd(two, "check", "--format", "html=r.html", "--format", "json=r.json", "-q")
    assert r.returncode == 1, r.stderr
    findings = json.loads((d / "r.json").read_text())["findings"]
    driver = _browser()
    try:
        driver.get((d / "r.html").as_uri())

        def visible() -> list:
            return driver.execute_script("return Array.from(document.querySelectorAll('#view-policy tr.f'))"
                                         ".filter(r => !r.hidden).map(r => r.dataset.account);")

        assert sorted(visible()) == sorted(f["account"] for f in findings)
        Select(driver.find_element("id", "account")).select_by_value("eu")
        assert visible() and set(visible()) == {"eu"}
        assert len(visible()) == sum(f["account"] == "eu" for f in findings)
        driver.find_element("id", "reset").click()
        assert len(visible()) == len(findings)
        assert not [e for e in driver.get_log("browser") if e["level"] in ("SEVERE", "ERROR")]
    finally:
        driver.quit()


def test_one_account_failing_does_not_stop_the_others(two: dict[str, Any]) -> None:
    d = two["dir"]
    wrong = {"PD_KEY_EU": "not-the-eu-key"}
    r = pd(two, "scan", "-o", "s.json", "-q", env=wrong)
    assert r.returncode == 2
    assert "account eu:" in r.stderr and "1 of 2 accounts failed: eu" in r.stderr and "not-the-eu-key" not in r.stderr
    assert json.loads((d / "s.us.json").read_text())["meta"]["account"] == "us" and not (d / "s.eu.json").exists()
    db = f"sqlite:///{d / 'inv.sqlite'}"
    r = pd(two, "watch", "--once", "--store", db, env=wrong)
    assert r.returncode == 2 and "account us: scan 1:" in r.stderr
    assert "tick 1 failed: account eu:" in r.stderr and "not-the-eu-key" not in r.stderr
    with Store(db) as store:
        assert [s["account"] for s in store.list_scans()] == ["us"]


def test_explain_looks_at_one_account(two: dict[str, Any]) -> None:
    d = two["dir"]
    pd(two, "check", "--format", "json=r.json", "-q")
    eu = next(f for f in json.loads((d / "r.json").read_text())["findings"] if f["account"] == "eu")
    r = pd(two, "explain", eu["fingerprint"])
    assert r.returncode == 2 and "--account NAME" in r.stderr
    r = pd(two, "explain", eu["fingerprint"], "--account", "us", "-q")
    assert r.returncode == 2 and "no finding with fingerprint" in r.stderr  # the same problem in us is another one
    r = pd(two, "explain", eu["fingerprint"], "--account", "eu", "--format", "json", "-q")
    assert r.returncode == 0, r.stderr
    out = json.loads(r.stdout)
    assert out["input"]["account"] == "eu" and eu["fingerprint"] in r.stdout


def test_watch_once_exits_with_the_worst_account(two: dict[str, Any]) -> None:
    """One tick over several accounts: the exit code is the worst of them, whatever their order
    (us incomplete: 2, though eu, scanned after it, only has failing findings: 1)."""
    from pdguard.simulator import FaultConfig

    two["us"].faults = FaultConfig(null_items=["services"])
    r = pd(two, "watch", "--once", "--store", f"sqlite:///{two['dir'] / 'inv.sqlite'}")
    assert r.returncode == 2, r.stderr
    assert "account us: scan 1:" in r.stderr and "INCOMPLETE" in r.stderr and "account eu: scan 2:" in r.stderr
