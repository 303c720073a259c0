"""Evaluation benchmark: the same work on every engine, whole process against whole process.

    python benchmarks/eval.py                   # 1/100, 1/10 and full size (10,000 services, 50,000 incidents)
    python benchmarks/eval.py --scales 0.1 --repeat 3

Per size, on one generated snapshot file (in the form `pdguard scan` writes: no `self`/`html_url`
links) and one bundle (`pdguard policy bundle`: the built-in policies, the generated entry module,
`data.pdguard.config` from the default settings):

- `pdguard check --snapshot FILE` (embedded regorus): wall time and peak RSS of the whole process;
- `opa eval --bundle BUNDLE --input FILE data.pdguard_entry.result`: the same policies, entry module
  and config data, whole process, wall and peak RSS;
- `pdguard check --engine opa --opa-preloaded` against a local `opa run --server --bundle BUNDLE`
  (started once, before the first size): wall of the pdguard process; the server's peak RSS so far;
- CPU seconds (user + system) of each, the server's share included for the preloaded check: less
  sensitive than wall time to other work on a shared machine;
- `opa eval --input FILE 'count(input.services)'`: what `opa eval` spends reading the input alone;
  printed with the floor of the ratio on this engine: the embedded evaluation in process (policies
  compiled, no process start-up, no output), over `opa eval`'s whole wall time: `check / opa eval`
  cannot go below it without cheaper policies or a faster engine (start-up and reports only add);
- the findings of all three, which must be the same (count, fingerprints, policy and resource):
  `opa eval`'s result goes through the same post-processing as an engine's (`pdguard.evaluate`).

Evaluation limits (issue 13): `check` evaluates in a forked child under the default limits (300 s,
4 GiB). In process, per size: `engine s` is the embedded evaluation without limits, `limits s` the
same with the default limits, from the file (`check --snapshot`) and from the in-memory document
(`watch`, `check` after a scan: `doc s` without limits, `doc lim s` with). Target: limits add <= 10 %.
With `--packages N`, the N policy packages the embedded engine spends most time on (in process,
between the progress marks of one query: a library index is counted where it is first used).

A shared machine: each command runs --repeat times, the three commands interleaved, and the
figures are the min and the median of the runs (wall, and CPU seconds, less sensitive to other
work); peak RSS is the median. The load average (1 min) is printed before and after each size.
Every ratio is printed with its target and whether it is met. Targets (issue 9, issue 11):
embedded check <= 0.4x opa eval wall at 1/10 size and <= 0.15x at full size, peak RSS <= 0.3x,
10x data <= 11x time; check --opa-preloaded <= 1.3x opa eval wall at full size. Needs `opa` on
PATH (or ../shared/tools/opa).
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from pdguard.config import Config
from pdguard.engine.base import InputRef
from pdguard.engine.bundle import config_data
from pdguard.engine.embedded import EmbeddedEngine
from pdguard.engine.limits import EvalLimits
from pdguard.engine.loader import PolicySet, load_policies
from pdguard.evaluate import enabled_policies, evaluate
from pdguard.simulator import generate_account
from pdguard.simulator.account import EXPANSIONS, make_ref
from pdguard.simulator.render import Window, compute_oncalls, render_flexible
from pdguard.snapshot import SCHEMA_VERSION, dump_document

REPO = Path(__file__).resolve().parents[1]
RSS_WRAPPER = (
    "import resource, subprocess, sys; out = open(sys.argv[1], 'wb'); "
    "r = subprocess.run(sys.argv[2:], stdout=out, stderr=subprocess.PIPE); "
    "sys.stderr.buffer.write(r.stderr[-2000:]); "
    "u = resource.getrusage(resource.RUSAGE_CHILDREN); print(r.returncode, u.ru_maxrss, u.ru_utime + u.ru_stime)"
)
TARGETS = {0.1: 0.4, 1.0: 0.15}  # embedded check wall / opa eval wall, per scale
RSS_TARGET = 0.3  # embedded check peak RSS / opa eval peak RSS, at the scales of TARGETS
PRELOADED_TARGET = 1.3  # check --opa-preloaded wall / opa eval wall, at full size
GROWTH_TARGET = 11.0  # time growth for 10x data


# What a 2.x scan expands with include[] (everything else is a reference; see docs/design.md).
V2_INCLUDES = {"services": {"integrations"}, "users": {"contact_methods", "notification_rules"},
               "schedules": {"schedule_layers"}}


def _reference_form(value: object, mode: str) -> object:
    if mode == "one":
        return make_ref(value)  # type: ignore[arg-type]
    if mode == "many":
        return [make_ref(v) for v in value or []]  # type: ignore[union-attr]
    if mode == "rule_targets":
        return [dict(r, targets=[make_ref(t) for t in r.get("targets", [])]) for r in value or []]  # type: ignore[union-attr]
    if mode.startswith("item:"):
        key = mode[5:]
        return [dict(i, **{key: make_ref(i.get(key))}) for i in value or []]  # type: ignore[union-attr]
    return value


def v2_object(collection: str, obj: dict) -> dict:
    """An account object (stored with 1.x include[]s expanded) in its snapshot 2.0 form."""
    out = dict(obj)
    for inc, fld, mode, _target in EXPANSIONS.get(collection, []):
        if inc not in V2_INCLUDES.get(collection, ()) and fld in out and mode != "omit":
            out[fld] = _reference_form(out[fld], mode)
    return out


def derive_members(teams: list[dict], users: list[dict]) -> None:
    """Team members from the users' `teams` references, as the scanner derives them."""
    members: dict[str, list[dict]] = {t["id"]: [] for t in teams}
    for u in users:
        for ref in u.get("teams") or []:
            if ref["id"] in members:
                members[ref["id"]].append({"user": {"id": u["id"], "type": "user_reference", "summary": u.get("name")},
                                           "role": None})
    for t in teams:
        t["members"] = members[t["id"]]


