"""Plan input: `terraform show -json PLANFILE` merged into the live inventory (pdguard.inventory.plan)."""

from __future__ import annotations

import copy
import json
from pathlib import Path

import pytest
from terraform_fixtures import PLAN_CHANGES, PLAN_NOOP, TF_MAIN, live_doc

from pdguard.errors import InputError
from pdguard.inventory.plan import apply_plan, placeholder_id, plan_summary, read_plan
from pdguard.inventory.tfmap import ref_id

COLLECTIONS = ("services", "escalation_policies", "schedules", "teams", "users", "business_services",
               "service_dependencies")


def by_id(doc: dict, coll: str) -> dict:
    return {o["id"]: o for o in doc[coll]}


@pytest.fixture(scope="module")
def applied() -> dict:
    return apply_plan(live_doc(), read_plan(str(PLAN_CHANGES)))


def test_placeholder_ids_are_the_address() -> None:
    assert placeholder_id("pagerduty_service.api") == "tf:pagerduty_service.api"
    assert placeholder_id('module.a.pagerduty_team.t["x"]') == 'tf:module.a.pagerduty_team.t["x"]'


def test_noop_plan_leaves_the_inventory_unchanged() -> None:
    doc = live_doc()
    new = apply_plan(doc, read_plan(str(PLAN_NOOP)))
    for coll in COLLECTIONS:
        assert new[coll] == doc[coll], coll
    assert new["plan"]["changes"] == [] and plan_summary(new["plan"]) == {}
    statuses = {(t, i): e["status"] for t, es in new["iac"]["resources"].items() for i, e in es.items()}
    assert statuses[("service", "PSWEB")] == "codified" and statuses[("schedule", "PSOLD")] == "codified"
    assert statuses[("team_membership", "PU2:PT1")] == "codified" and statuses[("integration", "PIWEB")] == "codified"
    assert statuses[("service", "PSCHK")] == "codified"
    assert new["iac"]["ghosts"] == []


def test_input_plan_shape(applied: dict) -> None:
    plan = applied["plan"]
    assert plan["source"] == str(PLAN_CHANGES) and plan["format_version"] == "1.2"
    assert plan["terraform_version"] == "1.9.5" and plan["complete"] is True
    changes = {c["address"]: c for c in plan["changes"]}
    # no-op and data-source reads are not changes
    assert "pagerduty_user.ann" not in changes and "data.pagerduty_vendor.datadog" not in changes
    assert plan_summary(plan) == {"create": 4, "update": 2, "delete": 1, "replace": 2}
    for c in plan["changes"]:
        assert set(c) == {"address", "type", "name", "actions", "action", "resource", "before", "after", "replaces",
                          "unknown", "file", "line"}
    api = changes["pagerduty_service.api"]
    assert api["actions"] == ["create"] and api["before"] is None
    assert api["resource"] == {"type": "service", "id": "tf:pagerduty_service.api", "name": "api"}
    assert api["after"] == by_id(applied, "services")["tf:pagerduty_service.api"]
    assert api["unknown"] == []  # every unknown reference resolved
    old = changes["pagerduty_schedule.old"]
    assert old["action"] == "delete" and old["after"] is None
    assert old["resource"] == {"type": "schedule", "id": "PSOLD", "name": "old rota"}
    assert old["before"]["id"] == "PSOLD" and old["before"]["schedule_layers"]  # the live object
    web = changes["pagerduty_service.web"]
    assert web["before"]["description"] == "Web front end" and web["after"]["description"] == "Web front end (SSR)"
    json.dumps(plan)


