"""The built-in policy library (`policies/**`), through pdguard's own loader and test runner.

* every `test_*` rule of every `*_test.rego` passes on the embedded engine — one pytest case each
  (the same runner as `pdguard policy test`);
* every policy has a METADATA block (title, description, custom id/severity/remediation), a unique
  id, the package `pdguard.<area>.<name>`, a `deny contains` rule and a `_test.rego` beside it;
* every policy evaluates to an empty deny set on an empty snapshot with the default settings;
* `policies/README.md` is the fresh output of `pdguard policy doc`.
"""

from __future__ import annotations

import re
import subprocess
import sys
from functools import lru_cache
from pathlib import Path

import pytest
from conftest import tiny_snapshot

from pdguard.config import Config
from pdguard.engine.base import InputRef
from pdguard.engine.embedded import EmbeddedEngine
from pdguard.engine.loader import load_policies
from pdguard.engine.metadata import Module
from pdguard.evaluate import evaluate

ROOT = Path(__file__).resolve().parents[1]
POLICY_DIR = ROOT / "policies"
ID_RE = re.compile(r"^PDG-[A-Z]+-\d{3}$")
SETTINGS = {"pdguard": {"config": Config().policy_settings()}}


@lru_cache(maxsize=1)
def _library():
    return load_policies([str(POLICY_DIR)], builtin=False, tests=True)


@lru_cache(maxsize=1)
def _results() -> dict[tuple[str, str], object]:
    return {(r.package, r.name): r for r in EmbeddedEngine().run_tests(_library().modules, SETTINGS)}


def _policies() -> list[Module]:
    return _library().policies


def _tests() -> list[tuple[str, str]]:
    return [(m.package, t) for m in _library().tests for t in m.tests]


def test_library_is_not_empty() -> None:
    assert len(_policies()) >= 20
    assert len(_tests()) >= 3 * len(_policies())


@pytest.mark.parametrize(("package", "rule"), _tests(), ids=lambda v: v)
def test_rego(package: str, rule: str) -> None:
    r = _results()[(package, rule)]
    assert r.passed, f"data.{package}.{rule}: {r.error}"


@pytest.mark.parametrize("module", _policies(), ids=lambda m: m.path)
def test_policy_metadata_and_layout(module: Module) -> None:
    info = module.info
    assert info is not None
    assert "# METADATA" in module.text
    assert info.title and info.title != info.id, "METADATA title missing"
    assert info.description, "METADATA description missing"
    assert ID_RE.match(info.id), f"bad custom.id {info.id!r}"
    assert info.remediation, "METADATA custom.remediation missing"
    rel = Path(module.path).resolve().relative_to(POLICY_DIR)
    assert len(rel.parts) == 2, "policies live at policies/<area>/<name>.rego"
    assert module.package == f"pdguard.{rel.parts[0]}.{rel.stem}", "package must be pdguard.<area>.<name>"
    assert "deny" in module.rules and re.search(r"^deny contains ", module.text, re.M)
    assert (POLICY_DIR / rel.parts[0] / f"{rel.stem}_test.rego").is_file(), f"missing the _test.rego of {rel}"


def test_policy_ids_unique() -> None:
    ids = [m.info.id for m in _policies() if m.info]
    assert len(ids) == len(set(ids))


def test_every_test_file_has_a_policy() -> None:
    for path in POLICY_DIR.rglob("*_test.rego"):
        assert path.with_name(path.name.removesuffix("_test.rego") + ".rego").is_file(), path


def test_empty_snapshot_has_no_findings() -> None:
    """Every policy (opt-in ones included) evaluates without error to nothing on an empty account."""
    everything = Config(policies={m.info.id: {"enabled": True} for m in _policies() if m.info})
    report = evaluate(InputRef(doc=tiny_snapshot()), everything, engine=EmbeddedEngine(),
                      policy_paths=[str(POLICY_DIR)], builtin=False)
    assert report.findings == []
    assert len(report.policies) == len(_policies())


def test_catalogue_is_fresh() -> None:
    r = subprocess.run([sys.executable, "-m", "pdguard", "policy", "doc", "--check", str(POLICY_DIR / "README.md")],
                       capture_output=True, text=True)
    assert r.returncode == 0, r.stderr


def test_policy_test_command(tmp_path: Path) -> None:
    ok = subprocess.run([sys.executable, "-m", "pdguard", "policy", "test"], capture_output=True, text=True)
    assert ok.returncode == 0, ok.stdout + ok.stderr
    assert f"PASS: {len(_tests())}/{len(_tests())}" in ok.stdout
    (tmp_path / "p.rego").write_text("package pdguard.x.p\n\ndeny contains 1 if { input.bad }\n")
    (tmp_path / "p_test.rego").write_text(
        "package pdguard.x.p_test\n\ntest_ok if { count(data.pdguard.x.p.deny) == 0 }\n"
        "test_fails if { count(data.pdguard.x.p.deny) == 1 }\n")
    bad = subprocess.run([sys.executable, "-m", "pdguard", "policy", "test", str(tmp_path)],
                         capture_output=True, text=True)
    assert bad.returncode == 1
    assert "test_fails: FAIL" in bad.stdout and "PASS: 1/2" in bad.stdout and "FAIL: 1/2" in bad.stdout


def test_catalogue_groups_by_area_and_links_tests_and_settings() -> None:
    text = (POLICY_DIR / "README.md").read_text()
    for m in _policies():
        assert m.info is not None
        rel = Path(m.path).resolve().relative_to(POLICY_DIR).as_posix()
        test = rel.removesuffix(".rego") + "_test.rego"
        row = next(line for line in text.splitlines() if line.startswith(f"| [{m.info.id}](#{m.info.id.lower()}) |"))
        assert f"]({rel})" in row and f"]({test})" in row, row
        for name in m.info.settings:
            assert f"[`{name}`](#setting-{name.replace('_', '-')})" in row
    for area in sorted({Path(m.path).resolve().relative_to(POLICY_DIR).parts[0] for m in _policies()}):
        assert f"\n## {'IaC (Terraform)' if area == 'iac' else area.replace('_', ' ').capitalize()}\n" in text
    assert '<a id="setting-min-escalation-levels"></a>`min_escalation_levels` | integer >= 1 | `2` | ' \
           "[PDG-EP-001](#pdg-ep-001), [PDG-STD-001](#pdg-std-001) |" in text
