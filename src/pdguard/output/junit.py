"""JUnit XML output for GitLab (``artifacts:reports:junit``), Jenkins and other CI test reports.

Structure::

    <testsuites name="pdguard" tests=… failures=… errors="0" skipped=… time="0">
      <testsuite name="PDG-SVC-002 Service has an escalation policy" tests=… failures=… errors="0"
                 skipped=… time="0" timestamp=<scan time>>
        <testcase classname="pdguard.PDG-SVC-002" name='service "API" (PABC123)' time="0">
          <failure message="<msg>" type="high">…details, remediation, fingerprints…</failure>
        </testcase>
        <testcase …><skipped message="waived: <reason>"/></testcase>
      </testsuite>
    </testsuites>

* one ``testsuite`` per policy (evaluated policies, plus any policy that only appears in
  findings), sorted by policy id; with several accounts (``accounts:``) one per account and
  policy, the account first (``eu: PDG-SVC-002 …``, classname ``pdguard.eu.PDG-SVC-002``);
* one ``testcase`` per policy × resource: several findings of one policy on one resource
  (different details) become one failure listing each message; a resource with only waived
  findings is ``<skipped message="waived: <reason>">``;
* a policy evaluated without any finding or waived finding gets one passing testcase
  (``name="no findings"``), so CI shows what was checked;
* the failure ``type`` is the severity, the failure ``message`` the policy message; the body
  lists severity, policy, resource, remediation, docs and the stable fingerprints;
* the scan's warnings (``report.warnings``, e.g. an incomplete inventory: findings may be
  missing) are the ``<system-err>`` of every testsuite (with several accounts, each account's
  own), after its testcases as the JUnit schema orders them: they qualify every policy's result,
  and Jenkins shows a suite's ``system-err`` with each of its cases. At most
  :data:`MAX_WARNINGS_CHARS` characters of them per suite (the JSON report has them all).

Characters XML 1.0 cannot carry (control characters) are dropped; everything else is escaped
by ElementTree, so the document is always well-formed.
"""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from typing import ClassVar

from pdguard.findings import Finding, Report
from pdguard.output._common import finding_sort_key, resource_label, severity_index, sorted_findings

_INVALID_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff\ud800-\udfff]")
MAX_WARNINGS_CHARS = 20_000  # of the warnings in one testsuite's <system-err> (repeated in every suite)


def _x(text: object) -> str:
    return _INVALID_XML.sub("", "" if text is None else str(text))


def _failure_body(group: list[Finding], waived: list[Finding]) -> str:
    f = group[0]
    lines = [
        f"severity: {f.severity}",
        f"policy: {f.policy_id} {f.title}",
        f"resource: {resource_label(f.resource)}",
    ]
    for g in group:
        lines.append(f"- {g.msg} [fingerprint {g.fingerprint}]" + (f" ({g.baseline})" if g.baseline else ""))
    for w in waived:
        reason = w.waiver.reason if w.waiver else ""
        lines.append(f"- waived: {w.msg} [fingerprint {w.fingerprint}]: {reason}")
    if f.remediation:
        lines.append(f"fix: {f.remediation}")
    if f.docs_url:
        lines.append(f"docs: {f.docs_url}")
    return "\n".join(lines)


def _warnings_text(warnings: list[str]) -> str:
    """The `<system-err>` of a suite: one ``warning:`` line per scan warning, cut at a warning
    boundary after :data:`MAX_WARNINGS_CHARS` characters with a line saying how many are left."""
    lines: list[str] = []
    used = 0
    for i, w in enumerate(warnings):
        line = "warning: " + " ".join(_x(w).split())
        if used + len(line) > MAX_WARNINGS_CHARS and lines:
            rest = len(warnings) - i
            lines.append(f"… {rest} more warning{'s' if rest != 1 else ''} (the JSON report has them all)")
            break
        lines.append(line[:MAX_WARNINGS_CHARS])
        used += len(line) + 1
    return "\n".join(lines)


