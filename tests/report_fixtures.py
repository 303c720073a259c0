"""Report fixtures shared by the output-format tests (tests/test_output_*.py).

Plain functions (not pytest fixtures) so that any test module can ``from report_fixtures import …``
without a conftest.
"""

from __future__ import annotations

from pdguard import __version__
from pdguard.findings import (
    Finding,
    Location,
    PolicyInfo,
    Report,
    Resource,
    Summary,
    Waiver,
    fingerprint,
)

NASTY_NAME = 'API | <prod> & "edge"'

POLICIES = [
    PolicyInfo(
        id="PDG-SVC-001",
        title="Service has an escalation policy",
        description="Every service must route incidents to an escalation policy so someone is paged.",
        severity="critical",
        remediation="Attach an escalation policy to the service. Prefer team-owned policies.",
        package="pdguard.services.has_escalation_policy",
        file="policies/services/has_escalation_policy.rego",
        tags=["routing"],
    ),
    PolicyInfo(
        id="PDG-EP-002",
        title="Escalation policy has at least two levels",
        description="A single level leaves no fallback when the first responder is unavailable.",
        severity="high",
        remediation="Add a second escalation rule targeting a different schedule or user.",
        docs_url="https://docs.example.com/pdguard/PDG-EP-002",
        package="pdguard.escalation_policies.min_levels",
        file="policies/escalation_policies/min_levels.rego",
    ),
    PolicyInfo(
        id="PDG-SCH-003",
        title="Schedule has no gaps",
        description="Gaps in on-call coverage mean pages go unanswered.",
        severity="medium",
        remediation="Extend the schedule layers to cover 24/7.",
        package="pdguard.schedules.no_gaps",
        file="policies/schedules/no_gaps.rego",
    ),
    PolicyInfo(
        id="PDG-USR-004",
        title="User has a phone contact method",
        description="Push-only users miss pages when their phone is offline.",
        severity="low",
        remediation="Add an SMS or phone contact method.",
        package="pdguard.users.phone_contact",
        file="policies/users/phone_contact.rego",
    ),
    PolicyInfo(
        id="PDG-SVC-005",
        title="Service description is set",
        description="Descriptions help responders understand impact.",
        severity="info",
        remediation="Write a one-line description.",
        package="pdguard.services.description",
        file="policies/services/description.rego",
    ),
    PolicyInfo(
        id="PDG-TEAM-006",
        title="Team has a manager",
        description="Every team needs an accountable manager.",
        severity="medium",
        remediation="Give one member the manager role.",
        package="pdguard.teams.manager",
        file="policies/teams/manager.rego",
    ),
    PolicyInfo(  # evaluated, no finding at all
        id="PDG-INC-007",
        title="High-urgency incidents are acknowledged within 30 minutes",
        description="Slow acknowledgement means customers wait.",
        severity="high",
        remediation="Tune escalation timeouts.",
        package="pdguard.incidents.ack_time",
        file="policies/incidents/ack_time.rego",
    ),
]


def _policy(pid: str) -> PolicyInfo:
    return next(p for p in POLICIES if p.id == pid)


def make_finding(
    policy_id: str,
    rtype: str,
    rid: str,
    name: str | None,
    msg: str,
    *,
    details: dict | None = None,
    severity: str | None = None,
    location: Location | None = None,
    waiver: Waiver | None = None,
    baseline: str | None = None,
) -> Finding:
    p = _policy(policy_id)
    details = details or {}
    return Finding(
        policy_id=p.id,
        title=p.title,
        severity=severity or p.severity,
        description=p.description,
        remediation=p.remediation,
        docs_url=p.docs_url,
        msg=msg,
        resource=Resource(type=rtype, id=rid, name=name),
        details=details,
        fingerprint=fingerprint(p.id, rtype, rid, details),
        package=p.package,
        file=p.file,
        waived=waiver is not None,
        waiver=waiver,
        location=location,
        baseline=baseline,
    )


