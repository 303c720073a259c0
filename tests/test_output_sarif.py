"""SARIF output: OASIS schema, Microsoft SARIF multitool (GitHub rules), content and limits."""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

import pytest
from report_fixtures import NASTY_NAME, all_fingerprints, big_report, make_finding, sample_report

import pdguard
from pdguard.findings import SEVERITIES, Location, Report, Waiver, fingerprint
from pdguard.output import get_output
from pdguard.output import sarif as sarif_mod
from pdguard.output.sarif import FINGERPRINT_KEY, SarifOutput, pascal_case

REPO = Path(__file__).resolve().parents[1]
SCHEMA_PATH = REPO.parent / "shared/reference/sarif-schema-2.1.0.json"


def render(report, **kwargs) -> dict:
    return json.loads(SarifOutput(**kwargs).render(report))


def run_of(doc: dict) -> dict:
    assert len(doc["runs"]) == 1
    return doc["runs"][0]


# -- external validators ----------------------------------------------------------------------
def find_multitool() -> Path:
    env = os.environ.get("PDGUARD_SARIF_MULTITOOL")
    if env:
        path = Path(env)
        if not (path.is_file() and os.access(path, os.X_OK)):
            pytest.skip(f"PDGUARD_SARIF_MULTITOOL={env} is not an executable file")
        return path
    base = REPO / ".tools" / "node_modules"
    if base.is_dir():
        for cand in sorted(base.glob("**/Sarif.Multitool")):
            if cand.is_file() and os.access(cand, os.X_OK):
                return cand
    if os.environ.get("PDGUARD_REQUIRE_SARIF_MULTITOOL"):  # CI installs it: a missing tool is a failure there
        pytest.fail("PDGUARD_REQUIRE_SARIF_MULTITOOL is set but the SARIF multitool is not installed under .tools/")
    pytest.skip(
        "SARIF multitool not installed: run `npm install --prefix .tools @microsoft/sarif-multitool` "
        "or set PDGUARD_SARIF_MULTITOOL to the Sarif.Multitool binary"
    )