class JUnitOutput:
    name: ClassVar[str] = "junit"

    def render(self, report: Report, *, color: bool = False) -> str:
        from pdguard.accounts import split

        root = ET.Element("testsuites", {"name": "pdguard"})
        totals = {"tests": 0, "failures": 0, "skipped": 0}
        parts = split(report)
        for name, sub in parts:
            self._suites(root, sub, totals, name if len(parts) > 1 else None)
        root.set("tests", str(totals["tests"]))
        root.set("failures", str(totals["failures"]))
        root.set("errors", "0")
        root.set("skipped", str(totals["skipped"]))
        root.set("time", "0")
        ET.indent(root)
        return '<?xml version="1.0" encoding="UTF-8"?>\n' + ET.tostring(root, encoding="unicode") + "\n"

    @staticmethod
    def _suites(root: ET.Element, report: Report, totals: dict[str, int], account: str | None) -> None:
        """One testsuite per policy of one account's report (named after the account when there
        are several: ``eu: PDG-SVC-002 …``, classname ``pdguard.eu.PDG-SVC-002``)."""
        suite_prefix = f"{account}: " if account else ""
        class_prefix = f"pdguard.{account}." if account else "pdguard."
        active: dict[str, dict[tuple[str, str], list[Finding]]] = {}
        waived: dict[str, dict[tuple[str, str], list[Finding]]] = {}
        for f in sorted_findings(report.findings):
            active.setdefault(f.policy_id, {}).setdefault((f.resource.type, f.resource.id), []).append(f)
        for f in sorted_findings(report.waived):
            waived.setdefault(f.policy_id, {}).setdefault((f.resource.type, f.resource.id), []).append(f)

        titles = {p.id: p.title for p in report.policies}
        for f in [*report.findings, *report.waived]:
            titles.setdefault(f.policy_id, f.title)

        timestamp = str(report.meta.get("scanned_at") or "")
        warnings = _warnings_text(report.warnings) if report.warnings else ""
        for pid in sorted(titles):
            suite = ET.SubElement(root, "testsuite", {"name": _x(f"{suite_prefix}{pid} {titles[pid]}")})
            counts = {"tests": 0, "failures": 0, "skipped": 0}
            pol_active = active.get(pid, {})
            pol_waived = waived.get(pid, {})
            keys = sorted(
                set(pol_active) | set(pol_waived),
                key=lambda k: (
                    min(finding_sort_key(f) for f in [*pol_active.get(k, []), *pol_waived.get(k, [])]),
                    k,
                ),
            )
            for key in keys:
                group = pol_active.get(key, [])
                wgroup = pol_waived.get(key, [])
                first = (group or wgroup)[0]
                case = ET.SubElement(
                    suite,
                    "testcase",
                    {"classname": _x(f"{class_prefix}{pid}"), "name": _x(resource_label(first.resource)), "time": "0"},
                )
                counts["tests"] += 1
                if group:
                    worst = min(group, key=lambda f: severity_index(f.severity))
                    message = group[0].msg if len(group) == 1 else f"{group[0].msg} (+{len(group) - 1} more)"
                    failure = ET.SubElement(case, "failure", {"message": _x(message), "type": _x(worst.severity)})
                    failure.text = _x(_failure_body(group, wgroup))
                    counts["failures"] += 1
                else:
                    reasons = sorted({w.waiver.reason for w in wgroup if w.waiver}) or ["waived"]
                    ET.SubElement(case, "skipped", {"message": _x(f"waived: {'; '.join(reasons)}")})
                    counts["skipped"] += 1
            if not keys:
                ET.SubElement(suite, "testcase", {"classname": _x(f"{class_prefix}{pid}"), "name": "no findings",
                                                  "time": "0"})
                counts["tests"] += 1
            if warnings:  # after the testcases: the schema's order (properties, testcase*, system-out, system-err)
                ET.SubElement(suite, "system-err").text = warnings
            suite.set("tests", str(counts["tests"]))
            suite.set("failures", str(counts["failures"]))
            suite.set("errors", "0")
            suite.set("skipped", str(counts["skipped"]))
            suite.set("time", "0")
            if timestamp:
                suite.set("timestamp", _x(timestamp))
            for k, v in counts.items():
                totals[k] += v
