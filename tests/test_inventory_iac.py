"""IaC status against Terraform state: codified, drifted, unmanaged, ghosts; tfstate v4 and show -json."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from pdguard.errors import InputError
from pdguard.inventory.iac import apply_iac, classify, iac_locations, read_state, summary


def live_doc() -> dict:
    return {
        "schema_version": "2.0",
        "meta": {"scanned_at": "2026-11-26T09:00:00Z", "complete": True},
        "services": [
            {"id": "PSAPI", "name": "api", "description": "API", "acknowledgement_timeout": None,
             "auto_resolve_timeout": 14400, "alert_creation": "create_alerts_and_incidents",
             "escalation_policy": {"id": "PEP1", "type": "escalation_policy_reference"},
             "integrations": [{"id": "PINT1", "type": "generic_events_api_inbound_integration", "name": "events"}]},
            {"id": "PSWEB", "name": "web", "description": "changed in the UI", "acknowledgement_timeout": 600,
             "auto_resolve_timeout": None, "escalation_policy": {"id": "PEP2"}, "integrations": []},
            {"id": "PSNEW", "name": "clicked-together", "escalation_policy": {"id": "PEP1"}, "integrations": []},
        ],
        "escalation_policies": [
            {"id": "PEP1", "name": "primary", "description": None, "num_loops": 2,
             "escalation_rules": [{"targets": []}, {"targets": []}]},
            {"id": "PEP2", "name": "secondary", "num_loops": 0, "escalation_rules": [{"targets": []}]},
        ],
        "schedules": [{"id": "PSCH1", "name": "follow the sun", "time_zone": "UTC", "description": "rota",
                       "schedule_layers": [{"id": "PL1", "name": "Layer 1", "start": "2026-01-01T00:00:00Z", "end": None,
                                            "rotation_virtual_start": "2026-01-01T00:00:00Z",
                                            "rotation_turn_length_seconds": 604800, "restrictions": [],
                                            "users": [{"user": {"id": "PU1", "type": "user_reference"}}]}]}],
        "teams": [{"id": "PT1", "name": "Payments", "description": "pay"}],
        "users": [{"id": "PU1", "name": "Ann", "email": "ann@x.example", "role": "admin"}],
        "business_services": [{"id": "PB1", "name": "Checkout", "description": "d", "point_of_contact": "ann"}],
        "service_dependencies": [{"id": "D1", "supporting_service": {"id": "PSAPI", "type": "service"},
                                  "dependent_service": {"id": "PB1", "type": "business_service"}}],
    }


def tfstate_v4() -> dict:
    def res(rtype: str, name: str, attrs: dict, module: str | None = None, index_key: object = None) -> dict:
        inst: dict = {"schema_version": 0, "attributes": attrs}
        if index_key is not None:
            inst["index_key"] = index_key
        r = {"mode": "managed", "type": rtype, "name": name,
             "provider": 'provider["registry.terraform.io/pagerduty/pagerduty"]', "instances": [inst]}
        if module:
            r["module"] = module
        return r

    return {
        "version": 4,
        "terraform_version": "1.9.0",
        "serial": 7,
        "lineage": "x",
        "outputs": {},
        "resources": [
            # codified: Terraform keeps timeouts as strings ("null", "14400")
            res("pagerduty_service", "api", {"id": "PSAPI", "name": "api", "description": "API",
                                             "acknowledgement_timeout": "null", "auto_resolve_timeout": "14400",
                                             "alert_creation": "create_alerts_and_incidents",
                                             "escalation_policy": "PEP1"}),
            # drifted: description + escalation_policy + acknowledgement_timeout differ
            res("pagerduty_service", "web", {"id": "PSWEB", "name": "web", "description": "from code",
                                             "acknowledgement_timeout": "1800", "auto_resolve_timeout": "null",
                                             "escalation_policy": "PEP1"}, module="module.frontend"),
            # ghost: not live any more
            res("pagerduty_service", "old", {"id": "PGONE1", "name": "old"}),
            res("pagerduty_escalation_policy", "primary", {"id": "PEP1", "name": "primary", "description": "",
                                                           "num_loops": 2, "rule": [{}, {}]}),
            # drifted: rule count 2 in code, 1 live
            res("pagerduty_escalation_policy", "tier", {"id": "PEP2", "name": "secondary", "num_loops": 0,
                                                        "rule": [{}, {}]}, index_key="b"),
            res("pagerduty_user", "ann", {"id": "PU1", "name": "Ann", "email": "ann@x.example", "role": "user"},
                index_key=0),
            res("pagerduty_service_integration", "events", {"id": "PINT1", "name": "events", "service": "PSAPI"}),
            res("pagerduty_service_dependency", "checkout_api", {
                "id": "D1", "dependency": [{"type": "service",
                                            "supporting_service": [{"id": "PSAPI", "type": "service"}],
                                            "dependent_service": [{"id": "PB1", "type": "business_service"}]}]}),
            {"mode": "data", "type": "pagerduty_vendor", "name": "dd", "instances": [{"attributes": {"id": "V1"}}]},
            res("aws_s3_bucket", "logs", {"id": "logs"}),
        ],
    }


def show_json() -> dict:
    return {
        "format_version": "1.0",
        "terraform_version": "1.9.0",
        "values": {
            "root_module": {
                "resources": [
                    {"address": "pagerduty_team.payments", "mode": "managed", "type": "pagerduty_team",
                     "name": "payments", "values": {"id": "PT1", "name": "Payments", "description": "pay"}},
                    {"address": "data.pagerduty_user.x", "mode": "data", "type": "pagerduty_user",
                     "name": "x", "values": {"id": "PU1"}},
                ],
                "child_modules": [
                    {"address": "module.biz",
                     "resources": [
                         {"address": "module.biz.pagerduty_business_service.checkout", "mode": "managed",
                          "type": "pagerduty_business_service", "name": "checkout",
                          "values": {"id": "PB1", "name": "Checkout", "description": "d",
                                     "point_of_contact": "bob"}},
                     ],
                     "child_modules": [
                         {"address": "module.biz.module.sched",
                          "resources": [
                              {"address": "module.biz.module.sched.pagerduty_schedule.fts[\"eu\"]",
                               "mode": "managed", "type": "pagerduty_schedule", "name": "fts", "index": "eu",
                               "values": {"id": "PSCH1", "name": "follow the sun", "time_zone": "UTC",
                                          "description": "rota",
                                          # the same layer as Terraform writes it: offset, "" end
                                          "layer": [{"id": "PL1", "name": "Layer 1", "end": "",
                                                     "start": "2026-01-01T01:00:00+01:00",
                                                     "rotation_virtual_start": "2026-01-01T01:00:00+01:00",
                                                     "rotation_turn_length_seconds": 604800, "users": ["PU1"],
                                                     "restriction": []}]}},
                              {"address": "module.biz.module.sched.pagerduty_schedule.gone",
                               "mode": "managed", "type": "pagerduty_schedule", "name": "gone",
                               "values": {"id": "PSCHX", "name": "gone", "time_zone": "UTC"}},
                          ]},
                     ]},
                ],
            }
        },
    }


@pytest.fixture()
def states(tmp_path: Path) -> tuple[str, str]:
    a = tmp_path / "terraform.tfstate"
    a.write_text(json.dumps(tfstate_v4()))
    b = tmp_path / "show.json"
    b.write_text(json.dumps(show_json()))
    return str(a), str(b)


def test_classify_tfstate_and_show_json(states: tuple[str, str]) -> None:
    iac = classify(live_doc(), list(states))
    assert iac["sources"] == list(states)
    r = iac["resources"]
    tfstate, show = states
    assert r["service"]["PSAPI"] == {"status": "codified", "address": "pagerduty_service.api", "drift": [],
                                     "file": None, "line": None, "source": tfstate}
    assert r["service"]["PSNEW"]["source"] is None  # unmanaged: in no state
    web = r["service"]["PSWEB"]
    assert web["status"] == "drifted" and web["address"] == "module.frontend.pagerduty_service.web"
    assert web["drift"] == ["description", "escalation_policy", "acknowledgement_timeout"]
    assert r["service"]["PSNEW"]["status"] == "unmanaged" and r["service"]["PSNEW"]["address"] is None

    assert r["escalation_policy"]["PEP1"]["status"] == "codified"  # "" description == null
    assert r["escalation_policy"]["PEP2"] == {"status": "drifted", "address": 'pagerduty_escalation_policy.tier["b"]',
                                              "drift": ["rule"], "file": None, "line": None, "source": tfstate,
                                              "changed_by": None}  # no audit records in this snapshot
    assert r["user"]["PU1"]["status"] == "drifted" and r["user"]["PU1"]["drift"] == ["role"]
    assert r["user"]["PU1"]["address"] == "pagerduty_user.ann[0]"
    assert r["integration"]["PINT1"]["status"] == "codified"
    assert r["service_dependency"]["D1"]["status"] == "codified"
    # from terraform show -json (nested child modules)
    assert r["team"]["PT1"]["status"] == "codified"
    assert r["business_service"]["PB1"] == {"status": "drifted",
                                            "address": "module.biz.pagerduty_business_service.checkout",
                                            "drift": ["point_of_contact"], "file": None, "line": None,
                                            "source": show, "changed_by": None}  # each entry names its state
    assert r["schedule"]["PSCH1"]["status"] == "codified"
    assert r["schedule"]["PSCH1"]["address"] == 'module.biz.module.sched.pagerduty_schedule.fts["eu"]'

    ghosts = {(g["type"], g["id"]): (g["address"], g["source"]) for g in iac["ghosts"]}
    assert ghosts == {("service", "PGONE1"): ("pagerduty_service.old", tfstate),
                      ("schedule", "PSCHX"): ("module.biz.module.sched.pagerduty_schedule.gone", show)}
    assert summary(iac) == {"codified": 6, "drifted": 4, "unmanaged": 1, "ghosts": 2}
    json.dumps(iac)


def test_no_state_means_everything_unmanaged() -> None:
    iac = classify(live_doc(), [])
    statuses = {e["status"] for entries in iac["resources"].values() for e in entries.values()}
    assert statuses == {"unmanaged"} and iac["ghosts"] == [] and iac["sources"] == []


def test_tf_dirs_give_file_and_line(states: tuple[str, str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    infra = tmp_path / "infra"
    (infra / "modules" / "frontend").mkdir(parents=True)
    (infra / "main.tf").write_text(
        'provider "pagerduty" {}\n\nresource "pagerduty_service" "api" {\n  name = "api"\n}\n'
        'resource  "pagerduty_service"   "old"   {\n}\n'
    )
    (infra / "modules" / "frontend" / "svc.tf").write_text('# web\nresource "pagerduty_service" "web" {\n}\n')
    monkeypatch.chdir(tmp_path)
    iac = classify(live_doc(), list(states), ["infra"])
    svc = iac["resources"]["service"]
    assert (svc["PSAPI"]["file"], svc["PSAPI"]["line"]) == ("infra/main.tf", 3)
    assert (svc["PSWEB"]["file"], svc["PSWEB"]["line"]) == ("infra/modules/frontend/svc.tf", 2)
    ghost = next(g for g in iac["ghosts"] if g["id"] == "PGONE1")
    assert (ghost["file"], ghost["line"]) == ("infra/main.tf", 6)
    locs = iac_locations(iac)
    assert locs[("service", "PSAPI")] == ("infra/main.tf", 3)
    assert locs[("service", "PGONE1")] == ("infra/main.tf", 6)
    assert ("service", "PSNEW") not in locs


def test_apply_iac_sets_input_iac(states: tuple[str, str]) -> None:
    doc = live_doc()
    iac = classify(doc, [states[0]])
    assert apply_iac(doc, iac) is doc and doc["iac"] is iac


def test_bad_state_files(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="not found"):
        read_state(str(tmp_path / "missing.tfstate"))
    bad = tmp_path / "bad.tfstate"
    bad.write_text("{nope")
    with pytest.raises(InputError, match="not valid JSON"):
        read_state(str(bad))
    old = tmp_path / "v3.tfstate"
    old.write_text(json.dumps({"version": 3, "modules": []}))
    with pytest.raises(InputError, match="version 3 is not supported"):
        read_state(str(old))
    other = tmp_path / "other.json"
    other.write_text("[]")
    with pytest.raises(InputError, match="not a Terraform state"):
        read_state(str(other))
    with pytest.raises(InputError, match="directory not found"):
        classify(live_doc(), [], [str(tmp_path / "nodir")])


def test_empty_show_json_has_no_values(tmp_path: Path) -> None:
    p = tmp_path / "empty.json"
    p.write_text(json.dumps({"format_version": "1.0"}))
    assert read_state(str(p)) == []
