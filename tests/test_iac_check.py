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
    assert f"PDG-SVC-004:pagerduty/services/{next(s['id'] for s in doc['services'] if not s.get('description'))}.json" in locs
