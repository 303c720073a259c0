"""codify: import blocks + resource skeletons for unmanaged objects; output parses with hcl2."""

from __future__ import annotations

import hcl2
import pytest

from pdguard.inventory.codify import codify, hcl_string, safe_identifier
from pdguard.inventory.iac import classify

NASTY = 'Pay "ments" \\ ${var.x} %{if} \n\ttab'


def doc() -> dict:
    return {
        "schema_version": "1.0",
        "meta": {"scanned_at": "2026-11-26T09:00:00Z", "complete": True},
        "services": [
            {"id": "PS1", "name": "api", "description": NASTY, "acknowledgement_timeout": None,
             "auto_resolve_timeout": 14400, "alert_creation": "create_alerts_and_incidents",
             "escalation_policy": {"id": "PE1", "type": "escalation_policy_reference"},
             "integrations": [{"id": "PI1", "name": "Datadog", "type": "generic_events_api_inbound_integration",
                               "vendor": {"id": "PV1", "type": "vendor_reference"}}]},
            {"id": "PS2", "name": "api", "escalation_policy": {"id": "PE9"}, "integrations": []},  # same name
            {"id": "PS3", "name": "9 lives!", "escalation_policy": {"id": "PE1"}, "integrations": []},
            {"id": "PS4", "name": "managed", "escalation_policy": {"id": "PE1"}, "integrations": []},
        ],
        "escalation_policies": [
            {"id": "PE1", "name": "Primary EP", "num_loops": 2, "teams": [{"id": "PT1"}],
             "escalation_rules": [
                 {"escalation_delay_in_minutes": 10,
                  "targets": [{"id": "PSCH1", "type": "schedule_reference"}, {"id": "PU1", "type": "user_reference"}]},
                 {"escalation_delay_in_minutes": 30, "targets": [{"id": "PU1", "type": "user"}]},
             ]},
        ],
        "schedules": [
            {"id": "PSCH1", "name": "On-call", "time_zone": "Europe/Paris", "schedule_layers": [
                {"name": "Layer 1", "start": "2026-01-01T00:00:00Z", "rotation_virtual_start": "2026-01-01T00:00:00Z",
                 "rotation_turn_length_seconds": 604800, "users": [{"user": {"id": "PU1", "type": "user_reference"}}],
                 "restrictions": [{"type": "daily_restriction", "start_time_of_day": "09:00:00",
                                   "duration_seconds": 28800}]}]},
        ],
        "teams": [{"id": "PT1", "name": NASTY}],
        "users": [{"id": "PU1", "name": "Ann O'Neil", "email": "ann@x.example", "role": "user",
                   "time_zone": "UTC"}],
        "business_services": [{"id": "PB1", "name": "Checkout", "point_of_contact": "ann",
                               "team": {"id": "PT1"}}],
        "service_dependencies": [{"id": "D1", "supporting_service": {"id": "PS1", "type": "service"},
                                  "dependent_service": {"id": "PB1", "type": "business_service"}}],
    }


def managed_state(tmp_path) -> str:
    import json

    p = tmp_path / "terraform.tfstate"
    p.write_text(json.dumps({"version": 4, "resources": [
        {"mode": "managed", "type": "pagerduty_service", "name": "managed",
         "instances": [{"attributes": {"id": "PS4", "name": "managed", "escalation_policy": "PE1"}}]},
        # an existing root-level address named like an unmanaged object: generated names avoid it
        {"mode": "managed", "type": "pagerduty_service", "name": "api",
         "instances": [{"attributes": {"id": "PGONE", "name": "api"}}]},
    ]}))
    return str(p)


def _blocks(parsed: dict, kind: str) -> list:
    return parsed.get(kind, [])


def test_codify_parses_with_hcl2_and_covers_unmanaged_only(tmp_path) -> None:
    d = doc()
    iac = classify(d, [managed_state(tmp_path)])
    text = codify(d, iac)
    parsed = hcl2.loads(text)

    imports = _blocks(parsed, "import")
    ids = sorted(i["id"].strip('"') for i in imports)
    assert ids == sorted(["PS1", "PS2", "PS3", "PE1", "PSCH1", "PT1", "PU1", "PB1",
                          "PS1.PI1", "PS1.service.D1"])
    assert "PS4" not in ids  # codified: not emitted

    resources: dict[str, dict] = {}
    for block in _blocks(parsed, "resource"):
        for rtype, named in block.items():
            for name, body in named.items():
                resources[f"{rtype.strip(chr(34))}.{name.strip(chr(34))}"] = body
    # unique, safe identifiers; `api` is taken in state, so both `api` services get suffixes
    svc_names = sorted(k for k in resources if k.startswith("pagerduty_service."))
    assert svc_names == ["pagerduty_service.api_2", "pagerduty_service.api_3", "pagerduty_service.r_9_lives"]
    for imp in imports:
        assert imp["to"].replace("${", "").replace("}", "") in resources
    api = resources["pagerduty_service.api_2"]
    assert api["escalation_policy"] == "${pagerduty_escalation_policy.primary_ep.id}"  # emitted alongside
    assert api["acknowledgement_timeout"] == '"null"' or api["acknowledgement_timeout"] == "null"
    assert resources["pagerduty_service.api_3"]["escalation_policy"].strip('"') == "PE9"  # unknown EP: id
    ep = resources["pagerduty_escalation_policy.primary_ep"]
    assert len(ep["rule"]) == 2
    sched = resources["pagerduty_schedule.on_call"]
    assert sched["layer"][0]["rotation_turn_length_seconds"] == 604800
    assert "pagerduty_service_dependency.checkout_on_api" in resources
    integ = resources["pagerduty_service_integration.api_datadog"]
    assert integ["vendor"].strip('"') == "PV1"


def test_strings_are_escaped() -> None:
    text = codify(doc(), None, ["team"])
    parsed = hcl2.loads(text)
    team = parsed["resource"][0]['"pagerduty_team"'] if '"pagerduty_team"' in parsed["resource"][0] \
        else parsed["resource"][0]["pagerduty_team"]
    body = next(iter(team.values()))
    assert "$${var.x}" in body["name"] and "%%{if}" in body["name"]  # template sequences escaped
    assert hcl_string('a"b\\c\n') == '"a\\"b\\\\c\\n"'
    assert hcl_string("x\x01") == '"x\\u0001"'


@pytest.mark.parametrize(
    ("name", "expected"),
    [("Checkout API", "checkout_api"), ("9 lives!", "r_9_lives"), ("", "service_ps1"), ("--", "service_ps1"),
     ("Événement", "v_nement")],
)
def test_safe_identifier(name: str, expected: str) -> None:
    assert safe_identifier(name, "service_PS1") == expected


def test_type_filter_and_nothing_to_do(tmp_path) -> None:
    text = codify(doc(), None, ["pagerduty_user"])
    parsed = hcl2.loads(text)
    assert [i["id"].strip('"') for i in parsed["import"]] == ["PU1"]
    only_managed = {"schema_version": "1.0", "meta": {}, "services": [doc()["services"][3]]}
    iac = classify(only_managed, [managed_state(tmp_path)])
    text = codify(only_managed, iac)
    assert "Nothing to codify" in text
    hcl2.loads(text)
