"""GitHub-flavoured Markdown summary for PR comments and ``$GITHUB_STEP_SUMMARY``.

Sections: a heading with the verdict (failing findings at/above ``summary.fail_on``; with a
baseline the new failing ones out of all failing), what evaluated the policies (``meta.evaluation``:
the engine, the policy revision cut to 12 characters, on OPA the bundle and decision id), a counts
table by severity, with a baseline a
new / unchanged / fixed line, one findings table per severity (critical first; columns policy ·
resource · message · fix; new findings marked **new**), waived findings, fixed findings, expired
waivers, warnings.

Size: the whole document always stays **under 65,536 characters** (GitHub's limit for a comment
body; counted in UTF-16 code units, the strictest count, so it holds whichever way GitHub counts).
When everything does not fit, finding rows are dropped from the end of the severity order (info
first, critical last) and replaced by one line: "… N more findings not shown (by severity) — the
full report: …" pointing at the complete report (:attr:`MarkdownOutput.full_report`, e.g. the
JSON/HTML file written by the same run, or the CI run holding it). Waived, fixed and expired lists
are capped at :attr:`MarkdownOutput.max_list_rows` rows with an "… and N more" line.

Cell text is neutralised (control and bidi characters, :func:`pdguard.textsafe.safe_text`) and
escaped: ``|``, backslashes, HTML-significant ``< > &``, Markdown emphasis/link characters, and
newlines (collapsed to spaces).
"""

from __future__ import annotations

import os
import re
from typing import ClassVar

from pdguard.findings import SEVERITIES, Finding, Report
from pdguard.output._common import (
    count,
    evaluation_fields,
    first_sentence,
    gate_line,
    report_summary,
    severity_counts,
    short_revision,
    shown_note,
    sorted_findings,
    summary_counts,
)
from pdguard.textsafe import safe_text

SEVERITY_ICONS: dict[str, str] = {
    "critical": "🟥",
    "high": "🟧",
    "medium": "🟨",
    "low": "🟦",
    "info": "⬜",
}
GITHUB_COMMENT_LIMIT = 65_536  # characters a GitHub comment body may hold: we stay strictly under

_MD_SPECIAL = re.compile(r"([\\`*_\[\]|#~])")


def cell(text: object) -> str:
    """Escape `text` for one GitHub Markdown table cell (single line, no HTML, no table breaks)."""
    s = safe_text(text)  # control/bidi characters neutralised, newlines/tabs → spaces
    s = s.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    return _MD_SPECIAL.sub(r"\\\1", s)


def md_length(text: str) -> int:
    """Length in UTF-16 code units (an emoji counts 2): never less than the code-point count."""
    return len(text.encode("utf-16-le")) // 2


def _code(text: object) -> str:
    return "`" + safe_text(text).replace("`", "") + "`"


def _resource(f: Finding) -> str:
    r = f.resource
    name = f"{cell(r.name)} " if r.name else ""
    return f"{cell(r.type)} {name}({_code(r.id)})"


def _policy(f: Finding) -> str:
    label = f"**{cell(f.policy_id)}** {cell(f.title)}"
    url = safe_text(f.docs_url)
    if url.startswith(("https://", "http://")):
        return f"[{label}]({url.replace(')', '%29').replace(' ', '%20').replace('<', '%3C').replace('>', '%3E')})"
    return label


def _evaluation(report: Report) -> str:
    """`Evaluated by the `opa` engine · policy revision `0123456789ab…` · bundle `…` · decision id `…``
    (``meta.evaluation``; empty without it)."""
    ev = evaluation_fields(report.meta)
    parts = []
    if "engine" in ev:
        parts.append(f"Evaluated by the {_code(ev['engine'])} engine")
    if "policy_revision" in ev:
        parts.append(f"policy revision {_code(short_revision(ev['policy_revision']))}")
    if "bundle" in ev:
        parts.append(f"bundle {_code(ev['bundle'])}"
                     + (f" (revision {_code(short_revision(ev['bundle_revision']))})" if "bundle_revision" in ev else ""))
    if "decision_id" in ev:
        parts.append(f"decision id {_code(ev['decision_id'])}")
    if parts and "engine" not in ev:
        parts[0] = "Evaluated with " + parts[0]
    return " · ".join(parts)


def ci_run_url() -> str | None:
    """The CI run holding this run's artifacts (GitHub Actions), when known."""
    server, repo, run = (os.environ.get(k) for k in ("GITHUB_SERVER_URL", "GITHUB_REPOSITORY", "GITHUB_RUN_ID"))
    if server and repo and run and server.startswith("https://"):
        return f"{server}/{repo}/actions/runs/{run}"
    return None