def snapshot_document(scale: float, now: datetime) -> dict:
    acc = generate_account(
        services=int(10_000 * scale), escalation_policies=int(1_000 * scale), schedules=int(500 * scale),
        users=int(2_000 * scale), teams=int(200 * scale), incidents=int(50_000 * scale),
        business_services=max(1, int(50 * scale)), seed=2, now=now,
    )
    cols = acc.collections() if callable(getattr(acc, "collections", None)) else acc.collections
    doc = {"schema_version": SCHEMA_VERSION,
           "meta": {"scanned_at": now.strftime("%Y-%m-%dT%H:%M:%SZ"), "region": "us", "account_subdomain": "bench",
                    "pdguard_version": "bench", "counts": {k: len(v) for k, v in cols.items()}, "warnings": [],
                    "complete": True, "collections": [k for k in cols if k != "standards_scores"],
                    # The generator's dependencies are all there is (no chains of technical services):
                    # as read with scan.service_dependencies: all, so PDG-BS-002 judges them.
                    "service_dependencies": "all"}}
    doc.update({k: [v2_object(k, o) for o in v] for k, v in cols.items()})
    derive_members(doc["teams"], doc["users"])
    # Schema 2.1, as the scan reads them: every shift of the next 7 days from /oncalls (no
    # classic schedule rendered), flexible schedules rendered over the same window.
    until = now + timedelta(days=7)
    window = {"since": doc["meta"]["scanned_at"], "until": until.strftime("%Y-%m-%dT%H:%M:%SZ")}
    doc["meta"].update(schedule_window=window, oncall_window=window)
    doc["oncalls"] = compute_oncalls(acc, now, until)
    doc["meta"]["counts"]["oncalls"] = len(doc["oncalls"])
    for f in doc["flexible_schedules"]:
        f["final_schedule"] = render_flexible(f, Window(now, until, UTC, True))
    for s in doc["schedules"]:
        s.pop("overrides", None)  # the simulator's own data: the list renders no overrides
    doc["iac"] = None
    return without_links(doc)


def without_links(value: Any) -> Any:
    """The document as `pdguard scan` writes it: no `self`/`html_url` link at any depth (the
    scanner drops them from every response; they follow from type and id). The generator keeps
    them, which made the benchmark's snapshot 130 MB at full size where a scan writes ~67 MB."""
    if isinstance(value, dict):
        return {k: without_links(v) for k, v in value.items() if k not in ("self", "html_url")}
    if isinstance(value, list):
        return [without_links(v) for v in value]
    return value


