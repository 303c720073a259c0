"""SARIF 2.1.0 output for GitHub code scanning (``github/codeql-action/upload-sarif``).

One run, tool ``pdguard``. Choices made for GitHub:

* ``tool.driver.rules[]``: one reporting descriptor per policy that produced a result (found or
  waived), sorted by policy id; ``name`` is the title in PascalCase, ``help`` is the
  remediation, ``helpUri`` the policy's ``docs_url`` or the policy README anchor,
  ``properties.security-severity`` maps pdguard severities to GitHub's scale
  (critical ``"9.5"``, high ``"8.0"``, medium ``"5.5"``, low ``"2.0"``, info ``"0.0"``).
* ``results[]``: ``level`` critical/high → ``error``, medium → ``warning``, low/info → ``note``;
  ``partialFingerprints["pdguardFingerprint/v1"]`` is the finding fingerprint, which is stable
  across scans, so GitHub tracks an alert across uploads instead of the file/line heuristic;
  waived findings are kept with ``suppressions: [{"kind": "external", "status": "accepted",
  "justification": <waiver reason>}]`` (GitHub shows them as dismissed); with a baseline,
  ``baselineState`` is ``new`` or ``unchanged``.
* Locations. GitHub rejects results without ``locations[0].physicalLocation`` (artifact URI +
  ``region.startLine``) and requires repository-relative URIs. A resource with a Terraform
  source (``finding.location``) points at that file and line. Any other PagerDuty resource gets
  a stable **pseudo path** ``pagerduty/<resource type plural>/<resource id>.json``, line 1
  (e.g. ``pagerduty/services/PABC123.json``, ``pagerduty/escalation_policies/PEP0001.json``).
  The file does not need to exist in the repository: GitHub shows the alert without a code
  snippet, and the path gives every resource a stable, greppable identity (you may also commit
  ``pdguard scan`` exports at those paths). Absolute Terraform paths are made relative to the
  current directory when inside it, else replaced by the pseudo path: no absolute local paths
  are ever written. The resource is also given as ``logicalLocations[0]``.
* ``runAutomationDetails.id`` is ``pdguard/<category>/`` so each account (category defaults to
  the configured account's name, ``meta.account``, else ``meta.account_subdomain``, else
  ``default``) is a separate analysis in GitHub; pass ``SarifOutput(category="prod")`` to choose.
* Several accounts in one report (``accounts:`` in pdguard.yaml): one run per account, each with
  its own ``automationDetails.id`` (``pdguard/<account>/``, or ``pdguard/<category>/<account>/``
  with a category), its own results, rules and notifications, and ``properties.account``:
  GitHub rejects a file with two runs of one tool in the same category.
* GitHub accepts at most 25,000 results per run: beyond :data:`MAX_RESULTS` the results are cut in
  severity order (critical first; active before waived within a severity) and a warning is added to
  ``invocations[0].toolExecutionNotifications`` and to ``report.warnings``.
* ``runs[0].properties.evaluation`` is the report's ``meta.evaluation``: the engine, the policy
  revision (what ``pdguard policy bundle`` would stamp on these policies and settings) and, on an
  OPA sidecar, the bundle name, its revision and OPA's ``decision_id``, so an alert can be traced
  to the decision in OPA's decision log.

Nothing secret is written: no API token, no request URLs, only the snapshot's account
subdomain and the findings themselves.
"""

from __future__ import annotations

import re
from pathlib import Path, PurePosixPath, PureWindowsPath
from typing import Any, ClassVar
from urllib.parse import quote

import pdguard
from pdguard.findings import Finding, PolicyInfo, Report
from pdguard.output._common import (
    dumps_indented,
    first_sentence,
    policy_area,
    pseudo_path,
    resource_label,
    severity_index,
)
from pdguard.output.markdown import cell as md_cell

SARIF_SCHEMA = "https://json.schemastore.org/sarif-2.1.0.json"
SARIF_VERSION = "2.1.0"
FINGERPRINT_KEY = "pdguardFingerprint/v1"
MAX_RESULTS = 25_000  # GitHub: results per run
MAX_TAGS = 20  # GitHub: tags per rule

LEVELS: dict[str, str] = {
    "critical": "error",
    "high": "error",
    "medium": "warning",
    "low": "note",
    "info": "note",
}
SECURITY_SEVERITY: dict[str, str] = {
    "critical": "9.5",
    "high": "8.0",
    "medium": "5.5",
    "low": "2.0",
    "info": "0.0",
}


