"""Snapshot schema 2.0 end to end: 1.x snapshots refused on every path, the published schema,
data.pdguard.lib for user policies, policies that do not judge what was not collected, and the
policy test helpers' messages."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import require_opa, tiny_snapshot

from pdguard.config import Config
from pdguard.engine.base import InputRef
from pdguard.engine.embedded import EmbeddedEngine
from pdguard.errors import InputError
from pdguard.evaluate import evaluate
from pdguard.snapshot import SCHEMA_VERSION, Snapshot, json_schema

ROOT = Path(__file__).resolve().parents[1]
TOKEN = "v2-token"

# A 1.x snapshot: services embed a full copy of their escalation policy (include[]), the shape
# every 1.x policy handled and no 2.x policy expects; and a timestamp no 2.x policy can parse
# (regorus would fail the evaluation on it): no policy may run on this document at all.
V1 = {
    "schema_version": "1.0",
    "meta": {"scanned_at": "2026-11-26T09:00:00Z", "region": "us", "complete": True, "warnings": []},
    "services": [{"id": "PSVC001", "name": "api", "escalation_policy": {
        "id": "PEP0001", "type": "escalation_policy", "name": "ep", "escalation_rules": []}}],
    "incidents": [{"id": "PINC001", "urgency": "high", "status": "triggered", "created_at": "26/11/2026 09:00"}],
}


def pdguard(*args: str, env: dict | None = None) -> subprocess.CompletedProcess:
    base = {k: v for k, v in os.environ.items() if k not in ("PAGERDUTY_API_KEY", "PDGUARD_CONFIG")}
    return subprocess.run([sys.executable, "-m", "pdguard", *args], capture_output=True, text=True,
                          env={**base, **(env or {})}, timeout=120)


def one_line_v1_error(r: subprocess.CompletedProcess) -> None:
    assert r.returncode == 3, (r.stdout, r.stderr)
    assert "Traceback" not in r.stderr and len(r.stderr.strip().splitlines()) == 1, r.stderr
    assert "schema 1.0 (written by pdguard 0.1)" in r.stderr and "pdguard scan" in r.stderr
    assert "pdguard >= 0.2" in r.stderr


@pytest.fixture(scope="module")
def v1_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("v1") / "old.json"
    path.write_text(json.dumps(V1))
    return path


@pytest.mark.parametrize("extra", [[], ["--engine", "opa"], ["--tfstate", "{tfstate}"]],
                         ids=["embedded-file", "opa-file", "python-load"])
def test_v1_snapshot_file_is_a_one_line_exit_3(v1_file: Path, tmp_path: Path, extra: list[str],
                                                request: pytest.FixtureRequest) -> None:
    if "opa" in extra:
        extra = [*extra, "--opa-url", request.getfixturevalue("opa_url")]
    tfstate = tmp_path / "terraform.tfstate"
    tfstate.write_text(json.dumps({"version": 4, "resources": []}))
    r = pdguard("check", "--snapshot", str(v1_file), *[a.format(tfstate=tfstate) for a in extra])
    one_line_v1_error(r)
    assert str(v1_file) in r.stderr


@pytest.mark.parametrize("engine_name", ["embedded", "opa"])
def test_v1_document_in_memory_is_refused(engine_name: str, request: pytest.FixtureRequest) -> None:
    if engine_name == "embedded":
        engine = EmbeddedEngine()
    else:
        from pdguard.engine.opa import OpaEngine

        engine = OpaEngine(request.getfixturevalue("opa_url"))
    with pytest.raises(InputError, match=r"snapshot: schema 1\.0 .* rescan the account with `pdguard scan`"):
        evaluate(InputRef(doc=V1), Config(), engine=engine)


def test_v1_stored_scan_is_refused_by_codify(tmp_path: Path) -> None:
    import sqlalchemy as sa

    from pdguard.inventory.store import Store

    url = f"sqlite:///{tmp_path / 'inv.sqlite'}"
    Store(url).close()
    engine = sa.create_engine(url)
    with engine.begin() as conn:  # a scan a pdguard 0.1 stored
        conn.execute(sa.text("INSERT INTO scans (id, scanned_at, stored_at, complete, meta, counts) VALUES "
                             "(1, '2026-11-25T09:00:00Z', 'then', 1, '{\"schema_version\": \"1.0\"}', '{}')"))
    engine.dispose()
    r = pdguard("codify", "--store", url)
    one_line_v1_error(r)


def test_meta_must_say_what_was_collected(tmp_path: Path) -> None:
    doc = tiny_snapshot()
    del doc["meta"]["collections"]
    path = tmp_path / "s.json"
    path.write_text(json.dumps(doc))
    r = pdguard("check", "--snapshot", str(path))
    assert r.returncode == 3 and "meta.collections" in r.stderr and len(r.stderr.strip().splitlines()) == 1
    r = pdguard("check", "--snapshot", str(path), "--tfstate", str(path))
    assert r.returncode == 3 and "meta.collections" in r.stderr


def test_schema_command_prints_the_v2_contract() -> None:
    r = pdguard("schema")
    assert r.returncode == 0
    schema = json.loads(r.stdout)
    assert schema == json_schema()
    assert schema["properties"]["schema_version"]["default"] == SCHEMA_VERSION == "2.1"
    assert "flexible_schedules" in schema["properties"]
    meta = schema["$defs"]["Meta"]
    assert {"scanned_at", "collections"} <= set(meta["required"])
    assert {"collections_status", "schedule_window"} <= set(meta["properties"])
    target = schema["$defs"]["EscalationTarget"]["properties"]["type"]
    assert set(target["enum"]) == {"user_reference", "schedule_reference", "schedule_v3_reference"}


def test_embedded_copies_are_not_v2() -> None:
    """A service carrying a copy of its escalation policy (1.x include[]) does not fit the 2.0 model."""
    from pydantic import ValidationError

    doc = tiny_snapshot(services=V1["services"])
    with pytest.raises(ValidationError, match="escalation_policy"):
        Snapshot.model_validate(doc)
    ok = tiny_snapshot(services=[{"id": "PSVC001", "escalation_policy": {
        "id": "PEP0001", "type": "escalation_policy_reference", "summary": "ep"}}])
    Snapshot.model_validate(ok)


USER_POLICY = """# METADATA
# title: Escalation policy pages someone now
# description: Level 1 of every escalation policy has someone on call.
# custom:
#   id: ACME-001
#   severity: high
#   remediation: Fix the rotation.
package acme.oncall

