"""Drift that knows the provider's noise: state and live objects that differ only in how the provider
and the API represent the same configuration are `codified`; one real change is `drifted` naming
only that argument. The state fixture is a terraform.tfstate (v4) with the provider's attribute forms."""

from __future__ import annotations

import copy
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from terraform_fixtures import FIXTURES, r

from pdguard.inventory.iac import classify

NOISE_STATE = str(FIXTURES / "noise.tfstate")


def live() -> dict[str, Any]:
    return {
        "schema_version": "2.0",
        "meta": {"scanned_at": "2026-11-26T09:00:00Z", "complete": True,
                 "collections": ["services", "escalation_policies", "schedules", "flexible_schedules", "teams", "users",
                                 "business_services", "service_dependencies"]},
        "services": [{
            "id": "PSAPI", "type": "service", "name": "api", "description": None, "status": "critical",
            "html_url": "https://acme.pagerduty.com/service-directory/PSAPI", "created_at": "2025-01-10T09:00:00Z",
            "last_incident_timestamp": "2026-11-25T00:00:00Z", "teams": [r("team", "PT9")],  # read-only, derived
            "escalation_policy": r("escalation_policy", "PEP1"), "acknowledgement_timeout": None,
            "auto_resolve_timeout": 14400, "alert_creation": "create_alerts_and_incidents",
            "alert_grouping_parameters": {"type": None, "config": None},
            "auto_pause_notifications_parameters": {"enabled": False, "timeout": None},
            "incident_urgency_rule": {"type": "use_support_hours",
                                      "during_support_hours": {"type": "constant", "urgency": "high"},
                                      "outside_support_hours": {"type": "constant", "urgency": "low"}},
            "support_hours": {"type": "fixed_time_per_day", "time_zone": "UTC", "start_time": "09:00:00",
                              "end_time": "17:00:00", "days_of_week": [1, 2, 3, 4, 5]},
            "scheduled_actions": [{"type": "urgency_change", "at": {"type": "named_time", "name": "support_hours_start"},
                                   "to_urgency": "high"}],
            "integrations": [{"id": "PI1", "type": "events_api_v2_inbound_integration_reference",
                              "summary": "Events API v2", "name": "Events API v2", "service": r("service", "PSAPI"),
                              "integration_email": None}],
        }],
        "escalation_policies": [{
            "id": "PEP1", "type": "escalation_policy", "name": "Primary", "description": None, "num_loops": None,
            "teams": [r("team", "PT1")], "services": [r("service", "PSAPI")],
            "escalation_rules": [
                {"id": "PR1", "escalation_delay_in_minutes": 10,  # targets in another order, expanded schedule
                 "targets": [{"id": "PSCH1", "type": "schedule", "name": "Rota"}, r("user", "PU1")]},
                {"id": "PR2", "escalation_delay_in_minutes": 30, "targets": [{"id": "PU2", "type": "user"}]},
            ]}],
        "schedules": [{
            "id": "PSCH1", "type": "schedule", "name": "Rota", "time_zone": "Europe/Paris", "description": None,
            "teams": [r("team", "PT1")], "escalation_policies": [r("escalation_policy", "PEP1")],
            "final_schedule": {"rendered_coverage_percentage": 100.0, "rendered_schedule_entries": []},
            "schedule_layers": [  # the API lists the top layer first, ended layers included
                {"id": "PL2", "name": "Weekends", "start": "2025-01-11T09:00:00Z", "end": None,
                 "rotation_virtual_start": "2025-01-11T09:00:00Z", "rotation_turn_length_seconds": 86400,
                 "users": [{"user": r("user", "PU2")}], "restrictions": []},
                {"id": "PL1", "name": "Weekdays", "start": "2025-02-03T14:12:09Z", "end": None,  # moved to "now" then
                 "rotation_virtual_start": "2025-01-06T09:00:00Z", "rotation_turn_length_seconds": 604800,
                 "users": [{"user": r("user", "PU1")}, {"user": r("user", "PU2")}],
                 "restrictions": [
                     {"type": "daily_restriction", "start_time_of_day": "08:00:00", "duration_seconds": 3600},
                     {"type": "weekly_restriction", "start_day_of_week": 1, "start_time_of_day": "09:00:00",
                      "duration_seconds": 32400}]},
                {"id": "PL0", "name": "Old layer", "start": "2024-01-01T00:00:00Z", "end": "2025-01-01T00:00:00Z",
                 "rotation_virtual_start": "2024-01-01T00:00:00Z", "rotation_turn_length_seconds": 86400,
                 "users": [{"user": r("user", "PU3")}], "restrictions": []},
            ]}],
        "flexible_schedules": [{
            "id": "PFLX1", "type": "schedule_v3", "name": "Follow the sun", "time_zone": "Etc/UTC", "description": None,
            "teams": [],
            "rotations": [{"id": "PROT1", "type": "schedule_rotation", "events": [{
                "id": "PEV1", "type": "schedule_event", "name": "Day shift",
                "start_time": {"date_time": "2026-01-05T14:00:00Z", "time_zone": "UTC"},
                "end_time": {"date_time": "2026-01-05T17:00:00", "time_zone": "America/New_York"},
                "effective_since": "2026-02-01T10:00:00Z",  # a past start moved to the creation time
                "effective_until": None, "recurrence": ["RRULE:FREQ=WEEKLY;BYDAY=MO,TU,WE,TH,FR"],
                "assignment_strategy": {"type": "rotating_member_assignment_strategy", "shifts_per_member": 1,
                                        "members": [{"type": "user_member", "user_id": "PU1"},
                                                    {"type": "user_member", "user_id": "PU2"}]}}]}]}],
        "teams": [{"id": "PT1", "type": "team", "name": "Platform", "description": "Managed by Terraform",
                   "default_role": "manager", "parent": None, "members": [{"user": r("user", "PU1"), "role": "manager"}]}],
        "users": [{"id": "PU1", "type": "user", "name": "Ann Adams", "email": "ann@acme.example", "role": "admin",
                   "job_title": "SRE", "time_zone": "Europe/Paris", "color": "green", "description": None,
                   "teams": [r("team", "PT1")]}],
        "business_services": [{"id": "PB1", "type": "business_service", "name": "Shop", "description": None,
                               "point_of_contact": "", "team": r("team", "PT1")}],
        "service_dependencies": [{"id": "PD1", "type": "service_dependency",
                                  "supporting_service": {"id": "PSAPI", "type": "technical_service_reference"},
                                  "dependent_service": {"id": "PB1", "type": "business_service_reference"}}],
    }


