"""Policy evaluation limits: a looping or huge user policy is stopped, named, and exits 2."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest
from conftest import scan_account, tiny_snapshot

from pdguard.config import Config
from pdguard.engine.base import InputRef
from pdguard.engine.embedded import EmbeddedEngine
from pdguard.engine.limits import EvalLimits, fork_available, run_limited
from pdguard.errors import EngineError, EvalLimitError, InputError
from pdguard.evaluate import evaluate, make_engine
from pdguard.simulator import sample_account

pytestmark = pytest.mark.skipif(not fork_available(), reason="limits need fork (not on this platform)")

HEADER = """# METADATA
# title: {title}
# description: A test policy.
# custom:
#   id: {pid}
#   severity: low
#   remediation: Do not.
package pdguard.custom.{pkg}

import rego.v1

"""
FINDING = '{"msg": "never", "resource": {"type": "service", "id": "x", "name": "x"}}'
LOOP = HEADER.format(title="Loops", pid="ACME-LOOP", pkg="loop") + f"""deny contains f if {{
  some i in numbers.range(1, 100000)
  some j in numbers.range(1, 100000)
  i * j == -1
  f := {FINDING}
}}
"""
HUGE = HEADER.format(title="Huge", pid="ACME-HUGE", pkg="huge") + f"""deny contains f if {{
  n := count([i | some i in numbers.range(1, 300000000)])
  n < 0
  f := {FINDING}
}}
"""
FINE = HEADER.format(title="Fine", pid="ACME-FINE", pkg="fine") + f"""deny contains f if {{
  some s in input.services
  s.name == "bad"
  f := {FINDING}
}}
"""


def policy_dir(tmp_path: Path, *texts: str) -> Path:
    d = tmp_path / "policies"
    d.mkdir(parents=True, exist_ok=True)
    for i, t in enumerate(texts):
        (d / f"p{i}.rego").write_text(t)
    return d


def pdguard(*args: str, timeout: float = 120) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if k not in ("PDGUARD_CONFIG", "PDGUARD_STORE")}
    return subprocess.run([sys.executable, "-m", "pdguard", *args], capture_output=True, text=True, env=env,
                          timeout=timeout)


def test_run_limited_round_trip_and_errors() -> None:
    assert run_limited(lambda progress: b"x" * 300_000, EvalLimits(timeout=30)) == b"x" * 300_000

    def bad_input(progress):
        raise InputError("snap.json is not a readable JSON snapshot: eof")

    with pytest.raises(InputError, match="snap.json is not a readable"):  # class and message survive
        run_limited(bad_input, EvalLimits(timeout=30))

    def bug(progress):
        raise KeyError("boom")

    with pytest.raises(EngineError, match="KeyError"):
        run_limited(bug, EvalLimits(timeout=30))

    def crash(progress):
        progress("pkg.a")
        os.kill(os.getpid(), 9)

    with pytest.raises(EngineError, match=r"crashed \(signal 9\) while evaluating pkg.a"):
        run_limited(crash, EvalLimits(timeout=30))


def test_time_limit_names_what_was_running() -> None:
    def slow(progress):
        progress("pdguard.first")
        progress("pdguard.second")
        time.sleep(60)
        return b""

    started = time.monotonic()
    with pytest.raises(EvalLimitError, match=r"pdguard.second exceeded the time limit of 0.5s"):
        run_limited(slow, EvalLimits(timeout=0.5))
    assert time.monotonic() - started < 10


def test_looping_and_huge_policies_are_stopped_by_the_engine(tmp_path: Path) -> None:
    from pdguard.engine.loader import load_policies

    doc = tiny_snapshot(services=[{"id": "PS1", "name": "ok"}])
    ps = load_policies([str(policy_dir(tmp_path, LOOP, FINE))], builtin=False)
    with pytest.raises(EvalLimitError, match=r"policy ACME-LOOP \(.*p0.rego\) exceeded the time limit of 1s"):
        evaluate(InputRef(doc=doc), Config(), engine=EmbeddedEngine(EvalLimits(timeout=1)), policyset=ps)
    ps = load_policies([str(policy_dir(tmp_path / "h", FINE, HUGE))], builtin=False)
    with pytest.raises(EvalLimitError, match=r"policy ACME-HUGE \(.*p1.rego\) exceeded the memory limit of 256 MiB"):
        evaluate(InputRef(doc=doc), Config(), engine=EmbeddedEngine(EvalLimits(memory=256 << 20)), policyset=ps)


def test_limited_and_in_process_evaluation_agree(tmp_path: Path) -> None:
    """The child-process path returns exactly what the in-process path returns (the sample account,
    scanned from the simulator over HTTP: a 2.x snapshot the built-in policies judge through
    data.pdguard.lib, which both paths load), with the same meta.evaluation."""
    doc = scan_account(sample_account())
    path = tmp_path / "snap.json"
    path.write_text(json.dumps(doc, default=str))
    doc = json.loads(path.read_text())
    plain = evaluate(InputRef(doc=doc), Config(), engine=EmbeddedEngine())
    limited = evaluate(InputRef(doc=doc), Config(), engine=make_engine(Config()))
    from_file = evaluate(InputRef(path=path), Config(), engine=make_engine(Config()))
    assert isinstance(make_engine(Config()), EmbeddedEngine) and make_engine(Config()).limits.enabled
    key = [f.fingerprint for f in plain.findings]
    assert key and key == [f.fingerprint for f in limited.findings] == [f.fingerprint for f in from_file.findings]
    # Policies that build on the library's resolvers fire on both paths (not only self-contained ones).
    assert {"PDG-EP-003", "PDG-SVC-002"} <= {f.policy_id for f in limited.findings}
    evaluation = plain.meta["evaluation"]
    assert evaluation["engine"] == "embedded" and len(evaluation["policy_revision"]) >= 16
    assert limited.meta["evaluation"] == from_file.meta["evaluation"] == evaluation


def test_check_with_a_looping_policy_exits_2_naming_it(tmp_path: Path) -> None:
    snap = tmp_path / "snap.json"
    snap.write_text(json.dumps(tiny_snapshot(services=[{"id": "PS1", "name": "ok"}])))
    pols = policy_dir(tmp_path, LOOP)
    started = time.monotonic()
    r = pdguard("check", "--snapshot", str(snap), "--no-builtin", "--policy", str(pols), "--eval-timeout", "2s")
    assert time.monotonic() - started < 60
    assert r.returncode == 2, r.stderr
    lines = r.stderr.strip().splitlines()
    assert len(lines) == 1 and "Traceback" not in r.stderr
    assert "policy ACME-LOOP" in lines[0] and "exceeded the time limit of 2s" in lines[0]
    assert "--eval-timeout" in lines[0]


def test_check_memory_limit_from_pdguard_yaml(tmp_path: Path) -> None:
    snap = tmp_path / "snap.json"
    snap.write_text(json.dumps(tiny_snapshot()))
    cfg = tmp_path / "pdguard.yaml"
    cfg.write_text("limits: {eval_memory: 200MiB}\n")
    r = pdguard("--config", str(cfg), "check", "--snapshot", str(snap), "--no-builtin", "--policy",
                str(policy_dir(tmp_path, HUGE)))
    assert r.returncode == 2 and "policy ACME-HUGE" in r.stderr and "memory limit of 200 MiB" in r.stderr
    # switched off, a fine policy set still evaluates (in process)
    r = pdguard("check", "--snapshot", str(snap), "--no-builtin", "--policy", str(policy_dir(tmp_path / "f", FINE)),
                "--eval-timeout", "none", "--eval-memory", "none")
    assert r.returncode == 0, r.stderr
    for bad in (("--eval-memory", "4"), ("--eval-timeout", "soon")):
        r = pdguard("check", "--snapshot", str(snap), *bad)
        assert r.returncode == 2 and len(r.stderr.strip().splitlines()) == 1, r.stderr


def test_watch_tick_fails_once_with_a_looping_policy(tmp_path: Path) -> None:
    from pdguard.simulator import serve

    with serve(sample_account(), tokens={"tok"}) as server:
        r = subprocess.run([sys.executable, "-m", "pdguard", "watch", "--once", "--api-url", server.url,
                            "--store", str(tmp_path / "inv.sqlite"), "--policy", str(policy_dir(tmp_path, LOOP)),
                            "--eval-timeout", "3s"], capture_output=True, text=True, timeout=120,
                           env={**os.environ, "PAGERDUTY_API_KEY": "tok"})
    assert r.returncode == 2, r.stderr
    lines = r.stderr.strip().splitlines()
    assert len(lines) == 1 and "tick 1 failed: policy evaluation stopped: policy ACME-LOOP" in lines[0]


UNDEFINED = HEADER.format(title="Undefined", pid="ACME-UNDEF", pkg="undefined") + """deny := {"x"} if {
  input.no_such_field
}
"""


@pytest.mark.parametrize("limits", [None, EvalLimits(timeout=30)], ids=["in-process", "limited"])
def test_an_undefined_deny_is_an_error_naming_the_policy(tmp_path: Path, limits: EvalLimits | None) -> None:
    """A policy whose deny is undefined (a complete rule whose body fails) is an engine error naming
    its file, on both paths, never a pass; the other policies' findings do not hide it."""
    from pdguard.engine.loader import load_policies

    doc = tiny_snapshot(services=[{"id": "PS1", "name": "bad"}])
    ps = load_policies([str(policy_dir(tmp_path, FINE, UNDEFINED))], builtin=False)
    with pytest.raises(EngineError, match=r"p1\.rego: deny is undefined \(expected a set of findings\)"):
        evaluate(InputRef(doc=doc), Config(), engine=EmbeddedEngine(limits), policyset=ps)
