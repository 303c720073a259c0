"""Incremental rescans: what a ``watch`` tick reads, and when it scans in full.

A tick after a complete scan of the same account reads the configuration collections in full
(they are cheap) but incidents only since that scan's window end, less a safety overlap
(``watch.overlap``, default 1 hour: incidents PagerDuty shows a little late are not lost), plus
every unresolved incident; the base scan's incidents resolved since are read again, and the
resolved history of the rest of the lookback window comes from the store
(:meth:`pdguard.inventory.store.Store.incident_history`). The snapshot evaluated is the one a
full scan gives: same incidents (a copy read now always wins over the stored one), same findings.

A tick scans in full (:func:`plan_scan` says why, ``watch`` logs it) when:

* ``watch --full`` or ``watch.incremental: false``;
* there is no complete scan of the account yet, or the newest scan of the account is incomplete
  (or the previous tick of this process failed for it);
* the base scan has no usable incident history (stored before schema 7, damaged, incidents
  without a creation time, or incidents not collected);
* the lookback changed (``--lookback-days``, ``--incidents-since``), or the API URL, region or
  account changed; an account that turns out to be another one (its subdomain) is refused by the
  scanner (:class:`pdguard.scanner.BaseMismatch`) and scanned again in full;
* the base is older than the lookback window (nothing to merge), or its window ends after now
  (the clocks disagree);
* ``watch.full_every`` ticks (default 21: weekly at 8-hour ticks) have passed: ``full_every - 1``
  incremental scans follow each full one.

Resolved incidents are taken as final: a change PagerDuty makes to a resolved incident created
before the overlap (a priority edited after resolution) shows at the next full rescan.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from pdguard.units import parse_time

DEFAULT_FULL_EVERY = 21  # one tick in 21 scans in full: weekly with 8-hour ticks
DEFAULT_OVERLAP = 3600.0  # seconds re-read before the base's window end


@dataclass
class IncrementalSettings:
    enabled: bool = True
    full_every: int = DEFAULT_FULL_EVERY
    overlap: float = DEFAULT_OVERLAP  # seconds


@dataclass
class ScanPlan:
    opts: Any  # pdguard.scanner.ScanOptions, with `incident_base` when incremental
    incremental: bool
    reason: str  # why a full scan, or what the incremental one merges
    base_id: int | None = None


def _api_url(opts: Any) -> str:
    from pdguard.pdapi.client import REGIONS

    return str(opts.api_url or REGIONS.get(opts.region, "")).rstrip("/")


def _since(opts: Any, now: datetime) -> datetime:
    since = opts.incidents_since or (now - timedelta(days=opts.lookback_days))
    return since if since.tzinfo is not None else since.replace(tzinfo=UTC)


def base_run(scan: dict[str, Any]) -> int:
    """Incremental scans in a row up to and including `scan` (0 for a full scan)."""
    meta = scan.get("meta") or {}
    merged = meta.get("incidents_merged")
    if meta.get("incremental") and isinstance(merged, dict) and isinstance(merged.get("run"), int):
        return merged["run"]
    return 0


def plan_scan(store: Any, opts: Any, settings: IncrementalSettings, *, full: bool = False,
              last_failed: bool = False, now: datetime | None = None) -> ScanPlan:
    """The scan a tick runs: `opts` unchanged (full, with the reason) or with an
    :class:`pdguard.scanner.IncidentBase` from the latest complete scan of ``opts.account``."""
    from pdguard.inventory.incidents import IncidentHistoryError
    from pdguard.scanner import IncidentBase

    def full_scan(reason: str, base_id: int | None = None) -> ScanPlan:
        return ScanPlan(dataclasses.replace(opts, incident_base=None), False, reason, base_id)

    if full:
        return full_scan("full scan requested (--full)")
    if not settings.enabled:
        return full_scan("incremental rescans are off (watch.incremental: false)")
    if "incidents" not in opts.collections:
        return full_scan("incidents are not scanned")
    account = opts.account
    base = store.latest(account)
    if base is None:
        return full_scan("first scan of this account" if account is None else f"first scan of account {account}")
    meta = base["meta"] or {}
    newest = store.list_scans(limit=1, account=base["account"], counts=False)
    if last_failed:
        return full_scan("the previous tick failed", base["id"])
    if newest and newest[0]["id"] != base["id"]:
        return full_scan(f"the newest scan ({newest[0]['id']}) is incomplete", base["id"])
    if meta.get("account") != account:
        return full_scan(f"scan {base['id']} is of {'account ' + str(meta.get('account')) if meta.get('account') else 'another account'}",
                         base["id"])
    if str(meta.get("api_url") or "").rstrip("/") != _api_url(opts) or meta.get("region") != opts.region:
        return full_scan(f"the API URL or region changed since scan {base['id']}", base["id"])
    lookback = None if opts.incidents_since is not None else opts.lookback_days
    if meta.get("incidents_lookback_days") != lookback or (
            lookback is None and parse_time(meta.get("incidents_since")) != _since(opts, now or datetime.now(UTC))):
        return full_scan(f"the incident lookback changed since scan {base['id']}", base["id"])
    run = base_run(base) + 1
    if run >= max(1, settings.full_every):
        return full_scan(f"scheduled full rescan (one tick in {settings.full_every})", base["id"])
    end = parse_time(base.get("window_end") or base.get("scanned_at"))
    if end is None:
        return full_scan(f"scan {base['id']} has no window end", base["id"])
    when = (opts.now or now or datetime.now(UTC)).replace(microsecond=0)
    since = _since(opts, when)
    read_from = end - timedelta(seconds=settings.overlap)
    if read_from <= since:
        return full_scan(f"scan {base['id']} is older than the incident lookback window", base["id"])
    if end > when:
        return full_scan(f"scan {base['id']} ends after now ({base.get('window_end')}): clocks disagree", base["id"])
    try:
        history = store.incident_history(base["id"], since)
    except IncidentHistoryError as exc:
        return full_scan(f"the stored incident history is not usable: {exc}", base["id"])
    if history.undated:
        return full_scan(f"scan {base['id']} holds {history.undated} resolved incidents without a creation time",
                         base["id"])
    incident_base = IncidentBase(
        scan_id=base["id"], read_from=read_from, resolved=history.resolved, unresolved=history.unresolved,
        subdomain=meta.get("account_subdomain"), run=run)
    return ScanPlan(dataclasses.replace(opts, incident_base=incident_base), True,
                    f"incremental: incidents read since {read_from.strftime('%Y-%m-%dT%H:%M:%SZ')}, the history of "
                    f"scan {base['id']} merged", base["id"])


def audit_since_latest(store: Any, opts: Any) -> Any:
    """Watch: read audit records since the latest stored scan of the account (a few minutes of
    overlap), not the whole --audit-days window on every tick; the first tick reads the whole window."""
    if "audit_records" not in opts.collections:
        return opts
    latest = store.latest(opts.account)
    at = parse_time((latest or {}).get("scanned_at"))
    if at is None:
        return opts
    since = at - timedelta(minutes=5)
    floor = (opts.now or datetime.now(UTC)) - timedelta(days=opts.audit_days)
    return dataclasses.replace(opts, audit_since=max(since, floor))
