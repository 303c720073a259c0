"""HTML report: self-contained, escaped, grouped by policy and team, trend from the store — and it
works in a real browser (Debian's chromium + chromium-driver, driven by selenium; never downloaded).

The browser test skips with a reason when chromium, chromedriver or selenium is missing, unless
PDGUARD_REQUIRE_BROWSER=1 (set by .ci/run after it installed them): then it must run.
"""

from __future__ import annotations

import copy
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest
from report_fixtures import POLICIES, make_finding, sample_report

from pdguard.findings import Finding, Report, severity_counts, sorted_findings
from pdguard.inventory.store import Store
from pdguard.output import get_output
from pdguard.output.html import NO_TEAM, HTMLContext, HTMLOutput, index_document
from pdguard.textsafe import safe_text

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
CHROMEDRIVER = shutil.which("chromedriver")
TOKEN = "pd-html-T0KEN-never-shown"


def test_registered() -> None:
    assert isinstance(get_output("html"), HTMLOutput)


def test_self_contained_and_escaped() -> None:
    report = sample_report(baseline=True)
    report.findings.append(make_finding("PDG-SVC-001", "service", "PXSS001", "<script>alert(1)</script>\x1b[2J",
                                        'msg "</td><img src=x onerror=alert(2)>'))
    ctx = HTMLContext(links={("service", "PXSS001"): "javascript:alert(3)",
                             ("service", "PSVC003"): "https://acme.pagerduty.com/service-directory/PSVC003"},
                      teams={("service", "PSVC003"): ["Payments"]})
    text = HTMLOutput(context=ctx).render(report)
    assert text.startswith("<!doctype html>")
    assert "default-src 'none'" in text  # CSP: nothing may be fetched
    assert not re.search(r"<(script|link|img|iframe)[^>]+(src|href)=", text, re.I)  # no external resource
    assert "<script>alert(1)" not in text and "<img src=x" not in text
    assert "&lt;script&gt;alert(1)&lt;/script&gt;\\x1b[2J" in text
    assert "javascript:" not in text
    assert 'href="https://acme.pagerduty.com/service-directory/PSVC003"' in text
    assert "\x1b" not in text
    assert "Baseline: 3 new · 4 unchanged · 1 fixed" in text
    assert "Fixed since the baseline (1)" in text and "Waived findings" in text and "Expired waivers" in text


def test_teams_from_a_snapshot() -> None:
    doc = {"teams": [{"id": "PT1", "name": "Payments"}, {"id": "PT2", "name": "Search"}],
           "services": [{"id": "PS1", "teams": [{"id": "PT1", "type": "team_reference", "summary": "Payments"}],
                         "html_url": "https://acme.pagerduty.com/service-directory/PS1"}],
           "escalation_policies": [{"id": "PE1", "teams": [{"id": "PT2", "type": "team_reference"}]}],
           "incidents": [{"id": "Q1", "service": {"id": "PS1", "type": "service_reference"}}],
           "business_services": [{"id": "PB1", "team": {"id": "PT2", "type": "team_reference"}}]}
    ctx = index_document(doc)
    assert ctx.teams[("service", "PS1")] == ["Payments"]
    assert ctx.teams[("escalation_policy", "PE1")] == ["Search"]
    assert ctx.teams[("incident", "Q1")] == ["Payments"]  # through its service
    assert ctx.teams[("business_service", "PB1")] == ["Search"]
    assert ctx.teams[("team", "PT1")] == ["Payments"]
    assert ctx.links[("service", "PS1")].endswith("/PS1")