def multitool_problems(tool: Path, files: list[Path], out: Path) -> tuple[list[str], list[str]]:
    """Run `validate --rule-kind Gh;Sarif`; return (errors, other findings) as readable strings."""
    proc = subprocess.run(
        [str(tool), "validate", "--rule-kind", "Gh;Sarif", "-o", str(out), *map(str, files)],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert out.is_file(), f"multitool wrote no log (rc={proc.returncode}):\n{proc.stdout}\n{proc.stderr}"
    log = json.loads(out.read_text(encoding="utf-8-sig"))
    errors, others = [], []
    for run in log.get("runs", []):
        levels = {
            r["id"]: (r.get("defaultConfiguration") or {}).get("level", "warning")
            for r in run.get("tool", {}).get("driver", {}).get("rules", [])
        }
        # e.g. ERR997 "No valid analysis targets" (input over --max-file-size-in-kb, default 10 MB):
        # the tool then writes a log with no results, which must not count as a pass
        for inv in run.get("invocations") or []:
            if inv.get("executionSuccessful") is False:
                errors.append("multitool execution was not successful")
            for kind in ("toolExecutionNotifications", "toolConfigurationNotifications"):
                for n in inv.get(kind) or []:
                    if n.get("level") == "error":
                        errors.append(f"{kind}: {n.get('descriptor', {}).get('id')}: {n.get('message')}")
        for r in run.get("results", []):
            level = r.get("level") or levels.get(r.get("ruleId"), "warning")
            text = f"{level} {r.get('ruleId')}: {r.get('message')}"
            (errors if level == "error" else others).append(text)
    return errors, others


def test_validates_against_oasis_schema():
    jsonschema = pytest.importorskip("jsonschema")
    if not SCHEMA_PATH.is_file():
        pytest.skip(f"SARIF 2.1.0 schema not found at {SCHEMA_PATH}")
    schema = json.loads(SCHEMA_PATH.read_text(encoding="utf-8"))
    validator = jsonschema.Draft4Validator(schema)
    for report in (sample_report(), sample_report(baseline=True)):
        doc = render(report)
        errors = sorted(validator.iter_errors(doc), key=lambda e: list(e.absolute_path))
        assert not errors, "\n".join(f"{list(e.absolute_path)}: {e.message}" for e in errors)
    truncated = render(big_report(20, waived=3), max_results=7)
    assert not list(validator.iter_errors(truncated))


def test_multitool_github_rules(tmp_path):
    tool = find_multitool()
    files = []
    for name, doc in {
        "plain.sarif": SarifOutput().render(sample_report()),
        "baseline.sarif": SarifOutput(category="prod eu/1").render(sample_report(baseline=True)),
        "truncated.sarif": SarifOutput(max_results=5).render(big_report(12, waived=2)),
    }.items():
        path = tmp_path / name
        path.write_text(doc, encoding="utf-8")
        files.append(path)
    errors, others = multitool_problems(tool, files, tmp_path / "validation.sarif")
    assert not errors, "multitool errors:\n" + "\n".join(errors + others)


def test_multitool_catches_github_violations(tmp_path):
    """Guard against a vacuous pass: a result without locations must be reported by the GH rules."""
    tool = find_multitool()
    doc = render(sample_report())
    del run_of(doc)["results"][0]["locations"]
    bad = tmp_path / "bad.sarif"
    bad.write_text(json.dumps(doc), encoding="utf-8")
    errors, _ = multitool_problems(tool, [bad], tmp_path / "validation.sarif")
    assert any(e.split()[1].startswith("GH") for e in errors), errors


# -- content ------------------------------------------------------------------------------------
def test_registered_and_header():
    out = get_output("sarif")
    assert isinstance(out, SarifOutput) and out.name == "sarif"
    doc = render(sample_report())
    assert doc["$schema"] == "https://json.schemastore.org/sarif-2.1.0.json"
    assert doc["version"] == "2.1.0"
    driver = run_of(doc)["tool"]["driver"]
    assert driver["name"] == "pdguard"
    assert driver["version"] == pdguard.__version__
    assert driver["informationUri"] == pdguard.INFORMATION_URI
    inv = run_of(doc)["invocations"][0]
    assert inv["executionSuccessful"] is True


def test_same_findings_and_suppressions():
    report = sample_report()
    run = run_of(render(report))
    fps = [r["partialFingerprints"][FINGERPRINT_KEY] for r in run["results"]]
    assert len(fps) == len(set(fps)) == len(report.findings) + len(report.waived)
    assert set(fps) == all_fingerprints(report)
    waived = {f.fingerprint: f for f in report.waived}
    for r in run["results"]:
        fp = r["partialFingerprints"][FINGERPRINT_KEY]
        if fp in waived:
            assert r["suppressions"] == [
                {"kind": "external", "status": "accepted", "justification": waived[fp].waiver.reason}
            ]
        else:
            assert "suppressions" not in r


def test_rules_and_levels():
    report = sample_report()
    run = run_of(render(report))
    rules = run["tool"]["driver"]["rules"]
    ids = [r["id"] for r in rules]
    assert ids == sorted({f.policy_id for f in [*report.findings, *report.waived]})
    assert "PDG-INC-007" not in ids  # evaluated, no result → no rule
    expected_sev = {"critical": "9.5", "high": "8.0", "medium": "5.5", "low": "2.0", "info": "0.0"}
    expected_level = {"critical": "error", "high": "error", "medium": "warning", "low": "note", "info": "note"}
    for rule in rules:
        policy = report.policy(rule["id"])
        assert rule["shortDescription"]["text"].startswith(policy.title)
        assert rule["fullDescription"]["text"].startswith(policy.description)
        assert rule["help"]["text"] == policy.remediation
        assert policy.remediation in rule["help"]["markdown"]
        props = rule["properties"]
        assert props["security-severity"] == expected_sev[policy.severity]
        assert isinstance(props["security-severity"], str)
        assert props["precision"] == "high"
        assert props["tags"][:3] == ["pagerduty", "governance", "security"]
        assert rule["defaultConfiguration"]["level"] == expected_level[policy.severity]
        if policy.docs_url:
            assert rule["helpUri"] == policy.docs_url
        else:  # a custom policy without docs: no helpUri to a page that does not exist
            assert "helpUri" not in rule and "README.md" not in rule["help"]["markdown"]
    by_id = {r["id"]: r for r in rules}
    assert by_id["PDG-SVC-001"]["name"] == "ServiceHasAnEscalationPolicy"
    assert "services" in by_id["PDG-SVC-001"]["properties"]["tags"]
    for r in run["results"]:
        assert rules[r["ruleIndex"]]["id"] == r["ruleId"]
        assert r["level"] == expected_level[r["properties"]["severity"]]


def test_messages_and_locations():
    report = sample_report()
    run = run_of(render(report))
    by_fp = {r["partialFingerprints"][FINGERPRINT_KEY]: r for r in run["results"]}
    for f in [*report.findings, *report.waived]:
        r = by_fp[f.fingerprint]
        text = r["message"]["text"]
        assert f.resource.type in text and f.resource.id in text
        if f.resource.name:
            assert f.resource.name in text
        assert f.msg.strip() in text
        phys = r["locations"][0]["physicalLocation"]
        uri, line = phys["artifactLocation"]["uri"], phys["region"]["startLine"]
        assert not uri.startswith("/") and "://" not in uri and ".." not in uri and "home/ci" not in uri
        if f.resource.id == "PSVC001":  # Terraform location (relative)
            assert (uri, line) == ("terraform/services.tf", 42)
        elif f.resource.id == "PSVC003":  # absolute path outside the repo → pseudo path
            assert (uri, line) == ("pagerduty/services/PSVC003.json", 1)
        else:
            from pdguard.output._common import plural

            assert (uri, line) == (f"pagerduty/{plural(f.resource.type)}/{f.resource.id}.json", 1)
    assert by_fp[next(f.fingerprint for f in report.findings if f.resource.type == "escalation_policy")][
        "locations"
    ][0]["physicalLocation"]["artifactLocation"]["uri"].startswith("pagerduty/escalation_policies/")
    assert any(NASTY_NAME in r["message"]["text"] for r in run["results"])


def test_order_is_by_severity_and_baseline_state():
    run = run_of(render(sample_report(baseline=True)))
    ranks = [SEVERITIES.index(r["properties"]["severity"]) for r in run["results"]]
    assert ranks == sorted(ranks)
    assert {r.get("baselineState") for r in run["results"] if "suppressions" not in r} == {"new", "unchanged"}


def test_automation_details_category():
    assert run_of(render(sample_report()))["automationDetails"]["id"] == "pdguard/acme/"
    assert run_of(render(sample_report(), category="prod"))["automationDetails"]["id"] == "pdguard/prod/"
    report = sample_report()
    report.meta = {}
    assert run_of(render(report))["automationDetails"]["id"] == "pdguard/default/"


def test_fingerprints_and_output_stable_across_renders():
    a = SarifOutput().render(sample_report())
    b = SarifOutput().render(sample_report())
    assert a == b
    report = sample_report()
    report.findings.reverse()
    report.waived.reverse()
    c = json.loads(SarifOutput().render(report))
    fa = [r["partialFingerprints"] for r in run_of(json.loads(a))["results"]]
    fc = [r["partialFingerprints"] for r in run_of(c)["results"]]
    assert fa == fc


def test_truncation_at_patched_limit(monkeypatch):
    monkeypatch.setattr(sarif_mod, "MAX_RESULTS", 4)
    report = sample_report()
    n_before = len(report.warnings)
    run = run_of(render_report := json.loads(SarifOutput().render(report)))
    assert render_report["version"] == "2.1.0"
    results = run["results"]
    assert len(results) == 4
    severities = [r["properties"]["severity"] for r in results]
    assert severities == ["critical", "critical", "high", "high"]
    notes = run["invocations"][0]["toolExecutionNotifications"]
    assert any("truncated" in n["message"]["text"] and n["level"] == "warning" for n in notes)
    assert len(report.warnings) == n_before + 1 and "truncated" in report.warnings[-1]
    SarifOutput().render(report)  # rendering again does not duplicate the warning
    assert len(report.warnings) == n_before + 1
    rules = run["tool"]["driver"]["rules"]
    assert all(rules[r["ruleIndex"]]["id"] == r["ruleId"] for r in results)


def test_github_result_limit_default():
    assert sarif_mod.MAX_RESULTS == 25_000
    run = run_of(render(big_report(30, waived=5), max_results=10))
    assert len(run["results"]) == 10


def test_no_secrets_or_local_paths():
    for report in (sample_report(), sample_report(baseline=True)):
        text = SarifOutput().render(report)
        assert "token=" not in text.lower()
        assert "/home/" not in text and str(REPO) not in text


def test_pascal_case():
    assert pascal_case("Service has an escalation policy") == "ServiceHasAnEscalationPolicy"
    assert pascal_case("on-call: 24/7 coverage!") == "OnCall247Coverage"
    assert pascal_case("", "PDG-X-1") == "PDGX1"
    assert pascal_case("2 levels") == "P2Levels"


def test_demo_account_sarif_passes_both_validators(tmp_path):
    """The SARIF `pdguard demo` writes for the sample account: OASIS schema and GitHub's rules, zero errors."""
    import subprocess
    import sys

    proc = subprocess.run([sys.executable, "-m", "pdguard", "demo"], cwd=tmp_path, capture_output=True, text=True,
                          timeout=120)
    assert proc.returncode == 1, proc.stderr
    path = tmp_path / "pdguard-demo.sarif"
    doc = json.loads(path.read_text(encoding="utf-8"))
    assert len(run_of(doc)["results"]) >= 20
    if SCHEMA_PATH.is_file():
        import jsonschema

        validator = jsonschema.Draft4Validator(json.loads(SCHEMA_PATH.read_text(encoding="utf-8")))
        assert not list(validator.iter_errors(doc))
    errors, others = multitool_problems(find_multitool(), [path], tmp_path / "validation.sarif")
    assert not errors, "multitool errors:\n" + "\n".join(errors + others)


def test_no_token():
    """The key goes through the real path (simulator → scanner → engine → report) and never out."""
    from report_fixtures import SCANNED_KEY, scanned_report

    report = scanned_report()
    text = SarifOutput().render(report)
    assert report.findings[0].fingerprint in text
    assert SCANNED_KEY not in text


def test_exactly_at_the_result_limit_nothing_is_truncated():
    report = big_report(10)
    run = run_of(render(report, max_results=10))
    assert len(run["results"]) == 10
    notes = run["invocations"][0].get("toolExecutionNotifications") or []
    assert not any("truncated" in n["message"]["text"] for n in notes)
    assert not any("truncated" in w for w in report.warnings)
    assert len(run_of(render(big_report(11), max_results=10))["results"]) == 10  # one over: cut


def test_truncation_keeps_active_before_waived_within_a_severity():
    """Both medium: the waived PDG-SCH-003 findings sort before PDG-TEAM-006 by policy id, yet the
    cut keeps the active ones (a dismissed alert is worth less than an open one)."""
    waiver = Waiver(policy="PDG-SCH-003", reason="ok")
    active = [make_finding("PDG-TEAM-006", "team", f"T{i}", None, "no manager") for i in range(2)]
    waived = [make_finding("PDG-SCH-003", "schedule", f"S{i}", None, "gap", waiver=waiver) for i in range(2)]
    report = Report(findings=active, waived=waived, meta={"account_subdomain": "acme"})
    results = run_of(render(report, max_results=2))["results"]
    assert [(r["ruleId"], "suppressions" in r) for r in results] == [("PDG-TEAM-006", False)] * 2


def test_rule_takes_the_worst_severity_of_its_results():
    """A policy with a deny (high) and a warn (info, as every warn is) on one resource: the rule's
    level and security-severity are the deny's, so GitHub ranks the alert as high."""
    deny = make_finding("PDG-EP-002", "escalation_policy", "PEP1", None, "one level")
    warn = deny.model_copy(update={"kind": "warn", "severity": "info", "msg": "no description",
                                   "fingerprint": fingerprint("PDG-EP-002/warn", "escalation_policy", "PEP1", {})})
    report = Report(findings=[deny, warn], policies=[], meta={"account_subdomain": "acme"})
    rule = run_of(render(report))["tool"]["driver"]["rules"][0]
    assert rule["defaultConfiguration"]["level"] == "error"
    assert rule["properties"]["security-severity"] == "8.0" and rule["properties"]["severity"] == "high"


def test_a_terraform_path_leaving_the_repository_gets_the_pseudo_path():
    f = make_finding("PDG-SVC-001", "service", "PSVC9", None, "no escalation policy",
                     location=Location(path="../modules/services.tf", line=7))
    run = run_of(render(Report(findings=[f], meta={"account_subdomain": "acme"})))
    phys = run["results"][0]["locations"][0]["physicalLocation"]
    assert phys == {"artifactLocation": {"uri": "pagerduty/services/PSVC9.json"}, "region": {"startLine": 1}}
