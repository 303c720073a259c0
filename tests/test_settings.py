"""Typed policy settings (issue 10 #9): a pydantic schema; unknown keys and wrong types are exit 2
naming the key; each setting says which policies read it; user policies declare their own in
METADATA `custom.settings`."""

from __future__ import annotations

import json
from functools import lru_cache
from pathlib import Path

import pytest
import yaml
from conftest import run_pdguard, scan_account, tiny_snapshot

from pdguard.config import Config
from pdguard.engine.base import InputRef
from pdguard.engine.embedded import EmbeddedEngine
from pdguard.engine.loader import load_policies
from pdguard.errors import ConfigError, PolicyError
from pdguard.evaluate import evaluate
from pdguard.settings import BUILTIN, declarations, validate


def snapshot_file(tmp_path: Path) -> Path:
    path = tmp_path / "s.json"
    path.write_text(json.dumps(tiny_snapshot(escalation_policies=[
        {"id": "PEP0001", "type": "escalation_policy", "name": "one", "escalation_rules": [
            {"escalation_delay_in_minutes": 30, "targets": [{"id": "PSCH001", "type": "schedule_reference"}]}]},
    ])))
    return path


def check(tmp_path: Path, config: str, *args: str) -> tuple[int, str, str]:
    (tmp_path / "pdguard.yaml").write_text(config)
    r = run_pdguard("--config", str(tmp_path / "pdguard.yaml"), "check", "--snapshot", str(snapshot_file(tmp_path)),
                    "--format", "json", *args)
    return r.returncode, r.stdout, r.stderr


# issue 10 #9: before, "3" reached EP-001, which flagged every policy with a broken message.
@pytest.mark.parametrize(("config", "fragment"), [
    ('settings:\n  min_escalation_levels: "3"\n', "settings.min_escalation_levels: expected an integer, got the string '3'"),
    ("settings:\n  min_escalation_level: 3\n", "settings.min_escalation_level: unknown setting (did you mean min_escalation_levels?)"),
    ("settings:\n  min_escalation_levels: true\n", "settings.min_escalation_levels: expected an integer, got the boolean true"),
    ("settings:\n  min_escalation_levels: 0\n", "settings.min_escalation_levels: input should be greater than or equal to 1"),
    ("settings:\n  min_schedule_coverage_percent: 100.5\n", "settings.min_schedule_coverage_percent: input should be less than or equal to 100"),
    ("settings:\n  required_team: [a]\n", "settings.required_team: expected a string, got a list"),
    ("settings:\n  min_schedule_coverage_percent: .nan\n", "settings.min_schedule_coverage_percent: expected a number"),
    ("settings: [1, 2]\n", "settings: Input should be a valid dictionary"),
])
def test_bad_settings_are_exit_2_naming_the_key(tmp_path: Path, config: str, fragment: str) -> None:
    code, out, err = check(tmp_path, config)
    assert code == 2 and out == ""
    assert fragment in err, err
    assert len(err.strip().splitlines()) == 1 and "Traceback" not in err


def test_good_settings_reach_the_policies(tmp_path: Path) -> None:
    code, out, err = check(tmp_path, "settings:\n  min_escalation_levels: 1\n  min_schedule_coverage_percent: 99.5\n")
    assert code == 0, err
    assert "PDG-EP-001" not in {f["policy_id"] for f in json.loads(out)["findings"]}
    code, out, err = check(tmp_path, "settings:\n  min_escalation_levels: 3\n")
    assert code == 1, err
    assert "PDG-EP-001" in {f["policy_id"] for f in json.loads(out)["findings"]}


USER_POLICY = """# METADATA
# title: Escalation policy names are short
# custom:
#   id: ACME-001
#   severity: high
#   settings:
#     max_name_length: {default: 10, description: Longest escalation policy name.}
#     name_prefix: ""
package acme.names

import data.pdguard.lib

deny contains lib.finding(msg, "escalation_policy", ep) if {
	some ep in input.escalation_policies
	count(ep.name) > lib.setting("max_name_length")
	startswith(ep.name, lib.setting("name_prefix"))
	msg := sprintf("%s is too long", [ep.name])
}
"""


