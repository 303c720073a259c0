"""Benchmark the inventory store: save two large scans, diff them; and incremental rescans.

    python benchmarks/store.py [--services 10000] [--incidents 50000] [--store URL]
    python benchmarks/store.py incremental [--scale 1.0] [--latency-ms 50] [--verify]

The ``incremental`` case runs two `watch` ticks (the same steps as the CLI's tick: plan, scan,
evaluate, store) in a child process against the simulator serving the full-size account of
``benchmarks/scan.py`` (10,000 services, 50,000 incidents over ~120 days), the second one a day
later with that day's incidents (~440 new, those resolved during the day resolved), and prints
the second tick's requests and wall time as ratios of the first's (targets: requests <= 0.35x,
wall time <= 0.5x). ``--verify`` also runs a full scan at the second tick's time and compares
incidents (by id) and findings (fingerprints). The machine's load average is printed with the
figures (timings on a shared machine vary).

Builds a synthetic snapshot of schema 2.0 (API-shaped services with integrations, escalation
policies, schedules, users, teams, incidents; every cross-reference a reference) and a report
with findings, then a second scan with ~1 % of services changed, 50 removed, 50 added, every
service's last_incident_timestamp moved and some findings fixed/new. Prints the time to store
each scan and to diff them, the database bytes each stored scan added (SQLite) and the peak RSS.
The second scan is stored as `watch --on-new-findings` stores it (its new findings go to the
outbox in the same transaction); then `prune --keep 1` (which also drops the configs only the
pruned scan used) and VACUUM give the size of one scan.

Measured before snapshot 2.0 (schema-1 store, every object stored whole in every scan): 98.9 MB
for the two scans, 49.5 MB per stored scan; target <= 0.5x (24.7 MB).
"""

from __future__ import annotations

import argparse
import copy
import os
import random
import resource
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from pdguard.findings import Finding, Report, Resource, fingerprint
from pdguard.inventory.diff import diff_scans
from pdguard.inventory.store import Store
from pdguard.snapshot import SCHEMA_VERSION


def ref(kind: str, oid: str, summary: str) -> dict[str, Any]:
    return {"id": oid, "type": f"{kind}_reference", "summary": summary,
            "self": f"https://api.pagerduty.com/{kind}s/{oid}", "html_url": f"https://acme.pagerduty.com/{kind}s/{oid}"}


