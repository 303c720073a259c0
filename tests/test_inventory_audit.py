"""Audit records -> changes of inventory assets (pdguard.inventory.audit) and drift entries naming the actor."""

from __future__ import annotations

import json
from pathlib import Path

from terraform_fixtures import live_doc

from pdguard.inventory import audit
from pdguard.inventory.iac import classify

ANN = {"id": "PU1", "type": "user_reference", "summary": "Ann Adams"}
KEY = {"id": "PKEY1", "type": "api_key_reference", "summary": "terraform"}


def record(rid: str, at: str, root: dict, action: str = "update", actors: list | None = None, method: str = "browser",
           details: dict | None = None) -> dict:
    out = {"id": rid, "execution_time": at, "execution_context": {"request_id": f"req-{rid}"},
           "method": {"type": method}, "root_resource": root, "action": action,
           "details": details or {"resource": root, "fields": [{"name": "description", "value": "x"}]}}
    if actors is not None:
        out["actors"] = actors
    return out


def ref(kind: str, oid: str, summary: str | None = None) -> dict:
    return {"id": oid, "type": f"{kind}_reference", "summary": summary or oid}


RECORDS = [
    record("R1", "2026-11-25T10:12:03.412Z", ref("service", "PSWEB", "web"), actors=[ANN]),
    record("R2", "2026-11-20T08:00:00.000Z", ref("service", "PSWEB", "web"), actors=[KEY], method="api_token"),
    # a member removed from a team (the spec's example has no actors)
    record("R3", "2026-11-24T09:00:00.000Z", ref("team", "PT1", "Platform"), method="api_token",
           details={"resource": ref("team", "PT1"), "references": [{"name": "members", "removed": [ref("user", "PU2")]}]}),
    # a member's team role
    record("R4", "2026-11-24T09:30:00Z", ref("team", "PT1"), actors=[ANN],
           details={"resource": ref("user", "PU3"), "fields": [{"name": "team_role", "before_value": "observer",
                                                                 "value": "manager"}]}),
    record("R5", "2026-11-22T00:00:00Z", ref("schedule", "PSOLD"), action="delete", actors=[ANN]),
    record("R1", "2026-11-25T10:12:03.412Z", ref("service", "PSWEB", "web"), actors=[ANN]),  # repeated: once
    record("R6", "not a time", ref("service", "PSWEB")),  # unusable
    record("R7", "2026-11-25T11:00:00Z", {"id": "PIP1", "type": "ip_allow_list_reference"}, actors=[ANN]),
]


def test_changes_by_asset() -> None:
    changes = audit.changes_by_asset(RECORDS)
    assert set(changes) == {("service", "PSWEB"), ("team", "PT1"), ("team_membership", "PU2:PT1"),
                            ("team_membership", "PU3:PT1"), ("schedule", "PSOLD")}
    web = changes[("service", "PSWEB")]
    assert [c["record"] for c in web] == ["R1", "R2"]  # newest first, R1 once
    assert web[0] == {"at": "2026-11-25T10:12:03.412Z", "action": "update", "method": "browser",
                      "actors": [{"id": "PU1", "type": "user_reference", "summary": "Ann Adams"}], "record": "R1"}
    assert [c["record"] for c in changes[("team", "PT1")]] == ["R4", "R3"]
    assert changes[("team_membership", "PU2:PT1")][0]["actors"] == []


def test_latest_in_a_window() -> None:
    web = audit.changes_by_asset(RECORDS)[("service", "PSWEB")]
    assert audit.latest(web)["record"] == "R1"
    assert audit.latest(web, until="2026-11-25T10:12:03.411Z")["record"] == "R2"
    assert audit.latest(web, until="2026-11-25T10:12:03.412Z")["record"] == "R1"  # at the end: in
    assert audit.latest(web, after="2026-11-25T10:12:03.412Z") is None  # at the start: out
    assert audit.latest(web, after="2026-11-21T00:00:00+01:00")["record"] == "R1"
    assert audit.latest([], after=None) is None and audit.latest(None) is None


def test_describe() -> None:
    web = audit.changes_by_asset(RECORDS)[("service", "PSWEB")]
    assert audit.describe(web[0]) == "Ann Adams (user) at 2026-11-25T10:12:03.412Z via browser"
    assert audit.describe(web[1]) == "terraform (api_key) at 2026-11-20T08:00:00.000Z via api_token"
    no_actor = audit.changes_by_asset(RECORDS)[("team_membership", "PU2:PT1")][0]
    assert audit.describe(no_actor) == "an actor PagerDuty does not name (api_token) at 2026-11-24T09:00:00.000Z"
    assert audit.describe(None) == "unknown"


