"""Authoring: `pdguard policy eval`, conftest-style string `deny` reported with the object form to
use, warnings for a policy without METADATA or reading a setting it does not list."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from conftest import run_pdguard, tiny_snapshot

from pdguard.config import Config
from pdguard.engine.base import InputRef
from pdguard.engine.embedded import EmbeddedEngine
from pdguard.engine.loader import load_policies

SERVICES = [
    {"id": "PSVC001", "type": "service", "name": "api", "status": "disabled"},
    {"id": "PSVC002", "type": "service", "name": "web", "status": "active"},
]


@pytest.fixture()
def snap(tmp_path: Path) -> Path:
    path = tmp_path / "s.json"
    path.write_text(json.dumps(tiny_snapshot(services=SERVICES)))
    return path


# -- pdguard policy eval --------------------------------------------------------------------------

def test_eval_a_value_with_the_library_and_settings(snap: Path) -> None:
    r = run_pdguard("policy", "eval", "[s.name | some s in input.services; lib.is_parked(s)]", "--snapshot", str(snap))
    assert r.returncode == 0, r.stderr
    assert json.loads(r.stdout) == ["api"]
    r = run_pdguard("policy", "eval", 'data.pdguard.config.min_escalation_levels')
    assert json.loads(r.stdout) == 2


def test_eval_bindings_json_and_undefined(snap: Path) -> None:
    r = run_pdguard("policy", "eval", "some s in input.services; name := s.name", "--snapshot", str(snap))
    assert r.returncode == 0, r.stderr
    assert [b["name"] for b in json.loads(r.stdout)] == ["api", "web"]
    r = run_pdguard("policy", "eval", "count(input.services)", "--snapshot", str(snap), "--format", "json")
    assert json.loads(r.stdout)["result"][0]["expressions"][0]["value"] == 2
    r = run_pdguard("policy", "eval", "input.services[9]", "--snapshot", str(snap))
    assert r.returncode == 0 and r.stdout.strip() == "undefined"


def test_eval_a_policy_under_development(snap: Path, tmp_path: Path) -> None:
    (tmp_path / "mine.rego").write_text(
        "# METADATA\n# title: t\n# custom:\n#   id: ACME-001\npackage acme.mine\n\nimport data.pdguard.lib\n\n"
        'deny contains lib.finding("active", "service", s) if {\n\tsome s in input.services\n\ts.status == "active"\n}\n')
    r = run_pdguard("policy", "eval", "data.acme.mine.deny", "--snapshot", str(snap), "--policy", str(tmp_path / "mine.rego"),
                    "--no-builtin")
    assert r.returncode == 0, r.stderr
    assert json.loads(r.stdout) == [{"msg": "active", "resource": {"type": "service", "id": "PSVC002", "name": "web"}}]


@pytest.mark.parametrize(("args", "code", "fragment"), [
    (["x := ("], 2, "query: "),
    (["input", "--snapshot", "missing.json"], 3, "snapshot file not found: missing.json"),
])
def test_eval_errors(tmp_path: Path, args: list[str], code: int, fragment: str) -> None:
    r = run_pdguard("policy", "eval", *args, cwd=tmp_path)
    assert r.returncode == code and fragment in r.stderr and "Traceback" not in r.stderr


def test_eval_same_answer_on_opa(snap: Path, opa_url: str) -> None:
    from pdguard.engine.opa import OpaEngine

    ps = load_policies()
    data = {"pdguard": {"config": Config().policy_settings(ps.infos())}}
    query = "some i; s := input.services[i]; data.pdguard.lib.is_parked(s); name := s.name"
    embedded = EmbeddedEngine().query(ps.sources, data, InputRef(path=snap), query)
    opa = OpaEngine(opa_url).query(ps.sources, data, InputRef(path=snap), query)
    assert [row["bindings"]["name"] for row in embedded["result"]] == [row["bindings"]["name"] for row in opa["result"]] \
        == ["api"]


# -- conftest-style deny --------------------------------------------------------------------------

OBJECT_FORM = 'deny contains lib.finding(msg, "service", svc) if {...}'


@pytest.mark.parametrize("body", [
    # conftest's Rego v0 form
    'deny[msg] {\n  some s in input.services\n  msg := sprintf("%s", [s.name])\n}\n',
    # Rego v1, still a set of messages
    'deny contains msg if {\n\tsome s in input.services\n\tmsg := sprintf("service %s", [s.name])\n}\n',
])
def test_string_deny_refused_at_load(snap: Path, tmp_path: Path, body: str) -> None:
    (tmp_path / "c.rego").write_text("# METADATA\n# title: c\n# custom:\n#   id: ACME-C\npackage acme.c\n\n" + body)
    r = run_pdguard("check", "--snapshot", str(snap), "--policy", str(tmp_path / "c.rego"))
    assert r.returncode == 2, r.stderr
    assert f"{tmp_path / 'c.rego'}:7:" in r.stderr and OBJECT_FORM in r.stderr and "pdguard needs findings" in r.stderr
    assert len(r.stderr.strip().splitlines()) == 1


def test_string_deny_refused_at_first_evaluation(snap: Path, tmp_path: Path) -> None:
    # not recognisable from the text: the message comes from a function
    (tmp_path / "c.rego").write_text("# METADATA\n# title: c\n# custom:\n#   id: ACME-C\npackage acme.c\n\n"
                                     "label(s) := s.name\n\ndeny contains label(s) if {\n\tsome s in input.services\n}\n")
    r = run_pdguard("check", "--snapshot", str(snap), "--policy", str(tmp_path / "c.rego"))
    assert r.returncode == 2
    assert 'deny returned the message "api" (a string, as conftest policies do)' in r.stderr
    assert OBJECT_FORM in r.stderr


# -- warnings -------------------------------------------------------------------------------------

def test_policy_without_metadata_warns(snap: Path, tmp_path: Path) -> None:
    (tmp_path / "bare.rego").write_text("package acme.bare\n\nimport data.pdguard.lib\n\n"
                                        'deny contains lib.finding("x", "service", s) if {\n\tsome s in input.services\n}\n')
    r = run_pdguard("check", "--snapshot", str(snap), "--policy", str(tmp_path / "bare.rego"), "--no-builtin",
                    "--format", "json", "--fail-on", "none")
    assert r.returncode == 0, r.stderr
    warning = (f"{tmp_path / 'bare.rego'}:1: policy package acme.bare has no # METADATA block above its package line: "
               "it is reported as id acme.bare, severity medium")
    assert warning in r.stderr
    assert any(w.startswith(warning) for w in json.loads(r.stdout)["warnings"])  # in the report too
    listing = run_pdguard("policy", "list", "--policy", str(tmp_path / "bare.rego"), "--no-builtin")
    assert warning in listing.stderr


def test_policy_reading_an_undeclared_setting_warns(tmp_path: Path) -> None:
    (tmp_path / "p.rego").write_text("# METADATA\n# title: t\n# custom:\n#   id: ACME-S\npackage acme.s\n\n"
                                     "import data.pdguard.lib\n\n"
                                     'deny contains lib.finding("x", "service", s) if {\n\tsome s in input.services\n'
                                     '\tcount(s.name) > lib.setting("max_len")\n\tdata.pdguard.config.min_team_members > 0\n}\n')
    ps = load_policies([str(tmp_path / "p.rego")], builtin=False)
    assert ps.warnings == [f"{tmp_path / 'p.rego'}: policy ACME-S reads the setting(s) max_len, min_team_members without "
                           "listing them in METADATA custom.settings (a list of names, or name: default to declare one)"]


def test_the_builtin_library_has_no_authoring_warning() -> None:
    assert load_policies().warnings == []


@pytest.mark.parametrize("command", [["policy", "test"], ["policy", "eval", "1 == 1"]])
def test_policy_test_and_eval_use_the_configured_engine(tmp_path: Path, command: list[str]) -> None:
    """`engine:` in pdguard.yaml chooses the engine of `policy test` and `policy eval` as it does
    for `check`; --engine overrides it. Here the configured OPA has no URL: a one-line error, exit 2."""
    (tmp_path / "pdguard.yaml").write_text("engine: opa\n")
    r = run_pdguard(*command, cwd=tmp_path)
    assert r.returncode == 2, (r.stdout, r.stderr)
    assert r.stderr.strip().endswith("--engine opa needs an OPA server: pass --opa-url or set opa.url in pdguard.yaml")
    assert "Traceback" not in r.stderr
    r = run_pdguard(*command, "--engine", "embedded", cwd=tmp_path)
    assert r.returncode == 0, (r.stdout, r.stderr)