def synth(services: int, incidents: int, seed: int = 1) -> dict[str, Any]:
    rng = random.Random(seed)
    n_users, n_teams, n_eps, n_sched = max(10, services // 3), max(5, services // 50), max(5, services // 5), max(
        5, services // 10)
    teams = [{"id": f"PT{i:06d}", "type": "team", "name": f"team-{i}", "description": f"Team {i}",
              "summary": f"team-{i}", "members": []} for i in range(n_teams)]
    users = [{"id": f"PU{i:06d}", "type": "user", "name": f"User {i}", "email": f"user{i}@acme.example",
              "role": "user", "time_zone": "UTC", "job_title": "SRE",
              "contact_methods": [{"id": f"PC{i:06d}", "type": "email_contact_method", "address": f"user{i}@acme.example"}],
              "notification_rules": [{"id": f"PN{i:06d}", "urgency": "high", "start_delay_in_minutes": 0}],
              "teams": [ref("team", teams[i % n_teams]["id"], teams[i % n_teams]["name"])]} for i in range(n_users)]
    schedules = []
    for i in range(n_sched):
        members = [ref("user", users[(i * 3 + k) % n_users]["id"], users[(i * 3 + k) % n_users]["name"]) for k in range(3)]
        schedules.append({"id": f"PSC{i:05d}", "type": "schedule", "name": f"rota-{i}", "time_zone": "UTC",
                          "description": "weekly", "users": members,
                          "schedule_layers": [{"id": f"PL{i:05d}", "name": "Layer 1", "start": "2026-01-01T00:00:00Z",
                                               "rotation_virtual_start": "2026-01-01T00:00:00Z",
                                               "rotation_turn_length_seconds": 604800,
                                               "users": [{"user": m} for m in members], "restrictions": []}],
                          "final_schedule": {"name": "Final Schedule", "rendered_coverage_percentage": 100.0,
                                             "rendered_schedule_entries": []}})
    eps = []
    svc_refs: dict[int, list[dict[str, Any]]] = {}
    for i in range(services):
        svc_refs.setdefault(i % n_eps, []).append(ref("service", f"PS{i:06d}", f"service-{i}"))
    for i in range(n_eps):
        s = schedules[i % n_sched]
        eps.append({"id": f"PE{i:06d}", "type": "escalation_policy", "name": f"ep-{i}", "num_loops": 1,
                    "on_call_handoff_notifications": "if_has_services",
                    "escalation_rules": [{"id": f"PR{i:06d}a", "escalation_delay_in_minutes": 30,
                                          "targets": [ref("schedule", s["id"], s["name"])]},
                                         {"id": f"PR{i:06d}b", "escalation_delay_in_minutes": 30,
                                          "targets": [ref("user", users[i % n_users]["id"], users[i % n_users]["name"])]}],
                    "teams": [ref("team", teams[i % n_teams]["id"], teams[i % n_teams]["name"])],
                    "services": svc_refs.get(i, [])})
    svcs = []
    for i in range(services):
        ep = eps[i % n_eps]
        sid = f"PS{i:06d}"
        svcs.append({
            "id": sid, "type": "service", "name": f"service-{i}", "summary": f"service-{i}",
            "description": f"Service number {i} of the benchmark account", "status": "active",
            "created_at": "2025-01-01T00:00:00Z", "updated_at": "2026-01-01T00:00:00Z",
            "last_incident_timestamp": f"2026-11-{1 + i % 25:02d}T00:00:00Z",
            "auto_resolve_timeout": 14400, "acknowledgement_timeout": 1800, "alert_creation": "create_alerts_and_incidents",
            "escalation_policy": ref("escalation_policy", ep["id"], ep["name"]),
            "teams": [ref("team", teams[i % n_teams]["id"], teams[i % n_teams]["name"])],
            "integrations": [{"id": f"PI{i:06d}{k}", "type": "generic_events_api_inbound_integration",
                              "name": f"events-{k}", "summary": f"events-{k}",
                              "service": ref("service", sid, f"service-{i}"),
                              "vendor": ref("vendor", "PVDATADOG", "Datadog")} for k in range(1 + i % 2)],
            "incident_urgency_rule": {"type": "constant", "urgency": "high"},
            "support_hours": None, "scheduled_actions": [],
            "alert_grouping_parameters": {"type": None}, "auto_pause_notifications_parameters": {"enabled": False},
            "self": f"https://api.pagerduty.com/services/{sid}", "html_url": f"https://acme.pagerduty.com/services/{sid}",
        })
    incs = []
    for i in range(incidents):
        s = svcs[rng.randrange(services)]
        incs.append({"id": f"Q{i:08d}", "type": "incident", "incident_number": i + 1, "title": f"Incident {i}",
                     "status": "resolved", "urgency": "high", "created_at": "2026-10-01T00:00:00Z",
                     "resolved_at": "2026-10-01T01:00:00Z",
                     "service": ref("service", s["id"], s["name"]),
                     "escalation_policy": ref("escalation_policy", s["escalation_policy"]["id"], "ep"),
                     "assignments": [], "acknowledgements": [], "teams": []})
    return {
        "schema_version": SCHEMA_VERSION,
        "meta": {"account_subdomain": "acme", "region": "us", "scanned_at": "2026-11-26T09:00:00Z",
                 "complete": True, "warnings": [], "duration_seconds": 60.0,
                 "collections": ["services", "escalation_policies", "schedules", "incidents", "teams", "users"],
                 "counts": {"services": services, "incidents": incidents}},
        "services": svcs, "escalation_policies": eps, "schedules": schedules, "incidents": incs,
        "teams": teams, "users": users, "flexible_schedules": [], "business_services": [], "service_dependencies": [],
        "addons": [], "extensions": [], "oncalls": [], "standards": [], "standards_scores": [], "iac": None,
    }


def findings_for(doc: dict[str, Any], every: int) -> Report:
    out = []
    for i, s in enumerate(doc["services"]):
        if i % every == 0:
            out.append(Finding(policy_id="PDG-SVC-004", title="Service has a description", severity="low",
                               msg=f"service {s['name']} ...", resource=Resource(type="service", id=s["id"], name=s["name"]),
                               fingerprint=fingerprint("PDG-SVC-004", "service", s["id"], {})))
    return Report(findings=out)


def second_scan(doc: dict[str, Any]) -> dict[str, Any]:
    new = copy.deepcopy(doc)
    new["meta"]["scanned_at"] = "2026-11-26T17:00:00Z"
    svcs = new["services"]
    for i in range(0, len(svcs), 100):  # ~1 % changed
        svcs[i]["description"] = f"edited {i}"
        svcs[i]["acknowledgement_timeout"] = None
    for s in svcs:  # volatile churn: must not count as a change
        s["last_incident_timestamp"] = "2026-11-26T16:00:00Z"
    del svcs[-50:]
    for k in range(50):
        sid = f"PSNEW{k:04d}"
        svcs.append(dict(copy.deepcopy(svcs[0]), id=sid, name=f"new-{k}", integrations=[]))
    return new


BEFORE_PER_SCAN = 49.5e6  # schema-1 store, this benchmark at full size (98.9 MB for two scans)


def db_bytes(store: Store) -> int | None:
    """Bytes of a SQLite store on disk, WAL checkpointed first (None for other back ends)."""
    if store.dialect != "sqlite":
        return None
    with store.engine.connect() as conn:
        conn.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")
    return store.size_bytes()


# One watch tick, in a child process (its own CPU, like the real `pdguard watch --once`): the
# steps of the CLI's tick (pdguard.cli.watch) with the scan's clock set to argv[3].
TICK = """
import json, os, sys, time, dataclasses
from datetime import datetime
t0 = time.perf_counter()
from pdguard.config import Config
from pdguard.engine.base import InputRef
from pdguard.evaluate import make_engine
from pdguard.inventory.incremental import IncrementalSettings, audit_since_latest, plan_scan
from pdguard.inventory.store import Store
from pdguard.pipeline import check_document, scan_options
from pdguard.scanner import scan
store_url, api_url, now, mode = sys.argv[1:5]
cfg = Config()
opts = dataclasses.replace(scan_options(cfg, api_url=api_url), now=datetime.fromisoformat(now))
store = Store(store_url)
t_start = time.perf_counter()
plan = plan_scan(store, audit_since_latest(store, opts), IncrementalSettings(), full=mode == "full")
t_plan = time.perf_counter()
doc = scan(plan.opts).document
t_scan = time.perf_counter()
report = check_document(InputRef(doc=doc), cfg, engine=make_engine(cfg))
t_eval = time.perf_counter()
if mode != "full":
    store.save_scan(doc, report)
t_save = time.perf_counter()
out = {"incremental": doc["meta"]["incremental"], "reason": plan.reason, "requests": doc["meta"]["requests"],
       "plan": t_plan - t_start, "scan": t_scan - t_plan, "evaluate": t_eval - t_scan, "store": t_save - t_eval,
       "tick": t_save - t_start, "imports": t_start - t0, "merged": doc["meta"].get("incidents_merged"),
       "incidents": len(doc["incidents"]), "complete": doc["meta"]["complete"]}
if len(sys.argv) > 5:
    json.dump({"incidents": sorted(i["id"] for i in doc["incidents"]),
               "fingerprints": sorted(f.fingerprint for f in [*report.findings, *report.waived])},
              open(sys.argv[5], "w"))
print(json.dumps(out))
"""


def account_day_before(account: Any, t1: Any) -> Any:
    """The account as it was at `t1`: incidents created after it do not exist yet, those resolved
    after it were still open, audit records after it not written yet."""
    from pdguard.simulator.account import iso, parse_time

    before = copy.copy(account)
    incidents = []
    for inc in account.incidents:
        if parse_time(inc["created_at"]) >= t1:
            continue
        if inc.get("status") == "resolved" and inc.get("resolved_at") and parse_time(inc["resolved_at"]) > t1:
            inc = copy.deepcopy(inc)
            inc.update(status="triggered", resolved_at=None, last_status_change_at=inc["created_at"],
                       updated_at=inc["created_at"], alert_counts={"all": 1, "triggered": 1, "resolved": 0})
        incidents.append(inc)
    before.incidents = incidents
    before.audit_records = [r for r in account.audit_records if parse_time(r["execution_time"]) < t1]
    before.generated_at = iso(t1)
    return before


def incremental_main(argv: list[str]) -> int:
    import gc
    import json
    import socket
    import subprocess
    from datetime import UTC, datetime, timedelta

    from pdguard.simulator import FaultConfig, generate_account, serve

    ap = argparse.ArgumentParser(prog="store.py incremental")
    ap.add_argument("--scale", type=float, default=1.0)
    ap.add_argument("--latency-ms", type=float, default=50.0)
    ap.add_argument("--verify", action="store_true", help="also a full scan at the second tick: same incidents, "
                                                          "same findings")
    args = ap.parse_args(argv)
    s = args.scale
    t2 = datetime.now(UTC).replace(microsecond=0)
    t1 = t2 - timedelta(days=1)
    load_before = os.getloadavg()
    t = time.perf_counter()
    later = generate_account(
        services=int(10_000 * s), escalation_policies=int(1_000 * s), schedules=int(500 * s),
        users=int(2_000 * s), teams=int(200 * s), incidents=int(50_000 * s),
        business_services=max(1, int(50 * s)), seed=1, now=t2)
    earlier = account_day_before(later, t1)
    new = len(later.incidents) - len(earlier.incidents)
    resolved_since = sum(1 for i in earlier.incidents if i.get("status") != "resolved") - sum(
        1 for i in later.incidents if i.get("status") != "resolved") + sum(
        1 for i in later.incidents if i.get("status") != "resolved" and i["created_at"] >= t1.isoformat()[:19])
    print(f"account: {later.counts()['services']} services, {len(later.incidents)} incidents; a day between ticks: "
          f"{new} new incidents, ~{resolved_since} resolved ({time.perf_counter() - t:.1f}s to generate)")
    gc.collect()
    gc.freeze()  # the simulator serves from this process: keep the GC off the account's objects
    token = "bench-token"
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    faults = FaultConfig(latency_ms=args.latency_ms, rate_limit=10**9)
    results = []
    with tempfile.TemporaryDirectory() as tmp:
        db = f"sqlite:///{Path(tmp) / 'inv.sqlite'}"
        env = {**os.environ, "PAGERDUTY_API_KEY": token}
        runs = [(earlier, t1, "tick"), (later, t2, "tick")] + ([(later, t2, "full")] if args.verify else [])
        for n, (account, when, mode) in enumerate(runs):
            with serve(account, tokens={token}, now=when, faults=faults, port=port) as server:
                start = time.perf_counter()
                extra = [str(Path(tmp) / f"ids{n}.json")] if args.verify else []
                proc = subprocess.run([sys.executable, "-c", TICK, db, server.url, when.isoformat(), mode, *extra],
                                      env=env, capture_output=True, text=True)
                wall = time.perf_counter() - start
                if proc.returncode != 0:
                    print(proc.stderr)
                    raise SystemExit(f"tick failed with exit code {proc.returncode}")
                out = json.loads(proc.stdout.strip().splitlines()[-1])
                out.update(wall=wall, served=server.stats.requests, paths=dict(server.stats.by_path))
                results.append(out)
        store = Store(db)
        size = db_bytes(store)
        scans = store.list_scans()
        store.close()
        verdict = None
        if args.verify:
            inc, full = (json.loads((Path(tmp) / f"ids{n}.json").read_text()) for n in (1, 2))
            verdict = (inc["incidents"] == full["incidents"], inc["fingerprints"] == full["fingerprints"])
    load_after = os.getloadavg()
    first, second = results[0], results[1]

    def buckets(paths: dict[str, int]) -> str:
        out: dict[str, int] = {}
        for p, k in paths.items():
            parts = p.strip("/").split("/")
            key = parts[0] + ("/{id}" if len(parts) > 1 and parts[0] in ("schedules", "incidents") else "") + (
                "/{id}" if parts[:1] == ["v3"] and len(parts) > 2 else "")
            out[key] = out.get(key, 0) + k
        return ", ".join(f"{k} {v}" for k, v in sorted(out.items(), key=lambda kv: -kv[1]))

    for label, r in (("tick 1 (full)", first), ("tick 2 (a day later)", second)):
        print(f"{label:22s} {'incremental' if r['incremental'] else 'full':11s} requests {r['served']:5d}  "
              f"plan {r['plan']:4.2f}s  scan {r['scan']:6.2f}s  evaluate {r['evaluate']:5.2f}s  "
              f"store {r['store']:5.2f}s  tick {r['tick']:6.2f}s  (process {r['wall']:.2f}s; {r['incidents']} incidents)")
        print(f"{'':22s} {buckets(r['paths'])}")
    print(f"tick 2: {second['reason']}; merged {second['merged']}")
    history = sum(n for p, n in second["paths"].items() if p.startswith(("/incidents", "/audit")))
    config = second["served"] - history
    print(f"requests ratio          {second['served'] / first['served']:.3f}   (target <= 0.35)")
    print(f"  of which incidents and audit records {history}; configuration {config} = "
          f"{config / first['served']:.3f}x tick 1 (read in full on every tick: service pages, score batches, on-call pages, ...)")
    print(f"scan wall time ratio    {second['scan'] / first['scan']:.3f}")
    print(f"tick wall time ratio    {second['tick'] / first['tick']:.3f}   (target <= 0.5; scan + evaluate + store)")
    print(f"store                   {size / 1e6 if size else 0:.1f} MB for {len(scans)} scans")
    if verdict is not None:
        full = results[2]
        print(f"verify: a full scan at tick 2's time: {full['served']} requests, {full['incidents']} incidents; "
              f"same incidents (ids): {verdict[0]}, same findings (fingerprints): {verdict[1]}")
    print(f"load average            {load_before[0]:.2f} before, {load_after[0]:.2f} after (2 cores, shared machine)")
    return 0


def main() -> int:
    if len(sys.argv) > 1 and sys.argv[1] == "incremental":
        return incremental_main(sys.argv[2:])
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--services", type=int, default=10_000)
    ap.add_argument("--incidents", type=int, default=50_000)
    ap.add_argument("--store", help="Store URL (default: a temporary SQLite file)")
    args = ap.parse_args()

    t0 = time.perf_counter()
    doc1 = synth(args.services, args.incidents)
    doc2 = second_scan(doc1)
    rep1, rep2 = findings_for(doc1, 7), findings_for(doc2, 5)
    build = time.perf_counter() - t0

    with tempfile.TemporaryDirectory() as tmp:
        url = args.store or f"sqlite:///{Path(tmp) / 'bench.sqlite'}"
        store = Store(url)
        empty = db_bytes(store)
        t = time.perf_counter()
        id1 = store.save_scan(doc1, rep1)
        save1 = time.perf_counter() - t
        after1 = db_bytes(store)
        t = time.perf_counter()
        id2 = store.save_scan(doc2, rep2, notify=[("bench-target", "https://example.org/***")])
        save2 = time.perf_counter() - t
        queued = len(store.pending_notifications("bench-target"))
        t = time.perf_counter()
        result = diff_scans(store, id1, id2)
        diff_t = time.perf_counter() - t
        after2 = db_bytes(store)
        size = after2
        t = time.perf_counter()
        pruned = store.prune(keep=1)
        prune_t = time.perf_counter() - t
        store.vacuum()
        one_scan = db_bytes(store)
        store.close()

    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    rss_mb = rss / (1024 * 1024) if sys.platform == "darwin" else rss / 1024
    s = result["summary"]
    n_integrations = sum(len(x["integrations"]) for x in doc1["services"])
    print(f"snapshot: {args.services} services, {n_integrations} integrations, "
          f"{len(doc1['escalation_policies'])} escalation policies, {len(doc1['schedules'])} schedules, "
          f"{len(doc1['users'])} users, {args.incidents} incidents (as incident history: compressed per day), "
          f"{len(rep1.findings)}/{len(rep2.findings)} findings")
    print(f"build synthetic docs : {build:7.2f} s")
    print(f"save scan 1          : {save1:7.2f} s")
    print(f"save scan 2          : {save2:7.2f} s")
    print(f"diff 1 -> 2          : {diff_t:7.2f} s  (added {s['added']}, removed {s['removed']}, changed {s['changed']}, "
          f"new findings {s['new_findings']}, fixed {s['fixed_findings']})")
    if size is not None and empty is not None and after1 is not None:
        per_scan = (size - empty) / 2
        print(f"database size        : {size / 1e6:7.1f} MB")
        print(f"bytes of scan 1      : {(after1 - empty) / 1e6:7.1f} MB")
        print(f"bytes of scan 2      : {(size - after1) / 1e6:7.1f} MB  (the same account 8 hours later)")
        ratio = (f"  ({per_scan / BEFORE_PER_SCAN:.2f}x the {BEFORE_PER_SCAN / 1e6:.1f} MB measured before snapshot "
                 "2.0; target <= 0.5x)") if (args.services, args.incidents) == (10_000, 50_000) else ""
        print(f"DB bytes per stored scan: {per_scan / 1e6:7.1f} MB{ratio}")
    print(f"outbox rows queued   : {queued:7d}     (scan 2's new findings, one target)")
    print(f"prune --keep 1       : {prune_t:7.2f} s   (deleted {len(pruned.deleted)} scan"
          + (f"; after VACUUM {one_scan / 1e6:.1f} MB for one scan)" if one_scan is not None else ")"))
    print(f"peak RSS             : {rss_mb:7.0f} MB")
    print(f"python {sys.version.split()[0]}, pid {os.getpid()}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
