"""Run the simulator standalone: ``python -m pdguard.simulator --port 8080 --sample``."""

from __future__ import annotations

import argparse
import signal
import sys
import threading

from pdguard.simulator.account import generate_account
from pdguard.simulator.sample import sample_account
from pdguard.simulator.server import FaultConfig, SimulatorServer


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m pdguard.simulator", description="PagerDuty REST API simulator")
    p.add_argument("--host", default="127.0.0.1")
    p.add_argument("--port", type=int, default=8080)
    p.add_argument("--sample", action="store_true", help="serve the bundled demo account (default)")
    p.add_argument("--services", type=int, help="generate an account with N services (see the other sizes)")
    p.add_argument("--escalation-policies", type=int, default=None)
    p.add_argument("--schedules", type=int, default=None)
    p.add_argument("--users", type=int, default=None)
    p.add_argument("--teams", type=int, default=None)
    p.add_argument("--incidents", type=int, default=None)
    p.add_argument("--business-services", type=int, default=None)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--token", action="append", help="accepted API token (repeatable; default: accept any)")
    p.add_argument("--latency-ms", type=float, default=0.0,
                   help="response time: each response is sent this long after its request arrived")
    p.add_argument("--rate-limit", type=int, default=None, help="requests per --rate-window seconds")
    p.add_argument("--rate-window", type=float, default=60.0)
    p.add_argument("--p-5xx", type=float, default=0.0)
    p.add_argument("--p-429", type=float, default=0.0)
    p.add_argument("--p-timeout", type=float, default=0.0)
    p.add_argument("--p-truncated", type=float, default=0.0)
    args = p.parse_args(argv)

    if args.services is not None:
        n = args.services
        account = generate_account(
            services=n,
            escalation_policies=args.escalation_policies if args.escalation_policies is not None else max(1, n // 10),
            schedules=args.schedules if args.schedules is not None else max(1, n // 20),
            users=args.users if args.users is not None else max(2, n // 5),
            teams=args.teams if args.teams is not None else max(1, n // 50),
            incidents=args.incidents if args.incidents is not None else n * 5,
            business_services=args.business_services if args.business_services is not None else max(1, n // 200),
            seed=args.seed,
        )
    else:
        account = sample_account()
    faults = FaultConfig(
        latency_ms=args.latency_ms,
        rate_limit=args.rate_limit,
        window_seconds=args.rate_window,
        p_5xx=args.p_5xx,
        rate_429_probability=args.p_429,
        p_timeout=args.p_timeout,
        p_truncated=args.p_truncated,
        seed=args.seed,
    )
    server = SimulatorServer(account, host=args.host, port=args.port, faults=faults, tokens=args.token)
    server.start()
    counts = ", ".join(f"{k}={v}" for k, v in account.counts().items())
    print(f"PagerDuty simulator listening on {server.url} ({counts})", flush=True)
    done = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: done.set())
    try:
        done.wait()
    except KeyboardInterrupt:
        pass
    finally:
        server.stop()
        print(f"stopped; stats: {server.stats.as_dict()['requests']} requests", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