def test_links_of_a_2_0_snapshot_come_from_meta_web_url() -> None:
    """Snapshot 2.0 objects carry no html_url: the page is built from meta.web_url, type and id."""
    doc = {"meta": {"web_url": "https://acme.pagerduty.com"},
           "services": [{"id": "PS1"}], "escalation_policies": [{"id": "PE1"}], "flexible_schedules": [{"id": "PF1"}],
           "incidents": [{"id": "Q1"}], "business_services": [{"id": "PB1"}]}
    ctx = index_document(doc)
    assert ctx.links[("service", "PS1")] == "https://acme.pagerduty.com/service-directory/PS1"
    assert ctx.links[("escalation_policy", "PE1")] == "https://acme.pagerduty.com/escalation_policies/PE1"
    assert ctx.links[("flexible_schedule", "PF1")] == "https://acme.pagerduty.com/schedules/PF1"
    assert ctx.links[("incident", "Q1")] == "https://acme.pagerduty.com/incidents/Q1"
    assert ("business_service", "PB1") not in ctx.links  # no known page: no invented link
    assert index_document({"meta": {"web_url": "javascript:alert(1)"}, "services": [{"id": "PS1"}]}).links == {}


def test_incomplete_inventory_is_prominent() -> None:
    report = Report(meta={"complete": False, "collections_status": {
        "users": {"status": "incomplete", "expected": 120, "got": 100, "warnings": []}}},
        warnings=["users: stopped at the offset cap"])
    text = HTMLOutput().render(report)
    assert "Incomplete inventory" in text and "100 of 120 collected" in text and "offset cap" in text


# ------------------------------------------------------------------------------ through the CLI + browser

def _pdguard(*args: str, cwd: Path | None = None) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if k not in ("PAGERDUTY_API_KEY", "PAGERDUTY_OAUTH_TOKEN", "PDGUARD_CONFIG")}
    return subprocess.run([sys.executable, "-m", "pdguard", *args], capture_output=True, text=True, env=env, cwd=cwd,
                          timeout=180)


@pytest.fixture(scope="module")
def html_report(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict]:
    """Scan the simulator with a key, store 4 earlier scans, and write the HTML + JSON reports."""
    from pdguard.scanner import ScanOptions, scan
    from pdguard.simulator import sample_account, serve
    from pdguard.snapshot import dump_document

    tmp = tmp_path_factory.mktemp("html")
    with serve(sample_account(), tokens={TOKEN}) as server:
        doc = scan(ScanOptions(api_key=TOKEN, api_url=server.url)).document
    doc["services"][0]["name"] = "edge\x1b]0;pwned\x07 <b>proxy</b> \u202eexe"
    snap = tmp / "snapshot.json"
    snap.write_bytes(dump_document(doc))
    store = Store(f"sqlite:///{tmp / 'inv.sqlite'}")
    from pdguard.findings import Finding

    base = json.loads(_pdguard("check", "--snapshot", str(snap), "--format", "json").stdout)
    findings = [Finding(**f) for f in base["findings"]]
    for i in range(4):
        d = copy.deepcopy(doc)
        d["meta"]["scanned_at"] = f"2026-11-{10 + i:02d}T09:00:00Z"
        store.save_scan(d, Report(findings=findings[: len(findings) - 3 * (3 - i)] if i < 3 else findings))
    store.close()
    r = _pdguard("check", "--snapshot", str(snap), "--format", f"html={tmp / 'report.html'}",
                 "--format", f"json={tmp / 'report.json'}", "--store", f"sqlite:///{tmp / 'inv.sqlite'}")
    assert r.returncode == 1, r.stderr
    assert "report.html" in r.stderr  # one summary line: every format went to a file
    return tmp / "report.html", json.loads((tmp / "report.json").read_text())


def test_html_from_the_cli(html_report: tuple[Path, dict]) -> None:
    path, report = html_report
    text = path.read_text()
    assert TOKEN not in text
    assert "<svg" in text and "Trend" in text and "5 scans" in text  # 4 stored + this report
    for f in report["findings"]:
        assert f["fingerprint"] and f["policy_id"] in text
    assert "\x1b" not in text and "\u202e" not in text
    assert 'target="_blank" rel="noopener noreferrer"' in text  # html_url links to PagerDuty
    # Each finding's row once, in the by-policy view (readable without JavaScript); the page's script
    # builds the by-team view and the rows' search text.
    assert len(re.findall(r'<tr class="f" ', text)) == len(report["findings"])
    assert '<div id="view-team" class="view" hidden></div>' in text and "data-text" not in text


