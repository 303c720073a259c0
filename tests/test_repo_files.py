"""The files around the code: compose (schema; its commands run in test_compose_sidecar.py), CI examples, README set-up commands, CI script."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]


def check_jsonschema(schema: str, path: Path) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "check_jsonschema", "--builtin-schema", schema, str(path)],
                          capture_output=True, text=True)


@pytest.mark.parametrize("schema, path", [
    ("vendor.compose-spec", "docker-compose.yml"),
    ("vendor.github-workflows", "examples/github-actions.yml"),
    ("vendor.gitlab-ci", "examples/gitlab-ci.yml"),
])
def test_files_validate_against_their_schemas(schema: str, path: str) -> None:
    r = check_jsonschema(schema, REPO / path)
    assert r.returncode == 0, r.stdout + r.stderr


def test_readme_opens_with_the_two_setup_commands() -> None:
    text = (REPO / "README.md").read_text()
    first_block = text.split("```sh", 1)[1].split("```", 1)[0]
    lines = [ln.split("#")[0].strip() for ln in first_block.strip().splitlines()]
    assert lines == ["pip install . && pdguard demo", "pip install -e '.[test]' && pytest"]
    # CI runs the README's test command, last (its exit code, 5 for "no tests" included, is the script's)
    ci = [ln.strip() for ln in (REPO / ".ci" / "run").read_text().splitlines()]
    assert [ln for ln in ci if ln and not ln.startswith("#")][-1] == lines[1]


def test_ruff_clean() -> None:
    r = subprocess.run([sys.executable, "-m", "ruff", "check", "src", "tests", "benchmarks"], cwd=REPO,
                       capture_output=True, text=True)
    assert r.returncode == 0, r.stdout