def test_a_user_policy_declares_its_settings_with_defaults(tmp_path: Path) -> None:
    (tmp_path / "names.rego").write_text(USER_POLICY)
    doc = tiny_snapshot(escalation_policies=[{"id": "PEP0001", "type": "escalation_policy", "name": "a-very-long-name",
                                              "escalation_rules": []}])
    ps = load_policies([str(tmp_path / "names.rego")], builtin=False)
    specs = declarations(ps.infos())
    assert specs["max_name_length"].default == 10 and specs["max_name_length"].kind == "integer"
    assert specs["max_name_length"].read_by == ("ACME-001",) and specs["name_prefix"].kind == "string"
    engine = EmbeddedEngine()
    found = evaluate(InputRef(doc=doc), Config(), engine=engine, policyset=ps).findings
    assert [f.resource.id for f in found] == ["PEP0001"]  # the default 10 applies
    relaxed = Config(settings={"max_name_length": 40})
    assert evaluate(InputRef(doc=doc), relaxed, engine=engine, policyset=ps).findings == []
    with pytest.raises(ConfigError, match=r"settings.max_name_length: expected an integer, got the string 'x'"):
        Config(settings={"max_name_length": "x"}).policy_settings(ps.infos())
    # the catalogue of settings shows it, and who declares it
    r = run_pdguard("config", "defaults", "--policy", str(tmp_path / "names.rego"))
    assert r.returncode == 0, r.stderr
    assert yaml.safe_load(r.stdout)["settings"]["max_name_length"] == 10
    assert "# Longest escalation policy name." in r.stdout
    assert f"# integer; read by ACME-001; declared by {tmp_path / 'names.rego'}" in r.stdout


@pytest.mark.parametrize(("settings_yaml", "fragment"), [
    ("{min_escalation_levels: 3}", "'min_escalation_levels' is a built-in setting: list it without a default"),
    ("[nobody_declares_me]", "lists 'nobody_declares_me', which no policy declares"),
    ("{bad-name: 1}", "'bad-name' is not a setting name"),
    ("{limit: {default: 1, unit: s}}", "give {default: ..., description: ...}"),
    ("{limit: null}", "the default must be a boolean, number, string or list"),
    ("42", "must be a list of names or a mapping"),
])
def test_bad_declarations_are_policy_errors(tmp_path: Path, settings_yaml: str, fragment: str) -> None:
    (tmp_path / "p.rego").write_text(f"# METADATA\n# title: t\n# custom:\n#   id: ACME-002\n#   settings: {settings_yaml}\n"
                                     "package acme.p\n\ndeny contains 1 if false\n")
    with pytest.raises(PolicyError, match="METADATA custom.settings") as exc:
        load_policies([str(tmp_path / "p.rego")], builtin=False)
    assert fragment in str(exc.value)
    r = run_pdguard("check", "--snapshot", str(snapshot_file(tmp_path)), "--policy", str(tmp_path / "p.rego"))
    assert r.returncode == 2 and fragment in r.stderr


def test_two_policies_cannot_disagree_on_a_default(tmp_path: Path) -> None:
    for name, default in (("a", 1), ("b", 2)):
        (tmp_path / f"{name}.rego").write_text(f"# METADATA\n# title: {name}\n# custom:\n#   id: ACME-{name}\n"
                                               f"#   settings: {{limit: {default}}}\npackage acme.{name}\n\ndeny contains 1 if false\n")
    with pytest.raises(PolicyError, match="also declared by .*a.rego with the default 1"):
        load_policies([str(tmp_path)], builtin=False)
    (tmp_path / "b.rego").write_text((tmp_path / "b.rego").read_text().replace("limit: 2", "limit: 1"))
    specs = declarations(load_policies([str(tmp_path)], builtin=False).infos())
    assert specs["limit"].read_by == ("ACME-a", "ACME-b")


