"""The ``watch`` loop (scan → evaluate → store → diff every interval) and its notifications.

:func:`watch` is generic: the caller's ``tick`` does the work (the CLI's tick runs a scan, evaluates
policies, stores the scan under :meth:`pdguard.inventory.store.Store.lock`, diffs it with the
previous one and calls :func:`notify_new_findings`). A failing tick is logged, handed to
``on_error`` and retried at the next interval; the loop goes on. SIGTERM/SIGINT set the stop
event: the current tick finishes cleanly, then the loop returns; a second signal abandons the
tick (``KeyboardInterrupt``).
"""

from __future__ import annotations

import json
import logging
import re
import signal
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Generic, TypeVar

from pdguard import __version__
from pdguard.errors import ConfigError

log = logging.getLogger("pdguard.watch")

T = TypeVar("T")

_UNITS = {"ms": 0.001, "s": 1.0, "m": 60.0, "h": 3600.0, "d": 86400.0, "w": 604800.0}
_PART_RE = re.compile(r"(\d+(?:\.\d+)?)\s*(ms|s|m|h|d|w)", re.IGNORECASE)


def parse_interval(text: str | float | int) -> float:
    """"8h", "30m", "1s", "90" (seconds), "1h30m", "1.5h" -> seconds (> 0)."""
    if isinstance(text, int | float) and not isinstance(text, bool):
        seconds = float(text)
    else:
        s = str(text).strip().lower().replace(" ", "")
        if not s:
            raise ConfigError("empty interval (use e.g. 8h, 30m, 90s or 90)")
        try:
            seconds = float(s)
        except ValueError:
            pos, seconds = 0, 0.0
            for m in _PART_RE.finditer(s):
                if m.start() != pos:
                    break
                seconds += float(m.group(1)) * _UNITS[m.group(2).lower()]
                pos = m.end()
            if pos != len(s) or pos == 0:
                raise ConfigError(f"invalid interval '{text}' (use e.g. 8h, 30m, 90s, 1h30m or 90)") from None
    if not seconds > 0 or seconds != seconds or seconds == float("inf"):
        raise ConfigError(f"invalid interval '{text}': it must be greater than zero")
    return seconds


@dataclass
class WatchResult(Generic[T]):
    ticks: int = 0
    failures: int = 0
    last_result: T | None = None
    last_error: Exception | None = None
    stopped_by_signal: bool = False
    results: list[Any] = field(default_factory=list, repr=False)


def watch(
    tick: Callable[[], T],
    interval_seconds: float,
    once: bool = False,
    on_error: Callable[[Exception], None] | None = None,
    stop_event: threading.Event | None = None,
    max_ticks: int | None = None,
    *,
    install_signal_handlers: bool = True,
    keep_results: bool = False,
) -> WatchResult[T]:
    """Run `tick` now and then every `interval_seconds` (start to start) until stopped.

    Stops after one tick with `once`, after `max_ticks` ticks, when `stop_event` is set (checked
    between ticks; the sleep is interrupted at once) or on SIGTERM/SIGINT (installed only when
    called from the main thread; previous handlers are restored on return). A tick raising an
    ``Exception`` is logged and passed to `on_error`; the loop continues. Returns counts and the
    last result/error.
    """
    if interval_seconds <= 0 and not once and max_ticks != 1:
        raise ConfigError("watch interval must be greater than zero")
    stop = stop_event or threading.Event()
    result: WatchResult[T] = WatchResult()
    signals_seen = 0
    previous: dict[int, Any] = {}

    def handler(signum: int, _frame: Any) -> None:
        nonlocal signals_seen
        signals_seen += 1
        result.stopped_by_signal = True
        name = signal.Signals(signum).name
        if signals_seen == 1:
            log.warning("%s received: finishing the current tick, then stopping (repeat to abort)", name)
            stop.set()
        else:
            log.warning("%s received again: abandoning the current tick", name)
            raise KeyboardInterrupt

    if install_signal_handlers and threading.current_thread() is threading.main_thread():
        for sig in (signal.SIGTERM, signal.SIGINT):
            try:
                previous[sig] = signal.signal(sig, handler)
            except (ValueError, OSError):  # pragma: no cover - unusual platforms
                pass
    try:
        while not stop.is_set():
            started = time.monotonic()
            result.ticks += 1
            try:
                value = tick()
            except Exception as exc:  # noqa: BLE001 - a failed tick must not end the loop
                result.failures += 1
                result.last_error = exc
                log.error("watch tick %d failed: %s", result.ticks, exc, exc_info=log.isEnabledFor(logging.DEBUG))
                if on_error is not None:
                    try:
                        on_error(exc)
                    except Exception as cb_exc:  # noqa: BLE001
                        log.error("watch on_error callback failed: %s", cb_exc)
            else:
                result.last_result = value
                if keep_results:
                    result.results.append(value)
            if once or (max_ticks is not None and result.ticks >= max_ticks):
                break
            remaining = interval_seconds - (time.monotonic() - started)
            if remaining > 0:
                stop.wait(remaining)
    finally:
        for sig, old in previous.items():
            try:
                signal.signal(sig, old)
            except (ValueError, OSError):  # pragma: no cover
                pass
    return result


