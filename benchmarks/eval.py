"""Evaluation benchmark: the built-in library over generated snapshots at 1/100, 1/10 and full size.

    python benchmarks/eval.py                 # 0.01, 0.1 and 1.0 (10,000 services, 50,000 incidents, ~60 MB)
    python benchmarks/eval.py --scales 0.1

Prints, per size: snapshot size, engine time (embedded regorus: load input + evaluate), whole
`pdguard check --snapshot` wall time and peak RSS (a child process), growth ratios between sizes
(target: 10x data <= 12x time), and — when `opa` is on PATH — `opa eval` wall time and peak RSS on
the same files and the ratios (targets: engine <= 0.5x opa eval, whole check <= 1.0x, RSS <= opa's).

Evaluation limits (issue 13): `engine s` is the evaluation in process, without limits; `limits s`
the same evaluation as `check` and `watch` run it, in a forked child under the default limits
(300 s, 4 GiB), from the file (`check --snapshot`) and from the in-memory document (`watch`,
`check` after a scan: `doc s` without limits, `doc lim s` with). Target: limits add <= 10 %.
"""

from __future__ import annotations

import argparse
import json
import shutil
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

from pdguard.config import Config
from pdguard.engine.base import InputRef
from pdguard.engine.embedded import EmbeddedEngine
from pdguard.engine.limits import EvalLimits
from pdguard.engine.loader import builtin_policy_dir, load_policies
from pdguard.evaluate import evaluate
from pdguard.scanner import _derive_members
from pdguard.simulator import generate_account
from pdguard.snapshot import SCHEMA_VERSION, dump_document

RSS_WRAPPER = (
    "import resource, subprocess, sys; r = subprocess.run(sys.argv[1:], stdout=subprocess.DEVNULL); "
    "print(r.returncode, resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)"
)


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
                    "complete": True}}
    doc.update({k: v for k, v in cols.items()})
    _derive_members(doc["teams"], doc["users"])
    doc["iac"] = None
    return doc


def measured(cmd: list[str]) -> tuple[float, float, int]:
    """(wall seconds, peak RSS MB, exit code) of a command run as a grandchild."""
    start = time.perf_counter()
    out = subprocess.run([sys.executable, "-c", RSS_WRAPPER, *cmd], capture_output=True, text=True, check=True)
    wall = time.perf_counter() - start
    code, rss = out.stdout.split()
    return wall, int(rss) / 1024, int(code)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--scales", default="0.01,0.1,1.0")
    ap.add_argument("--repeat", type=int, default=2, help="best of N for timings")
    args = ap.parse_args()
    scales = [float(x) for x in args.scales.split(",")]
    now = datetime.now(UTC).replace(microsecond=0)
    opa = shutil.which("opa")
    rows = []
    policyset = load_policies([], builtin=True)
    with tempfile.TemporaryDirectory() as tmp:
        for scale in scales:
            path = Path(tmp) / f"snapshot-{scale}.json"
            path.write_bytes(dump_document(snapshot_document(scale, now)))
            size_mb = path.stat().st_size / 1e6
            findings = 0
            limits = EvalLimits.from_settings(Config().limits)
            times: dict[str, list[float]] = {"file": [], "file_lim": [], "doc": [], "doc_lim": []}

            def measure(label: str, ref: InputRef, lim: EvalLimits | None,
                        times: dict[str, list[float]] = times) -> int:
                eng = EmbeddedEngine(lim)
                evaluate(ref, Config(), engine=eng, policyset=policyset)  # compiled once, kept across ticks
                t0 = time.perf_counter()
                report = evaluate(ref, Config(), engine=eng, policyset=policyset)
                times[label].append(time.perf_counter() - t0)
                return len(report.findings)

            # `check --snapshot`: the process does not hold the document; `watch`: it does.
            for _ in range(args.repeat):
                findings = measure("file", InputRef(path=path), None)
                measure("file_lim", InputRef(path=path), limits)
            doc = json.loads(path.read_bytes())
            for _ in range(args.repeat):
                measure("doc", InputRef(doc=doc), None)
                measure("doc_lim", InputRef(doc=doc), limits)
            engine_times = times["file"]
            del doc
            check = min((measured([sys.executable, "-m", "pdguard", "check", "--snapshot", str(path),
                                   "--format", f"json={tmp}/report.json", "--fail-on", "none", "--quiet"])
                         for _ in range(args.repeat)), key=lambda r: r[0])
            row = {"scale": scale, "size_mb": size_mb, "engine_s": min(engine_times), "check_s": check[0],
                   "check_rss_mb": check[1], "findings": findings, "limits_s": min(times["file_lim"]),
                   "doc_s": min(times["doc"]), "doc_lim_s": min(times["doc_lim"])}
            if opa:
                opa_run = min((measured([opa, "eval", "--format", "json", "-d", str(builtin_policy_dir()),
                                         "--ignore", "*_test.rego", "-i", str(path), "data.pdguard"])
                               for _ in range(args.repeat)), key=lambda r: r[0])
                row.update(opa_s=opa_run[0], opa_rss_mb=opa_run[1])
            rows.append(row)
            print(json.dumps(row))
    print()
    print(f"{'scale':>6} {'MB':>7} {'findings':>9} {'engine s':>9} {'limits s':>9} {'doc s':>7} {'doc lim s':>10}"
          f" {'check s':>8} {'check RSS':>10}"
          + (f" {'opa s':>7} {'opa RSS':>8} {'eng/opa':>8} {'chk/opa':>8} {'rss/opa':>8}" if opa else ""))
    for r in rows:
        line = (f"{r['scale']:>6} {r['size_mb']:>7.1f} {r['findings']:>9} {r['engine_s']:>9.3f} {r['limits_s']:>9.3f}"
                f" {r['doc_s']:>7.3f} {r['doc_lim_s']:>10.3f} {r['check_s']:>8.2f} {r['check_rss_mb']:>8.0f}MB")
        if opa:
            line += (f" {r['opa_s']:>7.2f} {r['opa_rss_mb']:>6.0f}MB {r['engine_s'] / r['opa_s']:>8.2f}"
                     f" {r['check_s'] / r['opa_s']:>8.2f} {r['check_rss_mb'] / r['opa_rss_mb']:>8.2f}")
        print(line)
    for r in rows:
        print(f"limits overhead at {r['scale']}: file x{r['limits_s'] / r['engine_s']:.2f}, "
              f"in-memory document x{r['doc_lim_s'] / r['doc_s']:.2f} (target: <= 1.10)")
    for a, b in zip(rows, rows[1:], strict=False):
        print(f"growth {a['scale']} -> {b['scale']}: data x{b['size_mb'] / a['size_mb']:.1f}, "
              f"engine time x{b['engine_s'] / a['engine_s']:.1f}, check wall x{b['check_s'] / a['check_s']:.1f}"
              " (target: 10x data <= 12x time)")
    if not opa:
        print("opa not on PATH: the ratios to `opa eval` were not measured")


if __name__ == "__main__":
    main()
