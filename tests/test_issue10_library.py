"""Issue 10 across the whole built-in library, on the demo account (scanned over HTTP):

* #5: a collection that was not collected (`--exclude`, a 403) never produces a finding: taking
  any collection out of `meta.collections` (and emptying it) never reports anything about an
  object the full scan found nothing wrong with (a root cause may move to the policy that no
  longer defers - PDG-STD-002 reports PagerDuty's score when PDG-STD-001 cannot judge - but no
  new one appears);
* #10: PDG-SVC-003 does not tell to PUT `teams` on a service (read-only);
* one root cause, one finding: no two findings of the demo share a root cause;
* the per-defect regressions live beside each policy (`*_test.rego`, run by test_policy_library).
"""

from __future__ import annotations

import copy
from functools import lru_cache

import pytest
from conftest import scan_account

from pdguard.config import Config
from pdguard.engine.base import InputRef
from pdguard.engine.embedded import EmbeddedEngine
from pdguard.engine.loader import load_policies
from pdguard.evaluate import evaluate


@lru_cache(maxsize=1)
def demo() -> dict:
    from pdguard.simulator import sample_account

    return scan_account(sample_account())


def everything() -> Config:
    """Every policy on, opt-in ones included."""
    return Config(policies={m.info.id: {"enabled": True} for m in load_policies().policies if m.info})


def findings(doc: dict) -> list:
    return evaluate(InputRef(doc=doc), everything(), engine=EmbeddedEngine()).findings


def _ids(value: object) -> set[str]:
    if isinstance(value, dict):
        return {str(value["id"])} if "id" in value else set() | {i for v in value.values() for i in _ids(v)}
    if isinstance(value, list):
        return {i for v in value for i in _ids(v)}
    return set()


@lru_cache(maxsize=1)
def subjects() -> frozenset[str]:
    """The objects the full scan has findings about: their resources, the ids in their details, and
    a service's escalation policy (what a service's finding may be about)."""
    ep_of = {s["id"]: (s.get("escalation_policy") or {}).get("id") for s in demo()["services"]}
    out = set()
    for f in findings(demo()):
        out |= {f.resource.id, *_ids(f.details)}
        if f.resource.type == "service" and ep_of.get(f.resource.id):
            out.add(ep_of[f.resource.id])
    return frozenset(out)


@pytest.mark.parametrize("collection", sorted(demo()["meta"]["collections"]))
def test_a_collection_not_collected_never_adds_a_finding(collection: str) -> None:
    doc = copy.deepcopy(demo())
    doc["meta"]["collections"].remove(collection)
    doc[collection] = []
    if collection == "standards":
        doc["standards_scores"] = []
    extra = sorted((f.policy_id, f.resource.id) for f in findings(doc) if f.resource.id not in subjects())
    assert not extra, f"without {collection}: {extra}"


def test_service_team_remediation_does_not_put_teams_on_the_service() -> None:
    info = next(m.info for m in load_policies().policies if m.info and m.info.id == "PDG-SVC-003")
    text = " ".join(info.remediation.split())
    assert '{"service": {"teams"' not in text
    assert "PUT /escalation_policies/{id}" in text and "PUT /services/{id} ignores them" in text


def test_every_policy_fires_on_the_demo_account() -> None:
    """`pdguard demo` (default configuration) shows every policy at least once - but the Terraform
    ones, which need --tfstate or --tfplan (tests/test_iac_check.py, the plan policies' tests)."""
    report = evaluate(InputRef(doc=demo()), Config(), engine=EmbeddedEngine())
    fired = {f.policy_id for f in report.findings}
    wanted = {m.info.id for m in load_policies().policies if m.info and not m.info.id.startswith(("PDG-IAC-", "PDG-PLAN-"))}
    assert wanted - fired == set()


# Root causes two policies could both report, and the key that identifies one (issue 10: one root
# cause, one finding). A finding may name several (a Service Standards finding one per standard).
def root_causes(f, doc: dict) -> set[tuple[str, str]]:
    svc = {s["id"]: s for s in doc["services"]}
    ep_of = {sid: (s.get("escalation_policy") or {}).get("id") for sid, s in svc.items()}
    eps = {e["id"]: e for e in doc["escalation_policies"]}
    out: set[tuple[str, str]] = set()
    pid, rid = f.policy_id, f.resource.id
    failed = set(f.details.get("failed", [])) if pid in ("PDG-STD-001", "PDG-STD-002") else set()
    if pid == "PDG-SVC-004" or "has_technical_service_description" in failed:
        out.add(("description", rid))
    if "minimum_outbound_integrations" in failed:
        out.add(("outbound", rid))
    if pid in ("PDG-EP-001", "PDG-EP-002", "PDG-EP-004"):
        out.add(("escalation depth", rid))
    if pid == "PDG-SVC-002" or "minimum_escalation_policy_rule_depth" in failed:
        out.add(("escalation depth", ep_of.get(rid) or rid))
    if pid in ("PDG-SVC-005", "PDG-SVC-006", "PDG-SVC-007"):
        out.add(("a service that opens no incident", rid))
    if pid == "PDG-EP-003":
        out.add(("a responder who cannot be reached", f.details["user"]["id"]))
    if pid in ("PDG-USR-001", "PDG-USR-002", "PDG-USR-003"):
        out.add(("a responder who cannot be reached", rid))
    if pid in ("PDG-SCH-001", "PDG-SCH-002", "PDG-SCH-003") or (pid == "PDG-TEAM-002" and f.resource.type == "schedule"):
        out.add((f"schedule {pid}", rid))
        if pid == "PDG-SCH-003":  # an unused schedule: nothing else about it matters
            out |= {(f"schedule {p}", rid) for p in ("PDG-SCH-001", "PDG-SCH-002", "PDG-TEAM-002")}
    if pid in ("PDG-EP-006", "PDG-EP-008", "PDG-EP-007") or (pid == "PDG-TEAM-002" and f.resource.type == "escalation_policy"):
        out.add((f"escalation policy {pid}", rid))
        if pid == "PDG-EP-006":
            out |= {(f"escalation policy {p}", rid) for p in ("PDG-EP-007", "PDG-EP-008", "PDG-TEAM-002")}
    if pid == "PDG-SCH-002":  # the levels it is alone on
        for e in eps.values():
            for i, rule in enumerate(e["escalation_rules"]):
                if [t["id"] for t in rule["targets"]] == [rid]:
                    out.add(("level coverage", f"{e['id']}/{i + 1}"))
    if pid == "PDG-EP-008":
        out.add(("level coverage", f"{rid}/{f.details['level']}"))
    if pid == "PDG-EP-007":
        out.add(("level coverage", f"{rid}/1"))
    if pid == "PDG-SVC-003":
        out.add(("no team", ep_of.get(rid) or rid))
    if pid == "PDG-TEAM-002" and f.resource.type == "escalation_policy":
        out.add(("no team", rid))
    return out


def test_no_root_cause_is_reported_twice_on_the_demo_account() -> None:
    doc = demo()
    seen: dict[tuple[str, str], str] = {}
    twice = []
    for f in evaluate(InputRef(doc=doc), Config(), engine=EmbeddedEngine()).findings:
        for cause in root_causes(f, doc):
            if cause in seen:
                twice.append((cause, seen[cause], f"{f.policy_id} {f.resource.id}"))
            seen[cause] = f"{f.policy_id} {f.resource.id}"
    assert twice == []
    # the ownership is exercised: each kind of root cause appears on the demo
    assert {kind for kind, _ in seen} >= {"description", "outbound", "escalation depth", "level coverage", "no team",
                                          "a service that opens no incident", "a responder who cannot be reached"}