def _browser():
    require = os.environ.get("PDGUARD_REQUIRE_BROWSER") == "1"
    missing = [n for n, p in (("chromium", CHROMIUM), ("chromedriver", CHROMEDRIVER)) if not p]
    try:
        from selenium import webdriver
        from selenium.webdriver.chrome.service import Service
    except ImportError:
        missing.append("selenium (pip install -e '.[test]')")
    if missing:
        msg = f"no headless browser: {', '.join(missing)} missing (apt-get install chromium chromium-driver)"
        if require:
            pytest.fail(msg + " but PDGUARD_REQUIRE_BROWSER=1")
        pytest.skip(msg)
    os.environ.setdefault("SE_OFFLINE", "true")  # selenium-manager must never download anything
    opts = webdriver.ChromeOptions()
    opts.binary_location = CHROMIUM
    for a in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
              "--disable-component-update", "--disable-sync", "--no-first-run", "--disable-dev-shm-usage",
              f"--user-data-dir={tempfile.mkdtemp(prefix='pdguard-chromium-')}", "--window-size=1280,1800"):
        opts.add_argument(a)
    opts.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    return webdriver.Chrome(service=Service(CHROMEDRIVER), options=opts)


def _search_text(f: Finding, teams: list[str], several: bool = False) -> str:
    """What the filter box matches a finding against (as the report's data-text used to hold it)."""
    return safe_text(" ".join([f.policy_id, f.title, f.resource.type, f.resource.id, f.resource.name or "", f.msg,
                               *teams, *([f.account] if f.account and several else [])]).lower())


def _expected_team_view(findings: list[Finding], ctx: HTMLContext, several: bool = False) -> list[dict]:
    """The by-team view as the server rendered it: a group per team (a finding under each of its
    teams, NO_TEAM without one), most findings first, NO_TEAM last, then by name ignoring case."""
    groups: dict[str, list[Finding]] = {}
    for f in sorted_findings(findings):
        for t in ctx.teams_of(f) or [NO_TEAM]:
            groups.setdefault(t, []).append(f)
    order = sorted(groups, key=lambda t: (t == NO_TEAM, -len(groups[t]), t.lower()))
    return [{"name": safe_text(t), "total": str(len(groups[t])), "count": str(len(groups[t])),
             "minis": [[f"mini sev-{s}", s, str(n)] for s, n in severity_counts(groups[t]).items() if n],
             "heads": ["Severity", "Policy", "Resource", "Finding"],
             "rows": [[f.severity, f.policy_id, safe_text(f"{f.policy_id} {f.title}"), safe_text(f.resource.id), 4,
                       _search_text(f, ctx.teams_of(f), several)] for f in groups[t]]}
            for t in order]


def _team_view(driver) -> list[dict]:
    """The by-team view in the page, as `_expected_team_view` describes it."""
    return driver.execute_script("""
        return Array.from(document.querySelectorAll('#view-team details.group')).map(g => ({
          name: g.querySelector('summary > b').textContent,
          total: g.querySelector('summary > .count').dataset.total,
          count: g.querySelector('summary > .count').textContent,
          minis: Array.from(g.querySelectorAll('summary > .mini')).map(m => [m.className, m.title, m.textContent]),
          heads: Array.from(g.querySelectorAll('thead th')).map(h => h.textContent),
          rows: Array.from(g.querySelectorAll('tbody tr.f')).map(r => [
            r.dataset.sev, r.dataset.policy, r.querySelector('.c-pol').textContent, r.querySelector('.c-res code').textContent,
            r.cells.length, r.searchText])}));""")