def statuses(doc: dict[str, Any]) -> dict[tuple[str, str], tuple[str, list[str]]]:
    iac = classify(doc, [NOISE_STATE])
    assert iac["ghosts"] == []
    return {(t, i): (e["status"], e["drift"]) for t, es in iac["resources"].items() for i, e in es.items()}


def test_only_noise_means_codified() -> None:
    got = statuses(live())
    assert got == {
        ("service", "PSAPI"): ("codified", []),
        ("escalation_policy", "PEP1"): ("codified", []),
        ("schedule", "PSCH1"): ("codified", []),
        ("flexible_schedule", "PFLX1"): ("codified", []),
        ("team", "PT1"): ("codified", []),
        ("team_membership", "PU1:PT1"): ("codified", []),
        ("user", "PU1"): ("codified", []),
        ("business_service", "PB1"): ("codified", []),
        ("service_dependency", "PD1"): ("codified", []),
        ("integration", "PI1"): ("codified", []),
    }


def _svc(d: dict) -> dict:
    return d["services"][0]


def _layer(d: dict, layer_id: str) -> dict:
    return next(x for x in d["schedules"][0]["schedule_layers"] if x["id"] == layer_id)


def _event(d: dict) -> dict:
    return d["flexible_schedules"][0]["rotations"][0]["events"][0]