import data.pdguard.lib

deny contains lib.finding(sprintf("nobody is on call at level 1 of %q", [lib.name(ep)]), "escalation_policy", ep) if {
	some ep in input.escalation_policies
	count(lib.oncall_now(ep, 1)) == 0
}
"""


@pytest.mark.parametrize("engine", ["embedded", "opa"])
def test_user_policy_builds_on_the_lib_with_no_builtin(tmp_path: Path, engine: str,
                                                        request: pytest.FixtureRequest) -> None:
    (tmp_path / "oncall.rego").write_text(USER_POLICY)
    ep = {"id": "PEP0001", "type": "escalation_policy", "name": "primary", "escalation_rules": []}
    covered = dict(ep, id="PEP0002", name="covered")
    oncall = {"escalation_policy": {"id": "PEP0002", "type": "escalation_policy_reference"}, "escalation_level": 1,
              "user": {"id": "PUSR001", "type": "user_reference"}, "schedule": None, "start": None, "end": None}
    snap = tmp_path / "s.json"
    snap.write_text(json.dumps(tiny_snapshot(escalation_policies=[ep, covered], oncalls=[oncall])))
    args = ["check", "--snapshot", str(snap), "--no-builtin", "--policy", str(tmp_path), "--format", "json"]
    if engine == "opa":
        args += ["--engine", "opa", "--opa-url", request.getfixturevalue("opa_url")]
    r = pdguard(*args)
    assert r.returncode == 1, r.stderr
    findings = json.loads(r.stdout)["findings"]
    assert [(f["policy_id"], f["resource"]["id"], f["msg"]) for f in findings] == [
        ("ACME-001", "PEP0001", 'nobody is on call at level 1 of "primary"')]
    # without on-calls collected the policy has nothing to judge
    snap.write_text(json.dumps(tiny_snapshot(escalation_policies=[ep], not_collected=("oncalls",))))
    r = pdguard(*args)
    assert r.returncode == 0 and json.loads(r.stdout)["findings"] == []


def test_the_lib_is_a_library_not_a_policy() -> None:
    r = pdguard("policy", "list", "--json")
    assert r.returncode == 0
    assert all(not p["package"].startswith("pdguard.lib") for p in json.loads(r.stdout))
    rows = [ln for ln in (ROOT / "policies" / "README.md").read_text().splitlines() if re.match(r"\| \[[A-Z]+-[A-Z]+-\d+\]", ln)]
    assert len(rows) == len(json.loads(r.stdout)) and not any("policies/lib/" in ln for ln in rows)


def test_policy_print_goes_to_stderr(tmp_path: Path) -> None:
    (tmp_path / "p.rego").write_text(
        "# METADATA\n# title: t\n# custom:\n#   id: P-1\n#   severity: low\npackage p\n\n"
        'deny contains {"msg": "m", "resource": {"type": "service", "id": s.id}} if {\n'
        "\tsome s in input.services\n\tprint(\"looking at\", s.id)\n}\n")
    snap = tmp_path / "s.json"
    snap.write_text(json.dumps(tiny_snapshot(services=[{"id": "PSVC001"}])))
    r = pdguard("check", "--snapshot", str(snap), "--no-builtin", "--policy", str(tmp_path / "p.rego"),
                "--format", "json", "--fail-on", "none")
    assert r.returncode == 0
    assert json.loads(r.stdout)["findings"][0]["resource"]["id"] == "PSVC001"
    assert "looking at PSVC001" in r.stderr


FAILING_TEST = """package acme.oncall_test