def sample_findings(*, baseline: bool = False) -> tuple[list[Finding], list[Finding]]:
    """(active findings, waived findings) in deliberately unsorted order."""
    b = (lambda state: state) if baseline else (lambda state: None)
    active = [
        make_finding("PDG-SCH-003", "schedule", "PSCH001", "Primary on-call", "Schedule has a 6h gap on Sundays",
                     details={"gap_hours": 6}, baseline=b("unchanged")),
        make_finding("PDG-SVC-001", "service", "PSVC001", NASTY_NAME,
                     'Service "API | <prod> & edge" has no escalation policy\nand no fallback',
                     location=Location(path="terraform/services.tf", line=42), baseline=b("new")),
        make_finding("PDG-EP-002", "escalation_policy", "PEP0001", "Ops <primary> & co",
                     "Escalation policy has only 1 level", details={"levels": 1}, baseline=b("unchanged")),
        make_finding("PDG-EP-002", "escalation_policy", "PEP0001", "Ops <primary> & co",
                     "Escalation rule 1 targets a deleted user", details={"rule": 1}, baseline=b("new")),
        make_finding("PDG-USR-004", "user", "PUSR001", "Zoë O'Brien", "User has no phone or SMS contact method",
                     baseline=b("unchanged")),
        make_finding("PDG-SVC-005", "service", "PSVC002", None, "Service description is empty",
                     baseline=b("unchanged")),
        make_finding("PDG-SVC-001", "service", "PSVC003", "payments", "Service has no escalation policy",
                     location=Location(path="/home/ci/work/repo/../outside/payments.tf", line=3), baseline=b("new")),
    ]
    waived = [
        make_finding("PDG-USR-004", "user", "PUSR002", "Bot | <svc>", "User has no phone or SMS contact method",
                     waiver=Waiver(policy="PDG-USR-004", resource="PUSR002", reason='service account & "bot" <ok>',
                                   expires="2027-01-31")),
        make_finding("PDG-TEAM-006", "team", "PTEAM01", "SRE", "Team has no manager",
                     waiver=Waiver(policy="PDG-TEAM-006", resource="SRE", reason="reorg in progress")),
    ]
    return active, waived


def sample_report(*, baseline: bool = False) -> Report:
    active, waived = sample_findings(baseline=baseline)
    by_sev: dict[str, int] = {}
    for f in active:
        by_sev[f.severity] = by_sev.get(f.severity, 0) + 1
    summary = Summary(total=len(active), failing=3, waived=len(waived), by_severity=by_sev, fail_on="high")
    fixed: list[dict] = []
    if baseline:
        summary.new, summary.unchanged, summary.fixed = 3, 4, 1
        fixed = [{"policy_id": "PDG-SCH-003", "fingerprint": "f" * 32,
                  "resource": {"type": "schedule", "id": "PSCH009", "name": "Old | rota"}}]
    return Report(
        tool={"name": "pdguard", "version": __version__},
        meta={"account_subdomain": "acme", "region": "us", "scanned_at": "2026-11-26T09:00:00Z", "complete": True},
        policies=list(POLICIES),
        findings=active,
        waived=waived,
        expired_waivers=[Waiver(policy="PDG-SCH-003", resource="PSCH002", reason="temporary", expires="2026-01-01")],
        fixed=fixed,
        summary=summary,
        warnings=["incidents truncated to the last 90 days"],
    )


def big_report(n: int, *, waived: int = 0) -> Report:
    """A report with `n` active findings spread over every policy and severity (+ `waived`)."""
    findings = []
    for i in range(n):
        p = POLICIES[i % len(POLICIES)]
        findings.append(make_finding(p.id, "service", f"P{i:07d}", f"service {i}", f"problem {i}"))
    waived_findings = [
        make_finding("PDG-TEAM-006", "team", f"T{i:07d}", f"team {i}", "Team has no manager",
                     waiver=Waiver(policy="PDG-TEAM-006", reason="ok"))
        for i in range(waived)
    ]
    return Report(
        tool={"name": "pdguard", "version": __version__},
        meta={"account_subdomain": "big", "scanned_at": "2026-11-26T09:00:00Z"},
        policies=list(POLICIES),
        findings=findings,
        waived=waived_findings,
    )


def all_fingerprints(report: Report) -> set[str]:
    return {f.fingerprint for f in [*report.findings, *report.waived]}


SCANNED_KEY = "pdkey-u+REAL-PATH-7f3a9c2e51"


def scanned_report(*, baseline: bool = False) -> Report:
    """The real path a key travels: the simulator accepts only SCANNED_KEY, the scanner sends it over
    HTTP, the snapshot is evaluated by the embedded engine. Output tests assert the key is absent
    from what they render (a leak anywhere on that path — meta, warnings, messages — fails them)."""
    global _SCANNED
    if _SCANNED is None:
        from pdguard.config import Config
        from pdguard.engine.base import InputRef
        from pdguard.pipeline import check_document
        from pdguard.scanner import ScanOptions, scan
        from pdguard.simulator import sample_account, serve

        with serve(sample_account(), tokens={SCANNED_KEY}) as server:
            doc = scan(ScanOptions(api_key=SCANNED_KEY, api_url=server.url)).document
        _SCANNED = check_document(InputRef(doc=doc), Config())
    report = _SCANNED.model_copy(deep=True)
    if baseline:
        report.findings = [f.model_copy(update={"baseline": "new" if i % 2 else "unchanged"})
                           for i, f in enumerate(report.findings)]
        report.summary.new = sum(f.baseline == "new" for f in report.findings)
        report.summary.unchanged = len(report.findings) - report.summary.new
        report.summary.fixed = 0
    return report


_SCANNED: Report | None = None
