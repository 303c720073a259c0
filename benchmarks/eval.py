"""Evaluation benchmark: the same work on every engine, whole process against whole process.

    python benchmarks/eval.py                   # 1/100, 1/10 and full size (10,000 services, 50,000 incidents)
    python benchmarks/eval.py --scales 0.1 --repeat 3

Per size, on one generated snapshot file and one bundle (`pdguard policy bundle`: the built-in
policies, the generated entry module, `data.pdguard.config` from the default settings):

- `pdguard check --snapshot FILE` (embedded regorus): wall time and peak RSS of the whole process;
- `opa eval --bundle BUNDLE --input FILE data.pdguard_entry.result`: the same policies, entry module
  and config data, whole process, wall and peak RSS;
- `pdguard check --engine opa --opa-preloaded` against a local `opa run --server --bundle BUNDLE`
  (started once, before the first size): wall of the pdguard process; the server's peak RSS so far;
- CPU seconds (user + system) of each, the server's share included for the preloaded check: less
  sensitive than wall time to other work on a shared machine;
- the findings of all three, which must be the same (count, fingerprints, policy and resource):
  `opa eval`'s result goes through the same post-processing as an engine's (`pdguard.evaluate`).

Evaluation limits (issue 13): `check` evaluates in a forked child under the default limits (300 s,
4 GiB). In process, per size: `engine s` is the embedded evaluation without limits, `limits s` the
same with the default limits, from the file (`check --snapshot`) and from the in-memory document
(`watch`, `check` after a scan: `doc s` without limits, `doc lim s` with). Target: limits add <= 10 %.

Then the ratios against `opa eval` and the growth between sizes. Targets (issue 9, issue 11):
embedded check <= 0.4x opa eval at 1/10 size and <= 0.15x at full size, peak RSS <= 0.3x, 10x data
<= 11x time; check --opa-preloaded <= 1.3x opa eval at full size. Needs `opa` on PATH (or
../shared/tools/opa). Timings are best of --repeat; on a shared machine, say so with the figures.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from pdguard.config import Config
from pdguard.engine.base import InputRef
from pdguard.engine.embedded import EmbeddedEngine
from pdguard.engine.limits import EvalLimits
from pdguard.engine.loader import PolicySet, load_policies
from pdguard.evaluate import evaluate
from pdguard.simulator import generate_account
from pdguard.simulator.account import EXPANSIONS, make_ref
from pdguard.snapshot import SCHEMA_VERSION, dump_document

REPO = Path(__file__).resolve().parents[1]
RSS_WRAPPER = (
    "import resource, subprocess, sys; out = open(sys.argv[1], 'wb'); "
    "r = subprocess.run(sys.argv[2:], stdout=out, stderr=subprocess.PIPE); "
    "sys.stderr.buffer.write(r.stderr[-2000:]); "
    "u = resource.getrusage(resource.RUSAGE_CHILDREN); print(r.returncode, u.ru_maxrss, u.ru_utime + u.ru_stime)"
)
TARGETS = {0.1: 0.4, 1.0: 0.15}


# What a 2.0 scan expands with include[] (everything else is a reference; see docs/design.md).
V2_INCLUDES = {"services": {"integrations"}, "users": {"contact_methods", "notification_rules"},
               "schedules": {"schedule_layers", "final_schedule"}}


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
                    "complete": True, "collections": [k for k in cols if k != "standards_scores"]}}
    doc.update({k: [v2_object(k, o) for o in v] for k, v in cols.items()})
    derive_members(doc["teams"], doc["users"])
    doc["iac"] = None
    return doc


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


def best(cmd: list[str], stdout: Path, repeat: int, server_pid: int | None = None) -> tuple[float, float, float]:
    runs = [measured(cmd, stdout, server_pid) for _ in range(repeat)]
    return min(r[0] for r in runs), max(r[1] for r in runs), min(r[2] for r in runs)


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
    """In-process evaluation seconds (best of `repeat`) without and with the default limits, from
    the file and from the in-memory document (what `watch` holds)."""
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
    return {k: round(min(v), 3) for k, v in times.items()}


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--scales", default="0.01,0.1,1.0")
    ap.add_argument("--repeat", type=int, default=2, help="best of N for timings")
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
    with tempfile.TemporaryDirectory() as tmp_dir:
        tmp = Path(tmp_dir)
        bundle = tmp / "pdguard-bundle.tar.gz"
        subprocess.run([*pdguard, "policy", "bundle", "-o", str(bundle)], check=True, cwd=tmp)
        server, url = start_server(opa, bundle)
        try:
            for scale in scales:
                snap = tmp / f"snapshot-{scale}.json"
                snap.write_bytes(dump_document(snapshot_document(scale, now)))
                size_mb = snap.stat().st_size / 1e6
                report, preloaded_report, opa_out = tmp / "check.json", tmp / "preloaded.json", tmp / "opa-eval.json"
                check = best([*pdguard, "check", "--snapshot", str(snap), "--format", f"json={report}",
                              "--fail-on", "none"], tmp / "check.out", args.repeat)
                opa_eval = best([opa, "eval", "--bundle", str(bundle), "--input", str(snap), "--format", "json",
                                 "data.pdguard_entry.result"], opa_out, args.repeat)
                preloaded = best([*pdguard, "check", "--snapshot", str(snap), "--engine", "opa", "--opa-url", url,
                                  "--opa-preloaded", "--opa-timeout", "900", "--format", f"json={preloaded_report}",
                                  "--fail-on", "none"], tmp / "preloaded.out", args.repeat, server.pid)
                embedded = findings_key(json.loads(report.read_bytes()))
                same = (embedded == opa_eval_findings(opa_out, snap)
                        == findings_key(json.loads(preloaded_report.read_bytes())))
                row = {"scale": scale, "size_mb": round(size_mb, 1), "findings": len(embedded), "same_findings": same,
                       "check_s": round(check[0], 3), "check_rss_mb": round(check[1]), "check_cpu_s": round(check[2], 2),
                       "opa_eval_s": round(opa_eval[0], 3), "opa_eval_rss_mb": round(opa_eval[1]),
                       "opa_eval_cpu_s": round(opa_eval[2], 2),
                       "preloaded_s": round(preloaded[0], 3), "preloaded_client_rss_mb": round(preloaded[1]),
                       "preloaded_cpu_s": round(preloaded[2], 2),
                       "opa_server_peak_rss_mb": round(peak_rss_mb(server.pid)),
                       **limits_overhead(snap, policyset, args.repeat)}
                rows.append(row)
                print(json.dumps(row), flush=True)
                if not same:
                    raise SystemExit("the engines disagree on the findings: the timings do not compare the same work")
        finally:
            server.terminate()
            server.wait(timeout=30)
    print()
    print(f"{'scale':>6} {'MB':>7} {'findings':>8} {'check s':>8} {'opa eval s':>10} {'chk/opa':>7} "
          f"{'check RSS':>9} {'opa RSS':>8} {'rss/opa':>7} {'preloaded s':>11} {'pre/opa':>7} "
          f"{'CPU s: check':>12} {'opa eval':>8} {'preloaded':>9}")
    for r in rows:
        print(f"{r['scale']:>6} {r['size_mb']:>7.1f} {r['findings']:>8} {r['check_s']:>8.2f} {r['opa_eval_s']:>10.2f} "
              f"{r['check_s'] / r['opa_eval_s']:>7.2f} {r['check_rss_mb']:>7}MB {r['opa_eval_rss_mb']:>6}MB "
              f"{r['check_rss_mb'] / r['opa_eval_rss_mb']:>7.2f} {r['preloaded_s']:>11.2f} "
              f"{r['preloaded_s'] / r['opa_eval_s']:>7.2f} {r['check_cpu_s']:>12.2f} {r['opa_eval_cpu_s']:>8.2f} "
              f"{r['preloaded_cpu_s']:>9.2f}")
    for r in rows:
        if r["scale"] in TARGETS:
            print(f"scale {r['scale']}: check/opa eval {r['check_s'] / r['opa_eval_s']:.2f} (target <= {TARGETS[r['scale']]}), "
                  f"RSS {r['check_rss_mb'] / r['opa_eval_rss_mb']:.2f} (target <= 0.3)"
                  + (f", preloaded/opa eval {r['preloaded_s'] / r['opa_eval_s']:.2f} (target <= 1.3)"
                     if r["scale"] == 1.0 else ""))
    for r in rows:
        print(f"limits overhead at {r['scale']}: engine {r['engine_s']:.3f} s -> {r['limits_s']:.3f} s "
              f"(x{r['limits_s'] / r['engine_s']:.2f}), in-memory document {r['doc_s']:.3f} s -> "
              f"{r['doc_lim_s']:.3f} s (x{r['doc_lim_s'] / r['doc_s']:.2f}) (target: <= 1.10)")
    for a, b in zip(rows, rows[1:], strict=False):
        print(f"growth {a['scale']} -> {b['scale']}: data x{b['size_mb'] / a['size_mb']:.1f}, "
              f"check wall x{b['check_s'] / a['check_s']:.1f}, opa eval x{b['opa_eval_s'] / a['opa_eval_s']:.1f}, "
              f"preloaded x{b['preloaded_s'] / a['preloaded_s']:.1f} (target: 10x data <= 11x time)")
    print(f"all engines gave the same findings at every size: {all(r['same_findings'] for r in rows)}")


if __name__ == "__main__":
    main()