def process_cpu_s(pid: int) -> float:
    """User + system CPU seconds a running process has used so far (/proc/PID/stat)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def measured(cmd: list[str], stdout: Path, server_pid: int | None = None) -> tuple[float, float, float]:
    """(wall s, peak RSS MB, CPU s) of a command run as a grandchild, its stdout to a file. With
    `server_pid`, the CPU that server spent meanwhile is added (the work it did for the command)."""
    server_before = process_cpu_s(server_pid) if server_pid else 0.0
    start = time.perf_counter()
    out = subprocess.run([sys.executable, "-c", RSS_WRAPPER, str(stdout), *cmd], capture_output=True, text=True)
    wall = time.perf_counter() - start
    code, rss, cpu = out.stdout.split()
    if int(code) not in (0, 1):
        raise SystemExit(f"{' '.join(cmd[:4])}… exited {code}: {out.stderr.strip()}")
    server_cpu = process_cpu_s(server_pid) - server_before if server_pid else 0.0
    return wall, int(rss) / 1024, float(cpu) + server_cpu


@dataclass
class Runs:
    """The runs of one command: wall s, peak RSS MB, CPU s each."""

    wall: list[float] = field(default_factory=list)
    rss: list[float] = field(default_factory=list)
    cpu: list[float] = field(default_factory=list)

    def add(self, run: tuple[float, float, float]) -> None:
        self.wall.append(run[0])
        self.rss.append(run[1])
        self.cpu.append(run[2])

    def summary(self) -> dict[str, float]:
        return {"wall_min": round(min(self.wall), 3), "wall_med": round(statistics.median(self.wall), 3),
                "cpu_min": round(min(self.cpu), 3), "cpu_med": round(statistics.median(self.cpu), 3),
                "rss_med": round(statistics.median(self.rss)), "rss_max": round(max(self.rss))}


def load_1min() -> float:
    return os.getloadavg()[0]


class ResultEngine:
    """Hands an `opa eval` result to pdguard's post-processing (METADATA join, fingerprints)."""

    name = "opa-eval"
    last_evaluation = None

    def __init__(self, result: dict[str, Any]) -> None:
        self.result = result

    def evaluate(self, modules: Any, targets: Any, data: Any, input_ref: Any) -> dict[str, Any]:
        return self.result

    def run_tests(self, modules: Any, data: Any) -> list:  # pragma: no cover - not used
        return []


def findings_key(report_doc: dict[str, Any]) -> list[tuple[str, str, str, str]]:
    return sorted((f["fingerprint"], f["policy_id"], f["resource"]["type"], f["resource"]["id"])
                  for f in report_doc["findings"] + report_doc["waived"])


