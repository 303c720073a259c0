"""Human-readable table output (rich).

Layout: a header line (account, scan time), one table per severity (critical first) with
columns severity · policy (id + title) · resource (type, name, id) · message · fix (first
sentence of the remediation); then waived findings (short), expired waivers, warnings, and the
counts by severity (plus new / unchanged / fixed when a baseline was used).

Large reports stay fast: with more than :attr:`TableOutput.max_rows` findings a per-policy
summary (count per policy) is printed first and only the first :attr:`TableOutput.preview_rows`
findings (in severity order) are rendered as rows, followed by a note pointing at the JSON/SARIF
outputs for the full list. Cell text is never interpreted as rich markup. Without ``color`` no
ANSI escape codes are written and the width is a fixed 160 columns (deterministic output); with
``color`` the terminal width is used. ``TableOutput(width=…)`` overrides both.
"""

from __future__ import annotations

import os
import shutil
from collections import Counter
from io import StringIO
from typing import ClassVar

from rich import box
from rich.console import Console
from rich.table import Table
from rich.text import Text

from pdguard.accounts import is_several, split
from pdguard.accounts import label as account_label
from pdguard.findings import SEVERITIES, Finding, Report
from pdguard.output._common import (
    count,
    first_sentence,
    gate_line,
    policy_titles,
    report_summary,
    severity_index,
    shown_note,
    sorted_findings,
    summary_counts,
)
from pdguard.textsafe import safe_text

SEVERITY_STYLES: dict[str, str] = {
    "critical": "bold white on red",
    "high": "bold red",
    "medium": "yellow",
    "low": "cyan",
    "info": "dim",
}
DEFAULT_WIDTH = 160


def _t(value: object, style: str = "") -> Text:
    """Untrusted data as rich Text: never markup, control/bidi characters neutralised."""
    return Text(safe_text(value), style=style)


def _resource_cell(f: Finding) -> Text:
    r = f.resource
    text = _t(r.type, "dim")
    if r.name:
        text.append(f" {safe_text(r.name)}")
    text.append(f" ({safe_text(r.id)})", style="dim")
    return text


def output_width(color: bool) -> int:
    """`COLUMNS` when set (pipes, CI logs), else the terminal's width on a terminal, else 160."""
    env = os.environ.get("COLUMNS", "")
    if env.isdigit() and int(env) >= 40:
        return int(env)
    if color:
        return max(80, shutil.get_terminal_size((DEFAULT_WIDTH, 24)).columns)
    return DEFAULT_WIDTH


