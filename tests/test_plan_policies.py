"""Built-in plan policies (policies/plan/) on `terraform show -json` plan documents, on both engines.

Each blast-radius plan (tests/fixtures/terraform/blast_*.json, over terraform_fixtures.blast_live_doc())
must give exactly the PDG-PLAN findings listed here, each with its refusing reason; a no-op plan gives
none. The governance rules apply to planned objects before they exist (`check --tfplan`).
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from terraform_fixtures import BLAST, PAYMENTS_STATE, PLAN_CHANGES, PLAN_NOOP, blast_live_doc

from pdguard.config import Config
from pdguard.engine.base import InputRef
from pdguard.engine.embedded import EmbeddedEngine
from pdguard.evaluate import evaluate
from pdguard.inventory.plan import apply_plan, read_plan
from pdguard.snapshot import dump_document

PAYMENTS = str(PAYMENTS_STATE)

# plan -> {(policy id, resource id, reason)}: every PDG-PLAN finding the plan must give, and no other.
EXPECTED: dict[str, set[tuple[str, str, str]]] = {
    # the Primary policy has one level: PagerDuty refuses, the provider cannot take the rota out;
    # its open incident Q1 blocks the delete on its own ("escalation policy snapshot with open incidents")
    "delete_schedule": {("PDG-PLAN-001", "PSCH1", "only_level"), ("PDG-PLAN-001", "PSCH1", "open_incidents")},
    # Bob: an open incident assigned, still on the rota (updated after his delete), still the Web EP's
    # target; his Platform membership cannot go while the Platform policy pages him through the rota;
    # the Web EP's only level pages no one once he is gone
    "delete_user": {("PDG-PLAN-002", "PU2", "open_incidents"), ("PDG-PLAN-002", "PU2", "schedule"),
                    ("PDG-PLAN-002", "PU2", "escalation_policy"), ("PDG-PLAN-003", "PU2:PT1", "escalation_policy"),
                    ("PDG-PLAN-006", "PEP2", "level 1")},
    "remove_membership": {("PDG-PLAN-003", "PU2:PT1", "escalation_policy")},
    "replace_service": {("PDG-PLAN-004", "PSWEB", "open_incidents"), ("PDG-PLAN-004", "PSCHK", "open_incidents")},
    "cross_state_dependency": {("PDG-PLAN-005", "tf:pagerduty_service_dependency.web_on_checkout", "other_state")},
    "delete_service_used_elsewhere": {("PDG-PLAN-004", "PSWEB", "open_incidents"),
                                      ("PDG-PLAN-005", "PSWEB", "dependency_in_other_state")},
    "last_oncall": {("PDG-PLAN-006", "PEP1", "level 1")},
    "new_service": set(),
}
OTHER_STATES = {"cross_state_dependency": [PAYMENTS], "delete_service_used_elsewhere": [PAYMENTS]}


def planned(name: str) -> dict:
    return apply_plan(blast_live_doc(), read_plan(str(BLAST[name])), tfstate_paths=OTHER_STATES.get(name, []))


def plan_findings(report) -> set[tuple[str, str, str]]:
    out = set()
    for f in report.findings:
        if f.policy_id.startswith("PDG-PLAN-"):
            reason = f.details.get("reason") or f"level {f.details.get('level')}"
            out.add((f.policy_id, f.resource.id, reason))
    return out


@pytest.fixture(params=["embedded", "opa"])
def engine(request: pytest.FixtureRequest):
    if request.param == "embedded":
        return EmbeddedEngine()
    from pdguard.engine.opa import OpaEngine

    return OpaEngine(request.getfixturevalue("opa_url"))


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_blast_radius(engine, name: str) -> None:
    report = evaluate(InputRef(doc=planned(name)), Config(), engine=engine)
    assert plan_findings(report) == EXPECTED[name]
    if engine.name != "embedded":
        reference = evaluate(InputRef(doc=planned(name)), Config(), engine=EmbeddedEngine())
        assert [f.fingerprint for f in report.findings] == [f.fingerprint for f in reference.findings]


def test_findings_name_the_refusal_and_the_objects() -> None:
    report = evaluate(InputRef(doc=planned("delete_schedule")), Config(), engine=EmbeddedEngine())
    msgs = {f.details["reason"]: f for f in report.findings if f.policy_id == "PDG-PLAN-001"}
    only = msgs["only_level"]
    assert only.resource.name == "Primary rota" and only.resource.address == "pagerduty_schedule.primary"
    assert "escalation policy \"Primary\"" in only.msg
    assert "Schedule can't be deleted if it's being used by escalation policies" in only.msg
    assert "escalation policy snapshot with open incidents" in msgs["open_incidents"].msg
    assert "1 open incident(s)" in msgs["open_incidents"].msg
    assert only.severity == "high"
    report = evaluate(InputRef(doc=planned("delete_user")), Config(), engine=EmbeddedEngine())
    lost = next(f for f in report.findings if f.policy_id == "PDG-PLAN-006")
    assert lost.msg == 'level 1 of escalation policy "Web EP" pages Bob Brown today and no one after the apply'
    membership = next(f for f in report.findings if f.policy_id == "PDG-PLAN-003")
    assert "User cannot be removed as they belong to an escalation policy on this team" in membership.msg
    assert 'through schedule "Primary rota"' in membership.msg


@pytest.mark.parametrize("plan", [PLAN_NOOP, PLAN_CHANGES], ids=["noop", "changes"])
def test_noop_plan_gives_no_plan_finding(plan: Path) -> None:
    doc = apply_plan(blast_live_doc(), read_plan(str(plan)))
    got = plan_findings(evaluate(InputRef(doc=doc), Config(), engine=EmbeddedEngine()))
    if plan == PLAN_NOOP:
        assert got == set()
    else:  # plan_changes replaces Bob's Platform membership (delete first): refused like a removal
        assert got == {("PDG-PLAN-003", "PU2:PT1", "escalation_policy")}


def test_no_plan_no_plan_finding() -> None:
    report = evaluate(InputRef(doc=blast_live_doc()), Config(), engine=EmbeddedEngine())
    assert plan_findings(report) == set()


# ------------------------------------------------------------------------------- pdguard check --tfplan

TF = '''resource "pagerduty_service" "web" {
  name              = "web"
  escalation_policy = pagerduty_escalation_policy.web.id
}

resource "pagerduty_service" "orphan" {
  name              = "payments-webhooks"
  description       = "Payments webhooks"
  escalation_policy = var.escalation_policy
}

resource "pagerduty_team_membership" "bob_platform" {
  user_id = pagerduty_user.bob.id
  team_id = "PT1"
}
'''


def _check(tmp_path: Path, plan: Path, *args: str) -> tuple[subprocess.CompletedProcess, dict, dict]:
    (tmp_path / "snap.json").write_bytes(dump_document(blast_live_doc()))
    (tmp_path / "infra").mkdir(exist_ok=True)
    (tmp_path / "infra" / "main.tf").write_text(TF)
    r = subprocess.run([sys.executable, "-m", "pdguard", "check", "--snapshot", "snap.json", "--tfplan", str(plan),
                        "--tf-dir", "infra", "--format", "json=r.json", "--format", "sarif=r.sarif",
                        "--fail-on", "high", *args], capture_output=True, text=True, cwd=tmp_path)
    report = json.loads((tmp_path / "r.json").read_text()) if (tmp_path / "r.json").exists() else {}
    sarif = json.loads((tmp_path / "r.sarif").read_text()) if (tmp_path / "r.sarif").exists() else {}
    return r, report, sarif


def _sarif_locations(sarif: dict) -> dict[tuple[str, str], tuple[str, int]]:
    """{(rule id, resource id): (uri, start line)}"""
    out = {}
    for res in sarif["runs"][0]["results"]:
        loc = res["locations"][0]["physicalLocation"]
        key = (res["ruleId"], res["properties"]["resource"]["id"])
        out[key] = (loc["artifactLocation"]["uri"], loc["region"]["startLine"])
    return out


def test_new_service_without_escalation_policy_fails_before_it_exists(tmp_path: Path) -> None:
    r, report, sarif = _check(tmp_path, BLAST["new_service"])
    assert r.returncode == 1, r.stderr  # PDG-SVC-002 is high
    svc002 = [f for f in report["findings"] if f["policy_id"] == "PDG-SVC-002"]
    assert [f["resource"]["id"] for f in svc002] == ["tf:pagerduty_service.orphan"]
    f = svc002[0]
    assert f["resource"]["address"] == "pagerduty_service.orphan" and f["resource"]["name"] == "payments-webhooks"
    assert f["location"] == {"path": "infra/main.tf", "line": 6}
    assert _sarif_locations(sarif)[("PDG-SVC-002", "tf:pagerduty_service.orphan")] == ("infra/main.tf", 6)


def test_blast_radius_findings_point_at_the_tf_block(tmp_path: Path) -> None:
    r, report, sarif = _check(tmp_path, BLAST["replace_service"])
    assert r.returncode == 1, r.stderr
    web = next(f for f in report["findings"] if f["policy_id"] == "PDG-PLAN-004" and f["resource"]["id"] == "PSWEB")
    assert web["resource"]["address"] == "pagerduty_service.web"
    assert web["location"] == {"path": "infra/main.tf", "line": 1}  # the replaced service's block
    locs = _sarif_locations(sarif)
    assert locs[("PDG-PLAN-004", "PSWEB")] == ("infra/main.tf", 1)
    # checkout's block is gone from the code (delete_because_no_resource_config): the pseudo path
    chk = next(f for f in report["findings"] if f["policy_id"] == "PDG-PLAN-004" and f["resource"]["id"] == "PSCHK")
    assert chk["resource"]["address"] == "pagerduty_service.checkout"
    assert locs[("PDG-PLAN-004", "PSCHK")] == ("pagerduty/services/PSCHK.json", 1)


def test_noop_plan_check_has_no_plan_findings(tmp_path: Path) -> None:
    r, report, _ = _check(tmp_path, PLAN_NOOP, "--fail-on", "none")
    assert r.returncode == 0, r.stderr
    assert not [f for f in report["findings"] if f["policy_id"].startswith("PDG-PLAN-")]
