"""Scan diffs: assets added / removed / changed, findings new / fixed, CLI rendering."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from pdguard.findings import Finding, Report, Resource, fingerprint
from pdguard.inventory.diff import diff_scans, render_text
from pdguard.inventory.store import Store, StoreError


def make_doc(scanned_at: str, complete: bool = True, **collections: list) -> dict:
    doc = {"schema_version": "2.0",
           "meta": {"scanned_at": scanned_at, "account_subdomain": "acme", "region": "us", "complete": complete}}
    for key in ("services", "escalation_policies", "schedules", "teams", "users", "incidents"):
        doc[key] = collections.get(key, [])
    return doc


def finding(policy: str, rid: str, severity: str = "high") -> Finding:
    return Finding(policy_id=policy, title=policy, severity=severity, msg=f"{policy} fails on {rid}",
                   resource=Resource(type="service", id=rid, name=rid),
                   fingerprint=fingerprint(policy, "service", rid, {}))


def svc(sid: str, name: str, **extra: object) -> dict:
    return {"id": sid, "type": "service", "name": name, "description": "a service",
            "escalation_policy": {"id": "PE1", "type": "escalation_policy_reference"},
            "acknowledgement_timeout": 1800, "teams": [{"id": "PT1"}], **extra}


SCAN1 = make_doc(
    "2026-11-26T09:00:00Z",
    services=[svc("PS1", "api"), svc("PS2", "web"), svc("PS3", "old", last_incident_timestamp="2026-11-01T00:00:00Z")],
    users=[{"id": "PU1", "name": "Ann", "email": "ann@x.example", "role": "user"}],
    incidents=[{"id": "Q1"}],
)
SCAN2 = make_doc(
    "2026-11-26T17:00:00Z",
    services=[
        svc("PS1", "api"),  # unchanged
        svc("PS2", "web-frontend", acknowledgement_timeout=None, teams=[{"id": "PT2"}]),  # changed
        svc("PS4", "billing"),  # added; PS3 removed
    ],
    users=[{"id": "PU1", "name": "Ann", "email": "ann@x.example", "role": "admin"}],  # changed
    incidents=[{"id": "Q1"}, {"id": "Q2"}],  # not stored: no diff noise
)
REPORT1 = Report(findings=[finding("PDG-SVC-001", "PS2"), finding("PDG-SVC-004", "PS3", "low"),
                           finding("PDG-SVC-007", "PS1", "medium")])
REPORT2 = Report(findings=[finding("PDG-SVC-001", "PS2"), finding("PDG-SVC-002", "PS4", "critical")],
                 waived=[finding("PDG-SVC-007", "PS1", "medium").model_copy(update={"waived": True})])


@pytest.fixture()
def store(tmp_path: Path) -> Store:
    s = Store(f"sqlite:///{tmp_path / 'inv.sqlite'}")
    s.save_scan(SCAN1, REPORT1)
    s.save_scan(SCAN2, REPORT2)
    yield s
    s.close()


def test_diff_lists_exactly_the_changes(store: Store) -> None:
    result = diff_scans(store)
    assert result["a"]["id"] == 1 and result["b"]["id"] == 2
    # no audit records in these scans: who changed what is unknown
    assert result["assets"]["added"] == [{"type": "service", "id": "PS4", "name": "billing", "changed_by": None}]
    assert result["assets"]["removed"] == [{"type": "service", "id": "PS3", "name": "old", "changed_by": None}]
    assert result["audit"] == {"collected": False, "covers_interval": False}
    changed = {(c["type"], c["id"]): c for c in result["assets"]["changed"]}
    assert set(changed) == {("service", "PS2"), ("user", "PU1")}
    web = changed[("service", "PS2")]
    assert web["name"] == "web-frontend"
    assert web["fields"] == ["acknowledgement_timeout", "name", "teams"]
    assert web["values"] == {"acknowledgement_timeout": {"old": 1800, "new": None},
                             "name": {"old": "web", "new": "web-frontend"}}  # teams is not scalar
    assert changed[("user", "PU1")]["values"] == {"role": {"old": "user", "new": "admin"}}

    new = [(f["policy_id"], f["resource"]["id"]) for f in result["findings"]["new"]]
    fixed = [(f["policy_id"], f["resource"]["id"]) for f in result["findings"]["fixed"]]
    waived = [(f["policy_id"], f["resource"]["id"]) for f in result["findings"]["waived"]]
    assert new == [("PDG-SVC-002", "PS4")]
    assert fixed == [("PDG-SVC-004", "PS3")]
    assert waived == [("PDG-SVC-007", "PS1")]
    assert result["summary"] == {"added": 1, "removed": 1, "changed": 2, "new_findings": 1,
                                 "fixed_findings": 1, "waived_findings": 1}
    json.dumps(result)  # JSON-serialisable


def test_diff_default_skips_incomplete_scans(store: Store) -> None:
    store.save_scan(make_doc("2026-11-27T01:00:00Z", complete=False, services=[svc("PS9", "partial")]))
    result = diff_scans(store)
    assert (result["a"]["id"], result["b"]["id"]) == (1, 2)
    explicit = diff_scans(store, 2, 3)  # explicit ids may name an incomplete scan
    assert explicit["b"]["complete"] is False


def test_diff_same_scan_is_empty_and_reversed_diff_swaps(store: Store) -> None:
    same = diff_scans(store, 2, 2)
    assert same["summary"] == {"added": 0, "removed": 0, "changed": 0, "new_findings": 0,
                               "fixed_findings": 0, "waived_findings": 0}
    assert "no changes" in render_text(same)
    rev = diff_scans(store, 2, 1)
    assert [a["id"] for a in rev["assets"]["added"]] == ["PS3"]
    assert [a["id"] for a in rev["assets"]["removed"]] == ["PS4"]


def test_diff_needs_two_scans(tmp_path: Path) -> None:
    s = Store(f"sqlite:///{tmp_path / 'one.sqlite'}")
    with pytest.raises(StoreError, match="no complete scan"):
        diff_scans(s)
    s.save_scan(SCAN1)
    with pytest.raises(StoreError, match="no complete scan before"):
        diff_scans(s)
    s.close()


def test_render_text(store: Store) -> None:
    text = render_text(diff_scans(store))
    assert "scan 1 (2026-11-26T09:00:00Z) -> scan 2 (2026-11-26T17:00:00Z)" in text
    assert "+ service PS4 billing" in text
    assert "- service PS3 old" in text
    assert "~ service PS2 web-frontend" in text
    assert "name: 'web' -> 'web-frontend'" in text
    assert "teams: (changed)" in text
    assert "+ [critical] PDG-SVC-002 service PS4" in text
    assert "- [low] PDG-SVC-004 service PS3" in text


def test_cli_diff_inventory_and_codify(store: Store, tmp_path: Path) -> None:
    import click

    from pdguard.inventory.cli import register

    @click.group()
    def main() -> None:
        pass

    register(main)
    runner = CliRunner()
    url = store.url
    r = runner.invoke(main, ["diff", "--store", url, "--format", "json"])
    assert r.exit_code == 0, r.output
    assert json.loads(r.output)["summary"]["added"] == 1
    r = runner.invoke(main, ["diff", "--store", url, "--json"])  # the old spelling still works, with a note
    assert r.exit_code == 0 and json.loads(r.stdout)["summary"]["added"] == 1
    assert "--json is deprecated; use --format json" in r.stderr
    r = runner.invoke(main, ["diff", "1", "2", "--store", url])
    assert r.exit_code == 0 and "+ service PS4 billing" in r.output

    r = runner.invoke(main, ["inventory", "list", "--store", url, "--type", "service"])
    assert r.exit_code == 0 and "PS4" in r.output and "PS3" not in r.output
    r = runner.invoke(main, ["inventory", "list", "--store", url, "--scan", "1", "--format", "json"])
    assert {a["id"] for a in json.loads(r.output)["assets"]} == {"PS1", "PS2", "PS3", "PU1"}
    r = runner.invoke(main, ["inventory", "show", "PS4", "--store", url])
    assert r.exit_code == 0 and "PDG-SVC-002" in r.output and '"name": "billing"' in r.output
    r = runner.invoke(main, ["inventory", "show", "PS4", "--store", url, "--format", "json"])
    assert json.loads(r.output)["findings"][0]["policy_id"] == "PDG-SVC-002"
    r = runner.invoke(main, ["inventory", "show", "NOPE", "--store", url])
    assert r.exit_code != 0 and isinstance(r.exception, StoreError)
    r = runner.invoke(main, ["inventory", "scans", "--store", url])
    assert r.exit_code == 0 and "2026-11-26T17:00:00Z" in r.output

    out = tmp_path / "import.tf"
    r = runner.invoke(main, ["codify", "--store", url, "--type", "service", "-o", str(out)])
    assert r.exit_code == 0, r.output
    text = out.read_text()
    assert 'id = "PS4"' in text and "pagerduty_user" not in text
    r = runner.invoke(main, ["codify", "--store", url, "--type", "bogus"])
    assert r.exit_code == 2


def test_codify_from_a_store_of_several_accounts_codifies_the_one_named(store: Store) -> None:
    """Like diff and inventory: the latest scan of "some" account is never what was meant."""
    import click

    from pdguard.inventory.cli import register

    other = make_doc("2026-11-26T18:00:00Z", services=[svc("PSG1", "globex-api")])
    other["meta"]["account_subdomain"] = "globex"
    store.save_scan(other)

    @click.group()
    def main() -> None:
        pass

    register(main)
    runner = CliRunner()
    r = runner.invoke(main, ["codify", "--store", store.url, "--type", "service"])
    assert r.exit_code != 0 and isinstance(r.exception, StoreError)
    assert "2 accounts (acme, globex): choose one with --account NAME" in str(r.exception)
    r = runner.invoke(main, ["codify", "--store", store.url, "--type", "service", "--account", "acme"])
    assert r.exit_code == 0, r.output
    assert 'id = "PS4"' in r.output and "PSG1" not in r.output
    r = runner.invoke(main, ["codify", "--store", store.url, "--type", "service", "--account", "globex"])
    assert r.exit_code == 0 and 'id = "PSG1"' in r.output and "PS4" not in r.output
    r = runner.invoke(main, ["codify", "--snapshot", "x.json", "--account", "acme"])
    assert r.exit_code == 2 and "not with --snapshot" in r.output


def test_renamed_team_changes_the_team_not_its_services(tmp_path: Path) -> None:
    """References are compared on id and type: the summary a reference repeats is the other asset's."""
    def scan(at: str, team_name: str) -> dict:
        ref = {"id": "PT1", "type": "team_reference", "summary": team_name, "self": "https://x/teams/PT1"}
        return make_doc(at, services=[svc("PS1", "api", teams=[ref])],
                        teams=[{"id": "PT1", "type": "team", "name": team_name, "summary": team_name}])

    s = Store(f"sqlite:///{tmp_path / 'inv.sqlite'}")
    try:
        s.save_scan(scan("2026-11-26T09:00:00Z", "core"))
        s.save_scan(scan("2026-11-26T17:00:00Z", "core-platform"))
        changed = diff_scans(s)["assets"]["changed"]
        assert [(c["type"], c["id"], c["fields"]) for c in changed] == [("team", "PT1", ["name", "summary"])]
    finally:
        s.close()