def test_validate_keeps_numbers_as_written() -> None:
    out = validate({"min_schedule_coverage_percent": 99.5, "stale_service_days": 7}, BUILTIN)
    assert out["min_schedule_coverage_percent"] == 99.5 and out["stale_service_days"] == 7
    assert type(validate({}, BUILTIN)["min_schedule_coverage_percent"]) is int  # 100, not 100.0


def test_config_defaults_says_who_reads_each_setting() -> None:
    r = run_pdguard("config", "defaults")
    assert r.returncode == 0, r.stderr
    assert yaml.safe_load(r.stdout) == {"settings": {k: s.default for k, s in BUILTIN.items()}}
    assert "# integer, >= 1; read by PDG-EP-001, PDG-STD-001\n  min_escalation_levels: 2" in r.stdout
    j = json.loads(run_pdguard("config", "defaults", "--format", "json").stdout)
    assert {s["name"]: s["read_by"] for s in j}["incident_ack_max_minutes"] == ["PDG-INC-001"]


@lru_cache(maxsize=1)
def _demo() -> dict:
    from pdguard.simulator import sample_account

    return scan_account(sample_account())


# A value of each built-in setting that changes what the demo account's findings are.
PERTURBED = {
    "service_name_pattern": ".*", "required_team": "Platform", "disabled_service_max_age_days": 0,
    "stale_service_days": 1, "min_escalation_levels": 1, "min_schedule_coverage_percent": 50,
    "incident_ack_max_minutes": 10000, "incident_open_max_hours": 10000, "min_team_members": 5,
    "min_schedule_users": 4, "noisy_service_incidents": 20, "noisy_service_window_days": 1,
}


@pytest.mark.parametrize("name", list(BUILTIN))
def test_read_by_is_what_really_reads_the_setting(name: str) -> None:
    """Changing a setting changes the findings of the policies that declare it, and of no other:
    a policy reading a setting it does not declare (directly or through data.pdguard.lib) fails here."""
    assert set(PERTURBED) == set(BUILTIN)
    ps = load_policies()
    read_by = set(declarations(ps.infos())[name].read_by)
    engine = EmbeddedEngine()

    def by_policy(cfg: Config) -> dict[str, set[str]]:
        out: dict[str, set[str]] = {}
        for f in evaluate(InputRef(doc=_demo()), cfg, engine=engine, policyset=ps).findings:
            out.setdefault(f.policy_id, set()).add(f.fingerprint)
        return out

    base, changed = by_policy(Config()), by_policy(Config(settings={name: PERTURBED[name]}))
    moved = {pid for pid in set(base) | set(changed) if base.get(pid) != changed.get(pid)}
    assert moved, f"{name}={PERTURBED[name]!r} changes nothing on the demo account"
    assert moved <= read_by, f"{sorted(moved - read_by)} read {name} without declaring it"