def test_html_report_in_chromium(html_report: tuple[Path, dict], tmp_path: Path) -> None:
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import Select

    path, report = html_report
    findings = report["findings"]
    driver = _browser()
    try:
        driver.get(path.as_uri())

        def visible_rows(view: str = "policy") -> list:
            return driver.execute_script(
                f"return Array.from(document.querySelectorAll('#view-{view} tr.f')).filter(r => !r.hidden)"
                ".map(r => [r.dataset.sev, r.dataset.policy, r.dataset.teams, r.searchText]);")

        assert driver.title.startswith("pdguard report")
        assert len(visible_rows()) == len(findings)
        assert driver.find_element(By.ID, "shown").text == f"All {len(findings)} findings"
        cards = {c.get_attribute("data-sev"): int(c.find_element(By.CLASS_NAME, "n").text)
                 for c in driver.find_elements(By.CSS_SELECTOR, "button.scard")}
        assert cards["high"] == sum(f["severity"] == "high" for f in findings)

        # The by-team view the page's JS built is the one the server used to render: same groups in
        # the same order, each finding once under each of its teams; every row's search text too.
        ctx = index_document(json.loads((path.parent / "snapshot.json").read_text()))
        expected = _expected_team_view([Finding(**f) for f in findings], ctx)
        assert any(g["name"] == NO_TEAM for g in expected) and len(expected) > 2  # the fixture has teams
        assert _team_view(driver) == expected
        assert sorted(r[3] for r in visible_rows()) == sorted(
            _search_text(f, ctx.teams_of(f)) for f in (Finding(**f) for f in findings))

        # Severity chip: hide the highs.
        driver.find_element(By.CSS_SELECTOR, 'input[name="sev"][value="high"]').click()
        rows = visible_rows()
        assert rows and all(r[0] != "high" for r in rows)
        assert len(rows) == len(findings) - cards["high"]
        lows = [sum(r[0] != "high" for r in g["rows"]) for g in expected]  # the team view's groups count too
        assert driver.execute_script("return Array.from(document.querySelectorAll('#view-team details.group'))"
                                     ".map(g => [g.hidden, g.querySelector('.count').textContent]);") == [
            [n == 0, str(n) if n == int(g["total"]) else f"{n} / {g['total']}"] for n, g in zip(lows, expected, strict=True)]
        assert any(n < int(g["total"]) for n, g in zip(lows, expected, strict=True))
        driver.find_element(By.ID, "reset").click()
        assert len(visible_rows()) == len(findings)

        # A summary card filters to its severity.
        driver.find_element(By.CSS_SELECTOR, 'button.scard[data-sev="medium"]').click()
        assert {r[0] for r in visible_rows()} == {"medium"}
        driver.find_element(By.ID, "reset").click()

        # Policy filter.
        pid = findings[-1]["policy_id"]
        Select(driver.find_element(By.ID, "policy")).select_by_value(pid)
        rows = visible_rows()
        assert rows and {r[1] for r in rows} == {pid}
        assert len(rows) == sum(f["policy_id"] == pid for f in findings)
        driver.find_element(By.ID, "reset").click()

        # Team filter, in the by-team view.
        driver.find_element(By.CSS_SELECTOR, '.tab[data-view="team"]').click()
        assert driver.find_element(By.ID, "view-team").is_displayed()
        assert not driver.find_element(By.ID, "view-policy").is_displayed()
        teams = [o.get_attribute("value") for o in Select(driver.find_element(By.ID, "team")).options][1:]
        assert teams
        Select(driver.find_element(By.ID, "team")).select_by_value(teams[0])
        rows = visible_rows("team")
        assert rows and all(f"|{teams[0]}|" in r[2] for r in rows)
        driver.find_element(By.ID, "reset").click()

        # Free text: a resource id finds its findings only.
        target = findings[0]["resource"]["id"]
        box = driver.find_element(By.ID, "q")
        box.send_keys(target.lower())
        rows = visible_rows("team")
        assert rows and all(target.lower() in r[3] for r in rows)
        box.clear()
        box.send_keys("no-such-thing-anywhere")
        assert not visible_rows("team")
        assert driver.find_element(By.ID, "empty").is_displayed()
        driver.find_element(By.ID, "reset").click()

        # Dark/light switch, nothing fetched, no console error.
        driver.find_element(By.ID, "theme").click()
        assert driver.execute_script("return document.documentElement.dataset.theme") in ("dark", "light")
        assert driver.execute_script("return performance.getEntriesByType('resource').length") == 0
        errors = [e for e in driver.get_log("browser") if e["level"] in ("SEVERE", "ERROR")]
        assert not errors, errors
        shot = tmp_path / "pdguard-report.png"
        driver.execute_script("document.documentElement.dataset.theme = 'light'; window.scrollTo(0, 0)")
        assert driver.save_screenshot(str(shot))
        assert shot.stat().st_size > 10_000
    finally:
        driver.quit()


