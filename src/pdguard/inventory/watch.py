"""The ``watch`` loop (scan → evaluate → store → diff → notify every interval).

:func:`watch` is generic: the caller's ``tick`` does the work (the CLI's tick runs a scan, evaluates
policies, stores the scan and its outbox rows under :meth:`pdguard.inventory.store.Store.lock`,
diffs it with the previous one, delivers notifications with
:func:`pdguard.inventory.notify.deliver` and applies the retention). A failing tick is logged
ONCE (``tick N failed …: <one-line reason>``), handed to ``on_error`` (which must not log it
again) and retried at the next interval; the loop goes on. SIGTERM/SIGINT set the stop event: the
current tick finishes cleanly, then the loop returns; a second signal abandons the tick
(``KeyboardInterrupt``).
"""

from __future__ import annotations

import logging
import signal
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

from pdguard.errors import ConfigError, PdguardError
from pdguard.units import parse_duration

log = logging.getLogger("pdguard.watch")

T = TypeVar("T")


def parse_interval(text: str | float | int) -> float:
    """"8h", "30m", "1s", "90" (seconds), "1h30m", "1.5h" -> seconds (> 0)."""
    return parse_duration(text, what="interval")


def describe_error(exc: BaseException) -> str:
    """One line for a failed tick: a pdguard error's own message, else the exception type too."""
    msg = str(exc) if isinstance(exc, PdguardError) else f"{type(exc).__name__}: {exc}"
    return " ".join(msg.split())


@dataclass
class WatchResult(Generic[T]):
    ticks: int = 0
    failures: int = 0
    last_result: T | None = None
    last_error: Exception | None = None
    stopped_by_signal: bool = False


def watch(
    tick: Callable[[], T],
    interval_seconds: float,
    once: bool = False,
    on_error: Callable[[Exception], None] | None = None,
    stop_event: threading.Event | None = None,
    max_ticks: int | None = None,
    *,
    install_signal_handlers: bool = True,
) -> WatchResult[T]:
    """Run `tick` now and then every `interval_seconds` (start to start) until stopped.

    Stops after one tick with `once`, after `max_ticks` ticks, when `stop_event` is set (checked
    between ticks; the sleep is interrupted at once) or on SIGTERM/SIGINT (installed only when
    called from the main thread; previous handlers are restored on return). A tick raising an
    ``Exception`` is logged once and passed to `on_error`; the loop continues. Returns counts and
    the last result/error.
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
                again = "" if once or (max_ticks is not None and result.ticks >= max_ticks) else \
                    " (retrying at the next tick)"
                log.error("tick %d failed%s: %s", result.ticks, again, describe_error(exc),
                          exc_info=log.isEnabledFor(logging.DEBUG))
                if on_error is not None:
                    try:
                        on_error(exc)
                    except Exception as cb_exc:  # noqa: BLE001
                        log.error("watch on_error callback failed: %s", cb_exc)
            else:
                result.last_result = value
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