def test_stored_index_round_trip() -> None:
    doc = {"meta": {"collections": ["services", "audit_records"],
                    "audit_window": {"since": "2026-10-27T09:00:00Z", "until": "2026-11-26T09:00:00Z"}},
           "audit_records": RECORDS}
    index = audit.stored_index(doc)
    assert index is not None and index["window"] == doc["meta"]["audit_window"]
    assert index["changes"]["service:PSWEB"][0]["record"] == "R1"
    json.dumps(index)
    assert audit.index_changes(json.loads(json.dumps(index))) == audit.changes_by_asset(RECORDS)
    # not collected (forbidden, excluded): nothing to keep
    assert audit.stored_index({"meta": {"collections": ["services"]}, "audit_records": RECORDS}) is None
    assert audit.index_changes(None) == {}


def test_keeps_the_latest_changes_per_asset() -> None:
    many = [record(f"R{i}", f"2026-11-{10 + i:02d}T00:00:00Z", ref("service", "PSWEB"), actors=[ANN]) for i in range(9)]
    index = audit.stored_index({"meta": {"collections": ["audit_records"]}, "audit_records": many})
    assert [c["record"] for c in index["changes"]["service:PSWEB"]] == ["R8", "R7", "R6", "R5", "R4"]


def _state(tmp_path: Path) -> str:
    state = {"version": 4, "terraform_version": "1.9.5", "serial": 1, "lineage": "x", "outputs": {}, "resources": [
        {"mode": "managed", "type": "pagerduty_service", "name": "web",
         "provider": 'provider["registry.terraform.io/pagerduty/pagerduty"]',
         "instances": [{"schema_version": 1, "attributes": {"id": "PSWEB", "name": "web", "description": "old text",
                                                             "escalation_policy": "PEP2"}}]},
        {"mode": "managed", "type": "pagerduty_schedule", "name": "old",
         "provider": 'provider["registry.terraform.io/pagerduty/pagerduty"]',
         "instances": [{"schema_version": 0, "attributes": {"id": "PSGONE", "name": "gone", "time_zone": "UTC"}}]},
    ]}
    p = tmp_path / "terraform.tfstate"
    p.write_text(json.dumps(state))
    return str(p)


def test_drift_entries_and_ghosts_name_who_changed_them(tmp_path: Path) -> None:
    doc = live_doc()
    doc["meta"]["collections"].append("audit_records")
    doc["audit_records"] = [*RECORDS, record("R9", "2026-11-23T07:00:00Z", ref("schedule", "PSGONE"), action="delete",
                                             actors=[ANN])]
    iac = classify(doc, [_state(tmp_path)])
    web = iac["resources"]["service"]["PSWEB"]
    assert web["status"] == "drifted" and web["drift"] == ["description"]
    assert web["changed_by"]["record"] == "R1" and web["changed_by"]["actors"][0]["summary"] == "Ann Adams"
    ghost = next(g for g in iac["ghosts"] if g["id"] == "PSGONE")
    assert ghost["changed_by"]["action"] == "delete" and ghost["changed_by"]["record"] == "R9"
    # audit records not collected (forbidden): the entries carry no actor
    doc["meta"]["collections"].remove("audit_records")
    iac = classify(doc, [_state(tmp_path)])
    assert iac["resources"]["service"]["PSWEB"]["changed_by"] is None
    assert next(g for g in iac["ghosts"] if g["id"] == "PSGONE")["changed_by"] is None


# ------------------------------------------------------------------------------- pdguard diff

def _doc(scanned_at: str, services: list, records: list | None = None, since: str | None = None) -> dict:
    collections = ["services", "users"] + (["audit_records"] if records is not None else [])
    meta = {"scanned_at": scanned_at, "account_subdomain": "acme", "region": "us", "complete": True,
            "collections": collections}
    if records is not None:
        meta["audit_window"] = {"since": since, "until": scanned_at}
    return {"schema_version": "2.0", "meta": meta, "services": services, "users": [],
            "audit_records": records or []}


def _svc(sid: str, name: str, description: str = "a service") -> dict:
    return {"id": sid, "type": "service", "name": name, "description": description}