def test_team_view_of_odd_teams_in_chromium(tmp_path: Path) -> None:
    """Team names come from PagerDuty: a `|` in one, "(no team)" as a real name, two names alike once
    neutralised, markup, odd spaces. The by-team view the page builds is still the one the server
    rendered (groups, order, rows, counts), with a finding of several teams under each, the rows in
    the findings' order when a policy has findings of several severities, a row's own title when it
    differs from its policy group's, and the account in the search text of a report of two accounts."""
    from selenium.webdriver.common.by import By

    report = sample_report(baseline=True)
    report.findings += [
        make_finding("PDG-EP-002", "escalation_policy", "PEP0002", "Low EP", "A lower one", severity="low"),
        make_finding("PDG-SVC-001", "service", "PSVC004", "svc4", "No escalation policy").model_copy(
            update={"title": "An older title"}),
    ]
    for i, f in enumerate(report.findings):
        f.account = ("us", "eu")[i % 2]
    report.meta["accounts"] = {"us": {"account_subdomain": "acme-us"}, "eu": {"account_subdomain": "acme-eu"}}
    teams = {"PSCH001": ["A|B"], "PSVC001": ["A", "B"], "PEP0001": [NO_TEAM], "PUSR001": ["x\x1b", "x\\x1b"],
             "PSVC003": ["<img src=x onerror=alert(1)>", "zeta", "Alpha"], "PEP0002": ["A|B", "  spaced   name "],
             "PSVC004": ["\u2014"]}
    ctx = HTMLContext(teams={("", rid): names for rid, names in teams.items()})
    out = HTMLOutput(context=ctx)
    page = tmp_path / "odd.html"
    page.write_text(out.render(report))
    expected = _expected_team_view(report.findings, ctx, several=True)
    names = [g["name"] for g in expected]
    assert names[0] == "A|B" and {"A", "B", "spaced name"} <= set(names) and names[-1] == NO_TEAM
    assert names.count("x\\x1b") == 2
    assert [r[3] for r in expected[0]["rows"]] == ["PSCH001", "PEP0002"]  # the findings' order, not the policies'
    driver = _browser()
    try:
        driver.get(page.as_uri())
        assert _team_view(driver) == expected
        assert not driver.find_elements(By.TAG_NAME, "img")
        box = driver.find_element(By.ID, "q")
        for query, ids in (("(no team)", {"PEP0001"}), ("spaced name", {"PEP0002"}), ("an older title", {"PSVC004"}),
                           ("a|b", {"PSCH001", "PEP0002"})):
            box.clear()
            box.send_keys(query)
            assert set(driver.execute_script(
                "return Array.from(document.querySelectorAll('#view-policy tr.f')).filter(r => !r.hidden)"
                ".map(r => r.querySelector('.c-res code').textContent)")) == ids, query
        errors = [e for e in driver.get_log("browser") if e["level"] in ("SEVERE", "ERROR")]
        assert not errors, errors
    finally:
        driver.quit()