def test_create_with_references_between_planned_resources(applied: dict) -> None:
    services, eps = by_id(applied, "services"), by_id(applied, "escalation_policies")
    schedules = by_id(applied, "schedules")
    api = services["tf:pagerduty_service.api"]
    assert api["escalation_policy"]["id"] == "tf:pagerduty_escalation_policy.platform"
    assert api["acknowledgement_timeout"] == 600 and api["auto_resolve_timeout"] is None
    assert api["description"] == "Public API" and api["alert_grouping_parameters"]["type"] == "intelligent"
    assert api["incident_urgency_rule"] == {"type": "constant", "urgency": "high"}  # the API's default
    assert [ref_id(t) for t in api["teams"]] == ["PT1"]  # derived from its escalation policy
    assert [i["id"] for i in api["integrations"]] == ["tf:pagerduty_service_integration.api_datadog"]
    integ = api["integrations"][0]
    assert ref_id(integ["vendor"]) == "PDDOG" and ref_id(integ["service"]) == "tf:pagerduty_service.api"

    ep = eps["tf:pagerduty_escalation_policy.platform"]
    rules = [[(t["type"], t["id"]) for t in r["targets"]] for r in ep["escalation_rules"]]
    assert rules == [[("schedule_reference", "tf:pagerduty_schedule.new_rota"), ("user_reference", "PU1")],
                     [("user_reference", "PU1")]]
    assert [r["escalation_delay_in_minutes"] for r in ep["escalation_rules"]] == [10, 30]
    assert ep["num_loops"] == 2 and [ref_id(t) for t in ep["teams"]] == ["PT1"]
    assert [ref_id(s) for s in ep["services"]] == ["tf:pagerduty_service.api"]

    rota = schedules["tf:pagerduty_schedule.new_rota"]
    assert [ref_id(e) for e in rota["escalation_policies"]] == ["tf:pagerduty_escalation_policy.platform"]
    assert [ref_id(u) for u in rota["users"]] == ["PU1", "PU2"]
    layer = rota["schedule_layers"][0]
    assert layer["rotation_turn_length_seconds"] == 604800 and layer["name"] == "Weekdays"
    assert layer["restrictions"] == [{"type": "daily_restriction", "start_time_of_day": "08:00:00",
                                      "duration_seconds": 36000}]


def test_update_delete_and_replace(applied: dict) -> None:
    doc = live_doc()
    services, eps = by_id(applied, "services"), by_id(applied, "escalation_policies")
    web = services["PSWEB"]
    assert web["description"] == "Web front end (SSR)" and ref_id(web["escalation_policy"]) == "PEP1"
    assert web["html_url"] == by_id(doc, "services")["PSWEB"]["html_url"]  # untouched live fields stay
    assert [ref_id(t) for t in web["teams"]] == ["PT1"]  # follows the new policy's team
    assert [ref_id(s) for s in eps["PEP2"]["services"]] == []
    assert sorted(ref_id(s) for s in eps["PEP1"]["services"]) == ["PSCHK", "PSWEB"]
    assert services["PSCHK"]["acknowledgement_timeout"] == 900  # in a child module

    assert "PSOLD" not in by_id(applied, "schedules")  # deleted

    # replace (delete, create): the membership of PU2 goes, PU3's appears
    members = {ref_id(m["user"]): m["role"] for m in by_id(applied, "teams")["PT1"]["members"]}
    assert members == {"PU1": "manager", "PU3": "responder"}
    changes = {c["address"]: c for c in applied["plan"]["changes"]}
    assert changes["pagerduty_team_membership.oncall"]["replaces"] == "PU2:PT1"
    assert changes["pagerduty_team_membership.oncall"]["resource"]["id"] == "PU3:PT1"
    # replace (create_before_destroy): the old integration is gone, the new one has a placeholder id
    integ = changes["pagerduty_service_integration.web_events"]
    assert integ["actions"] == ["create", "delete"] and integ["action"] == "replace"
    assert integ["replaces"] == "PIWEB" and integ["resource"]["id"] == "tf:pagerduty_service_integration.web_events"
    assert [(i["id"], i["type"]) for i in web["integrations"]] == [
        ("tf:pagerduty_service_integration.web_events", "generic_events_api_inbound_integration")]