# service_name_pattern was checked only when a policy evaluated it: an invalid regex was an
# "invalid regex" evaluation error (or, on an account without services, no error at all).
@pytest.mark.parametrize(("pattern", "why"), [
    ("^[a-z", "a character class [ is not closed"),
    ("(?=x)abc", "a lookahead (?= is not RE2 syntax"),  # Python's re accepts it; RE2 has no lookaround
    ("(?<!x)abc", "a negative lookbehind (?<! is not RE2 syntax"),
    ("^(a)\\1$", "a backreference (\\1) is not RE2 syntax"),  # Python's re accepts it too
    ("(ab", "a group ( is not closed"),
    ("\\p{NoSuchClass}", "the policy engine's regex.is_valid rejects it"),
    ("a{2,1}", "the policy engine's regex.is_valid rejects it"),
])
def test_an_invalid_service_name_pattern_is_refused_when_the_config_loads(tmp_path: Path, pattern: str,
                                                                        why: str) -> None:
    config = "settings:\n  service_name_pattern: " + json.dumps(pattern) + "\n"
    code, out, err = check(tmp_path, config)  # a snapshot without services: no policy would evaluate it
    assert code == 2 and out == "", err
    assert len(err.strip().splitlines()) == 1 and "Traceback" not in err, err
    assert (f"pdguard.yaml: settings.service_name_pattern: '{pattern}' is not a valid regular expression "
            f"(RE2 syntax, what Rego's regex.match reads): {why}") in err, err
    r = run_pdguard("--config", str(tmp_path / "pdguard.yaml"), "scan", "--api-url", "http://127.0.0.1:9",
                    env={"PAGERDUTY_API_KEY": "k"})  # refused at load, before any request
    assert r.returncode == 2 and "settings.service_name_pattern" in r.stderr, r.stderr
    with pytest.raises(ConfigError, match="settings.service_name_pattern: .* is not a valid regular expression"):
        validate({"service_name_pattern": pattern}, BUILTIN)


# RE2 syntax Python's `re` does not know (or reads otherwise): never refused.
RE2_ONLY = ["\\pL+", "^\\p{Greek}+$", "abc\\z", "(?U)a+", "[[:alpha:]-]+", "\\x{41}", "(?P<n>a)", "(?<n>a)",
            "[]a]", "[^]a]", "\\Q(a\\E", "^[a-z0-9]+(-[a-z0-9]+)*$", ""]


@pytest.mark.parametrize("engine", ["regorus", "fallback"])
def test_re2_patterns_are_accepted_and_the_fallback_is_conservative(monkeypatch: pytest.MonkeyPatch,
                                                                    engine: str) -> None:
    """Where regorus cannot be imported only the structural check runs: it refuses what is certainly
    not RE2 (so the errors above still come at load) and nothing RE2 accepts."""
    import pdguard.settings as settings

    if engine == "fallback":
        monkeypatch.setattr(settings, "_engine_accepts", lambda _pattern: None)
    for pattern in RE2_ONLY:
        if engine == "regorus" and pattern == "\\Q(a\\E":  # Go's RE2 has \Q..\E; regorus does not
            continue
        assert settings.regex_problem(pattern) is None, pattern
    for pattern in ("^[a-z", "(?=x)", "(?!x)", "(?<=x)", "(?>x)", "(?P=n)", "(?(1)a|b)", "(?#c)", "\\1", "a)", "x\\"):
        assert settings.regex_problem(pattern) is not None, pattern


def test_the_structural_check_never_refuses_what_an_engine_accepts() -> None:
    """A pattern the structural check refuses is invalid for regorus and, when an `opa` binary is
    here, for OPA too (Go's RE2): a refusal at load never blocks a pattern the policies could use."""
    import random
    import subprocess

    from conftest import opa_binary

    from pdguard.settings import _engine_accepts, _re2_structure

    rnd = random.Random(7)
    alphabet = list("ab()[]\\^$*+?{}|.:=!<>P#-1209QEdw")
    patterns = [*RE2_ONLY, "\\12", "\\0", "[[]", "[(]", "[a\\]]", "\\Q(", "(?:a)", "[[:alpha:]"]
    patterns += ["".join(rnd.choice(alphabet) for _ in range(rnd.randint(1, 7))) for _ in range(1500)]
    refused = [p for p in patterns if _re2_structure(p) is not None]
    assert len(refused) > 300  # the fuzz does exercise the check
    assert [p for p in refused if _engine_accepts(p)] == []
    opa = opa_binary()
    if opa is not None:
        r = subprocess.run([opa, "eval", "-f", "json", "--stdin-input", "[p | p := input[_]; regex.is_valid(p)]"],
                           input=json.dumps(refused), capture_output=True, text=True, timeout=120)
        assert r.returncode == 0, r.stderr
        assert json.loads(r.stdout)["result"][0]["expressions"][0]["value"] == []