def test_diff_names_who_changed_each_asset(tmp_path: Path) -> None:
    import subprocess
    import sys

    from pdguard.inventory.diff import diff_scans, render_text
    from pdguard.inventory.store import Store

    records = [
        record("A1", "2026-11-26T12:00:00Z", ref("service", "PS2", "web"), actors=[ANN]),  # the change
        record("A0", "2026-11-26T08:00:00Z", ref("service", "PS2", "web"), actors=[KEY], method="api_token"),  # before A
        record("A2", "2026-11-26T13:00:00Z", ref("service", "PS3", "old"), action="delete", actors=[KEY],
               method="api_token"),
        record("A3", "2026-11-26T14:00:00Z", ref("service", "PS4", "billing"), action="create", actors=[ANN]),
        record("A4", "2026-11-26T18:00:00Z", ref("service", "PS2", "web"), actors=[KEY]),  # after B
        record("A6", "2026-11-26T08:30:00Z", ref("service", "PS5", "cron"), actors=[ANN]),  # only before A
    ]
    url = f"sqlite:///{tmp_path / 'inv.sqlite'}"
    with Store(url) as store:
        store.save_scan(_doc("2026-11-26T09:00:00Z", [_svc("PS1", "api"), _svc("PS2", "web"), _svc("PS3", "old"),
                                                      _svc("PS5", "cron")]))
        store.save_scan(_doc("2026-11-26T17:00:00Z", [_svc("PS1", "api"), _svc("PS2", "web", "changed by hand"),
                                                      _svc("PS4", "billing"), _svc("PS5", "cron", "new")],
                             records, since="2026-11-19T17:00:00Z"))
        result = diff_scans(store)
        text = render_text(result)
    assert result["audit"] == {"collected": True, "covers_interval": True}
    changed = {c["id"]: c["changed_by"] for c in result["assets"]["changed"]}
    assert changed["PS2"]["record"] == "A1"  # not A0 (before scan A) nor A4 (after scan B)
    assert changed["PS5"] is None  # its only record is older than scan A
    assert result["assets"]["removed"][0]["changed_by"]["action"] == "delete"
    assert result["assets"]["added"][0]["changed_by"]["record"] == "A3"
    assert "  ~ service PS2 web\n      by Ann Adams (user) at 2026-11-26T12:00:00Z via browser\n" in text
    assert "  - service PS3 old\n      by terraform (api_key) at 2026-11-26T13:00:00Z via api_token\n" in text
    r = subprocess.run([sys.executable, "-m", "pdguard", "diff", "--store", url, "--format", "json"],
                       capture_output=True, text=True)
    assert r.returncode == 0, r.stderr
    out = {c["id"]: c["changed_by"] for c in json.loads(r.stdout)["assets"]["changed"]}
    assert out["PS2"]["actors"][0]["summary"] == "Ann Adams"
    r = subprocess.run([sys.executable, "-m", "pdguard", "diff", "--store", url], capture_output=True, text=True)
    assert r.returncode == 0 and "      by Ann Adams (user) at 2026-11-26T12:00:00Z via browser" in r.stdout


def test_diff_without_audit_records_says_actors_are_unknown(tmp_path: Path) -> None:
    from pdguard.inventory.diff import diff_scans, render_text
    from pdguard.inventory.store import Store

    with Store(f"sqlite:///{tmp_path / 'inv.sqlite'}") as store:
        store.save_scan(_doc("2026-11-26T09:00:00Z", [_svc("PS1", "api")]))
        store.save_scan(_doc("2026-11-26T17:00:00Z", [_svc("PS1", "api", "new")]))
        result = diff_scans(store)
    assert result["assets"]["changed"][0]["changed_by"] is None
    assert result["audit"] == {"collected": False, "covers_interval": False}
    assert "who changed what: unknown" in render_text(result)


def test_untrusted_actor_names_are_neutralised(tmp_path: Path) -> None:
    from pdguard.inventory.diff import diff_scans, render_text
    from pdguard.inventory.store import Store

    evil = {"id": "PU9", "type": "user_reference", "summary": "Eve\x1b[2J\u202e"}
    with Store(f"sqlite:///{tmp_path / 'inv.sqlite'}") as store:
        store.save_scan(_doc("2026-11-26T09:00:00Z", [_svc("PS1", "api")]))
        store.save_scan(_doc("2026-11-26T17:00:00Z", [_svc("PS1", "api", "new")],
                             [record("E1", "2026-11-26T10:00:00Z", ref("service", "PS1"), actors=[evil])],
                             since="2026-11-26T08:00:00Z"))
        text = render_text(diff_scans(store))
    assert "\x1b" not in text and "\u202e" not in text and "Eve\\x1b[2J\\u202e (user)" in text