class TableOutput:
    name: ClassVar[str] = "table"
    max_rows: ClassVar[int] = 500  # above this, summarise per policy and preview
    preview_rows: ClassVar[int] = 100
    waived_rows: ClassVar[int] = 50

    def __init__(self, *, width: int | None = None) -> None:
        self.width = width

    def _console(self, buf: StringIO, color: bool) -> Console:
        return Console(
            file=buf,
            force_terminal=color,
            no_color=not color,
            color_system="auto" if color else None,
            width=self.width or output_width(color),
            highlight=False,
            emoji=False,
            markup=False,
            soft_wrap=False,
        )

    def _findings_table(self, title: str, findings: list[Finding], *, accounts: bool = False) -> Table:
        table = Table(title=title, title_justify="left", box=box.SIMPLE_HEAD, show_lines=False, expand=False,
                      pad_edge=False)
        table.add_column("severity", no_wrap=True)
        if accounts:
            table.add_column("account", no_wrap=True)
        table.add_column("policy", ratio=2)
        table.add_column("resource", ratio=2)
        table.add_column("message", ratio=3)
        table.add_column("fix", ratio=3)
        for f in findings:
            policy = _t(f.policy_id, "bold")
            policy.append(f" {safe_text(f.title)}")
            msg = _t(f.msg)
            if f.baseline == "new":
                msg = Text("[new] ", style="bold magenta") + msg
            table.add_row(
                _t(f.severity, SEVERITY_STYLES.get(f.severity, "")),
                *([_t(f.account or "")] if accounts else []),
                policy,
                _resource_cell(f),
                msg,
                _t(first_sentence(safe_text(f.remediation), 400)),
            )
        return table

    def _policy_summary(self, report: Report, findings: list[Finding]) -> Table:
        titles = policy_titles(report)
        per_policy: Counter[tuple[str, str]] = Counter((f.severity, f.policy_id) for f in findings)
        table = Table(title="findings per policy", title_justify="left", box=box.SIMPLE_HEAD, pad_edge=False)
        table.add_column("severity", no_wrap=True)
        table.add_column("policy")
        table.add_column("findings", justify="right")
        for (sev, pid), n in sorted(per_policy.items(), key=lambda kv: (severity_index(kv[0][0]), -kv[1], kv[0][1])):
            label = _t(pid, "bold")
            label.append(f" {safe_text(titles.get(pid, ''))}")
            table.add_row(_t(sev, SEVERITY_STYLES.get(sev, "")), label, str(n))
        return table

    def render(self, report: Report, *, color: bool = False) -> str:
        buf = StringIO()
        console = self._console(buf, color)
        meta = report.meta
        s = report_summary(report)
        several = is_several(report)
        header = Text("pdguard", style="bold")
        who = account_label(report)
        if who:
            header.append(f" · {'accounts' if several else 'account'} {safe_text(who)}")
        if meta.get("scanned_at"):
            header.append(f" · scanned {safe_text(meta['scanned_at'])}")
        header.append(f" · {count(len(report.policies), 'policy')} evaluated")
        console.print(header)

        findings = sorted_findings(report.findings)
        if not findings:
            console.print(Text("No findings." if not s.hidden else "No findings at the severities shown.",
                               style="green"))
        else:
            shown = findings
            if len(findings) > self.max_rows:
                console.print(self._policy_summary(report, findings))
                shown = findings[: self.preview_rows]
            for sev in [*SEVERITIES, None]:
                group = [
                    f for f in shown if (f.severity == sev if sev else f.severity not in SEVERITIES)
                ]
                if group:
                    console.print(self._findings_table(f"{sev or 'other'} ({len(group)})", group, accounts=several))
            if len(shown) < len(findings):
                console.print(
                    Text(
                        f"… showing the first {len(shown)} of {len(findings)} findings; "
                        "use --format json or sarif for the complete list.",
                        style="italic",
                    )
                )

        if report.waived:
            waived = sorted_findings(report.waived)
            table = Table(title=f"waived ({len(waived)})", title_justify="left", box=box.SIMPLE_HEAD, pad_edge=False)
            table.add_column("policy", no_wrap=True)
            table.add_column("resource")
            table.add_column("reason")
            table.add_column("expires", no_wrap=True)
            for f in waived[: self.waived_rows]:
                w = f.waiver
                table.add_row(
                    _t(f.policy_id),
                    _resource_cell(f),
                    _t(first_sentence(safe_text(w.reason), 200) if w else ""),
                    _t((w.expires or "never") if w else ""),
                )
            console.print(table)
            if len(waived) > self.waived_rows:
                console.print(Text(f"… and {count(len(waived) - self.waived_rows, 'more waived finding')}",
                                   style="italic"))

        for w in report.expired_waivers:
            console.print(_t(f"expired waiver: {w.policy} {w.resource or '*'} (expired {w.expires}): {w.reason}",
                             "yellow"))
        for warning in report.warnings:
            console.print(_t(f"warning: {warning}", "yellow"))
        if several:  # each account's count and gate, then the whole report's
            for name, sub in split(report):
                ss = report_summary(sub)
                console.print(_t(f"account {name}: {count(ss.total, 'finding')} · {gate_line(ss)}"))

        counts = summary_counts(s)
        line = Text("findings: ", style="bold")
        for i, (sev, n) in enumerate(counts.items()):
            if i:
                line.append(" · ")
            line.append(f"{safe_text(sev)} {n}", style=SEVERITY_STYLES.get(sev, "") if n else "dim")
        line.append(f" · total {s.total} · waived {s.waived or len(report.waived)} · {gate_line(s)}")
        console.print(line)
        note = shown_note(s)
        if note:
            console.print(Text(note, style="italic"))
        if s.new is not None:
            console.print(Text(f"baseline: new {s.new} · unchanged {s.unchanged or 0} · fixed {s.fixed or 0}"
                               " (only new findings fail the gate)"))
        # No trailing spaces (rich pads cells and titles to the table width).
        return "\n".join(line.rstrip() for line in buf.getvalue().splitlines()) + "\n"