CHANGES: list[tuple[str, Callable[[dict], Any], tuple[str, str], str]] = [
    ("service description", lambda d: _svc(d).update(description="set in the UI"), ("service", "PSAPI"), "description"),
    ("ack timeout", lambda d: _svc(d).update(acknowledgement_timeout=600), ("service", "PSAPI"), "acknowledgement_timeout"),
    ("auto resolve off", lambda d: _svc(d).update(auto_resolve_timeout=None), ("service", "PSAPI"), "auto_resolve_timeout"),
    ("escalation policy", lambda d: _svc(d).update(escalation_policy=r("escalation_policy", "PEP9")),
     ("service", "PSAPI"), "escalation_policy"),
    ("support hours end", lambda d: _svc(d)["support_hours"].update(end_time="18:00:00"), ("service", "PSAPI"),
     "support_hours"),
    ("outside urgency", lambda d: _svc(d)["incident_urgency_rule"]["outside_support_hours"].update(urgency="high"),
     ("service", "PSAPI"), "incident_urgency_rule"),
    ("auto pause on", lambda d: _svc(d).update(auto_pause_notifications_parameters={"enabled": True, "timeout": 300}),
     ("service", "PSAPI"), "auto_pause_notifications_parameters"),
    ("alert grouping", lambda d: _svc(d).update(alert_grouping_parameters={"type": "intelligent", "config": None}),
     ("service", "PSAPI"), "alert_grouping_parameters"),
    ("scheduled action", lambda d: _svc(d).update(scheduled_actions=[]), ("service", "PSAPI"), "scheduled_actions"),
    ("num loops", lambda d: d["escalation_policies"][0].update(num_loops=2), ("escalation_policy", "PEP1"), "num_loops"),
    ("target user", lambda d: d["escalation_policies"][0]["escalation_rules"][1].update(targets=[r("user", "PU3")]),
     ("escalation_policy", "PEP1"), "rule"),
    ("rule delay", lambda d: d["escalation_policies"][0]["escalation_rules"][0].update(escalation_delay_in_minutes=5),
     ("escalation_policy", "PEP1"), "rule"),
    ("policy team", lambda d: d["escalation_policies"][0].update(teams=[r("team", "PT2")]),
     ("escalation_policy", "PEP1"), "teams"),
    ("rotation order", lambda d: _layer(d, "PL1")["users"].reverse(), ("schedule", "PSCH1"), "layer"),
    ("restriction", lambda d: _layer(d, "PL1")["restrictions"][0].update(duration_seconds=7200),
     ("schedule", "PSCH1"), "layer"),
    ("future start", lambda d: _layer(d, "PL2").update(start="2027-01-01T00:00:00Z"), ("schedule", "PSCH1"), "layer"),
    ("schedule tz", lambda d: d["schedules"][0].update(time_zone="UTC"), ("schedule", "PSCH1"), "time_zone"),
    ("flex member", lambda d: _event(d)["assignment_strategy"]["members"].pop(), ("flexible_schedule", "PFLX1"),
     "rotation"),
    ("flex end time", lambda d: _event(d)["end_time"].update(date_time="2026-01-05T18:00:00"),
     ("flexible_schedule", "PFLX1"), "rotation"),
    ("flex name", lambda d: d["flexible_schedules"][0].update(name="Sun"), ("flexible_schedule", "PFLX1"), "name"),
    ("team name", lambda d: d["teams"][0].update(name="Platform Eng"), ("team", "PT1"), "name"),
    ("member role", lambda d: d["teams"][0]["members"][0].update(role="responder"), ("team_membership", "PU1:PT1"),
     "role"),
    ("user role", lambda d: d["users"][0].update(role="user"), ("user", "PU1"), "role"),
    ("user email", lambda d: d["users"][0].update(email="ann.adams@acme.example"), ("user", "PU1"), "email"),
    ("point of contact", lambda d: d["business_services"][0].update(point_of_contact="ops"), ("business_service", "PB1"),
     "point_of_contact"),
    ("dependency", lambda d: d["service_dependencies"][0].update(supporting_service={"id": "PSX", "type": "service"}),
     ("service_dependency", "PD1"), "dependency"),
    ("integration name", lambda d: _svc(d)["integrations"][0].update(name="Events"), ("integration", "PI1"), "name"),
]


@pytest.mark.parametrize(("what", "change", "key", "field"), CHANGES, ids=[c[0] for c in CHANGES])
def test_one_real_change_is_drift_naming_only_that_field(what: str, change: Callable[[dict], Any],
                                                         key: tuple[str, str], field: str) -> None:
    doc = live()
    change(doc)
    got = statuses(doc)
    assert got[key] == ("drifted", [field])
    assert all(s == ("codified", []) for k, s in got.items() if k != key)


def test_read_only_fields_never_drift() -> None:
    doc = live()
    svc = _svc(doc)
    svc.update(status="disabled", html_url="https://elsewhere", created_at="2020-01-01T00:00:00Z",
               last_incident_timestamp=None, teams=[], self="https://api.pagerduty.com/services/PSAPI")
    doc["escalation_policies"][0]["escalation_rules"][0]["id"] = "POTHER"
    doc["schedules"][0]["final_schedule"] = None
    _layer(doc, "PL1")["id"] = "PLNEW"
    assert all(s == ("codified", []) for s in statuses(doc).values())


def test_an_uncollected_collection_has_no_ghosts(tmp_path: Path) -> None:
    doc = live()
    del doc["flexible_schedules"]
    doc["meta"]["collections"].remove("flexible_schedules")
    for t in doc["teams"]:
        del t["members"]  # members not known: memberships cannot be judged either
    iac = classify(doc, [NOISE_STATE])
    assert iac["ghosts"] == []
    doc2 = copy.deepcopy(live())
    doc2["flexible_schedules"] = []
    iac2 = classify(doc2, [NOISE_STATE])
    assert [(g["type"], g["id"]) for g in iac2["ghosts"]] == [("flexible_schedule", "PFLX1")]


def test_timeouts_in_any_of_terraform_s_forms(tmp_path: Path) -> None:
    """`"null"`, `""` and numbers (a hand-written or older state, a plan's values) are the provider's
    string forms of the same timeouts (terraform-provider-pagerduty PR 52, issue 415)."""
    import json

    state = json.loads(Path(NOISE_STATE).read_text())
    svc = next(r for r in state["resources"] if r["type"] == "pagerduty_service")["instances"][0]["attributes"]
    svc.update(acknowledgement_timeout="", auto_resolve_timeout=14400)
    p = tmp_path / "terraform.tfstate"
    p.write_text(json.dumps(state))
    iac = classify(live(), [str(p)])
    assert iac["resources"]["service"]["PSAPI"]["status"] == "codified"
    svc.update(acknowledgement_timeout="300")
    p.write_text(json.dumps(state))
    iac = classify(live(), [str(p)])
    assert iac["resources"]["service"]["PSAPI"]["drift"] == ["acknowledgement_timeout"]
