"""Evaluation on the embedded engine: METADATA join, fingerprints, config, waivers, baselines, errors."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import pytest
from conftest import tiny_snapshot

from pdguard.config import Config, PolicySwitch, WaiverEntry
from pdguard.engine.base import InputRef
from pdguard.engine.embedded import EmbeddedEngine
from pdguard.engine.loader import load_policies
from pdguard.errors import ConfigError, InputError, PolicyError
from pdguard.evaluate import apply_baseline, evaluate, show_only
from pdguard.findings import Finding, Resource, fingerprint, sorted_findings

POLICY = """# METADATA
# title: Service has a team
# description: Services need an owner.
# custom:
#   id: T-001
#   severity: high
#   remediation: Add the service to a team.
package pdguard.test.team

deny contains f if {
  some s in input.services
  count(object.get(s, "teams", [])) == 0
  f := {"msg": sprintf("service %s has no team", [s.name]),
        "resource": {"type": "service", "id": s.id, "name": s.name},
        "details": {"min": data.pdguard.config.min_team_members}}
}

warn contains f if {
  some s in input.services
  not s.description
  f := {"msg": "no description", "resource": {"type": "service", "id": s.id, "name": s.name}}
}
"""

SERVICES = [
    {"id": "P1", "name": "api", "teams": [], "description": "x"},
    {"id": "P2", "name": "web", "teams": [{"id": "T1"}]},
    {"id": "P3", "name": "legacy-db", "teams": []},
]


def write(tmp: Path, name: str, text: str) -> Path:
    p = tmp / name
    p.parent.mkdir(parents=True, exist_ok=True)
    p.write_text(text)
    return p


def run(tmp: Path, cfg: Config | None = None, doc: dict | None = None, **kw):
    write(tmp, "pol/team.rego", POLICY)
    return evaluate(InputRef(doc=doc or tiny_snapshot(services=SERVICES)), cfg or Config(), engine=EmbeddedEngine(),
                    policy_paths=[str(tmp / "pol")], builtin=False, **kw)


def test_deny_and_warn_joined_with_metadata(tmp_path: Path) -> None:
    report = run(tmp_path)
    deny = [f for f in report.findings if f.kind == "deny"]
    warn = [f for f in report.findings if f.kind == "warn"]
    assert sorted(f.resource.id for f in deny) == ["P1", "P3"]
    assert sorted(f.resource.id for f in warn) == ["P2", "P3"]
    f = next(f for f in deny if f.resource.id == "P1")
    assert (f.policy_id, f.title, f.severity) == ("T-001", "Service has a team", "high")
    assert f.remediation == "Add the service to a team."
    assert f.details == {"min": 1}
    assert f.msg == "service api has no team"
    assert all(w.severity == "info" for w in warn)
    assert report.summary.failing == 2  # warns never fail the gate
    assert report.meta["account_subdomain"] == "acme"


def test_fingerprints_stable_and_resource_sensitive(tmp_path: Path) -> None:
    a = run(tmp_path)
    b = run(tmp_path)
    assert [f.fingerprint for f in a.findings] == [f.fingerprint for f in b.findings]
    changed = [dict(s) for s in SERVICES]
    changed[0] = {**changed[0], "id": "P9"}
    c = run(tmp_path, doc=tiny_snapshot(services=changed))
    assert {f.fingerprint for f in c.findings} != {f.fingerprint for f in a.findings}
    assert len({f.fingerprint for f in a.findings}) == len(a.findings)


def test_fingerprint_formula_never_changes() -> None:
    """Baselines, stored scans, notifications and GitHub alerts match findings across runs and
    versions by fingerprint: sha256(policy id, resource type, resource id, canonical details
    [, account:NAME])[:32], pinned here (pdguard 0.1 gave the same value without an account)."""
    assert fingerprint("PDG-SVC-002", "service", "PSVC001", {"level": 1}) == "0c641fb6a4fc2f873a1abdd085e983a0"
    assert fingerprint("PDG-SVC-002", "service", "PSVC001", {"level": 1}, "eu") == "49950503561aad8558910feeac55f5b3"
    assert fingerprint("PDG-SVC-002", "service", "PSVC001", {}) == "74f69ce51fe800b1b269eac8f9e614e4"
    assert fingerprint("PDG-SVC-002", "service", "PSVC001", None) == fingerprint("PDG-SVC-002", "service", "PSVC001", {})
    # canonical details: key order does not matter, values do
    assert fingerprint("X", "t", "1", {"a": 1, "b": 2}) == fingerprint("X", "t", "1", {"b": 2, "a": 1})
    variants = {fingerprint(*args) for args in [("X", "t", "1", {}), ("Y", "t", "1", {}), ("X", "u", "1", {}),
                                                 ("X", "t", "2", {}), ("X", "t", "1", {"a": 1}),
                                                 ("X", "t", "1", {}, "eu")]}
    assert len(variants) == 6


def test_settings_reach_policies(tmp_path: Path) -> None:
    report = run(tmp_path, Config(settings={"min_team_members": 5}))
    assert {f.details["min"] for f in report.findings if f.kind == "deny"} == {5}


def test_disable_and_severity_override(tmp_path: Path) -> None:
    assert run(tmp_path, Config(policies={"T-001": PolicySwitch(enabled=False)})).findings == []
    r = run(tmp_path, Config(policies={"T-001": PolicySwitch(severity="low")}))
    assert {f.severity for f in r.findings if f.kind == "deny"} == {"low"}
    assert r.policy("T-001").severity == "low"  # the report's policies list says the severity that applied
    assert r.summary.failing == 0
    with pytest.raises(ConfigError, match="no such policy"):
        run(tmp_path, Config(policies={"NOPE-1": PolicySwitch(enabled=False)}))


def test_waivers_and_expired_waivers(tmp_path: Path) -> None:
    cfg = Config(waivers=[
        WaiverEntry(policy="T-001", resource="legacy-*", reason="decommissioning", expires=dt.date(2099, 1, 1)),
        WaiverEntry(policy="T-001", resource="P1", reason="old", expires=dt.date(2020, 1, 1)),
    ])
    r = run(tmp_path, cfg)
    assert sorted((f.resource.id, f.kind) for f in r.waived) == [("P3", "deny"), ("P3", "warn")]
    assert r.waived[0].waived and r.waived[0].waiver.reason == "decommissioning"
    assert "P1" in [f.resource.id for f in r.findings if f.kind == "deny"]  # expired: no longer waives
    assert [w.resource for w in r.expired_waivers] == ["P1"]
    assert any("expired" in w for w in r.warnings)
    assert r.summary.waived == 2 and r.summary.failing == 1


def test_a_waiver_for_no_loaded_policy_is_a_warning(tmp_path: Path) -> None:
    """A misspelt policy id in a waiver waives nothing: the report says so (a glob that matches a
    loaded policy, or an exact id, does not warn)."""
    cfg = Config(waivers=[WaiverEntry(policy="T-01", resource="P1", reason="typo"),
                          WaiverEntry(policy="T-*", resource="P9", reason="glob"),
                          WaiverEntry(policy="T-001", resource="P8", reason="exact")])
    r = run(tmp_path, cfg)
    typo = [w for w in r.warnings if "matches no policy loaded" in w]
    assert typo == ["waiver for T-01 P1 matches no policy loaded (a typo?): it waives nothing"]
    assert not r.waived or all(f.waiver.policy != "T-01" for f in r.waived)


def test_a_waiver_waives_through_its_expiry_day(tmp_path: Path) -> None:
    cfg = Config(waivers=[WaiverEntry(policy="T-001", resource="P1", reason="r", expires=dt.date(2026, 11, 26))])
    on_the_day = run(tmp_path, cfg, today=dt.date(2026, 11, 26))
    assert "P1" in [f.resource.id for f in on_the_day.waived] and not on_the_day.expired_waivers
    day_after = run(tmp_path, cfg, today=dt.date(2026, 11, 27))
    assert not day_after.waived and [w.expires for w in day_after.expired_waivers] == ["2026-11-26"]


def test_a_waiver_for_one_account_waives_only_its_findings(tmp_path: Path) -> None:
    """`accounts:`: findings name their account (and their fingerprint does); a waiver may name one."""
    cfg = Config(waivers=[WaiverEntry(policy="T-001", resource="P1", account="eu", reason="eu only")])
    docs = {}
    for name in ("us", "eu"):
        doc = tiny_snapshot(services=SERVICES)
        doc["meta"]["account"] = name
        docs[name] = run(tmp_path, cfg, doc)
    assert {f.account for f in docs["us"].findings} == {"us"}
    assert "P1" in [f.resource.id for f in docs["us"].findings]  # not waived in us
    assert [(f.resource.id, f.account) for f in docs["eu"].waived if f.kind == "deny"] == [("P1", "eu")]
    us = {(f.policy_id, f.resource.id, f.kind): f.fingerprint for f in docs["us"].findings}
    eu = {(f.policy_id, f.resource.id, f.kind): f.fingerprint for f in [*docs["eu"].findings, *docs["eu"].waived]}
    assert us.keys() == eu.keys() and all(us[k] != eu[k] for k in us)
    plain = run(tmp_path, cfg)  # no account: the waiver for eu waives nothing, fingerprints as always
    assert not plain.waived and all(f.account is None for f in plain.findings)


def test_baseline_new_unchanged_fixed(tmp_path: Path) -> None:
    first = run(tmp_path)
    base = json.loads(first.model_dump_json())
    services = [SERVICES[0], SERVICES[1], {"id": "P4", "name": "new-svc", "teams": []}]  # P3 fixed, P4 new
    second = apply_baseline(run(tmp_path, doc=tiny_snapshot(services=services)), base)
    new = {f.resource.id for f in second.findings if f.baseline == "new" and f.kind == "deny"}
    unchanged = {f.resource.id for f in second.findings if f.baseline == "unchanged" and f.kind == "deny"}
    assert new == {"P4"} and unchanged == {"P1"}
    assert {f["resource"]["id"] for f in second.fixed} == {"P3"}
    assert second.summary.failing == 1  # only the new high finding gates
    assert second.summary.failing_total == 2  # "1 new failing (>= high) of 2 failing"
    assert second.summary.fixed == 2  # P3's deny and warn


def test_invalid_rego_names_file_and_line(tmp_path: Path) -> None:
    write(tmp_path, "bad/broken.rego", "package pdguard.bad\n\ndeny contains f if {\n  f := \n}\n")
    with pytest.raises(PolicyError, match=r"broken\.rego:4"):
        evaluate(InputRef(doc=tiny_snapshot()), Config(), engine=EmbeddedEngine(),
                 policy_paths=[str(tmp_path / "bad")], builtin=False)


@pytest.mark.parametrize("body, fragment", [
    ('deny contains "just a string" if { true }', "pdguard needs findings"),
    ('deny contains {"msg": "m"} if { true }', "without msg"),
    ('deny contains {"msg": 1, "resource": {"type": "service", "id": "x"}} if { true }', "without msg"),
    ('deny contains {"msg": "m", "resource": {"type": "service", "id": "x"}, "details": [1]} if { true }', "details"),
])
def test_wrong_shape_is_a_policy_error(tmp_path: Path, body: str, fragment: str) -> None:
    write(tmp_path, "shape/p.rego", f"package pdguard.shape\n\n{body}\n")
    with pytest.raises(PolicyError, match=fragment):
        evaluate(InputRef(doc=tiny_snapshot()), Config(), engine=EmbeddedEngine(),
                 policy_paths=[str(tmp_path / "shape")], builtin=False)


def test_missing_policy_path(tmp_path: Path) -> None:
    with pytest.raises(PolicyError, match="not found"):
        load_policies([str(tmp_path / "nope")], builtin=False)


def test_not_a_snapshot(tmp_path: Path) -> None:
    p = write(tmp_path, "x.json", json.dumps({"services": []}))
    write(tmp_path, "pol/team.rego", POLICY)
    with pytest.raises(InputError, match="not a pdguard snapshot"):
        evaluate(InputRef(path=p), Config(), engine=EmbeddedEngine(), policy_paths=[str(tmp_path / "pol")],
                 builtin=False)
    bad = write(tmp_path, "bad.json", "{not json")
    with pytest.raises(InputError):
        evaluate(InputRef(path=bad), Config(), engine=EmbeddedEngine(), policy_paths=[str(tmp_path / "pol")],
                 builtin=False)


def test_file_and_memory_inputs_agree(tmp_path: Path) -> None:
    doc = tiny_snapshot(services=SERVICES)
    p = write(tmp_path, "snap.json", json.dumps(doc))
    write(tmp_path, "pol/team.rego", POLICY)
    kw = dict(engine=EmbeddedEngine(), policy_paths=[str(tmp_path / "pol")], builtin=False)
    a = evaluate(InputRef(doc=doc), Config(), **kw)
    b = evaluate(InputRef(path=p), Config(), **kw)
    assert a.findings == b.findings


def test_engine_reuses_compiled_policies(tmp_path: Path) -> None:
    write(tmp_path, "pol/team.rego", POLICY)
    eng = EmbeddedEngine()
    kw = dict(engine=eng, policy_paths=[str(tmp_path / "pol")], builtin=False)
    evaluate(InputRef(doc=tiny_snapshot(services=SERVICES)), Config(), **kw)
    first = eng._engine
    r = evaluate(InputRef(doc=tiny_snapshot(services=SERVICES[:1])), Config(), **kw)
    assert eng._engine is first  # same modules + data: not recompiled
    assert [f.resource.id for f in r.findings if f.kind == "deny"] == ["P1"]  # but the new input is used


def test_deny_and_warn_on_one_resource_have_distinct_fingerprints(tmp_path: Path) -> None:
    write(tmp_path, "dw/p.rego", "package pdguard.dw\n\n"
          'deny contains {"msg": "d", "resource": {"type": "service", "id": "P1"}} if { true }\n'
          'warn contains {"msg": "w", "resource": {"type": "service", "id": "P1"}} if { true }\n')
    r = evaluate(InputRef(doc=tiny_snapshot()), Config(), engine=EmbeddedEngine(),
                 policy_paths=[str(tmp_path / "dw")], builtin=False)
    assert len({f.fingerprint for f in r.findings}) == 2


def test_baseline_matches_waived_findings_both_ways(tmp_path: Path) -> None:
    """A finding waived in the baseline whose waiver has since expired is unchanged (it does not
    fail the gate as new); a finding active in the baseline and waived now is not "fixed"."""
    waiver = WaiverEntry(policy="T-001", resource="P1", reason="r", expires=dt.date(2026, 11, 26))
    cfg = Config(waivers=[waiver])
    waived_then = json.loads(run(tmp_path, cfg, today=dt.date(2026, 11, 26)).model_dump_json())
    expired_now = apply_baseline(run(tmp_path, cfg, today=dt.date(2026, 11, 27)), waived_then)
    p1 = next(f for f in expired_now.findings if f.resource.id == "P1" and f.kind == "deny")
    assert p1.baseline == "unchanged"
    assert expired_now.summary.failing == 0 and expired_now.summary.new == 0

    active_then = json.loads(run(tmp_path).model_dump_json())
    waived_now = apply_baseline(run(tmp_path, cfg, today=dt.date(2026, 11, 26)), active_then)
    assert "P1" in [f.resource.id for f in waived_now.waived]
    assert waived_now.fixed == [] and waived_now.summary.fixed == 0


def test_severity_filter_lists_only_those_severities_and_counts_every_finding(tmp_path: Path) -> None:
    cfg = Config(waivers=[WaiverEntry(policy="T-001", resource="P3", reason="r")])
    report = run(tmp_path, cfg)  # deny high P1 (active), P3 (waived); warn info P2 (active), P3 (waived)
    shown = show_only(report, ["info"])
    assert {(f.kind, f.resource.id) for f in shown.findings} == {("warn", "P2")}
    assert {(f.kind, f.resource.id) for f in shown.waived} == {("warn", "P3")}  # waived are filtered too
    assert shown.summary.failing == report.summary.failing == 1  # the gate still counts the high deny
    assert shown.summary.hidden == 1 and shown.summary.shown_severities == ["info"]


def test_findings_order_is_severity_then_policy_then_resource() -> None:
    def f(policy: str, severity: str, rtype: str, rid: str) -> Finding:
        return Finding(policy_id=policy, title=policy, severity=severity, msg="m",
                       resource=Resource(type=rtype, id=rid), fingerprint=fingerprint(policy, rtype, rid, {}))

    findings = [f("B-1", "high", "service", "P0"), f("A-1", "low", "service", "P0"),
                f("A-1", "high", "user", "P0"), f("A-1", "high", "service", "P9"), f("C-1", "critical", "team", "T")]
    assert [(x.severity, x.policy_id, x.resource.type, x.resource.id) for x in sorted_findings(findings)] == [
        ("critical", "C-1", "team", "T"), ("high", "A-1", "service", "P9"), ("high", "A-1", "user", "P0"),
        ("high", "B-1", "service", "P0"), ("low", "A-1", "service", "P0")]