def test_post_apply_iac(applied: dict) -> None:
    r = applied["iac"]["resources"]
    assert applied["iac"]["sources"] == [str(PLAN_CHANGES)]
    assert r["service"]["tf:pagerduty_service.api"] == {"status": "codified", "address": "pagerduty_service.api",
                                                        "drift": [], "file": None, "line": None,
                                                        "source": str(PLAN_CHANGES)}
    assert r["escalation_policy"]["tf:pagerduty_escalation_policy.platform"]["status"] == "codified"
    assert r["schedule"]["tf:pagerduty_schedule.new_rota"]["status"] == "codified"
    assert r["integration"]["tf:pagerduty_service_integration.api_datadog"]["status"] == "codified"
    assert r["integration"]["tf:pagerduty_service_integration.web_events"]["status"] == "codified"
    assert r["service"]["PSWEB"]["status"] == "codified" and r["service"]["PSCHK"]["status"] == "codified"
    assert r["team_membership"]["PU3:PT1"]["address"] == "pagerduty_team_membership.oncall"
    assert "PU2:PT1" not in r["team_membership"] and "PSOLD" not in r["schedule"]
    assert r["escalation_policy"]["PEP1"]["status"] == "unmanaged"
    assert applied["iac"]["ghosts"] == []  # deleted objects are neither live nor in state


def test_the_input_document_is_not_modified() -> None:
    doc = live_doc()
    before = copy.deepcopy(doc)
    apply_plan(doc, read_plan(str(PLAN_CHANGES)))
    assert doc == before


def test_planned_resources_point_at_their_tf_block(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / "infra").mkdir()
    (tmp_path / "infra" / "main.tf").write_text(TF_MAIN)
    monkeypatch.chdir(tmp_path)
    new = apply_plan(live_doc(), read_plan(str(PLAN_CHANGES)), tf_dirs=["infra"])
    changes = {c["address"]: c for c in new["plan"]["changes"]}
    assert (changes["pagerduty_service.api"]["file"], changes["pagerduty_service.api"]["line"]) == ("infra/main.tf", 11)
    assert changes["pagerduty_schedule.old"]["file"] is None  # its block was removed from the code
    api = new["iac"]["resources"]["service"]["tf:pagerduty_service.api"]
    assert (api["file"], api["line"]) == ("infra/main.tf", 11)


def test_unresolvable_unknowns_are_reported_and_keep_the_live_value(tmp_path: Path) -> None:
    plan = json.loads(PLAN_CHANGES.read_text())
    web = next(c for c in plan["resource_changes"] if c["address"] == "pagerduty_service.web")
    del web["change"]["after"]["escalation_policy"]
    web["change"]["after_unknown"]["escalation_policy"] = True
    conf = next(r for r in plan["configuration"]["root_module"]["resources"] if r["address"] == "pagerduty_service.web")
    conf["expressions"]["escalation_policy"] = {"references": ["var.policy"]}
    p = tmp_path / "plan.json"
    p.write_text(json.dumps(plan))
    new = apply_plan(live_doc(), read_plan(str(p)))
    change = next(c for c in new["plan"]["changes"] if c["address"] == "pagerduty_service.web")
    assert change["unknown"] == ["escalation_policy"]
    assert ref_id(by_id(new, "services")["PSWEB"]["escalation_policy"]) == "PEP2"  # unknown: stays as it is
    assert by_id(new, "services")["PSWEB"]["description"] == "Web front end (SSR)"


def test_a_computed_argument_known_after_apply_keeps_the_live_value(tmp_path: Path) -> None:
    """An Optional+Computed argument the configuration leaves to the API and Terraform shows as
    "known after apply" on an update is not a change: the service keeps its alert grouping."""
    plan = json.loads(PLAN_CHANGES.read_text())
    web = next(c for c in plan["resource_changes"] if c["address"] == "pagerduty_service.web")
    web["change"]["after"]["alert_grouping_parameters"] = None
    web["change"]["after_unknown"]["alert_grouping_parameters"] = True
    p = tmp_path / "plan.json"
    p.write_text(json.dumps(plan))
    doc = live_doc()
    grouping = {"type": "time", "config": {"timeout": 5}}
    by_id(doc, "services")["PSWEB"]["alert_grouping_parameters"] = grouping
    new = apply_plan(doc, read_plan(str(p)))
    web_after = by_id(new, "services")["PSWEB"]
    assert web_after["alert_grouping_parameters"] == grouping
    assert web_after["description"] == "Web front end (SSR)"  # the configured change is applied
    assert new["iac"]["resources"]["service"]["PSWEB"]["status"] == "codified"