def pascal_case(text: str, fallback: str = "Policy") -> str:
    """`Service has an escalation policy` → `ServiceHasAnEscalationPolicy`."""
    words = re.findall(r"[A-Za-z0-9]+", text)
    name = "".join(w[:1].upper() + w[1:] for w in words)
    if not name:
        name = "".join(re.findall(r"[A-Za-z0-9]+", fallback)) or "Policy"
    if name[0].isdigit():
        name = "P" + name
    return name


def _sentence(text: str) -> str:
    """One trimmed message ending in a period (SARIF messages are sentences)."""
    text = text.strip()
    if text and text[-1] not in ".!?":
        text += "."
    return text


def _relative_uri(path: str) -> str | None:
    """Repository-relative URI for a source path, or None when it cannot be made relative."""
    p = path.replace("\\", "/")
    if PureWindowsPath(path).drive or p.startswith("/"):
        try:
            p = Path(path).resolve().relative_to(Path.cwd().resolve()).as_posix()
        except (ValueError, OSError):
            return None
    parts = [s for s in PurePosixPath(p).parts if s not in ("", ".")]
    if not parts or ".." in parts:
        return None
    return quote("/".join(parts), safe="/-._~")


class SarifOutput:
    name: ClassVar[str] = "sarif"

    def __init__(self, *, category: str | None = None, max_results: int | None = None) -> None:
        self.category = category
        self.max_results = max_results

    # -- helpers -----------------------------------------------------------------------------
    @staticmethod
    def _clean(raw: object) -> str:
        return re.sub(r"[^A-Za-z0-9_.-]+", "-", str(raw)).strip("-")

    def _category(self, report: Report, account: str | None = None, several: bool = False) -> str:
        """The run's category: ``--sarif-category``, else the account (configured name, else the
        subdomain), else ``default``; with several accounts ``<category>/<account>`` or the account."""
        if several and account:
            parts = [self.category, account] if self.category else [account]
            return "/".join(self._clean(p) or "default" for p in parts)
        raw = self.category or report.meta.get("account") or report.meta.get("account_subdomain") or "default"
        return self._clean(raw) or "default"

    @staticmethod
    def _rule(policy_id: str, info: PolicyInfo | None, findings: list[Finding]) -> dict[str, Any]:
        sample = findings[0]
        severity = min((f.severity for f in findings), key=severity_index)  # effective (worst) severity
        title = (info.title if info else None) or sample.title or policy_id
        description = (info.description if info else None) or sample.description or title
        remediation = (info.remediation if info else None) or sample.remediation
        docs_url = (info.docs_url if info else None) or sample.docs_url
        # Only a real page: built-in policies carry their catalogue anchor, custom ones their own
        # `docs_url`; without one there is no helpUri (it would point at a page that does not exist).
        help_uri = docs_url if docs_url and docs_url.startswith(("https://", "http://")) else None
        help_text = remediation or description
        help_md = f"**{md_cell(title)}** ({md_cell(policy_id)})\n\n{help_text}"
        if help_uri:
            help_md += f"\n\nSee [{md_cell(policy_id)}]({help_uri})."

        # GitHub only shows `security-severity` for rules tagged "security".
        tags = ["pagerduty", "governance", "security"]
        area = policy_area(info, sample)
        for tag in [area, *(info.tags if info else [])]:
            if tag and tag not in tags:
                tags.append(tag)
        rule: dict[str, Any] = {
            "id": policy_id,
            "name": pascal_case(title, policy_id),
            "shortDescription": {"text": _sentence(first_sentence(title, 1000))},
            "fullDescription": {"text": _sentence(description)},
            "help": {"text": help_text, "markdown": help_md},
            "defaultConfiguration": {"level": LEVELS.get(severity, "warning")},
            "properties": {
                "tags": tags[:MAX_TAGS],
                "precision": "high",
                "security-severity": SECURITY_SEVERITY.get(severity, "5.5"),
                "severity": severity,
            },
        }
        if help_uri:
            rule["helpUri"] = help_uri
        return rule

    @staticmethod
    def _location(f: Finding) -> dict[str, Any]:
        uri, line = None, 1
        if f.location is not None:
            uri = _relative_uri(f.location.path)
            line = max(1, f.location.line)
        if uri is None:
            uri, line = pseudo_path(f.resource), 1
        logical: dict[str, Any] = {
            "name": f.resource.name or f.resource.id,
            "fullyQualifiedName": f"{f.resource.type}/{f.resource.id}",
            "kind": "resource",
        }
        return {
            "physicalLocation": {"artifactLocation": {"uri": uri}, "region": {"startLine": line}},
            "logicalLocations": [logical],
        }

    def _result(self, f: Finding, rule_index: int) -> dict[str, Any]:
        result: dict[str, Any] = {
            "ruleId": f.policy_id,
            "ruleIndex": rule_index,
            "level": LEVELS.get(f.severity, "warning"),
            "message": {"text": _sentence(f"{resource_label(f.resource)}: {f.msg}")},
            "locations": [self._location(f)],
            "partialFingerprints": {FINGERPRINT_KEY: f.fingerprint},
            "properties": {
                "severity": f.severity,
                "kind": f.kind,
                "resource": {"type": f.resource.type, "id": f.resource.id, "name": f.resource.name},
            },
        }
        if f.details:
            result["properties"]["details"] = f.details
        if f.baseline:
            result["baselineState"] = f.baseline
        if f.waived:
            reason = f.waiver.reason if f.waiver else "waived"
            result["suppressions"] = [{"kind": "external", "status": "accepted", "justification": reason}]
        return result

    # -- render ------------------------------------------------------------------------------
    def document(self, report: Report) -> dict[str, Any]:
        """The SARIF log: one run per account (each its own ``automationDetails.id``, so GitHub keeps
        each account's alerts as a separate analysis); one run for one account."""
        from pdguard.accounts import split

        parts = split(report)
        several = len(parts) > 1
        runs = []
        for name, sub in parts:
            runs.append(self._run(sub, self._category(sub, name, several)))
            if several:  # the truncation warning, said in the combined report too
                report.warnings.extend(f"account {name}: {w}" for w in sub.warnings
                                       if w.startswith("SARIF output truncated")
                                       and f"account {name}: {w}" not in report.warnings)
        return {"$schema": SARIF_SCHEMA, "version": SARIF_VERSION, "runs": runs}

    def _run(self, report: Report, category: str) -> dict[str, Any]:
        limit = self.max_results if self.max_results is not None else MAX_RESULTS
        all_findings = [*report.findings, *report.waived]
        ordered = sorted(
            all_findings,
            key=lambda f: (
                severity_index(f.severity),
                f.waived,
                f.policy_id,
                f.resource.type,
                f.resource.id,
                f.fingerprint,
            ),
        )

        by_policy: dict[str, list[Finding]] = {}
        for f in ordered:
            by_policy.setdefault(f.policy_id, []).append(f)
        policy_ids = sorted(by_policy)
        rules = [self._rule(pid, report.policy(pid), by_policy[pid]) for pid in policy_ids]
        rule_index = {pid: i for i, pid in enumerate(policy_ids)}

        notifications: list[dict[str, Any]] = []
        kept = ordered
        if len(ordered) > limit:
            kept = ordered[:limit]
            warning = (
                f"SARIF output truncated to {limit} of {len(ordered)} results (GitHub code scanning "
                f"accepts at most {MAX_RESULTS} results per run); lower-severity results were dropped. "
                "Use the JSON output for the complete list."
            )
            if warning not in report.warnings:
                report.warnings.append(warning)
            notifications.append(
                {"level": "warning", "message": {"text": warning}, "descriptor": {"id": "pdguard/truncated"}}
            )
        for w in report.warnings:
            if not any(n["message"]["text"] == _sentence(w) or n["message"]["text"] == w for n in notifications):
                notifications.append(
                    {"level": "warning", "message": {"text": _sentence(w)}, "descriptor": {"id": "pdguard/warning"}}
                )

        results = [self._result(f, rule_index[f.policy_id]) for f in kept]
        version = report.tool.get("version") or pdguard.__version__
        invocation: dict[str, Any] = {"executionSuccessful": True}
        if notifications:
            invocation["toolExecutionNotifications"] = notifications
        run: dict[str, Any] = {
            "tool": {
                "driver": {
                    "name": "pdguard",
                    "fullName": "pdguard: policy-as-code guardrails for PagerDuty",
                    "version": version,
                    "semanticVersion": version,
                    "informationUri": pdguard.INFORMATION_URI,
                    "rules": rules,
                }
            },
            "automationDetails": {"id": f"pdguard/{category}/"},
            "invocations": [invocation],
            "columnKind": "unicodeCodePoints",
            "results": results,
        }
        evaluation = report.meta.get("evaluation")
        properties: dict[str, Any] = {}
        if isinstance(evaluation, dict):  # engine, policy revision; on OPA its bundle and decision_id
            properties["evaluation"] = evaluation
        account = report.meta.get("account")
        if account:  # the configured account (accounts: in pdguard.yaml) this run is about
            properties["account"] = account
        if properties:
            run["properties"] = properties
        return run

    def render(self, report: Report, *, color: bool = False) -> str:
        return dumps_indented(self.document(report))
