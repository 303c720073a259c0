"""JUnit XML output: well-formed, one suite per policy, counts consistent with the report."""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET

from report_fixtures import SCANNED_KEY, big_report, make_finding, sample_report, scanned_report

from pdguard.output import get_output
from pdguard.output.junit import JUnitOutput


def parse(report) -> ET.Element:
    return ET.fromstring(JUnitOutput().render(report).encode("utf-8"))


def test_registered():
    out = get_output("junit")
    assert isinstance(out, JUnitOutput) and out.name == "junit"


def test_well_formed_and_counts_consistent():
    report = sample_report()
    root = parse(report)
    assert root.tag == "testsuites"
    totals = {"tests": 0, "failures": 0, "skipped": 0}
    for suite in root.findall("testsuite"):
        cases = suite.findall("testcase")
        assert int(suite.get("tests")) == len(cases)
        assert int(suite.get("failures")) == sum(1 for c in cases if c.find("failure") is not None)
        assert int(suite.get("skipped")) == sum(1 for c in cases if c.find("skipped") is not None)
        assert suite.get("errors") == "0"
        for k in totals:
            totals[k] += int(suite.get(k))
    for k, v in totals.items():
        assert int(root.get(k)) == v


def test_one_suite_per_policy_and_passing_case():
    report = sample_report()
    root = parse(report)
    suites = {s.get("name").split(" ", 1)[0]: s for s in root.findall("testsuite")}
    assert set(suites) == {p.id for p in report.policies}
    clean = suites["PDG-INC-007"]
    cases = clean.findall("testcase")
    assert len(cases) == 1 and list(cases[0]) == []  # passing
    assert clean.get("failures") == "0"


def test_same_findings():
    report = sample_report(baseline=True)
    root = parse(report)
    failed = {}
    skipped = set()
    for suite in root.findall("testsuite"):
        for case in suite.findall("testcase"):
            pid = case.get("classname").removeprefix("pdguard.")
            if (fail := case.find("failure")) is not None:
                failed[(pid, case.get("name"))] = fail
            if (skip := case.find("skipped")) is not None:
                assert skip.get("message").startswith("waived: ")
                skipped.add((pid, case.get("name")))
    # one testcase per policy × resource
    active_pairs = {(f.policy_id, f.resource.type, f.resource.id) for f in report.findings}
    assert len(failed) == len(active_pairs)
    # every active fingerprint is listed in exactly one failure body
    body_fps = [fp for fail in failed.values() for fp in re.findall(r"fingerprint ([0-9a-f]{32})", fail.text)]
    assert sorted(body_fps) == sorted(f.fingerprint for f in report.findings)
    # failure type is the severity, message is the policy message
    svc = next(v for k, v in failed.items() if "PSVC001" in k[1])
    assert svc.get("type") == "critical"
    assert svc.get("message").startswith('Service "API | <prod> & edge" has no escalation policy')
    assert any('API | <prod> & "edge"' in name for _, name in failed)
    assert len(skipped) == len(report.waived)
    waived_reasons = {f.waiver.reason for f in report.waived}
    messages = {
        c.find("skipped").get("message") for c in root.iter("testcase") if c.find("skipped") is not None
    }
    assert messages == {f"waived: {r}" for r in waived_reasons}


def test_invalid_xml_characters_are_dropped():
    report = sample_report()
    report.findings.append(
        make_finding("PDG-SVC-005", "service", "PCTRL01", "bell\x07name", "bad\x00 char\x1b[31m")
    )
    root = parse(report)
    names = [c.get("name") for c in root.iter("testcase")]
    assert 'service "bellname" (PCTRL01)' in names


def test_large_report_is_fast_enough():
    root = parse(big_report(5000, waived=100))
    assert int(root.get("failures")) == 5000 and int(root.get("skipped")) == 100


def test_no_token():
    """The key goes through the real path (simulator → scanner → engine → report) and never out."""
    report = scanned_report()
    text = JUnitOutput().render(report)
    assert report.findings and report.findings[0].fingerprint[:12] in text or report.findings[0].policy_id in text
    assert SCANNED_KEY not in text
    assert "token=" not in text.lower()


def test_warnings_in_every_suites_system_err():
    """The scan's warnings qualify every policy's result: each testsuite's <system-err>, after its testcases."""
    report = sample_report()
    report.warnings = ["the inventory is incomplete: incidents forbidden", "incidents truncated\nto 90 days"]
    root = parse(report)
    suites = root.findall("testsuite")
    assert suites
    for suite in suites:
        err = suite.find("system-err")
        assert err is not None and list(suite)[-1] is err
        assert err.text == ("warning: the inventory is incomplete: incidents forbidden\n"
                            "warning: incidents truncated to 90 days")
        assert int(suite.get("tests")) == len(suite.findall("testcase"))
    report.warnings = []
    assert parse(report).find("testsuite/system-err") is None


def test_hostile_warning_is_escaped():
    report = sample_report()
    report.warnings = ["bad\x00 \x1b[31mred</system-err><testcase name=\"x\"/> & <![CDATA[ ]]>"]
    text = JUnitOutput().render(report)
    assert "\x1b" not in text and "\x00" not in text
    root = ET.fromstring(text.encode("utf-8"))
    suite = root.find("testsuite")
    assert suite.find("system-err").text == 'warning: bad [31mred</system-err><testcase name="x"/> & <![CDATA[ ]]>'
    assert len(suite.findall("testcase")) == int(suite.get("tests"))


def test_each_accounts_warnings_in_its_suites():
    report = sample_report()
    for i, f in enumerate(report.findings):
        f.account = "us" if i % 2 else "eu"
    report.waived = []
    report.meta = {"accounts": {"us": {"account_subdomain": "acme"}, "eu": {"account_subdomain": "acme-eu"}},
                   "scanned_at": "2026-11-26T09:00:00Z"}
    report.warnings = ["account eu: the inventory is incomplete", "policy loading note"]
    for suite in parse(report).findall("testsuite"):
        err = suite.find("system-err").text
        if suite.get("name").startswith("eu: "):
            assert err == "warning: the inventory is incomplete\nwarning: policy loading note"
        else:
            assert suite.get("name").startswith("us: ") and err == "warning: policy loading note"


def test_many_warnings_are_cut():
    report = sample_report()
    report.warnings = [f"{i} " + "w" * 999 for i in range(100)]
    err = parse(report).find("testsuite/system-err").text
    assert len(err) <= 20_100 and err.endswith("more warnings (the JSON report has them all)")
    assert err.startswith("warning: 0 w") and "… 81 more warnings" in err
