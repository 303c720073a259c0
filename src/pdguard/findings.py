"""Findings and the report every output format renders.

A policy's `deny`/`warn` result is `{msg, resource: {type, id, name}, details?}`; the engine joins
it with the policy's METADATA (id, title, severity, description, remediation, docs URL) into a
:class:`Finding`. A finding has a stable fingerprint so that baselines and scan diffs can match
the same problem across runs.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

SEVERITIES: tuple[str, ...] = ("critical", "high", "medium", "low", "info")

REPORT_SCHEMA_VERSION = "1.0"
SEVERITY_INDEX: dict[str, int] = {s: i for i, s in enumerate(SEVERITIES)}  # critical=0 … info=4


def severity_index(severity: str) -> int:
    """Position of `severity` in :data:`SEVERITIES` (unknown severities sort last)."""
    return SEVERITY_INDEX.get(severity, len(SEVERITIES))


def severity_at_least(severity: str, threshold: str) -> bool:
    """True when `severity` is at or above `threshold` (`none` is never reached)."""
    if threshold == "none":
        return False
    return severity_index(severity) <= SEVERITY_INDEX[threshold]


class Resource(BaseModel):
    model_config = ConfigDict(extra="allow")

    type: str
    id: str
    name: str | None = None


class Location(BaseModel):
    """Where a resource is defined (Terraform source), for SARIF physicalLocation."""

    path: str
    line: int = 1


class Waiver(BaseModel):
    policy: str
    resource: str | None = None  # resource id or name glob
    account: str | None = None  # only findings of this account (None: every account)
    reason: str
    expires: str | None = None  # ISO date


class Finding(BaseModel):
    policy_id: str
    title: str
    severity: str
    description: str = ""
    remediation: str = ""
    docs_url: str | None = None
    kind: Literal["deny", "warn"] = "deny"
    msg: str
    resource: Resource
    details: dict[str, Any] = Field(default_factory=dict)
    fingerprint: str
    account: str | None = None  # the configured account (`accounts:` in pdguard.yaml); None: the one account
    package: str | None = None
    file: str | None = None  # policy file the rule came from
    waived: bool = False
    waiver: Waiver | None = None
    location: Location | None = None
    baseline: Literal["new", "unchanged"] | None = None


def fingerprint(policy_id: str, resource_type: str, resource_id: str, details: Any, account: str | None = None) -> str:
    """Stable across runs: policy id + resource type + resource id + hash of `details`, and the
    configured account's name when there is one (the same problem in two accounts is two
    findings; a single account without `accounts:` keeps the fingerprints it always had)."""
    details_json = json.dumps(details or {}, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    h = hashlib.sha256()
    parts = (policy_id, resource_type, resource_id, details_json) + ((f"account:{account}",) if account else ())
    for part in parts:
        h.update(part.encode("utf-8"))
        h.update(b"\x1f")
    return h.hexdigest()[:32]


def finding_sort_key(f: Finding) -> tuple[int, str, str, str, str]:
    """The one order of findings (report, every format): severity (critical first), policy id,
    resource type, resource id, fingerprint."""
    return (severity_index(f.severity), f.policy_id, f.resource.type, f.resource.id, f.fingerprint)


def sorted_findings(findings: Iterable[Finding]) -> list[Finding]:
    return sorted(findings, key=finding_sort_key)


def severity_counts(findings: Iterable[Finding]) -> dict[str, int]:
    """Counts for every known severity (zeros included), in SEVERITIES order, then any other."""
    counts = dict.fromkeys(SEVERITIES, 0)
    for f in findings:
        counts[f.severity] = counts.get(f.severity, 0) + 1
    return counts


class PolicyInfo(BaseModel):
    """A policy's METADATA, as read from its `# METADATA` block."""

    id: str
    title: str
    description: str = ""
    severity: str = "medium"
    remediation: str = ""
    docs_url: str | None = None
    package: str
    file: str
    tags: list[str] = Field(default_factory=list)
    enabled_by_default: bool = True
    related_resources: list[str] = Field(default_factory=list)
    settings: list[str] = Field(default_factory=list)  # the settings (data.pdguard.config) it reads
    # settings it declares (METADATA custom.settings as a mapping): name -> {default, description}
    setting_defaults: dict[str, dict[str, Any]] = Field(default_factory=dict, exclude=True)


class Summary(BaseModel):
    """Counts over ALL active findings, whatever `--severity` shows: the gate reads `failing`.

    `failing`: findings that fail the gate (deny at or above `fail_on`; with a baseline only the
    new ones). `failing_total`: deny findings at or above `fail_on`, new or not. `shown_severities`
    and `hidden`: set when `--severity` limited what the report lists (display only).
    """

    total: int = 0
    failing: int = 0
    failing_total: int = 0
    waived: int = 0
    by_severity: dict[str, int] = Field(default_factory=dict)
    fail_on: str = "high"
    new: int | None = None
    unchanged: int | None = None
    fixed: int | None = None
    shown_severities: list[str] | None = None
    hidden: int = 0


class Report(BaseModel):
    """What `pdguard check` produces; every output format renders one of these.

    `findings` are active (not waived) findings; `waived` are findings a valid waiver covers;
    `expired_waivers` are waivers past their date (they no longer waive anything);
    `fixed` (with a baseline) are baseline fingerprints no longer found.
    """

    schema_version: str = REPORT_SCHEMA_VERSION
    tool: dict[str, str] = Field(default_factory=dict)
    meta: dict[str, Any] = Field(default_factory=dict)  # snapshot meta (account, region, scanned_at…)
    policies: list[PolicyInfo] = Field(default_factory=list)  # every policy evaluated
    findings: list[Finding] = Field(default_factory=list)
    waived: list[Finding] = Field(default_factory=list)
    expired_waivers: list[Waiver] = Field(default_factory=list)
    fixed: list[dict[str, Any]] = Field(default_factory=list)
    summary: Summary = Field(default_factory=Summary)
    warnings: list[str] = Field(default_factory=list)

    def policy(self, policy_id: str) -> PolicyInfo | None:
        for p in self.policies:
            if p.id == policy_id:
                return p
        return None