def test_forget_leaves_the_object_unmanaged(tmp_path: Path) -> None:
    plan = json.loads(PLAN_NOOP.read_text())
    web = next(c for c in plan["resource_changes"] if c["address"] == "pagerduty_service.web")
    web["change"]["actions"] = ["forget"]
    web["change"]["after"] = None
    p = tmp_path / "plan.json"
    p.write_text(json.dumps(plan))
    new = apply_plan(live_doc(), read_plan(str(p)))
    assert "PSWEB" in by_id(new, "services")
    assert new["iac"]["resources"]["service"]["PSWEB"]["status"] == "unmanaged"
    assert [c["action"] for c in new["plan"]["changes"]] == ["forget"]


def test_incomplete_plan_is_a_warning(tmp_path: Path) -> None:
    plan = json.loads(PLAN_NOOP.read_text())
    plan["complete"] = False
    p = tmp_path / "plan.json"
    p.write_text(json.dumps(plan))
    new = apply_plan(live_doc(), read_plan(str(p)))
    assert new["plan"]["complete"] is False and any("not complete" in w for w in new["meta"]["warnings"])


@pytest.mark.parametrize(("content", "message"), [
    ("{nope", "not valid JSON"),
    ("[]", "not a Terraform plan"),
    (json.dumps({"format_version": "1.0", "values": {"root_module": {}}}), "Terraform state, not a plan"),
    (json.dumps({"version": 4, "resources": []}), "Terraform state, not a plan"),
    (json.dumps({"format_version": "2.0", "resource_changes": []}), "format_version '2.0' is not supported"),
    (json.dumps({"format_version": "1.2", "resource_changes": [], "errored": True}), "the plan errored"),
    (json.dumps({"format_version": "1.2", "resource_changes": [{"address": "x"}]}), "without address, type"),
    (json.dumps({"terraform_version": "1.9.5"}), "no resource_changes"),
])
def test_bad_plan_files(tmp_path: Path, content: str, message: str) -> None:
    p = tmp_path / "plan.json"
    p.write_text(content)
    with pytest.raises(InputError, match=message):
        read_plan(str(p))
    with pytest.raises(InputError, match="not found"):
        read_plan(str(tmp_path / "missing.json"))


def test_findings_on_deleted_objects_get_their_block_and_address() -> None:
    """A blast-radius finding about an object the plan deletes still names its address and block."""
    from pdguard.evaluate import _iac_locations

    plan = {"changes": [{"address": "pagerduty_schedule.old", "resource": {"type": "schedule", "id": "PSOLD"},
                         "file": "infra/old.tf", "line": 3},
                        {"address": "pagerduty_service.web", "action": "replace", "before": {"id": "PSWEB"},
                         "resource": {"type": "service", "id": "tf:pagerduty_service.web"},
                         "file": "infra/web.tf", "line": 5}]}
    iac = {"resources": {"service": {"PS1": {"status": "codified", "address": "pagerduty_service.a",
                                             "file": "infra/a.tf", "line": 7}}}, "ghosts": []}
    locs = _iac_locations(iac, plan)
    loc, addr = locs[("schedule", "PSOLD")]
    assert (loc.path, loc.line, addr) == ("infra/old.tf", 3, "pagerduty_schedule.old")  # type: ignore[union-attr]
    for rid in ("PSWEB", "tf:pagerduty_service.web"):  # a replace: the old object and the new one
        loc, addr = locs[("service", rid)]
        assert (loc.path, loc.line, addr) == ("infra/web.tf", 5, "pagerduty_service.web")  # type: ignore[union-attr]
    loc, addr = locs[("service", "PS1")]
    assert (loc.path, loc.line, addr) == ("infra/a.tf", 7, "pagerduty_service.a")  # type: ignore[union-attr]
