"""Text from PagerDuty is untrusted: escape sequences and bidi controls never reach a human raw.

Fixtures carry ESC/CSI (clear screen), OSC (window title, hyperlink), BEL, NUL, CR, the one-byte
C1 CSI, and the bidi override U+202E / isolate U+2066 in names, ids and messages. Every human
output (table, Markdown, inventory listings, diff, log lines, error messages) must show them as
inert visible escapes; JUnit and SARIF must stay valid (and exact).
"""

from __future__ import annotations

import json
import logging
import os
import subprocess
import sys
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest
from click.testing import CliRunner
from report_fixtures import make_finding, sample_report

from pdguard.findings import Finding, Report, Resource, fingerprint
from pdguard.inventory.store import Store
from pdguard.output.junit import JUnitOutput
from pdguard.output.markdown import MarkdownOutput
from pdguard.output.sarif import SarifOutput
from pdguard.output.table import TableOutput
from pdguard.textsafe import SafeFormatter, is_safe, safe_data, safe_text

CLEAR = "\x1b[2J\x1b[H"
OSC_TITLE = "\x1b]0;pwned\x07"
OSC_LINK = "\x1b]8;;https://evil.example\x1b\\click\x1b]8;;\x1b\\"
NASTY_NAME = f"api{CLEAR}{OSC_TITLE}gw\u202eexe.txt\u2066x\u2069\x00\x9b31m\r"
NASTY_MSG = f"service {OSC_LINK} has no escalation policy\x07\r\nforged: line"
NASTY_ID = "P\x1b[31mRED"
RAW = ["\x1b", "\x07", "\x00", "\x9b", "\u202e", "\u2066", "\u2069"]


def nasty_report() -> Report:
    report = sample_report()
    report.findings.append(make_finding("PDG-SVC-001", "service", NASTY_ID, NASTY_NAME, NASTY_MSG))
    report.warnings.append(f"scan warning about {NASTY_NAME}")
    return report


def assert_inert(text: str, *, multiline: bool = True) -> None:
    for ch in RAW:
        assert ch not in text, f"raw {ch!r} reached the output"
    assert is_safe(text, multiline=multiline)


def test_safe_text_unit() -> None:
    assert safe_text(CLEAR) == "\\x1b[2J\\x1b[H"
    assert safe_text("a\u202eb") == "a\\u202eb"
    assert safe_text("x\x9by") == "x\\x9by"
    assert safe_text("one\r\ntwo\tthree") == "one two three"
    assert safe_text("one\r\ntwo\rX", multiline=True) == "one\ntwo\\x0dX"
    assert safe_text("lone \ud800") == "lone \\ud800"
    assert safe_text(None) == "" and safe_text(42) == "42"
    assert safe_text("Zoë 🚨 日本 \u200d") == "Zoë 🚨 日本 \u200d"  # ordinary text untouched
    # the Arabic letter mark (bidi) and the line/paragraph separators (a line break to many viewers)
    assert safe_text("a\u061cb\u2028c\u2029d") == "a\\u061cb\\u2028c\\u2029d"
    assert safe_text("a\u2028b", multiline=True) == "a\\u2028b"
    assert safe_data({"k\x1b[2J": ["v\u202e", 1]}) == {"k\\x1b[2J": ["v\\u202e", 1]}  # keys too


def test_log_tracebacks_keep_lines_but_lose_escapes() -> None:
    try:
        raise ValueError("bad name api\x1b[2J\u202e")
    except ValueError:
        record = logging.LogRecord("pdguard", logging.ERROR, __file__, 1, "failed", None, sys.exc_info())
    text = SafeFormatter("%(message)s").format(record)
    assert "Traceback" in text and "\n" in text
    assert_inert(text)


def test_table_plain_and_colour() -> None:
    report = nasty_report()
    plain = TableOutput(width=400).render(report)
    assert_inert(plain)
    assert "\\x1b[2J" in plain and "\\u202e" in plain  # shown, visibly
    coloured = TableOutput(width=400).render(report, color=True)
    for seq in (CLEAR, OSC_TITLE, "\x1b]8;;", "\u202e", "\x00", "\x9b", "\x07"):
        assert seq not in coloured  # only rich's own SGR styling remains


def test_markdown() -> None:
    text = MarkdownOutput().render(nasty_report())
    assert_inert(text)
    # the CR/LF in the message did not start a new table row
    assert not any(line.startswith("forged") for line in text.splitlines())


