"""`pdguard check --tfstate --tf-dir` end to end: input.iac reaches the policies, SARIF points at the code."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from pdguard.scanner import ScanOptions, scan
from pdguard.simulator import sample_account, serve
from pdguard.snapshot import dump_document

TF = '''terraform {
  required_providers {
    pagerduty = { source = "pagerduty/pagerduty" }
  }
}

resource "pagerduty_service" "checkout" {
  name              = "checkout-api"
  escalation_policy = "PEPDATA"
}

resource "pagerduty_service" "gone" {
  name              = "gone"
  escalation_policy = "PEPDATA"
}
'''


def state(checkout: dict) -> dict:
    def res(name: str, attrs: dict) -> dict:
        return {"mode": "managed", "type": "pagerduty_service", "name": name,
                "provider": 'provider["registry.terraform.io/pagerduty/pagerduty"]',
                "instances": [{"schema_version": 1, "attributes": attrs}]}
    return {"version": 4, "terraform_version": "1.9.0", "serial": 1, "lineage": "l", "outputs": {},
            "resources": [
                res("checkout", {"id": checkout["id"], "name": checkout["name"], "description": "an older description",
                                 "escalation_policy": (checkout.get("escalation_policy") or {}).get("id")}),
                res("gone", {"id": "PGONE01", "name": "gone", "description": "", "escalation_policy": "PEPDATA"}),
            ]}


def test_check_with_terraform_state(tmp_path: Path) -> None:
    with serve(sample_account(), tokens={"t"}) as server:
        doc = scan(ScanOptions(api_key="t", api_url=server.url)).document
    checkout = next(s for s in doc["services"] if s["name"] == "checkout-api")
    snap = tmp_path / "snap.json"
    snap.write_bytes(dump_document(doc))
    (tmp_path / "tf").mkdir()
    (tmp_path / "tf" / "main.tf").write_text(TF)
    (tmp_path / "terraform.tfstate").write_text(json.dumps(state(checkout)))
    cfg = tmp_path / "pdguard.yaml"
    cfg.write_text("policies:\n  PDG-IAC-001: {enabled: true}\n")
    r = subprocess.run([sys.executable, "-m", "pdguard", "--config", str(cfg), "check", "--snapshot", str(snap),
                        "--tfstate", str(tmp_path / "terraform.tfstate"), "--tf-dir", "tf",
                        "--format", "json=r.json", "--format", "sarif=r.sarif", "--fail-on", "none"],
                       capture_output=True, text=True, cwd=tmp_path)
    assert r.returncode == 0, r.stderr
    findings = json.loads((tmp_path / "r.json").read_text())["findings"]
    by_policy: dict[str, set[str]] = {}
    for f in findings:
        by_policy.setdefault(f["policy_id"], set()).add(f["resource"]["id"])
    assert by_policy["PDG-IAC-002"] == {checkout["id"]}  # drifted: description differs
    assert by_policy["PDG-IAC-003"] == {"PGONE01"}  # ghost: in state, not in PagerDuty
    unmanaged = by_policy["PDG-IAC-001"]  # opt-in, enabled above: every other service
    assert checkout["id"] not in unmanaged and len(unmanaged) == len(doc["services"]) - 1
    drift = next(f for f in findings if f["policy_id"] == "PDG-IAC-002")
    assert drift["location"] == {"path": "tf/main.tf", "line": 7}
    sarif = json.loads((tmp_path / "r.sarif").read_text())
    locs = {res["ruleId"] + ":" + res["locations"][0]["physicalLocation"]["artifactLocation"]["uri"]:
            res["locations"][0]["physicalLocation"]["region"]["startLine"] for res in sarif["runs"][0]["results"]}
    assert locs["PDG-IAC-002:tf/main.tf"] == 7
    assert locs["PDG-IAC-003:tf/main.tf"] == 12
    # a finding about a service with no Terraform source gets a pseudo path (the missing description:
    # the account's description standard applies, so PDG-STD-001 reports it)
    assert f"PDG-STD-001:pagerduty/services/{next(s['id'] for s in doc['services'] if not s.get('description'))}.json" in locs


def _check(tmp_path: Path, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "pdguard", "check", "--snapshot", "snap.json", *args,
                           "--fail-on", "none"], capture_output=True, text=True, cwd=tmp_path)


def test_check_with_terraform_plan(tmp_path: Path) -> None:
    from terraform_fixtures import PLAN_CHANGES, PLAN_NOOP, TF_MAIN, live_doc

    (tmp_path / "snap.json").write_bytes(dump_document(live_doc()))
    (tmp_path / "infra").mkdir()
    (tmp_path / "infra" / "main.tf").write_text(TF_MAIN)
    r = _check(tmp_path, "--tfplan", str(PLAN_CHANGES), "--tf-dir", "infra",
               "--format", "json=plan.json", "--format", "sarif=plan.sarif")
    assert r.returncode == 0, r.stderr
    findings = json.loads((tmp_path / "plan.json").read_text())["findings"]
    ids = {f["resource"]["id"] for f in findings}
    assert "PSOLD" not in ids  # deleted by the plan: its findings are gone
    api = [f for f in findings if f["resource"]["id"] == "tf:pagerduty_service.api"]
    assert api, "a governance rule applies to the service before it exists"
    assert all(f["resource"]["address"] == "pagerduty_service.api" for f in api)
    assert all(f["location"] == {"path": "infra/main.tf", "line": 11} for f in api)
    sarif = json.loads((tmp_path / "plan.sarif").read_text())
    uris = {(res["locations"][0]["physicalLocation"]["artifactLocation"]["uri"],
             res["locations"][0]["physicalLocation"]["region"]["startLine"]) for res in sarif["runs"][0]["results"]}
    assert ("infra/main.tf", 11) in uris

    # a no-op plan: the same findings as the account itself
    assert _check(tmp_path, "--tfplan", str(PLAN_NOOP), "--format", "json=noop.json").returncode == 0
    assert _check(tmp_path, "--format", "json=live.json").returncode == 0

    def key(path: str) -> list[tuple[str, str]]:
        return sorted((f["policy_id"], f["resource"]["id"]) for f in json.loads((tmp_path / path).read_text())["findings"])

    assert key("noop.json") == key("live.json")


def test_check_with_a_bad_plan_file(tmp_path: Path) -> None:
    from terraform_fixtures import live_doc

    (tmp_path / "snap.json").write_bytes(dump_document(live_doc()))
    r = _check(tmp_path, "--tfplan", "snap.json")
    assert r.returncode == 3 and "not a Terraform plan" in r.stderr and "Traceback" not in r.stderr
    r = _check(tmp_path, "--tfplan", "missing.json")
    assert r.returncode == 3 and "not found" in r.stderr
