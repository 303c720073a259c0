"""Scan benchmark: requests made vs the minimum the API allows, wall time vs its lower bound, peak RSS.

    python benchmarks/scan.py                    # full size: 10,000 services, 50,000 incidents, 50 ms latency
    python benchmarks/scan.py --scale 0.1        # a tenth of it

The simulator runs in this process; the scan runs as a child process (`pdguard scan`), so the
peak RSS printed is the scanner's own. Requests are counted by the simulator (server side).

Minimum possible requests: every list collection needs ceil(n / 100) pages (at least one); the
incident scan needs ceil(unresolved / 100) for `date_range=all` unresolved incidents plus
ceil(resolved in the lookback window / 100); standards need 1 + ceil(services / 100) score
batches; dependencies one request per business service. Lower bound on wall time:
requests × latency ÷ concurrency (the simulator sets no rate limit here).
"""

from __future__ import annotations

import argparse
import math
import os
import resource
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

from pdguard.simulator import FaultConfig, generate_account, serve


def pages(n: int) -> int:
    return max(1, math.ceil(n / 100))


def minimum_requests(account, now: datetime, lookback_days: int) -> int:
    c = account.collections() if callable(getattr(account, "collections", None)) else account.collections
    since = now - timedelta(days=lookback_days)
    unresolved = sum(1 for i in c["incidents"] if i.get("status") != "resolved")
    resolved = sum(
        1 for i in c["incidents"]
        if i.get("status") == "resolved"
        and since <= datetime.fromisoformat(i["created_at"].replace("Z", "+00:00")) < now
    )
    total = sum(pages(len(c[k])) for k in (
        "services", "escalation_policies", "schedules", "users", "teams", "business_services",
        "addons", "extensions", "oncalls"))
    total += pages(unresolved) + pages(resolved)
    total += len(c["business_services"])  # /service_dependencies/business_services/{id}
    total += 1 + (pages(len(c["services"])) if c["standards"] else 0)
    return total


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--scale", type=float, default=1.0)
    ap.add_argument("--latency-ms", type=float, default=50.0)
    ap.add_argument("--concurrency", type=int, default=8)
    args = ap.parse_args()
    s = args.scale
    now = datetime.now(UTC).replace(microsecond=0)
    t0 = time.perf_counter()
    account = generate_account(
        services=int(10_000 * s), escalation_policies=int(1_000 * s), schedules=int(500 * s),
        users=int(2_000 * s), teams=int(200 * s), incidents=int(50_000 * s),
        business_services=max(1, int(50 * s)), seed=1, now=now,
    )
    print(f"generated account in {time.perf_counter() - t0:.1f}s: {account.counts()}")
    minimum = minimum_requests(account, now, 90)
    token = "bench-token"
    with tempfile.TemporaryDirectory() as tmp, serve(account, tokens={token},
                                                     faults=FaultConfig(latency_ms=args.latency_ms)) as server:
        out = Path(tmp) / "snapshot.json"
        env = {**os.environ, "PAGERDUTY_API_KEY": token}
        me = resource.getrusage(resource.RUSAGE_SELF)
        start = time.perf_counter()
        proc = subprocess.run(
            [sys.executable, "-m", "pdguard", "scan", "--quiet", "--api-url", server.url, "-o", str(out),
             "--concurrency", str(args.concurrency)],
            env=env, capture_output=True, text=True,
        )
        wall = time.perf_counter() - start
        me_after = resource.getrusage(resource.RUSAGE_SELF)
        server_cpu = (me_after.ru_utime - me.ru_utime) + (me_after.ru_stime - me.ru_stime)
        if proc.returncode != 0:
            print(proc.stderr)
            raise SystemExit(f"scan failed with exit code {proc.returncode}")
        made = server.stats.requests
        size = out.stat().st_size
        import json

        in_process = json.loads(out.read_bytes())["meta"]["duration_seconds"]
    child = resource.getrusage(resource.RUSAGE_CHILDREN)
    rss_mb = child.ru_maxrss / 1024
    cpu = child.ru_utime + child.ru_stime
    bound = made * (args.latency_ms / 1000) / args.concurrency
    min_bound = minimum * (args.latency_ms / 1000) / args.concurrency
    print(f"requests made           {made}")
    print(f"minimum possible        {minimum}")
    print(f"requests / minimum      {made / minimum:.3f}   (target 1.00)")
    print(f"wall time               {wall:.2f}s  (latency {args.latency_ms:g} ms, concurrency {args.concurrency})")
    print(f"lower bound             {bound:.2f}s  (requests x latency / concurrency; {min_bound:.2f}s at the minimum)")
    if bound > 0:
        print(f"wall / lower bound      {wall / bound:.2f}   (target <= 1.3; process start and JSON writing included)")
        print(f"scan phase              {in_process:.2f}s  (meta.duration_seconds: requests + decoding, in the process)")
        print(f"scan phase / bound      {in_process / bound:.2f}")
    print(f"snapshot size           {size / 1e6:.1f} MB")
    print(f"scanner CPU time        {cpu:.2f}s  (user+sys of the scan process)")
    print(f"simulator CPU time      {server_cpu:.2f}s  (this process, serving the scan)")
    print(f"peak RSS (scanner)      {rss_mb:.0f} MB")


if __name__ == "__main__":
    main()