def test_junit_and_sarif_stay_valid() -> None:
    report = nasty_report()
    root = ET.fromstring(JUnitOutput().render(report).encode("utf-8"))
    assert root.tag == "testsuites"
    sarif = json.loads(SarifOutput().render(report))
    msgs = [r["message"]["text"] for r in sarif["runs"][0]["results"]]
    assert any(NASTY_MSG.strip() in m or "forged: line" in m for m in msgs)  # exact data, JSON-escaped


def _store_with_nasty_names(tmp_path: Path) -> str:
    url = f"sqlite:///{tmp_path / 'inv.sqlite'}"
    store = Store(url)

    def doc(at: str, name: str) -> dict:
        d = {"schema_version": "2.0", "meta": {"scanned_at": at, "account_subdomain": "acme\x1b[2J", "complete": True}}
        for key in ("services", "escalation_policies", "schedules", "teams", "users", "incidents"):
            d[key] = []
        d["services"] = [{"id": NASTY_ID, "type": "service", "name": name, "description": NASTY_MSG}]
        return d

    f = Finding(policy_id="PDG-SVC-001", title="t", severity="high", msg=NASTY_MSG,
                resource=Resource(type="service", id=NASTY_ID, name=NASTY_NAME),
                fingerprint=fingerprint("PDG-SVC-001", "service", NASTY_ID, {}))
    store.save_scan(doc("2026-11-26T09:00:00Z", "plain"), Report())
    store.save_scan(doc("2026-11-26T10:00:00Z", NASTY_NAME), Report(findings=[f]))
    store.close()
    return url


def test_inventory_listings_and_diff(tmp_path: Path) -> None:
    import click

    from pdguard.inventory.cli import register

    @click.group()
    def main() -> None:
        pass

    register(main)
    url = _store_with_nasty_names(tmp_path)
    runner = CliRunner()
    for args in (["inventory", "list"], ["inventory", "scans"], ["inventory", "show", NASTY_ID], ["diff"]):
        r = runner.invoke(main, [*args, "--store", url])
        assert r.exit_code == 0, (args, r.output)
        assert_inert(r.output)
        assert "\\x1b" in r.output, args  # the data is shown, neutralised
    r = runner.invoke(main, ["diff", "--store", url, "--format", "json"])
    assert json.loads(r.output)["assets"]["changed"][0]["values"]["name"]["new"] == NASTY_NAME  # JSON exact


def test_log_lines_are_one_inert_line() -> None:
    record = logging.LogRecord("pdguard.api", logging.WARNING, __file__, 1, "page from %s", (NASTY_MSG,), None)
    line = SafeFormatter("pdguard: %(message)s").format(record)
    assert "\n" not in line and "\r" not in line
    assert_inert(line)


def test_error_messages_are_neutralised(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if k not in ("PAGERDUTY_API_KEY", "PAGERDUTY_OAUTH_TOKEN")}
    r = subprocess.run([sys.executable, "-m", "pdguard", "check", "--snapshot", f"{tmp_path}/x{CLEAR}\u202e.json"],
                       capture_output=True, text=True, env=env, timeout=60)
    assert r.returncode == 3
    assert_inert(r.stderr)
    assert "\\x1b[2J" in r.stderr


@pytest.mark.parametrize("fmt", ["table", "markdown"])
def test_cli_outputs_from_a_snapshot_with_escape_sequences(tmp_path: Path, fmt: str) -> None:
    from pdguard.scanner import ScanOptions, scan
    from pdguard.simulator import sample_account, serve
    from pdguard.snapshot import dump_document

    account = sample_account()
    token = "tok-untrusted"
    with serve(account, tokens={token}) as server:
        doc = scan(ScanOptions(api_key=token, api_url=server.url)).document
    victim = next(s for s in doc["services"] if s.get("escalation_policy") is None)
    victim["name"] = NASTY_NAME
    path = tmp_path / "s.json"
    path.write_bytes(dump_document(doc))
    env = {k: v for k, v in os.environ.items() if k not in ("PAGERDUTY_API_KEY", "PAGERDUTY_OAUTH_TOKEN")}
    r = subprocess.run([sys.executable, "-m", "pdguard", "check", "--snapshot", str(path), "--format", fmt],
                       capture_output=True, text=True, env={**env, "COLUMNS": "300"}, timeout=120)
    assert r.returncode == 1, r.stderr
    assert victim["id"] in r.stdout
    assert_inert(r.stdout)
    assert_inert(r.stderr)
