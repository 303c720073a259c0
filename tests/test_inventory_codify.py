"""codify: import blocks + resource skeletons for unmanaged objects; output parses with hcl2."""

from __future__ import annotations

import hcl2
import pytest

from pdguard.inventory.codify import codify, hcl_string, safe_identifier
from pdguard.inventory.iac import classify

NASTY = 'Pay "ments" \\ ${var.x} %{if} \n\ttab'


def doc() -> dict:
    return {
        "schema_version": "2.0",
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
    only_managed = {"schema_version": "2.0", "meta": {}, "services": [doc()["services"][3]]}
    iac = classify(only_managed, [managed_state(tmp_path)])
    text = codify(only_managed, iac)
    assert "Nothing to codify" in text
    hcl2.loads(text)


# ------------------------------------------------------------------------------- round trip
# The generated HCL is parsed (python-hcl2) and each resource block's arguments, as Terraform would
# see the configuration (provider defaults for what it leaves out), must equal the live object's
# through the same normalisation as drift: `terraform plan` after the import would be empty.

import json as _json  # noqa: E402
import re as _re  # noqa: E402

from pdguard.inventory import tfmap  # noqa: E402
from pdguard.inventory.iac import TF_TYPES, live_objects  # noqa: E402

_REF = _re.compile(r"^\$\{(pagerduty_[a-z0-9_]+\.[A-Za-z0-9_-]+)\.id\}$")


def _decode_string(raw: str) -> str:
    """An HCL quoted string → its value (independent of codify's encoder)."""
    assert raw.startswith('"') and raw.endswith('"'), raw
    return _json.loads(raw).replace("$${", "${").replace("%%{", "%{")


def _inventory_id(tf_type: str, import_id: str) -> str:
    if tf_type == "pagerduty_service_integration":
        return import_id.split(".")[1]
    if tf_type == "pagerduty_service_dependency":
        return import_id.split(".")[2]
    return import_id


def _value(v: object, ids: dict[str, str]) -> object:
    if isinstance(v, str):
        m = _REF.match(v)
        if m:
            return ids[m.group(1)]
        assert not v.startswith("${"), f"unexpected expression {v}"
        return _decode_string(v)
    if isinstance(v, list):
        return [_value(x, ids) for x in v]
    if isinstance(v, dict):
        return {k: _value(x, ids) for k, x in v.items() if k != "__is_block__"}
    return v


def round_trip(text: str, doc: dict) -> dict[str, list[str]]:
    """{address: drift} of every generated resource block against its live object."""
    parsed = hcl2.loads(text)
    ids = {}
    for imp in parsed.get("import", []):
        addr = imp["to"][2:-1]
        ids[addr] = _inventory_id(addr.split(".")[0], _decode_string(imp["id"]))
    live = live_objects(doc)
    ctx = tfmap.Ctx.of(doc)
    out = {}
    for block in parsed.get("resource", []):
        for rtype, named in block.items():
            tf_type = rtype.strip('"')
            for name, body in named.items():
                addr = f"{tf_type}.{name.strip(chr(34))}"
                config = _value(body, ids)
                assert isinstance(config, dict)
                unknown = set(config) - tfmap.RESOURCES[tf_type].arg_names
                assert not unknown, f"{addr}: not arguments of {tf_type}: {unknown}"
                if "description" in tfmap.RESOURCES[tf_type].arg_names and \
                        tfmap.RESOURCES[tf_type].arg("description").default is not tfmap.NO_DEFAULT:  # type: ignore[union-attr]
                    # never leave it to the provider's "Managed by Terraform" placeholder
                    assert "description" in config, f"{addr}: description left to the provider default"
                obj = live[TF_TYPES[tf_type]][ids[addr]]
                out[addr] = tfmap.drift_fields(tf_type, tfmap.as_configured(tf_type, config), obj, ctx)
    return out


def _sample_doc() -> dict:
    from pdguard.scanner import ScanOptions, scan
    from pdguard.simulator import sample_account, serve

    with serve(sample_account(), tokens={"t"}) as server:
        return scan(ScanOptions(api_key="t", api_url=server.url)).document


def test_codify_round_trips_the_sample_account() -> None:
    d = _sample_doc()
    text = codify(d)
    drift = round_trip(text, d)
    live = live_objects(d)
    assert len(drift) == sum(len(v) for v in live.values())  # every object emitted
    assert {a: f for a, f in drift.items() if f} == {}


def test_codify_round_trips_every_mapped_type() -> None:
    from test_inventory_drift_noise import live as noise_live

    d = noise_live()
    drift = round_trip(codify(d), d)
    assert {a.split(".")[0] for a in drift} == set(tfmap.RESOURCES)  # all ten resource types
    assert {a: f for a, f in drift.items() if f} == {}
    d2 = doc()
    drift2 = round_trip(codify(d2), d2)
    assert {a: f for a, f in drift2.items() if f} == {}


@pytest.mark.parametrize(("pattern", "address", "field"), [
    (r"\n  escalation_policy += [^\n]+", "pagerduty_service.api", "escalation_policy"),
    (r"\n  support_hours \{.*?\n  \}", "pagerduty_service.api", "support_hours"),
    (r"\n    restriction \{.*?\n    \}", "pagerduty_schedule.rota", "layer"),
    (r"\n      id   = pagerduty_user\.ann_adams\.id", "pagerduty_escalation_policy.primary", "rule"),
    (r'\n  acknowledgement_timeout = "null"', "pagerduty_service.api", "acknowledgement_timeout"),
])
def test_round_trip_catches_a_missing_argument(pattern: str, address: str, field: str) -> None:
    from test_inventory_drift_noise import live as noise_live

    d = noise_live()
    text = codify(d)
    broken, n = _re.subn(pattern, "", text, count=1, flags=_re.S)
    assert n == 1, pattern
    assert round_trip(broken, d)[address] == [field]