def opa_eval_findings(path: Path, snapshot: Path) -> list[tuple[str, str, str, str]]:
    out = json.loads(path.read_bytes())
    result = out["result"][0]["expressions"][0]["value"]
    report = evaluate(InputRef(path=snapshot), Config(), engine=ResultEngine(result))
    return findings_key(report.model_dump(mode="json"))


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_server(opa: str, bundle: Path) -> tuple[subprocess.Popen, str]:
    port = free_port()
    proc = subprocess.Popen([opa, "run", "--server", f"--addr=127.0.0.1:{port}", "--log-level=error",
                             "--disable-telemetry", "--bundle", str(bundle)],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(f"{url}/health", timeout=1) as r:
                if r.status == 200:
                    return proc, url
        except OSError:
            time.sleep(0.1)
    proc.terminate()
    raise SystemExit("opa run --server --bundle never became healthy")


def peak_rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def limits_overhead(snap: Path, policyset: PolicySet, repeat: int) -> dict[str, float]:
    """In-process evaluation seconds (min and median of `repeat`) without and with the default
    limits, from the file and from the in-memory document (what `watch` holds)."""
    limits = EvalLimits.from_settings(Config().limits)
    times: dict[str, list[float]] = {"engine_s": [], "limits_s": [], "doc_s": [], "doc_lim_s": []}

    def measure(label: str, ref: InputRef, lim: EvalLimits | None) -> None:
        eng = EmbeddedEngine(lim)
        evaluate(ref, Config(), engine=eng, policyset=policyset)  # compiled once, kept across ticks
        t0 = time.perf_counter()
        evaluate(ref, Config(), engine=eng, policyset=policyset)
        times[label].append(time.perf_counter() - t0)

    for _ in range(repeat):
        measure("engine_s", InputRef(path=snap), None)
        measure("limits_s", InputRef(path=snap), limits)
    doc = json.loads(snap.read_bytes())
    for _ in range(repeat):
        measure("doc_s", InputRef(doc=doc), None)
        measure("doc_lim_s", InputRef(doc=doc), limits)
    out = {k: round(min(v), 3) for k, v in times.items()}
    out.update({f"{k}_med": round(statistics.median(v), 3) for k, v in times.items()})
    return out


def package_times(snap: Path, policyset: PolicySet) -> list[tuple[float, str]]:
    """(seconds, package) of one in-process embedded evaluation, most expensive first: the time
    from one package's progress mark to the next (the library's indexes are computed lazily, so
    an index is counted in the first package that uses it; loading the input is not counted, and
    the last package's span includes decoding the engine's result)."""
    cfg = Config()
    targets = enabled_policies(policyset, cfg)
    data = config_data(cfg.policy_settings(policyset.infos()))
    marks: list[tuple[float, str]] = []
    eng = EmbeddedEngine(None)
    eng.evaluate(policyset.sources, targets, data, InputRef(path=snap))  # compile first

    def progress(package: str) -> None:
        marks.append((time.perf_counter(), package))

    eng._progress = progress  # the engine's own per-package hook (what a limit hit is named with)
    eng.evaluate(policyset.sources, targets, data, InputRef(path=snap))
    end = time.perf_counter()
    spans = [((marks[i + 1][0] if i + 1 < len(marks) else end) - t, p) for i, (t, p) in enumerate(marks)]
    return sorted(spans, reverse=True)


def verdict(value: float, target: float) -> str:
    return f"{value:.3f} (target <= {target:.3g}: {'met' if value <= target else 'NOT met'})"


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--scales", default="0.01,0.1,1.0")
    ap.add_argument("--repeat", type=int, default=3, help="runs of each command (min and median reported)")
    ap.add_argument("--packages", type=int, default=0, metavar="N",
                    help="also print the N policy packages the embedded engine spends most time on")
    args = ap.parse_args()
    scales = sorted(float(x) for x in args.scales.split(","))
    local = REPO.parent / "shared" / "tools" / "opa"
    opa = shutil.which("opa") or (str(local) if os.access(local, os.X_OK) else None)
    if not opa:
        raise SystemExit("needs a real OPA: `opa` on PATH or ../shared/tools/opa")
    now = datetime.now(UTC).replace(microsecond=0)
    pdguard = [sys.executable, "-m", "pdguard"]
    rows = []
    policyset = load_policies([], builtin=True)
    print(f"{os.cpu_count()} CPUs, load average {' '.join(f'{x:.2f}' for x in os.getloadavg())}, "
          f"--repeat {args.repeat}", flush=True)
    with tempfile.TemporaryDirectory() as tmp_dir:
        tmp = Path(tmp_dir)
        bundle = tmp / "pdguard-bundle.tar.gz"
        subprocess.run([*pdguard, "policy", "bundle", "-o", str(bundle)], check=True, cwd=tmp,
                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        server, url = start_server(opa, bundle)
        try:
            for scale in scales:
                snap = tmp / f"snapshot-{scale}.json"
                snap.write_bytes(dump_document(snapshot_document(scale, now)))
                size_mb = snap.stat().st_size / 1e6
                report, preloaded_report, opa_out = tmp / "check.json", tmp / "preloaded.json", tmp / "opa-eval.json"
                commands = {
                    "check": ([*pdguard, "check", "--snapshot", str(snap), "--format", f"json={report}",
                               "--fail-on", "none"], tmp / "check.out", None),
                    "opa_eval": ([opa, "eval", "--bundle", str(bundle), "--input", str(snap), "--format", "json",
                                  "data.pdguard_entry.result"], opa_out, None),
                    "preloaded": ([*pdguard, "check", "--snapshot", str(snap), "--engine", "opa", "--opa-url", url,
                                   "--opa-preloaded", "--opa-timeout", "900", "--format", f"json={preloaded_report}",
                                   "--fail-on", "none"], tmp / "preloaded.out", server.pid),
                    # What `opa eval` spends on reading the input alone (a query that touches it once).
                    "opa_input": ([opa, "eval", "--input", str(snap), "--format", "json", "count(input.services)"],
                                  tmp / "opa-input.json", None),
                }
                load_before = load_1min()
                runs = {name: Runs() for name in commands}
                for _ in range(args.repeat):  # interleaved: a burst of other work hits all three alike
                    for name, (cmd, out, pid) in commands.items():
                        runs[name].add(measured(cmd, out, pid))
                embedded = findings_key(json.loads(report.read_bytes()))
                same = (embedded == opa_eval_findings(opa_out, snap)
                        == findings_key(json.loads(preloaded_report.read_bytes())))
                row: dict[str, Any] = {"scale": scale, "size_mb": round(size_mb, 1), "findings": len(embedded),
                                       "same_findings": same}
                for name, r in runs.items():
                    row.update({f"{name}_{k}": v for k, v in r.summary().items()})
                row["opa_server_peak_rss_mb"] = round(peak_rss_mb(server.pid))
                row.update(limits_overhead(snap, policyset, args.repeat))
                row["load_before"], row["load_after"] = round(load_before, 2), round(load_1min(), 2)
                rows.append(row)
                print(json.dumps(row), flush=True)
                if args.packages:
                    for seconds, package in package_times(snap, policyset)[:args.packages]:
                        print(f"  {seconds:7.3f} s  {package}", flush=True)
                if not same:
                    raise SystemExit("the engines disagree on the findings: the timings do not compare the same work")
        finally:
            server.terminate()
            server.wait(timeout=30)
    print()
    print(f"{'scale':>6} {'MB':>6} {'findings':>8} {'load':>10} | {'wall s min/median':>17}: "
          f"{'check':>11} {'opa eval':>11} {'preloaded':>11} | {'CPU s min/median':>16}: {'check':>11} "
          f"{'opa eval':>11} {'preloaded':>11} | {'peak RSS MB':>11}: {'check':>5} {'opa eval':>8}")
    def pair(r: dict[str, Any], name: str, kind: str) -> str:
        return f"{r[f'{name}_{kind}_min']:.2f}/{r[f'{name}_{kind}_med']:.2f}"

    for r in rows:
        print(f"{r['scale']:>6} {r['size_mb']:>6.1f} {r['findings']:>8} {r['load_before']:>4.2f}-{r['load_after']:<4.2f} | "
              f"{'':>17}  {pair(r, 'check', 'wall'):>11} {pair(r, 'opa_eval', 'wall'):>11} {pair(r, 'preloaded', 'wall'):>11} | "
              f"{'':>16}  {pair(r, 'check', 'cpu'):>11} {pair(r, 'opa_eval', 'cpu'):>11} {pair(r, 'preloaded', 'cpu'):>11} | "
              f"{'':>11}  {r['check_rss_med']:>5} {r['opa_eval_rss_med']:>8}")
    print()
    for r in rows:
        sc = r["scale"]
        lines = [f"scale {sc} ({r['size_mb']} MB), load {r['load_before']:.2f} -> {r['load_after']:.2f}:"]
        wall_min = r["check_wall_min"] / r["opa_eval_wall_min"]
        wall_med = r["check_wall_med"] / r["opa_eval_wall_med"]
        cpu_med = r["check_cpu_med"] / r["opa_eval_cpu_med"]
        target = TARGETS.get(sc)
        lines.append(f"  check / opa eval wall: min {verdict(wall_min, target) if target else f'{wall_min:.2f}'}, "
                     f"median {wall_med:.2f}; CPU median {cpu_med:.2f}")
        rss = r["check_rss_med"] / r["opa_eval_rss_med"]
        lines.append(f"  check / opa eval peak RSS: {verdict(rss, RSS_TARGET) if target else f'{rss:.2f}'}")
        pre_min = r["preloaded_wall_min"] / r["opa_eval_wall_min"]
        lines.append(f"  check --opa-preloaded / opa eval wall: min "
                     f"{verdict(pre_min, PRELOADED_TARGET) if sc == 1.0 else f'{pre_min:.2f}'}, median "
                     f"{r['preloaded_wall_med'] / r['opa_eval_wall_med']:.2f}; CPU median "
                     f"{r['preloaded_cpu_med'] / r['opa_eval_cpu_med']:.2f} (server included)")
        alone = min(r["engine_s"], r["limits_s"])  # in process, or in the forked child `check` uses
        floor = alone / r["opa_eval_wall_min"]
        lines.append(f"  the floor of check / opa eval with this engine: the embedded evaluation alone (in process, "
                     f"policies compiled: load the file, evaluate, build the findings) {alone:.2f} s = "
                     f"{floor:.2f}x opa eval; opa eval reads the input in {r['opa_input_wall_min']:.2f} s "
                     f"({r['opa_input_wall_min'] / r['opa_eval_wall_min']:.0%} of its wall)")
        lines.append(f"  limits overhead: engine {r['engine_s']:.3f} s -> {r['limits_s']:.3f} s "
                     f"{verdict(r['limits_s'] / r['engine_s'], 1.10)}; in-memory document {r['doc_s']:.3f} s -> "
                     f"{r['doc_lim_s']:.3f} s {verdict(r['doc_lim_s'] / r['doc_s'], 1.10)}")
        print("\n".join(lines))
    for a, b in zip(rows, rows[1:], strict=False):
        data = b["size_mb"] / a["size_mb"]
        target = GROWTH_TARGET * data / 10
        print(f"growth {a['scale']} -> {b['scale']}: data x{data:.1f}; wall (min) check "
              f"{verdict(b['check_wall_min'] / a['check_wall_min'], target)}, opa eval "
              f"x{b['opa_eval_wall_min'] / a['opa_eval_wall_min']:.1f}, preloaded "
              f"x{b['preloaded_wall_min'] / a['preloaded_wall_min']:.1f}")
    print(f"all engines gave the same findings at every size: {all(r['same_findings'] for r in rows)}")


if __name__ == "__main__":
    main()
