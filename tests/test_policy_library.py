"""Interim runner for the built-in policy library (``policies/**``).

* every ``test_*`` rule of every ``*_test.rego`` package is evaluated on the embedded engine
  (regorus) and must be ``true`` -- one pytest case per Rego test;
* every policy file carries a ``# METADATA`` block (title, description, custom.id /
  severity / remediation), policy ids are unique and each policy has a ``_test.rego`` beside it.

``pdguard policy test`` will replace this; until then ``pytest -q tests/test_policy_library.py``.
"""

from __future__ import annotations

import json
import re
from functools import lru_cache
from pathlib import Path

import pytest
import yaml

regorus = pytest.importorskip("regorus")

ROOT = Path(__file__).resolve().parents[1]
POLICY_DIR = ROOT / "policies"
SEVERITIES = {"critical", "high", "medium", "low", "info"}
ID_RE = re.compile(r"^PDG-[A-Z]+-\d{3}$")
PACKAGE_RE = re.compile(r"^package\s+([\w.]+)\s*$", re.M)
TEST_RULE_RE = re.compile(r"^(test_\w+)\b", re.M)


def _rego_files() -> list[Path]:
    return sorted(POLICY_DIR.rglob("*.rego"))


def _policy_files() -> list[Path]:
    return [p for p in _rego_files() if not p.name.endswith("_test.rego")]


def _test_files() -> list[Path]:
    return [p for p in _rego_files() if p.name.endswith("_test.rego")]


def _rel(p: Path) -> str:
    return p.relative_to(ROOT).as_posix()


def _package(text: str) -> str:
    m = PACKAGE_RE.search(text)
    assert m, "no package declaration"
    return m.group(1)


def _test_cases() -> list[tuple[str, str]]:
    cases = []
    for path in _test_files():
        text = path.read_text(encoding="utf-8")
        pkg = _package(text)
        for rule in dict.fromkeys(TEST_RULE_RE.findall(text)):  # ordered, deduplicated
            cases.append((pkg, rule))
    return cases


@lru_cache(maxsize=1)
def _engine() -> "regorus.Engine":
    engine = regorus.Engine()
    for path in _rego_files():
        engine.add_policy(_rel(path), path.read_text(encoding="utf-8"))
    return engine


def _metadata(text: str) -> dict:
    """The YAML of the ``# METADATA`` comment block directly above ``package``."""
    lines = text.splitlines()
    pkg_line = next(i for i, line in enumerate(lines) if line.startswith("package "))
    start = pkg_line - 1
    while start >= 0 and lines[start].startswith("#"):
        start -= 1
    block = lines[start + 1 : pkg_line]
    assert block and block[0].strip() == "# METADATA", "no '# METADATA' block directly above package"
    body = [re.sub(r"^# ?", "", line) for line in block[1:]]
    meta = yaml.safe_load("\n".join(body))
    assert isinstance(meta, dict), "METADATA is not a YAML mapping"
    return meta


def test_library_is_not_empty() -> None:
    assert _policy_files(), f"no policies under {POLICY_DIR}"
    assert _test_cases(), "no Rego tests found"


@pytest.mark.parametrize("path", _rego_files(), ids=_rel)
def test_file_compiles(path: Path) -> None:
    engine = regorus.Engine()
    try:
        engine.add_policy(_rel(path), path.read_text(encoding="utf-8"))
    except RuntimeError as exc:  # regorus reports parse errors with the file and line
        pytest.fail(str(exc).split("Stack backtrace")[0].strip())


@pytest.mark.parametrize(("package", "rule"), _test_cases(), ids=lambda v: v)
def test_rego(package: str, rule: str) -> None:
    engine = _engine().clone() if hasattr(regorus.Engine, "clone") else _engine()
    result = engine.eval_rule(f"data.{package}.{rule}")
    if result is None or result == "<undefined>":
        pytest.fail(f"data.{package}.{rule} is undefined (a test condition failed)")
    assert result is True, f"data.{package}.{rule} = {result!r}"


@pytest.mark.parametrize("path", _policy_files(), ids=_rel)
def test_policy_metadata(path: Path) -> None:
    text = path.read_text(encoding="utf-8")
    meta = _metadata(text)
    for key in ("title", "description"):
        assert isinstance(meta.get(key), str) and meta[key].strip(), f"METADATA {key} missing"
    custom = meta.get("custom")
    assert isinstance(custom, dict), "METADATA custom: missing"
    assert ID_RE.match(str(custom.get("id", ""))), f"bad custom.id {custom.get('id')!r}"
    assert custom.get("severity") in SEVERITIES, f"bad custom.severity {custom.get('severity')!r}"
    assert isinstance(custom.get("remediation"), str) and custom["remediation"].strip()
    if "enabled" in custom:
        assert isinstance(custom["enabled"], bool)
    rel = path.relative_to(POLICY_DIR)
    assert len(rel.parts) == 2, "policies live at policies/<area>/<name>.rego"
    assert _package(text) == f"pdguard.{rel.parts[0]}.{rel.stem}", "package must be pdguard.<area>.<name>"
    assert re.search(r"^deny contains ", text, re.M), "policy defines no `deny contains` rule"
    test_file = path.with_name(f"{path.stem}_test.rego")
    assert test_file.is_file(), f"missing {_rel(test_file)}"
    assert _package(test_file.read_text(encoding="utf-8")) == f"{_package(text)}_test"


def test_policy_ids_unique() -> None:
    seen: dict[str, str] = {}
    for path in _policy_files():
        pid = _metadata(path.read_text(encoding="utf-8"))["custom"]["id"]
        assert pid not in seen, f"{pid} used by {seen[pid]} and {_rel(path)}"
        seen[pid] = _rel(path)


def test_every_test_file_has_a_policy() -> None:
    for path in _test_files():
        policy = path.with_name(path.name.removesuffix("_test.rego") + ".rego")
        assert policy.is_file(), f"{_rel(path)} has no policy beside it"


def test_deny_is_a_set_of_findings_on_empty_input() -> None:
    """Every policy evaluates (no runtime error) on an empty snapshot with defaults."""
    engine = _engine().clone() if hasattr(regorus.Engine, "clone") else _engine()
    engine.add_data({"pdguard": {"config": _default_settings()}})
    engine.set_input({"meta": {"scanned_at": "2026-11-26T09:00:00Z"}, "iac": None})
    for path in _policy_files():
        pkg = _package(path.read_text(encoding="utf-8"))
        out = json.loads(engine.eval_rule_as_json(f"data.{pkg}.deny"))
        assert out == [], f"{pkg}.deny on an empty snapshot: {out}"


def _default_settings() -> dict:
    try:
        from pdguard.config import DEFAULT_SETTINGS
    except Exception:  # pragma: no cover - the package is being edited concurrently
        return {
            "service_name_pattern": "^[a-z0-9]+(-[a-z0-9]+)*$",
            "required_team": "",
            "disabled_service_max_age_days": 30,
            "stale_service_days": 90,
            "min_escalation_levels": 2,
            "min_schedule_coverage_percent": 100,
            "incident_ack_max_minutes": 30,
            "incident_open_max_hours": 24,
            "min_team_members": 1,
            "min_schedule_users": 2,
        }
    return dict(DEFAULT_SETTINGS)
