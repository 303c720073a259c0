"""GitHub-flavoured Markdown summary for PR comments and ``$GITHUB_STEP_SUMMARY``.

Sections: a heading with the verdict (failing findings at/above ``summary.fail_on``), a counts
table by severity, with a baseline a new / unchanged / fixed line, one findings table per severity
(critical first; columns policy · resource · message · fix; new findings marked **new**), waived
findings, expired waivers, warnings. Lists are capped (:attr:`MarkdownOutput.max_rows` finding rows
in total, :attr:`MarkdownOutput.max_waived_rows` waived rows) with an "… and N more" line, so the
document stays within GitHub's comment (65,536 characters) and step-summary (1 MiB) limits for
typical reports. Cell text is escaped: ``|``, backslashes, HTML-significant ``< > &``, Markdown
emphasis/link characters, and newlines (collapsed to spaces).
"""

from __future__ import annotations

import re
from typing import ClassVar

from pdguard.findings import SEVERITIES, Finding, Report, severity_at_least
from pdguard.output._common import first_sentence, severity_counts, sorted_findings

SEVERITY_ICONS: dict[str, str] = {
    "critical": "🟥",
    "high": "🟧",
    "medium": "🟨",
    "low": "🟦",
    "info": "⬜",
}

_MD_SPECIAL = re.compile(r"([\\`*_\[\]|#~])")


def cell(text: object) -> str:
    """Escape `text` for one GitHub Markdown table cell (single line, no HTML, no table breaks)."""
    s = " ".join(str(text if text is not None else "").split())  # newlines/tabs → spaces
    s = s.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    return _MD_SPECIAL.sub(r"\\\1", s)


def _resource(f: Finding) -> str:
    r = f.resource
    name = f"{cell(r.name)} " if r.name else ""
    return f"{cell(r.type)} {name}(`{r.id.replace('`', '')}`)"


def _policy(f: Finding) -> str:
    label = f"**{cell(f.policy_id)}** {cell(f.title)}"
    if f.docs_url and f.docs_url.startswith(("https://", "http://")):
        return f"[{label}]({f.docs_url.replace(')', '%29').replace(' ', '%20')})"
    return label


class MarkdownOutput:
    name: ClassVar[str] = "markdown"
    max_rows: ClassVar[int] = 200
    max_waived_rows: ClassVar[int] = 50

    def render(self, report: Report, *, color: bool = False) -> str:
        findings = sorted_findings(report.findings)
        waived = sorted_findings(report.waived)
        s = report.summary
        failing = [f for f in findings if severity_at_least(f.severity, s.fail_on)]
        counts = severity_counts(findings)
        waived_counts = severity_counts(waived)

        account = report.meta.get("account_subdomain")
        out: list[str] = []
        title = "## pdguard"
        if account:
            title += f": PagerDuty account `{str(account).replace('`', '')}`"
        out.append(title)
        out.append("")
        if failing:
            out.append(f"❌ **{len(failing)} failing finding{'s' if len(failing) != 1 else ''}** "
                       f"(severity ≥ {s.fail_on}), {len(findings)} in total.")
        elif findings:
            out.append(f"✅ No finding at or above `{s.fail_on}`; {len(findings)} lower-severity finding"
                       f"{'s' if len(findings) != 1 else ''}.")
        else:
            out.append("✅ No findings.")
        scanned = report.meta.get("scanned_at")
        out.append("")
        out.append(f"{len(report.policies)} policies evaluated" + (f" · scanned {cell(scanned)}" if scanned else ""))
        out.append("")

        out.append("| severity | findings | waived |")
        out.append("|---|---:|---:|")
        for sev in SEVERITIES:
            out.append(f"| {SEVERITY_ICONS[sev]} {sev} | {counts.get(sev, 0)} | {waived_counts.get(sev, 0)} |")
        others = {k: v for k, v in counts.items() if k not in SEVERITIES}
        for sev, n in others.items():
            out.append(f"| {cell(sev)} | {n} | {waived_counts.get(sev, 0)} |")
        out.append(f"| **total** | **{len(findings)}** | **{len(waived)}** |")
        out.append("")

        if s.new is not None:
            out.append(f"**Baseline:** {s.new} new · {s.unchanged or 0} unchanged · {s.fixed or 0} fixed")
            out.append("")

        if findings:
            out.append("### Findings")
            out.append("")
            budget = self.max_rows
            for sev in [*SEVERITIES, *sorted(others)]:
                group = [f for f in findings if f.severity == sev]
                if not group or budget <= 0:
                    continue
                out.append(f"#### {SEVERITY_ICONS.get(sev, '')} {cell(sev)} ({len(group)})".replace("  ", " "))
                out.append("")
                out.append("| policy | resource | message | fix |")
                out.append("|---|---|---|---|")
                for f in group[:budget]:
                    msg = cell(f.msg)
                    if f.baseline == "new":
                        msg = f"**new** {msg}"
                    out.append(f"| {_policy(f)} | {_resource(f)} | {msg} | {cell(first_sentence(f.remediation, 120))} |")
                budget -= min(len(group), budget)
                out.append("")
            shown = min(len(findings), self.max_rows)
            if shown < len(findings):
                out.append(f"_… and {len(findings) - shown} more findings (see the JSON or SARIF output)._")
                out.append("")

        if waived:
            out.append(f"### Waived ({len(waived)})")
            out.append("")
            out.append("| policy | resource | reason | expires |")
            out.append("|---|---|---|---|")
            for f in waived[: self.max_waived_rows]:
                w = f.waiver
                out.append(
                    f"| **{cell(f.policy_id)}** {cell(f.title)} | {_resource(f)} | "
                    f"{cell(w.reason if w else '')} | {cell((w.expires or 'never') if w else '')} |"
                )
            if len(waived) > self.max_waived_rows:
                out.append("")
                out.append(f"_… and {len(waived) - self.max_waived_rows} more waived findings._")
            out.append("")

        if report.fixed:
            out.append(f"### Fixed since baseline ({len(report.fixed)})")
            out.append("")
            for item in report.fixed[: self.max_waived_rows]:
                pid = item.get("policy_id") or item.get("policy") or ""
                res = item.get("resource") if isinstance(item.get("resource"), dict) else {}
                label = " ".join(str(x) for x in (res.get("type"), res.get("name"), res.get("id")) if x)
                fp = item.get("fingerprint", "")
                out.append(f"- {cell(pid)} {cell(label or fp)}".rstrip())
            if len(report.fixed) > self.max_waived_rows:
                out.append(f"- _… and {len(report.fixed) - self.max_waived_rows} more._")
            out.append("")

        if report.expired_waivers:
            out.append("### Expired waivers")
            out.append("")
            for w in report.expired_waivers:
                out.append(f"- {cell(w.policy)} {cell(w.resource or '*')}: expired {cell(w.expires)} ({cell(w.reason)})")
            out.append("")

        if report.warnings:
            out.append("### Warnings")
            out.append("")
            for warning in report.warnings:
                out.append(f"- {cell(warning)}")
            out.append("")

        return "\n".join(out).rstrip("\n") + "\n"
