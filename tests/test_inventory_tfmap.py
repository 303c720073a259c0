"""Each normaliser of pdguard.inventory.tfmap with the shapes terraform-provider-pagerduty's issues describe:
the Terraform side and the API side of the same configuration compare equal, a real difference does not."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest

from pdguard.inventory import tfmap
from pdguard.inventory.tfmap import Ctx

NOW = Ctx(now=datetime(2026, 11, 26, 9, 0, tzinfo=UTC))

# (normaliser, Terraform value, API value as `read` returns it, equal?)
CASES: list[tuple[str, Any, Any, Any, bool]] = [
    # the provider's default description is a placeholder, not content
    ("placeholder description", tfmap.n_description, "Managed by Terraform", None, True),
    ("placeholder, framework spelling", tfmap.n_description, "Managed by terraform", "", True),
    ("real description", tfmap.n_description, "Managed by Terraform", "Checkout API", False),
    # timeouts are strings in Terraform, "null" disables them (PR 52; plan output in issue 415)
    ("timeout null string", tfmap.n_timeout, "null", None, True),
    ("timeout number string", tfmap.n_timeout, "1800", 1800, True),
    ("timeout changed", tfmap.n_timeout, "1800", 600, False),
    ("timeout disabled in the UI", tfmap.n_timeout, "14400", None, False),
    # create_incidents reached end of life: the API enforces alerts (PR 836)
    ("alert_creation sunset", tfmap.n_alert_creation, "create_incidents", "create_alerts_and_incidents", True),
    # `type = null` + empty `config {}` is what the API returns as nothing (issue 700)
    ("alert grouping off", tfmap.n_alert_grouping, [{"type": None, "config": [None]}],
     [{"type": None, "config": []}], True),
    ("alert grouping empty block", tfmap.n_alert_grouping, [{"type": "", "config": [{}]}], None, True),
    ("alert grouping on", tfmap.n_alert_grouping, [{"type": None, "config": []}], [{"type": "intelligent", "config": []}],
     False),
    ("alert grouping fields order", tfmap.n_alert_grouping,
     [{"type": "content_based", "config": [{"aggregate": "all", "fields": ["b", "a"], "timeout": 0}]}],
     [{"type": "content_based", "config": [{"aggregate": "all", "fields": ["a", "b"], "timeout": 0}]}], True),
    ("auto pause off", tfmap.n_auto_pause, [{"enabled": False, "timeout": 0}], [{"enabled": False, "timeout": None}],
     True),
    ("auto pause on", tfmap.n_auto_pause, [{"enabled": False, "timeout": 0}], [{"enabled": True, "timeout": 300}], False),
    # incident_urgency_rule computed when not configured (issue 61 / PR 63): empty sub-blocks are nothing
    ("urgency rule sub-blocks", tfmap.n_urgency_rule,
     [{"type": "constant", "urgency": "high", "during_support_hours": [], "outside_support_hours": []}],
     [{"type": "constant", "urgency": "high"}], True),
    ("urgency changed", tfmap.n_urgency_rule, [{"type": "constant", "urgency": "high"}],
     [{"type": "constant", "urgency": "low"}], False),
    ("support hours order and precision", tfmap.n_support_hours,
     [{"type": "fixed_time_per_day", "time_zone": "Etc/UTC", "start_time": "9:00", "end_time": "17:00",
       "days_of_week": [5, 4, 3, 2, 1]}],
     [{"type": "fixed_time_per_day", "time_zone": "UTC", "start_time": "09:00:00", "end_time": "17:00:00",
       "days_of_week": [1, 2, 3, 4, 5]}], True),
    ("scheduled actions at", tfmap.n_scheduled_actions,
     [{"type": "urgency_change", "to_urgency": "high", "at": [{"type": "named_time", "name": "support_hours_start"}]}],
     [{"type": "urgency_change", "to_urgency": "high", "at": [{"name": "support_hours_start", "type": "named_time"}]}],
     True),
    ("num_loops null", tfmap.n_int_zero, 0, None, True),
    ("num_loops changed", tfmap.n_int_zero, 0, 2, False),
    # rotation_virtual_start in another offset is the same instant (issue 168)
    ("instant offset", tfmap.n_instant, "2019-01-01T02:00:00+02:00", "2019-01-01T00:00:00+00:00", True),
    ("instant Z and fraction", tfmap.n_instant, "2025-01-11T09:00:00.000Z", "2025-01-11T09:00:00Z", True),
    ("instant changed", tfmap.n_instant, "2019-01-01T02:00:00+02:00", "2019-01-01T02:00:00Z", False),
    # a layer start in the past is moved to "now" by PagerDuty (issue 34)
    ("past layer start", tfmap.n_start, "2017-08-08T17:16:03-05:00", "2017-08-23T15:09:35-05:00", True),
    ("future layer start", tfmap.n_start, "2027-01-01T00:00:00Z", "2027-02-01T00:00:00Z", False),
    ("layer start exactly at the scan is past", tfmap.n_start, "2026-11-26T10:00:00+01:00", "2026-11-20T00:00:00Z",
     True),
    ("layer start a second after the scan", tfmap.n_start, "2026-11-26T09:00:01Z", "2026-11-20T00:00:00Z", False),
    ("time of day precision", tfmap.n_time_of_day, "08:00", "08:00:00", True),
    ("time of day changed", tfmap.n_time_of_day, "08:00", "08:30:00", False),
    # the v3 schedules API returns Etc/UTC for UTC (the provider's flattenScheduleV3)
    ("Etc/UTC", tfmap.n_time_zone, "UTC", "Etc/UTC", True),
    ("real time zone", tfmap.n_time_zone, "UTC", "Europe/Paris", False),
    ("email case", tfmap.n_email, "Ann@Acme.example", "ann@acme.example", True),
    ("name spaces", tfmap.n_trimmed, "Ann Adams ", "Ann Adams", True),
    ("teams order", tfmap.n_ids, ["PT2", "PT1"], [{"id": "PT1", "type": "team_reference"}, {"id": "PT2"}], True),
    ("teams empty", tfmap.n_ids, [], None, True),
    ("integration type reference", tfmap.n_kind, "events_api_v2_inbound_integration",
     "events_api_v2_inbound_integration_reference", True),
    ("empty string is null", tfmap.n_text, "", None, True),
]


@pytest.mark.parametrize(("what", "norm", "tf", "api", "equal"), CASES, ids=[c[0] for c in CASES])
def test_normaliser(what: str, norm: Any, tf: Any, api: Any, equal: bool) -> None:
    assert (norm(tf, NOW) == norm(api, NOW)) is equal


def test_targets_are_a_set_rules_are_ordered() -> None:
    state = [{"escalation_delay_in_minutes": 10, "escalation_rule_assignment_strategy": [{"type": "assign_to_everyone"}],
              "target": [{"type": "user_reference", "id": "PU1"}, {"type": "schedule_reference", "id": "PS1"}]},
             {"escalation_delay_in_minutes": 30, "target": [{"id": "PU2"}]}]  # type defaults to user_reference
    live = {"escalation_rules": [
        {"id": "R1", "escalation_delay_in_minutes": 10, "targets": [{"id": "PS1", "type": "schedule"}, {"id": "PU1", "type": "user_reference"}]},
        {"id": "R2", "escalation_delay_in_minutes": 30, "targets": [{"id": "PU2", "type": "user"}]}]}
    read = tfmap.RESOURCES["pagerduty_escalation_policy"].arg("rule").read(live, NOW)  # type: ignore[union-attr]
    assert tfmap.n_rules(state, NOW) == tfmap.n_rules(read, NOW)
    swapped = {"escalation_rules": list(reversed(live["escalation_rules"]))}
    read2 = tfmap.RESOURCES["pagerduty_escalation_policy"].arg("rule").read(swapped, NOW)  # type: ignore[union-attr]
    assert tfmap.n_rules(state, NOW) != tfmap.n_rules(read2, NOW)  # levels are ordered
    round_robin = [dict(state[0], escalation_rule_assignment_strategy=[{"type": "round_robin"}]), state[1]]
    assert tfmap.n_rules(round_robin, NOW) != tfmap.n_rules(read, NOW)


def test_layers_come_back_reversed_and_ended_layers_are_not_read() -> None:
    layer = {"start": "2025-01-01T00:00:00Z", "rotation_virtual_start": "2025-01-01T00:00:00Z",
             "rotation_turn_length_seconds": 86400, "restrictions": []}
    live = {"schedule_layers": [
        dict(layer, id="L2", name="Top", users=[{"user": {"id": "PU2"}}], end=None),
        dict(layer, id="L1", name="Bottom", users=[{"user": {"id": "PU1"}}, {"user": {"id": "PU3"}}], end=None),
        dict(layer, id="L0", name="Ended", users=[{"user": {"id": "PU9"}}], end="2025-06-01T00:00:00Z"),
    ]}
    read = tfmap.RESOURCES["pagerduty_schedule"].arg("layer").read(live, NOW)  # type: ignore[union-attr]
    assert [x["name"] for x in read] == ["Bottom", "Top"]
    assert read[0]["users"] == ["PU1", "PU3"]
    state = [dict(layer, name="Bottom", end="", users=["PU1", "PU3"], restriction=[]),
             dict(layer, name="Top", end="", users=["PU2"], restriction=[])]
    assert tfmap.n_layers(state, NOW) == tfmap.n_layers(read, NOW)
    state[0]["users"] = ["PU3", "PU1"]  # who is on call first is meaningful
    assert tfmap.n_layers(state, NOW) != tfmap.n_layers(read, NOW)


def test_a_layer_that_ended_exactly_at_the_scan_is_not_read() -> None:
    layer = {"start": "2025-01-01T00:00:00Z", "rotation_virtual_start": "2025-01-01T00:00:00Z",
             "rotation_turn_length_seconds": 86400, "restrictions": [], "users": [{"user": {"id": "PU1"}}]}
    live = {"schedule_layers": [dict(layer, id="L2", name="Ended at the scan", end="2026-11-26T09:00:00Z"),
                                dict(layer, id="L1", name="Ends a second later", end="2026-11-26T09:00:01Z")]}
    read = tfmap.RESOURCES["pagerduty_schedule"].arg("layer").read(live, NOW)  # type: ignore[union-attr]
    assert [x["name"] for x in read] == ["Ends a second later"]
    assert [x["name"] for x in tfmap.n_layers(tfmap._blocks(live["schedule_layers"]), NOW)] == ["Ends a second later"]


def test_restrictions_are_a_set_and_day_zero_is_unset() -> None:
    a = [{"type": "weekly_restriction", "start_day_of_week": 1, "start_time_of_day": "09:00:00", "duration_seconds": 60},
         {"type": "daily_restriction", "start_day_of_week": 0, "start_time_of_day": "08:00", "duration_seconds": 30}]
    b = [{"type": "daily_restriction", "start_time_of_day": "08:00:00", "duration_seconds": 30},
         {"type": "weekly_restriction", "start_day_of_week": 1, "start_time_of_day": "09:00:00", "duration_seconds": 60}]
    assert tfmap._restrictions(a) == tfmap._restrictions(b)


def test_flexible_schedule_times_and_defaults() -> None:
    live = {"time_zone": "Etc/UTC", "rotations": [{"id": "R", "events": [{
        "id": "E", "name": "Day", "start_time": {"date_time": "2026-01-05T09:00:00", "time_zone": "America/New_York"},
        "end_time": {"date_time": "2026-01-05T22:00:00Z", "time_zone": "UTC"},
        "effective_since": "2026-03-01T00:00:00Z", "effective_until": None, "recurrence": ["RRULE:FREQ=DAILY"],
        "assignment_strategy": {"type": "rotating_member_assignment_strategy", "shifts_per_member": 1,
                                "members": [{"type": "user_member", "user_id": "PU1"}]}}]}]}
    read = tfmap.RESOURCES["pagerduty_schedulev2"].arg("rotation").read(live, NOW)  # type: ignore[union-attr]
    state = [{"id": "R", "event": [{
        "id": "E", "name": "Day", "start_time": "2026-01-05T09:00:00-05:00", "end_time": "2026-01-05T17:00:00-05:00",
        "effective_since": "2026-01-01T00:00:00Z", "effective_until": None, "recurrence": ["RRULE:FREQ=DAILY"],
        "assignment_strategy": [{"type": "rotating_member_assignment_strategy", "shifts_per_member": None,
                                 "member": [{"type": "user_member", "user_id": "PU1"}]}]}]}]
    assert tfmap.n_rotations(state, NOW) == tfmap.n_rotations(read, NOW)
    state[0]["event"][0]["effective_since"] = "2027-01-01T00:00:00Z"  # a future start is a real change
    assert tfmap.n_rotations(state, NOW) != tfmap.n_rotations(read, NOW)


def test_dependency_sides_compare_by_kind() -> None:
    tf = [{"type": "service_dependency", "supporting_service": [{"id": "PS", "type": "service"}],
           "dependent_service": [{"id": "PB", "type": "business_service"}]}]
    api = {"supporting_service": {"id": "PS", "type": "technical_service_reference"},
           "dependent_service": {"id": "PB", "type": "business_service_reference"}}
    read = tfmap.RESOURCES["pagerduty_service_dependency"].arg("dependency").read(api, NOW)  # type: ignore[union-attr]
    assert tfmap.n_dependency(tf, NOW) == tfmap.n_dependency(read, NOW)


def test_write_then_read_is_the_identity_through_normalisation() -> None:
    """Planned values mapped to API fields (plan merge) read back as the same Terraform values."""
    attrs = {
        "pagerduty_service": {"name": "api", "description": "d", "escalation_policy": "PEP1",
                              "acknowledgement_timeout": "null", "auto_resolve_timeout": "600",
                              "alert_creation": "create_alerts_and_incidents",
                              "alert_grouping_parameters": [{"type": "time", "config": [{"timeout": 5}]}],
                              "auto_pause_notifications_parameters": [{"enabled": True, "timeout": 300}],
                              "incident_urgency_rule": [{"type": "use_support_hours",
                                                         "during_support_hours": [{"type": "constant", "urgency": "high"}],
                                                         "outside_support_hours": [{"type": "constant", "urgency": "low"}]}],
                              "support_hours": [{"type": "fixed_time_per_day", "time_zone": "UTC", "start_time": "09:00:00",
                                                 "end_time": "17:00:00", "days_of_week": [1, 2]}],
                              "scheduled_actions": [{"type": "urgency_change", "to_urgency": "high",
                                                     "at": [{"type": "named_time", "name": "support_hours_start"}]}]},
        "pagerduty_escalation_policy": {"name": "p", "description": "", "num_loops": 1, "teams": ["PT1"],
                                        "rule": [{"escalation_delay_in_minutes": 5,
                                                  "target": [{"type": "schedule_reference", "id": "PS1"}]}]},
        "pagerduty_schedule": {"name": "s", "time_zone": "UTC", "description": "x", "teams": ["PT1"],
                               "layer": [{"name": "L", "start": "2027-01-01T00:00:00Z", "end": "",
                                          "rotation_virtual_start": "2027-01-01T00:00:00Z",
                                          "rotation_turn_length_seconds": 3600, "users": ["PU1", "PU2"],
                                          "restriction": [{"type": "daily_restriction", "start_time_of_day": "08:00:00",
                                                           "duration_seconds": 60}]},
                                         {"name": "L2", "start": "2027-01-01T00:00:00Z", "end": "",
                                          "rotation_virtual_start": "2027-01-01T00:00:00Z",
                                          "rotation_turn_length_seconds": 7200, "users": ["PU3"], "restriction": []}]},
        "pagerduty_schedulev2": {"name": "f", "time_zone": "Europe/Paris", "description": "d", "teams": ["PT1"],
                                 "rotation": [{"event": [{"name": "E", "start_time": "2027-01-04T09:00:00+01:00",
                                                          "end_time": "2027-01-04T17:00:00+01:00",
                                                          "effective_since": "2027-01-01T00:00:00Z",
                                                          "effective_until": None, "recurrence": ["RRULE:FREQ=DAILY"],
                                                          "assignment_strategy": [{"type": "every_member_assignment_strategy",
                                                                                   "member": [{"type": "user_member",
                                                                                               "user_id": "PU1"}]}]}]}]},
        "pagerduty_team": {"name": "t", "description": "d", "parent": "PT0", "default_role": "observer"},
        "pagerduty_team_membership": {"user_id": "PU1", "team_id": "PT1", "role": "responder"},
        "pagerduty_user": {"name": "u", "email": "u@x.example", "role": "user", "job_title": "j", "time_zone": "UTC",
                           "color": "red", "description": "d"},
        "pagerduty_business_service": {"name": "b", "description": "d", "point_of_contact": "p", "team": "PT1"},
        "pagerduty_service_dependency": {"dependency": [{"supporting_service": [{"id": "PS", "type": "service"}],
                                                         "dependent_service": [{"id": "PB", "type": "business_service"}]}]},
        "pagerduty_service_integration": {"name": "i", "service": "PS", "type": "generic_events_api_inbound_integration",
                                          "vendor": "PV", "integration_email": "a@b.example"},
    }
    assert set(attrs) == set(tfmap.RESOURCES)
    for tf_type, a in attrs.items():
        rmap = tfmap.RESOURCES[tf_type]
        assert set(a) == set(rmap.arg_names), tf_type  # every argument is exercised
        api = tfmap.to_api(tf_type, a)
        assert tfmap.drift_fields(tf_type, a, api, NOW) == [], tf_type
        assert tfmap.normalised(tf_type, tfmap.to_tf(rmap.asset_type, api, NOW), NOW) == tfmap.normalised(tf_type, a, NOW)