def _size(n: int) -> int:
    """Bytes of the HTML report of `n` findings like a real account's: a link to PagerDuty, a name,
    a message of ~100 characters, one team (one in ten without)."""
    findings, teams, links = [], {}, {}
    for i in range(n):
        p = POLICIES[i % 6]
        rid = f"P{i:06X}"
        findings.append(make_finding(p.id, "service", rid, f"checkout-api-{i}",
                                     f'service "checkout-api-{i}" opens every incident at high urgency: every alert, '
                                     "a warning too, pages someone at once"))
        links[("service", rid)] = f"https://acme.pagerduty.com/service-directory/{rid}"
        if i % 10:
            teams[("service", rid)] = [f"Team {i % 20:02d}"]
    report = Report(policies=list(POLICIES), findings=findings, meta={"account_subdomain": "acme"})
    return len(HTMLOutput(context=HTMLContext(teams=teams, links=links)).render(report).encode())


def test_html_size_per_finding() -> None:
    """Each finding is in the file once (the by-team view is built by the page's script), with no
    copy of its text for the filter box: ~620 bytes a finding here (it was ~1,740)."""
    per_finding = (_size(600) - _size(300)) / 300
    assert per_finding < BUDGET_PER_FINDING, per_finding


BUDGET_PER_FINDING = 650


def test_no_token() -> None:
    """The key goes through the real path (simulator → scanner → engine → report) and never out."""
    from report_fixtures import SCANNED_KEY, scanned_report

    report = scanned_report(baseline=True)
    text = HTMLOutput().render(report)
    assert report.findings[0].policy_id in text
    assert SCANNED_KEY not in text


def test_severity_filter_lists_less_and_says_so() -> None:
    from pdguard.evaluate import show_only

    full = sample_report()
    report = show_only(full, ["low"])
    html = HTMLOutput().render(report)
    listed = re.findall(r'<tr class="f" data-sev="([a-z]+)"', html)
    assert listed and set(listed) == {"low"}
    hidden = len(full.findings) - len([f for f in full.findings if f.severity == "low"])
    assert hidden and report.summary.hidden == hidden
    assert f"showing only low (--severity): {hidden} findings not listed; the gate still counts every finding" in html
    # the cards count every finding, listed or not
    assert re.search(r'data-sev="critical"[^>]*><span class="n">2</span>', html)


REVISION = "0123456789abcdef" * 4  # a policy revision: 64 hex digits


def _header(text: str) -> str:
    m = re.search(r'<p class="sub">(.*?)</p>', text)
    assert m, text[:2000]
    return m.group(1)


def test_evaluation_in_the_header() -> None:
    """meta.evaluation in the header: engine, policy revision (12 digits shown, the whole in its title)."""
    report = sample_report()
    report.tool["engine"] = "embedded"
    report.meta["evaluation"] = {"engine": "embedded", "policy_revision": REVISION}
    sub = _header(HTMLOutput().render(report))
    assert (f'engine embedded · policy revision <code class="rev" title="{REVISION}">0123456789ab…</code>'
            in sub)
    assert "bundle" not in sub and "decision id" not in sub
    assert sub.count("engine embedded") == 1
    report.meta.pop("evaluation")
    sub = _header(HTMLOutput().render(report))
    assert "engine embedded" in sub and "policy revision" not in sub  # the tool's engine, as before


def test_evaluation_opa_bundle_and_decision_id_escaped() -> None:
    report = sample_report()
    report.meta["evaluation"] = {
        "engine": "opa", "policy_revision": REVISION, "bundle_revision": "f" * 64,
        "bundle": 'bundle"><script>alert(1)</script>\x1b[2J',
        "decision_id": "3f1c\u202e<img src=x onerror=alert(2)>",
    }
    text = HTMLOutput().render(report)
    sub = _header(text)
    assert "engine opa · policy revision" in sub
    assert ('bundle <code>bundle&quot;&gt;&lt;script&gt;alert(1)&lt;/script&gt;\\x1b[2J</code> (revision '
            f'<code class="rev" title="{"f" * 64}">ffffffffffff…</code>)') in sub
    assert "decision id <code>3f1c\\u202e&lt;img src=x onerror=alert(2)&gt;</code>" in sub
    assert "<script>alert(1)" not in text and "<img src=x" not in text
    assert "\x1b" not in text and "\u202e" not in text
