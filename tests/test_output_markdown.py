"""Markdown output: summary tables, escaping, caps."""

from __future__ import annotations

import re

from report_fixtures import big_report, sample_report

from pdguard.output import get_output
from pdguard.output.markdown import MarkdownOutput, cell

ROW = re.compile(r"^\|.*\|$")


def unescaped_pipes(line: str) -> int:
    return len(re.findall(r"(?<!\\)\|", line))


def finding_rows(text: str) -> list[str]:
    """Rows of the per-severity findings tables (4 columns, after '### Findings')."""
    section = text.split("### Findings", 1)[1].split("\n### ", 1)[0]
    return [
        line for line in section.splitlines()
        if ROW.match(line) and not line.startswith("| policy |") and not line.startswith("|---")
    ]


def test_registered():
    out = get_output("markdown")
    assert isinstance(out, MarkdownOutput) and out.name == "markdown"


def test_heading_and_counts():
    report = sample_report()
    text = MarkdownOutput().render(report)
    assert text.startswith("## pdguard")
    assert "`acme`" in text
    assert "| severity | findings | waived |" in text
    assert "| 🟥 critical | 2 | 0 |" in text
    assert "| 🟦 low | 1 | 1 |" in text
    assert f"| **total** | **{len(report.findings)}** | **{len(report.waived)}** |" in text
    assert "failing" in text
    assert "Baseline" not in text
    # severity sections in order
    positions = [text.index(f" {s} (") for s in ("critical", "high", "medium", "low", "info")]
    assert positions == sorted(positions)


def test_same_findings_and_table_integrity():
    report = sample_report()
    text = MarkdownOutput().render(report)
    rows = finding_rows(text)
    assert len(rows) == len(report.findings)
    for row in rows:
        assert unescaped_pipes(row) == 5, row  # 4 columns, `|` inside cells escaped
    for f in report.findings:
        assert sum(f"(`{f.resource.id}`)" in r for r in rows) == sum(
            g.resource.id == f.resource.id for g in report.findings
        )
    # every line of a table is one row: the multi-line message did not break the table
    for line in text.splitlines():
        if line.startswith("|"):
            assert line.endswith("|")
    assert "API \\| &lt;prod&gt; &amp; \"edge\"" in text
    assert "<prod>" not in text


def test_waived_section():
    report = sample_report()
    text = MarkdownOutput().render(report)
    waived = text.split("### Waived (2)", 1)[1].split("\n### ", 1)[0]
    assert "reorg in progress" in waived
    assert "service account &amp; \"bot\" &lt;ok&gt;" in waived
    assert "2027-01-31" in waived


def test_baseline_new_fixed():
    text = MarkdownOutput().render(sample_report(baseline=True))
    assert "**Baseline:** 3 new · 4 unchanged · 1 fixed" in text
    assert "**new**" in text
    assert "### Fixed since baseline (1)" in text
    assert "Old \\| rota" in text


def test_cap_long_lists():
    report = big_report(1000, waived=80)
    text = MarkdownOutput().render(report)
    assert len(finding_rows(text)) == MarkdownOutput.max_rows
    assert "… and 800 more findings" in text
    assert "… and 30 more waived findings" in text
    assert len(text) < 65_536  # fits a GitHub PR comment


def test_cell_escaping():
    assert cell("a | b\nc") == "a \\| b c"
    assert cell("<script>&") == "&lt;script&gt;&amp;"
    assert cell(None) == ""


def test_no_token():
    assert "token=" not in MarkdownOutput().render(sample_report(baseline=True)).lower()
