"""Table output (rich): readable, no ANSI without color, fast for large reports."""

from __future__ import annotations

import time

from report_fixtures import SCANNED_KEY, big_report, make_finding, sample_report, scanned_report

from pdguard.output import get_output
from pdguard.output.table import TableOutput


def test_registered():
    out = get_output("table")
    assert isinstance(out, TableOutput) and out.name == "table"


def test_plain_text_without_color():
    text = TableOutput().render(sample_report())
    assert "\x1b[" not in text
    colored = TableOutput().render(sample_report(), color=True)
    assert "\x1b[" in colored


def test_contains_every_finding_grouped_by_severity():
    report = sample_report()
    text = TableOutput(width=250).render(report)
    for f in report.findings:
        assert f.resource.id in text
        assert f.policy_id in text
    order = [text.index(f"{s} (") for s in ("critical", "high", "medium", "low", "info")]
    assert order == sorted(order)
    assert 'API | <prod> & "edge"' in text
    assert "Attach an escalation policy to the service." in text  # short fix
    assert "Prefer team-owned policies" not in text  # only the first sentence


def test_waived_section_and_counts():
    report = sample_report()
    text = TableOutput(width=200).render(report)
    waived = text.split("waived (2)", 1)[1]
    assert "PUSR002" in waived and "reorg in progress" in waived
    assert "findings: critical 2 · high 2 · medium 1 · low 1 · info 1" in text
    assert "baseline:" not in text
    with_baseline = TableOutput(width=200).render(sample_report(baseline=True))
    assert "baseline: new 3 · unchanged 4 · fixed 1" in with_baseline


def test_markup_in_names_is_literal():
    report = sample_report()
    report.findings.append(make_finding("PDG-SVC-005", "service", "PMARK01", "[bold red]x[/]", "[link=x]y"))
    text = TableOutput(width=250).render(report)
    assert "[bold red]x[/]" in text and "[link=x]y" in text


def test_large_report_summarised_and_fast():
    report = big_report(25_000, waived=200)
    start = time.perf_counter()
    text = TableOutput().render(report)
    elapsed = time.perf_counter() - start
    assert elapsed < 15, f"table took {elapsed:.1f}s for 25,000 findings"
    assert "findings per policy" in text
    assert f"showing the first {TableOutput.preview_rows} of 25000 findings" in text
    assert "P0024999" not in text  # not every row
    assert len(text.splitlines()) < 2_000
    assert "findings: critical" in text and "total 25000" in text


def test_small_report_has_no_summary():
    assert "findings per policy" not in TableOutput().render(sample_report())


def test_no_token():
    """The key goes through the real path (simulator → scanner → engine → report) and never out."""
    report = scanned_report()
    text = TableOutput().render(report)
    assert report.findings and report.findings[0].fingerprint[:12] in text or report.findings[0].policy_id in text
    assert SCANNED_KEY not in text
    assert "token=" not in text.lower()
