"""`pdguard explain`: the finding, the policy's text and the input excerpt it judged."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from conftest import run_pdguard, tiny_snapshot

from pdguard.explain import excerpt

USERS = [
    {"id": "PUSR001", "type": "user", "name": "Sam \x1b[2J\u202eSolo", "role": "user", "contact_methods": [],
     "notification_rules": []},
    {"id": "PUSR002", "type": "user", "name": "Ann", "role": "user", "contact_methods": [], "notification_rules": []},
]


def ref(rtype: str, rid: str) -> dict:
    return {"id": rid, "type": f"{rtype}_reference", "summary": rid}


EPS = [
    {"id": "PEP0001", "type": "escalation_policy", "name": "solo", "num_loops": 1, "teams": [ref("team", "PTM0001")],
     "escalation_rules": [{"escalation_delay_in_minutes": 30, "targets": [ref("user", "PUSR001")]},
                          {"escalation_delay_in_minutes": 30, "targets": [ref("user", "PUSR001")]}]},
    {"id": "PEP0002", "type": "escalation_policy", "name": "pair", "num_loops": 1, "teams": [ref("team", "PTM0001")],
     "escalation_rules": [{"escalation_delay_in_minutes": 30, "targets": [ref("user", "PUSR001")]},
                          {"escalation_delay_in_minutes": 30, "targets": [ref("user", "PUSR002")]}]},
]
SERVICES = [{"id": "PSVC001", "type": "service", "name": "api", "escalation_policy": ref("escalation_policy", "PEP0001"),
             "teams": [ref("team", "PTM0001")], "integrations": [], "status": "active"}]
ONCALLS = [{"escalation_policy": ref("escalation_policy", "PEP0001"), "escalation_level": 1, "schedule": None,
            "user": ref("user", "PUSR001"), "start": None, "end": None}]


@pytest.fixture()
def snap(tmp_path: Path) -> Path:
    doc = tiny_snapshot(users=USERS, escalation_policies=EPS, services=SERVICES, oncalls=ONCALLS,
                        teams=[{"id": "PTM0001", "type": "team", "name": "core"}])
    path = tmp_path / "s.json"
    path.write_text(json.dumps(doc))
    return path


def report(snap: Path, tmp_path: Path) -> list[dict]:
    r = run_pdguard("check", "--snapshot", str(snap), "--format", f"json={tmp_path}/r.json", "--fail-on", "none")
    assert r.returncode == 0, r.stderr
    return json.loads((tmp_path / "r.json").read_text())["findings"]


def test_explain_a_fingerprint(snap: Path, tmp_path: Path) -> None:
    finding = next(f for f in report(snap, tmp_path) if f["policy_id"] == "PDG-EP-004")
    r = run_pdguard("explain", finding["fingerprint"][:12], "--snapshot", str(snap))
    assert r.returncode == 0, r.stderr
    out = r.stdout
    assert out.startswith("PDG-EP-004  high  Escalation policy does not depend on a single person\n")
    assert f"  fingerprint: {finding['fingerprint']}" in out
    assert '  details (part of the fingerprint): {"user_id": "PUSR001"}' in out
    assert "Why - Escalation policy does not depend on a single person (policies/escalation_policies/single_user.rego" in out
    assert "Remediation:\n  Add other people to the rotation" in out
    # the resource, what it references (the user), what names it (the on-call entry, the service)
    assert "  escalation_policies/PEP0001:\n    {" in out
    assert "  users/PUSR001:" in out and "  oncalls:" in out and "  referenced_by:" in out
    assert '"type": "services",\n        "id": "PSVC001"' in out
    # PagerDuty's text is untrusted: escape sequences and bidi controls are shown, never sent
    assert "\x1b" not in out and "\\u001b[2J" in out
    assert "\u202e" not in out and "\\u202eSolo" in out


def test_explain_json(snap: Path, tmp_path: Path) -> None:
    finding = next(f for f in report(snap, tmp_path) if f["policy_id"] == "PDG-EP-004")
    r = run_pdguard("explain", finding["fingerprint"], "--snapshot", str(snap), "--format", "json")
    assert r.returncode == 0, r.stderr
    doc = json.loads(r.stdout)
    assert [f["fingerprint"] for f in doc["findings"]] == [finding["fingerprint"]]
    assert doc["policy"]["id"] == "PDG-EP-004" and doc["policy"]["file"].endswith("single_user.rego")
    assert doc["input"]["resource"]["id"] == "PEP0001" and doc["input"]["collection"] == "escalation_policies"
    assert set(doc["input"]["references"]) == {"users/PUSR001", "teams/PTM0001"}
    assert doc["input"]["related"]["oncalls"] == ONCALLS
    assert doc["input"]["related"]["referenced_by"] == [{"type": "services", "id": "PSVC001", "name": "api"}]


def test_explain_a_policy_and_resource_that_passes(snap: Path) -> None:
    r = run_pdguard("explain", "--policy", "PDG-EP-004", "--resource", "pair", "--snapshot", str(snap))
    assert r.returncode == 0, r.stderr
    assert r.stdout.startswith("PDG-EP-004 reports nothing about escalation_policy PEP0002: it passes\n")
    assert "  escalation_policies/PEP0002:" in r.stdout and "users/PUSR002" in r.stdout


def test_explain_a_policy_switched_off(snap: Path, tmp_path: Path) -> None:
    (tmp_path / "pdguard.yaml").write_text("policies:\n  PDG-EP-004: {enabled: false}\n")
    r = run_pdguard("--config", str(tmp_path / "pdguard.yaml"), "explain", "--policy", "PDG-EP-004",
                    "--resource", "PEP0001", "--snapshot", str(snap))
    assert r.returncode == 0, r.stderr
    assert "finding: every level of escalation policy \"solo\"" in r.stdout


@pytest.mark.parametrize(("args", "code", "fragment"), [
    (["0123456789abcdef"], 2, "no finding with fingerprint 0123456789abcdef in this snapshot"),
    (["0123"], 2, "a fingerprint needs at least 8 characters"),
    ([], 2, "give a FINGERPRINT, or --policy ID with --resource ID"),
    (["--policy", "PDG-EP-004"], 2, "give a FINGERPRINT, or --policy ID with --resource ID"),
    (["--policy", "PDG-NOPE-1", "--resource", "x"], 2, "no policy PDG-NOPE-1"),
    (["--policy", "PDG-EP-004", "--resource", "PNOPE99"], 3, "no object with the id or name 'PNOPE99'"),
])
def test_explain_errors_are_one_line(snap: Path, args: list[str], code: int, fragment: str) -> None:
    r = run_pdguard("explain", *args, "--snapshot", str(snap))
    assert r.returncode == code and fragment in r.stderr, r.stderr
    assert len(r.stderr.strip().splitlines()) == 1 and r.stdout == ""


def test_excerpt_cuts_long_lists() -> None:
    big = {"id": "PSCH001", "type": "schedule", "name": "s",
           "final_schedule": {"rendered_schedule_entries": [{"n": i} for i in range(40)]}}
    ex = excerpt(tiny_snapshot(schedules=[big]), "schedule", "PSCH001")
    entries = ex.resource["final_schedule"]["rendered_schedule_entries"]  # type: ignore[index]
    assert len(entries) == 26 and entries[-1] == "... 15 more"


def test_explain_scans_when_no_snapshot_is_given() -> None:
    from pdguard.simulator import sample_account, serve

    with serve(sample_account(), tokens={"t0k3n"}) as server:
        r = run_pdguard("explain", "--policy", "PDG-SCH-002", "--resource", "PSCHGAP", "--api-url", server.url,
                        "--quiet", env={"PAGERDUTY_API_KEY": "t0k3n"})
    assert r.returncode == 0, r.stderr
    assert r.stdout.startswith("PDG-SCH-002  high  Schedule leaves no gap in the escalation levels it serves alone\n")
    assert "  schedules/PSCHGAP:" in r.stdout and "  escalation_policies/PEPPAYM:" in r.stdout  # what it references
    assert "t0k3n" not in r.stdout + r.stderr
