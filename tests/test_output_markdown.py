"""Markdown output: summary tables, escaping, caps."""

from __future__ import annotations

import re

from report_fixtures import SCANNED_KEY, big_report, sample_report, scanned_report

from pdguard.output import get_output
from pdguard.output._common import sorted_findings
from pdguard.output.markdown import MarkdownOutput, cell


def md_length(text: str) -> int:
    """UTF-16 code units, counted here, not by the code under test (an emoji is 2)."""
    return len(text.encode("utf-16-le")) // 2


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
    shown = len(finding_rows(text))
    assert 100 < shown < 1000
    assert f"… {1000 - shown} more findings not shown (" in text
    assert "… and 30 more waived findings" in text
    assert md_length(text) < 65_536  # fits a GitHub PR comment


def test_2000_findings_stay_under_githubs_limit_by_severity():
    report = big_report(2000, waived=10)
    for i, f in enumerate(report.findings):  # long messages, non-ASCII (emoji count 2 in UTF-16)
        f.msg = f"problem {i} 🚨 " + "é" * 120
    text = MarkdownOutput(full_report="pdguard-report.html").render(report)
    assert len(text) < 65_536 and md_length(text) < 65_536
    rows = finding_rows(text)
    assert rows
    # Truncated by severity: the rows shown are the first ones in severity order (critical first).
    ordered = sorted_findings(report.findings)
    assert all(f"(`{f.resource.id}`)" in text for f in ordered[: len(rows)])
    assert not any(f"(`{f.resource.id}`)" in text for f in ordered[len(rows):])
    more = re.search(r"_… ([\d,]+) more findings not shown \(([^)]*)\)", text)
    assert more, text[-600:]
    assert int(more.group(1).replace(",", "")) == 2000 - len(rows)
    assert "info" in more.group(2) and "critical" in more.group(2)  # 2,000 long rows: criticals cut too
    assert "the full report: `pdguard-report.html`" in text
    assert text.rstrip().endswith("._") or "### Waived" in text


def _padded(report, pad: int):
    report.findings[0].msg = "m" + "x" * pad
    return MarkdownOutput().render(report)


def test_cap_exactly_at_the_limit():
    """65,535 characters is kept whole; 65,536 is cut (GitHub accepts at most 65,536)."""
    report = big_report(120)
    report.findings[0].msg = "m"
    base = md_length(MarkdownOutput(max_chars=10**9).render(report))
    assert base < 65_535
    exact = _padded(report, 65_535 - base)
    assert md_length(exact) == 65_535 and "more finding" not in exact
    over = _padded(report, 65_536 - base)
    assert md_length(over) <= 65_535
    assert re.search(r"_… [\d,]+ more findings? not shown", over)


def test_pointer_to_the_ci_run(monkeypatch):
    monkeypatch.setenv("GITHUB_SERVER_URL", "https://github.com")
    monkeypatch.setenv("GITHUB_REPOSITORY", "acme/ops")
    monkeypatch.setenv("GITHUB_RUN_ID", "42")
    text = MarkdownOutput(max_chars=3000).render(big_report(200))
    assert "artifacts of [this CI run](https://github.com/acme/ops/actions/runs/42)" in text
    assert md_length(text) <= 3000


def test_huge_warnings_still_fit():
    report = big_report(10)
    report.warnings = ["w" * 3000 + str(i) for i in range(500)]
    text = MarkdownOutput().render(report)
    assert md_length(text) < 65_536


def test_cell_escaping():
    assert cell("a | b\nc") == "a \\| b c"
    assert cell("<script>&") == "&lt;script&gt;&amp;"
    assert cell(None) == ""


def test_no_token():
    """The key goes through the real path (simulator → scanner → engine → report) and never out."""
    report = scanned_report(baseline=True)
    text = MarkdownOutput().render(report)
    assert report.findings and report.findings[0].fingerprint[:12] in text or report.findings[0].policy_id in text
    assert SCANNED_KEY not in text
    assert "token=" not in text.lower()


REVISION = "0123456789abcdef" * 4  # a policy revision: 64 hex digits


def evaluation_line(text: str) -> str:
    lines = [line for line in text.splitlines() if line.startswith("Evaluated by")]
    assert len(lines) == 1, text
    return lines[0]


def test_evaluation_embedded():
    """meta.evaluation is shown under the summary: the engine and the policy revision, cut to 12 digits."""
    report = sample_report()
    report.meta["evaluation"] = {"engine": "embedded", "policy_revision": REVISION}
    text = MarkdownOutput().render(report)
    assert evaluation_line(text) == "Evaluated by the `embedded` engine · policy revision `0123456789ab…`"
    assert REVISION not in text
    assert text.index("policies evaluated") < text.index("Evaluated by") < text.index("| severity |")
    report.meta.pop("evaluation")
    assert "Evaluated by" not in MarkdownOutput().render(report)


def test_evaluation_opa_bundle_and_decision_id_escaped():
    """On OPA the bundle (its revision when it is not the policy revision) and the decision id; what the
    server said is neutralised (control characters visible) and cannot leave its code span."""
    report = sample_report()
    report.meta["evaluation"] = {
        "engine": "opa", "policy_revision": REVISION, "bundle_revision": "f" * 64,
        "bundle": "evil`</code><script>alert(1)</script>`\x1b[2J\nnext line",
        "decision_id": "3f1c\u202e`<img src=x onerror=alert(2)>`",
    }
    line = evaluation_line(MarkdownOutput().render(report))
    assert line.startswith("Evaluated by the `opa` engine · policy revision `0123456789ab…` · bundle `evil")
    assert "(revision `ffffffffffff…`)" in line and " · decision id `3f1c\\u202e" in line
    assert "\x1b" not in line and "\\x1b[2J next line" in line and "\u202e" not in line
    # the backticks of the values are gone: every < stays inside a code span (literal text on GitHub)
    spans = line.split("`")
    assert len(spans) % 2 == 1
    assert all("<" not in outside for outside in spans[0::2])
    assert "<script>" in "".join(spans[1::2]) and "<img" in "".join(spans[1::2])
    # the same (equal) bundle revision as the policy revision is not repeated
    report.meta["evaluation"]["bundle_revision"] = REVISION
    assert "(revision" not in evaluation_line(MarkdownOutput().render(report))