class MarkdownOutput:
    name: ClassVar[str] = "markdown"
    max_chars: ClassVar[int] = GITHUB_COMMENT_LIMIT - 1
    max_list_rows: ClassVar[int] = 50

    def __init__(self, *, full_report: str | None = None, max_chars: int | None = None) -> None:
        #: where the complete report is (a file name written by the same run, or a URL)
        self.full_report = full_report
        if max_chars is not None:
            self.max_chars = max_chars

    # -- pieces --------------------------------------------------------------------------------
    def _pointer(self) -> str:
        run = ci_run_url()
        if self.full_report:
            where = safe_text(self.full_report)
            target = f"[{cell(where)}]({where})" if where.startswith(("https://", "http://")) else _code(where)
            return f"the full report: {target}" + (f" (artifacts of [this CI run]({run}))" if run else "")
        if run:
            return f"the full report: artifacts of [this CI run]({run})"
        return "the full report: `pdguard check --format json=report.json` (or `html=report.html`)"

    def _head(self, report: Report, findings: list[Finding], waived: list[Finding]) -> list[str]:
        s = report_summary(report)
        counts = summary_counts(s)
        waived_counts = severity_counts(waived)
        from pdguard.accounts import names

        accounts = [a for a in names(report) if a]
        account = report.meta.get("account_subdomain")
        if len(accounts) > 1:
            title = "## pdguard: PagerDuty accounts " + ", ".join(_code(a) for a in accounts)
        elif accounts:
            title = f"## pdguard: PagerDuty account {_code(accounts[0])}" + (
                f" ({_code(account)})" if account and account != accounts[0] else "")
        else:
            title = "## pdguard" + (f": PagerDuty account {_code(account)}" if account else "")
        out = [title, ""]
        if s.fail_on != "none" and s.failing:
            what = "new failing finding" if s.new is not None else "failing finding"
            line = f"❌ **{count(s.failing, what)}** (severity ≥ {s.fail_on})"
            if s.new is not None:
                line += f" of {s.failing_total} failing"
            out.append(f"{line}, {s.total} in total.")
        elif s.fail_on != "none" and s.failing_total:
            out.append(f"✅ No new finding at or above `{s.fail_on}` ({s.failing_total} known failing, in the "
                       f"baseline); {s.total} in total.")
        elif s.total:
            below = f"at or above `{s.fail_on}`" if s.fail_on != "none" else "fails the gate (`--fail-on none`)"
            out.append(f"✅ No finding {below}; {count(s.total, 'finding')} in total.")
        else:
            out.append("✅ No findings.")
        scanned = report.meta.get("scanned_at")
        out += ["", f"{count(len(report.policies), 'policy')} evaluated" + (f" · scanned {cell(scanned)}" if scanned else ""),
                ""]
        evaluated = _evaluation(report)
        if evaluated:
            out += [evaluated, ""]
        out.append("| severity | findings | waived |")
        out.append("|---|---:|---:|")
        for sev in SEVERITIES:
            out.append(f"| {SEVERITY_ICONS[sev]} {sev} | {counts.get(sev, 0)} | {waived_counts.get(sev, 0)} |")
        for sev, n in counts.items():
            if sev not in SEVERITIES:
                out.append(f"| {cell(sev)} | {n} | {waived_counts.get(sev, 0)} |")
        out.append(f"| **total** | **{s.total}** | **{len(waived)}** |")
        out.append("")
        if s.new is not None:
            out += [f"**Baseline:** {s.new} new · {s.unchanged or 0} unchanged · {s.fixed or 0} fixed "
                    f"(only new findings fail the gate: {gate_line(s)})", ""]
        note = shown_note(s)
        if note:
            out += [f"_{cell(note)}_", ""]
        return out

    def _rows(self, f: Finding) -> str:
        msg = cell(f.msg)
        if f.baseline == "new":
            msg = f"**new** {msg}"
        account = f" {_code(f.account)} |" if self.several else ""
        return (f"|{account} {_policy(f)} | {_resource(f)} | {msg} | "
                f"{cell(first_sentence(safe_text(f.remediation), 120))} |")

    def _capped(self, title: str, items: list[str], more: str, head: tuple[str, ...] = ()) -> list[str]:
        """A section of at most `max_list_rows` items (after `head`, e.g. a table header) and an "… and N more" line."""
        out = [title, "", *head] + items[: self.max_list_rows]
        if len(items) > self.max_list_rows:
            out += ["", f"_… and {count(len(items) - self.max_list_rows, more)}._"]
        return out + [""]

    def _tail(self, report: Report, waived: list[Finding]) -> list[str]:
        out: list[str] = []
        if waived:
            rows = []
            for f in waived:
                w = f.waiver
                rows.append(f"| **{cell(f.policy_id)}** {cell(f.title)} | {_resource(f)} | "
                            f"{cell(w.reason if w else '')} | {cell((w.expires or 'never') if w else '')} |")
            out += self._capped(f"### Waived ({len(waived)})", rows, "more waived finding",
                                ("| policy | resource | reason | expires |", "|---|---|---|---|"))
        if report.fixed:
            items = []
            for item in report.fixed:
                pid = item.get("policy_id") or item.get("policy") or ""
                res = item.get("resource") if isinstance(item.get("resource"), dict) else {}
                label = " ".join(str(x) for x in (res.get("type"), res.get("name"), res.get("id")) if x)
                items.append(f"- {cell(pid)} {cell(label or item.get('fingerprint', ''))}".rstrip())
            out += self._capped(f"### Fixed since baseline ({len(report.fixed)})", items, "more fixed finding")
        if report.expired_waivers:
            items = [f"- {cell(w.policy)} {cell(w.resource or '*')}: expired {cell(w.expires)} ({cell(w.reason)})"
                     for w in report.expired_waivers]
            out += self._capped("### Expired waivers", items, "more expired waiver")
        if report.warnings:
            items = [f"- {cell(first_sentence(w, 500) if len(w) > 500 else w)}" for w in report.warnings]
            out += self._capped("### Warnings", items, "more warning")
        return out

    # -- render --------------------------------------------------------------------------------
    several: bool = False  # several accounts in the report being rendered: an account column

    def render(self, report: Report, *, color: bool = False) -> str:
        from pdguard.accounts import is_several

        self.several = is_several(report)
        findings = sorted_findings(report.findings)
        waived = sorted_findings(report.waived)
        head = self._head(report, findings, waived)
        tail = self._tail(report, waived)
        rows = {id(f): self._rows(f) for f in findings}
        groups: list[tuple[str, list[Finding]]] = []
        for sev in [*SEVERITIES, *sorted({f.severity for f in findings} - set(SEVERITIES))]:
            group = [f for f in findings if f.severity == sev]
            if group:
                groups.append((sev, group))
        findings = [f for _, group in groups for f in group]  # the order rows are shown (and dropped) in

        def assemble(keep: int) -> str:
            """The document with the first `keep` finding rows (severity order) and a note for the rest."""
            out = list(head)
            if findings:
                out += ["### Findings", ""]
                left = keep
                for sev, group in groups:
                    if left <= 0:
                        break
                    out += [f"#### {SEVERITY_ICONS[sev] + ' ' if sev in SEVERITY_ICONS else ''}{cell(sev)} ({len(group)})",
                            "", *(["| account | policy | resource | message | fix |", "|---|---|---|---|---|"]
                                  if self.several else ["| policy | resource | message | fix |", "|---|---|---|---|"])]
                    out += [rows[id(f)] for f in group[:left]]
                    out.append("")
                    left -= min(left, len(group))
                if keep < len(findings):
                    rest = severity_counts(findings[keep:])
                    by = ", ".join(f"{n} {sev}" for sev, n in rest.items() if n)
                    out += [f"_… {count(len(findings) - keep, 'more finding')} not shown ({by}) to stay within "
                            f"GitHub's comment size; {self._pointer()}._", ""]
            out += tail
            return "\n".join(out).rstrip("\n") + "\n"

        text = assemble(len(findings))
        if md_length(text) <= self.max_chars:
            return text
        # Binary search the largest number of rows that fits (the length grows with the rows kept).
        lo, hi = 0, len(findings) - 1
        while lo < hi:
            mid = (lo + hi + 1) // 2
            if md_length(assemble(mid)) <= self.max_chars:
                lo = mid
            else:
                hi = mid - 1
        text = assemble(lo)
        if md_length(text) <= self.max_chars:
            return text
        # Still too long without a single finding row (huge warning/waiver lists): cut at a line.
        note = f"\n_… cut to stay within GitHub's comment size; {self._pointer()}._\n"
        budget = self.max_chars - md_length(note)
        out, used = [], 0
        for line in text.splitlines():
            n = md_length(line) + 1
            if used + n > budget:
                break
            out.append(line)
            used += n
        return "\n".join(out) + note
