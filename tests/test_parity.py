"""Two engines, one contract: the same policies and input give the same findings on every engine.

One table of cases runs through every available engine, each against the same expected findings.
The embedded engine always runs. The OPA engine runs against a real OPA (`opa` on PATH, started
by the fixture, or PDGUARD_TEST_OPA_URL); otherwise its cases are skipped and the skip reason
says why. No fake OPA stands in for a real one here.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import pytest
from conftest import scan_account, tiny_snapshot

from pdguard.config import Config
from pdguard.engine.base import InputRef
from pdguard.engine.embedded import EmbeddedEngine
from pdguard.evaluate import evaluate

HEADER = """# METADATA
# title: {title}
# custom:
#   id: {pid}
#   severity: high
package pdguard.parity.{name}

"""


@dataclass
class Case:
    name: str
    body: str
    doc: dict
    expected: set[tuple[str, str]]  # (resource id, msg)
    settings: dict = field(default_factory=dict)


SVCS = [
    {"id": "P1", "name": "Payments API", "created_at": "2026-01-01T00:00:00Z", "teams": [], "escalation_policy": None},
    {"id": "P2", "name": "payments-api", "created_at": "2026-11-20T00:00:00Z", "teams": [{"id": "T1"}],
     "escalation_policy": {"id": "E1"}},
    {"id": "P3", "name": "legacy_billing", "created_at": "2025-06-01T12:30:00+02:00", "teams": [{"id": "T2"}]},
]

CASES = [
    Case("regex", """deny contains f if {
  some s in input.services
  not regex.match(data.pdguard.config.service_name_pattern, s.name)
  f := {"msg": sprintf("%s does not match", [s.name]), "resource": {"type": "service", "id": s.id, "name": s.name}}
}""", tiny_snapshot(services=SVCS), {("P1", "Payments API does not match"), ("P3", "legacy_billing does not match")}),
    Case("time", """deny contains f if {
  some s in input.services
  now := time.parse_rfc3339_ns(input.meta.scanned_at)
  age := (now - time.parse_rfc3339_ns(s.created_at)) / (24 * 60 * 60 * 1000000000)
  age > 90
  f := {"msg": sprintf("%s is %d days old", [s.name, floor(age)]),
        "resource": {"type": "service", "id": s.id, "name": s.name}}
}""", tiny_snapshot(services=SVCS), {("P1", "Payments API is 329 days old"), ("P3", "legacy_billing is 542 days old")}),
    # `not x` is true only for false/undefined: a null field (P1) is defined, a missing one (P3) is not.
    Case("null_vs_missing", """deny contains f if {
  some s in input.services
  not s.escalation_policy
  f := {"msg": "no ep", "resource": {"type": "service", "id": s.id, "name": s.name}}
}""", tiny_snapshot(services=SVCS), {("P3", "no ep")}),
    Case("index_join", """teams := {t.id: t | some t in input.teams}