import data.acme.oncall as policy
import data.pdguard.lib.testing

test_primary_denied if {
	inp := testing.snapshot({"escalation_policies": [testing.escalation_policy("PEP0001", [])]})
	testing.assert_ids(policy.deny, {"PEP0009"}) with input as inp
}
"""


def test_policy_test_shows_got_and_want(tmp_path: Path) -> None:
    (tmp_path / "oncall.rego").write_text(USER_POLICY)
    (tmp_path / "oncall_test.rego").write_text(FAILING_TEST)
    r = pdguard("policy", "test", str(tmp_path))
    assert r.returncode == 1
    assert "test_primary_denied: FAIL" in r.stdout
    assert 'got ids:  ["PEP0001"]' in r.stdout and 'want ids: ["PEP0009"]' in r.stdout
    assert 'nobody is on call at level 1 of \\"PEP0001\\"' in r.stdout


def test_opa_test_passes_on_the_builtin_library_and_shows_messages(tmp_path: Path) -> None:
    opa = require_opa()
    ok = subprocess.run([opa, "test", str(ROOT / "policies")], capture_output=True, text=True, timeout=300)
    assert ok.returncode == 0, ok.stdout[-3000:]
    strict = subprocess.run([opa, "check", "--strict", str(ROOT / "policies")], capture_output=True, text=True)
    assert strict.returncode == 0, strict.stdout + strict.stderr
    (tmp_path / "oncall.rego").write_text(USER_POLICY)
    (tmp_path / "oncall_test.rego").write_text(FAILING_TEST)
    bad = subprocess.run([opa, "test", str(ROOT / "policies" / "lib"), str(tmp_path)], capture_output=True, text=True,
                         timeout=300)
    assert bad.returncode != 0 and 'want ids: ["PEP0009"]' in bad.stdout


def test_builtin_policies_are_formatted_as_opa_fmt_formats_them() -> None:
    """`opa fmt --list` names the files whose formatting differs from OPA's canonical one: none
    of the built-in policies, their tests or the library (run `opa fmt -w policies` to fix)."""
    listed = subprocess.run([require_opa(), "fmt", "--list", str(ROOT / "policies")], capture_output=True, text=True,
                            timeout=120)
    assert listed.returncode == 0, listed.stderr
    assert listed.stdout.split() == []


def test_policies_do_not_judge_collections_that_were_not_collected() -> None:
    """The sample account scanned without escalation policies and service dependencies: the
    policies that judge an absence in them (SCH-003, BS-001, STD-001's levels, SCH-002's levels,
    ...) stay quiet, the others still report."""
    from pdguard.scanner import ALL_COLLECTIONS, ScanOptions, scan
    from pdguard.simulator import sample_account, serve

    skipped = ("escalation_policies", "service_dependencies", "users")
    with serve(sample_account(), tokens={TOKEN}) as server:
        doc = scan(ScanOptions(api_key=TOKEN, api_url=server.url,
                               collections=tuple(c for c in ALL_COLLECTIONS if c not in skipped))).document
    assert not set(skipped) & set(doc["meta"]["collections"])
    report = evaluate(InputRef(doc=doc), Config(), engine=EmbeddedEngine())
    got = {f.policy_id for f in report.findings}
    assert not got & {"PDG-SCH-003", "PDG-BS-001", "PDG-TEAM-001", "PDG-EP-001", "PDG-EP-002", "PDG-USR-001",
                      "PDG-SCH-002", "PDG-EP-008", "PDG-BS-002"}
    assert {"PDG-SCH-001", "PDG-SVC-002", "PDG-STD-002"} <= got
    std = {f.resource.id: f.details["failed"] for f in report.findings if f.policy_id == "PDG-STD-001"}
    assert all("minimum_escalation_policy_rule_depth" not in v for v in std.values())
    assert std["PSVCFFL"] == ["has_technical_service_description"]


def test_meta_says_whose_service_dependencies_were_read_and_bs002_judges_only_all() -> None:
    """meta.service_dependencies: "business" by default, "all" with scan.service_dependencies: all,
    absent when the collection was not collected. PDG-BS-002 judges only with "all": with the
    business services' dependencies only, a service supporting one through another service would
    look unmapped (a false positive on real accounts)."""
    from pdguard.scanner import ALL_COLLECTIONS, ScanOptions, scan
    from pdguard.simulator import sample_account, serve

    def scanned(**options: object) -> dict:
        with serve(sample_account(), tokens={TOKEN}) as server:
            return scan(ScanOptions(api_key=TOKEN, api_url=server.url, **options)).document  # type: ignore[arg-type]

    def bs002(doc: dict) -> set[str]:
        report = evaluate(InputRef(doc=doc), Config(), engine=EmbeddedEngine())
        return {f.resource.id for f in report.findings if f.policy_id == "PDG-BS-002"}

    business, every = scanned(), scanned(service_dependencies="all")
    assert business["meta"]["service_dependencies"] == "business"
    assert every["meta"]["service_dependencies"] == "all"
    assert Snapshot.model_validate(every).meta.service_dependencies == "all"
    assert bs002(business) == set()
    assert bs002(every) == {"PSVCFFL", "PSVCNTR"}
    skipped = scanned(service_dependencies="all",
                      collections=tuple(c for c in ALL_COLLECTIONS if c != "service_dependencies"))
    assert "service_dependencies" not in skipped["meta"]
    assert bs002(skipped) == set()