# ---------------------------------------------------------------------------------- notifications


def check_notify_target(target: str) -> str:
    """Validate an ``--on-new-findings`` target: a .json/.sarif file path or an http(s) URL."""
    t = target.strip()
    if re.match(r"^https?://", t, re.IGNORECASE):
        return t
    if t.lower().endswith((".json", ".sarif")):
        return t
    raise ConfigError(f"--on-new-findings target must be a .json or .sarif file or an http(s) URL, got '{target}'")


def new_findings_summary(diff_result: dict[str, Any]) -> dict[str, Any]:
    return {
        "event": "pdguard.new_findings",
        "tool": {"name": "pdguard", "version": __version__},
        "from_scan": diff_result.get("a"),
        "to_scan": diff_result.get("b"),
        "summary": diff_result.get("summary", {}),
        "new_findings": diff_result.get("findings", {}).get("new", []),
        "fixed_findings": diff_result.get("findings", {}).get("fixed", []),
    }


def new_findings_report(diff_result: dict[str, Any], report: Any = None) -> Any:
    """A :class:`~pdguard.findings.Report` of only the new findings of a diff: taken from the tick's
    full `report` (with Terraform locations) when given, else rebuilt from the diff's summaries."""
    from pdguard.findings import Finding, Report, Resource

    new = diff_result.get("findings", {}).get("new", [])
    prints = {f["fingerprint"] for f in new}
    if report is not None:
        kept = [f for f in report.findings if f.fingerprint in prints]
        if len(kept) == len(prints):
            return report.model_copy(update={"findings": kept, "waived": [], "fixed": [], "expired_waivers": []})
    findings = []
    for f in new:
        res = f.get("resource") or {}
        findings.append(Finding(
            policy_id=f["policy_id"], title=f.get("title") or f["policy_id"], severity=f.get("severity") or "medium",
            msg=f.get("msg") or f["policy_id"], fingerprint=f["fingerprint"],
            resource=Resource(**{**res, "type": str(res.get("type") or "resource"), "id": str(res.get("id") or "")}),
        ))
    meta = dict(report.meta) if report is not None else {}
    return Report(tool={"name": "pdguard", "version": __version__}, meta=meta,
                  policies=list(report.policies) if report is not None else [], findings=findings)


def new_findings_sarif(diff_result: dict[str, Any], report: Any = None) -> str:
    """SARIF of the new findings, written by the one SARIF module (:mod:`pdguard.output.sarif`):
    physical locations and the same fingerprint key as `check --format sarif`, so GitHub accepts it
    and tracks the same alerts."""
    from pdguard.output.sarif import SarifOutput

    return SarifOutput().render(new_findings_report(diff_result, report))


def notify_new_findings(diff_result: dict[str, Any], target: str, *, timeout: float = 5.0, report: Any = None) -> bool:
    """Deliver the new findings of a :func:`pdguard.inventory.diff.diff_scans` result.

    Nothing is done (returns False) when there is no new finding. A ``.json`` path gets the JSON
    summary, a ``.sarif`` path a SARIF 2.1.0 log of the new findings (both written atomically); an
    http(s) URL gets the JSON summary POSTed (`timeout` seconds; failures are logged, not raised).
    Returns True when delivered.
    """
    target = check_notify_target(target)
    new = diff_result.get("findings", {}).get("new", [])
    if not new:
        return False
    if re.match(r"^https?://", target, re.IGNORECASE):
        import httpx

        try:
            resp = httpx.post(
                target,
                json=new_findings_summary(diff_result),
                timeout=timeout,
                headers={"User-Agent": f"pdguard/{__version__}"},
            )
        except httpx.HTTPError as exc:
            reason = (str(exc) or type(exc).__name__).replace(target, _redact(target))
            log.error("could not notify %s of %d new finding(s): %s", _redact(target), len(new), reason)
            return False
        if resp.status_code >= 400:
            log.error("could not notify %s of %d new finding(s): HTTP %d", _redact(target), len(new), resp.status_code)
            return False
        return True
    from pdguard.errors import PdguardError
    from pdguard.fileout import write_output

    if target.lower().endswith(".sarif"):
        text = new_findings_sarif(diff_result, report)
    else:
        text = json.dumps(new_findings_summary(diff_result), indent=2, ensure_ascii=False) + "\n"
    try:
        write_output(target, text, what="new findings")
    except PdguardError as exc:
        log.error("could not write new findings: %s", exc)
        return False
    return True


def _redact(url: str) -> str:
    """Drop credentials and query strings (webhook tokens) from a URL before logging it."""
    m = re.match(r"^(https?://)(?:[^@/]*@)?([^/?#]*)([^?#]*)", url, re.IGNORECASE)
    return (m.group(1) + m.group(2) + m.group(3)) if m else "<url>"


def run_forever(tick: Callable[[], T], interval: str | float, **kwargs: Any) -> WatchResult[T]:
    """`watch(tick, parse_interval(interval), **kwargs)`: convenience for callers with a text interval."""
    return watch(tick, parse_interval(interval), **kwargs)