deny contains f if {
  some s in input.services
  some ref in object.get(s, "teams", [])
  not teams[ref.id]
  f := {"msg": sprintf("unknown team %s", [ref.id]), "resource": {"type": "service", "id": s.id, "name": s.name},
        "details": {"team": ref.id}}
}""", tiny_snapshot(services=SVCS, teams=[{"id": "T1", "name": "core"}]), {("P3", "unknown team T2")}),
    Case("counts_and_sets", """deny contains f if {
  some ep in input.escalation_policies
  users := {t.id | some r in ep.escalation_rules; some t in r.targets; t.type == "user_reference"}
  count(users) == 1
  some u in users
  f := {"msg": sprintf("only %s (%d rules)", [u, count(ep.escalation_rules)]),
        "resource": {"type": "escalation_policy", "id": ep.id, "name": ep.name}}
}""", tiny_snapshot(escalation_policies=[
        {"id": "E1", "name": "one", "escalation_rules": [
            {"targets": [{"id": "U1", "type": "user_reference"}]},
            {"targets": [{"id": "U1", "type": "user_reference"}]}]},
        {"id": "E2", "name": "two", "escalation_rules": [
            {"targets": [{"id": "U1", "type": "user_reference"}, {"id": "U2", "type": "user_reference"}]}]},
    ]), {("E1", "only U1 (2 rules)")}),
    Case("strings", """deny contains f if {
  some u in input.users
  parts := split(lower(u.email), "@")
  not endswith(parts[1], "example.com")
  f := {"msg": concat("/", [upper(parts[0]), trim_space(u.name)]),
        "resource": {"type": "user", "id": u.id, "name": u.name}}
}""", tiny_snapshot(users=[{"id": "U1", "name": " Ann ", "email": "Ann@Example.com"},
                          {"id": "U2", "name": "Bob", "email": "bob@gmail.com"}]), {("U2", "BOB/Bob")}),
    Case("no_findings", """deny contains f if {
  some s in input.services
  s.name == "does-not-exist"
  f := {"msg": "x", "resource": {"type": "service", "id": s.id}}
}""", tiny_snapshot(services=SVCS), set()),
]


@pytest.fixture(params=["embedded", "opa"])
def engine(request: pytest.FixtureRequest):
    if request.param == "embedded":
        return EmbeddedEngine()
    from pdguard.engine.opa import OpaEngine

    return OpaEngine(request.getfixturevalue("opa_url"))


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_parity_case(engine, case: Case, tmp_path: Path) -> None:
    (tmp_path / f"{case.name}.rego").write_text(
        HEADER.format(title=case.name, pid=f"PAR-{case.name}", name=case.name) + case.body + "\n")
    report = evaluate(InputRef(doc=case.doc), Config(settings=case.settings), engine=engine,
                      policy_paths=[str(tmp_path)], builtin=False)
    got = {(f.resource.id, f.msg) for f in report.findings}
    assert got == case.expected, f"{engine.name} differs on {case.name}"


_STANDARDS = ["PSVCBEX", "PSVCCRN", "PSVCFAX", "PSVCFFL", "PSVCIMG", "PSVCLAR", "PSVCLAU", "PSVCORP", "PSVCSID",
              "PSVCVND"]
# The sample account's documented problems (pdguard/simulator/sample.py): what every engine must find.
SAMPLE_FINDINGS = {
    "PDG-BS-001": ["PBSPRTL"], "PDG-BS-002": ["PSVCFFL", "PSVCNTR"], "PDG-BS-003": ["PBSMOBL"],
    "PDG-EP-001": ["PEPSNGL"], "PDG-EP-002": ["PEPEMPT"], "PDG-EP-003": ["PEPNOCM"], "PDG-EP-004": ["PEPSOLO"],
    "PDG-EP-005": ["PEPNOLP"], "PDG-EP-006": ["PEPOLDX"], "PDG-EP-007": ["PEPRECO"], "PDG-EP-008": ["PEPDATA"],
    "PDG-INC-001": ["PINCOLD", "PINCTRG"], "PDG-SCH-001": ["PSCHDAT"], "PDG-SCH-002": ["PSCHGAP"],
    "PDG-SCH-003": ["PSCHORP"], "PDG-STD-001": _STANDARDS, "PDG-STD-002": ["PSVCWHL"],
    "PDG-SVC-001": ["PSVCLGB", "PSVCPAY"], "PDG-SVC-002": ["PSVCNTR"], "PDG-SVC-003": ["PSVCIMG"],
    "PDG-SVC-004": ["PSVCSID"], "PDG-SVC-005": ["PSVCBEX", "PSVCORP"], "PDG-SVC-006": ["PSVCEML"],
    "PDG-SVC-007": ["PSVCFAX", "PSVCLAR", "PSVCLGB"], "PDG-SVC-008": ["PSVCLAU", "PSVCPAY"],
    "PDG-SVC-009": ["PSVCORD"], "PDG-SVC-010": ["PSVCSRI"], "PDG-SVC-011": ["PSVCSRI"], "PDG-TEAM-001": ["PTMGHST"],
    "PDG-TEAM-002": ["PSCHNEW"], "PDG-USR-001": ["PUSRLEO"], "PDG-USR-002": ["PUSRHUG"], "PDG-USR-003": ["PUSRMIL"],
}


@pytest.fixture(scope="module")
def sample_doc() -> dict:
    from pdguard.simulator import sample_account

    return scan_account(sample_account())  # over HTTP, like `pdguard demo`


def test_builtin_library_on_sample_account(engine, sample_doc: dict) -> None:
    """The whole built-in library over the demo account: the documented findings, same fingerprints everywhere."""
    report = evaluate(InputRef(doc=sample_doc), Config(), engine=engine)
    got: dict[str, list[str]] = {}
    for f in report.findings:
        got.setdefault(f.policy_id, []).append(f.resource.id)
    assert {k: sorted(v) for k, v in got.items()} == SAMPLE_FINDINGS
    if engine.name != "embedded":
        reference = evaluate(InputRef(doc=sample_doc), Config(), engine=EmbeddedEngine())
        assert [f.fingerprint for f in report.findings] == [f.fingerprint for f in reference.findings]
