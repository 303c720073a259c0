"""watch loop and interval parsing (notifications: tests/test_notify.py)."""

from __future__ import annotations

import logging
import os
import signal
import threading
import time

import pytest

from pdguard.errors import ConfigError, ScanError
from pdguard.inventory.watch import parse_interval, watch


@pytest.mark.parametrize(
    ("text", "seconds"),
    [("8h", 28800), ("30m", 1800), ("1s", 1), ("90", 90), ("1h30m", 5400), ("1.5h", 5400), ("250ms", 0.25),
     ("2d", 172800), (" 45S ", 45), (12, 12)],
)
def test_parse_interval(text: str, seconds: float) -> None:
    assert parse_interval(text) == pytest.approx(seconds)


@pytest.mark.parametrize("text", ["", "0", "-5", "8x", "h", "5m junk", "m5", "nan", "inf", "1e999", "0s"])
def test_parse_interval_rejects(text: str) -> None:
    with pytest.raises(ConfigError):
        parse_interval(text)


def test_watch_runs_max_ticks_and_survives_a_failing_tick(caplog: pytest.LogCaptureFixture) -> None:
    calls: list[int] = []
    errors: list[Exception] = []

    def tick() -> int:
        calls.append(len(calls) + 1)
        if len(calls) == 2:
            raise ScanError("PagerDuty API unavailable")
        if len(calls) == 3:
            raise RuntimeError("boom")
        return len(calls)

    with caplog.at_level(logging.INFO, logger="pdguard.watch"):
        result = watch(tick, 0.01, once=False, on_error=errors.append, max_ticks=4)
    assert calls == [1, 2, 3, 4]
    assert result.ticks == 4 and result.failures == 2 and result.last_result == 4
    assert [str(e) for e in errors] == ["PagerDuty API unavailable", "boom"]
    # each failure is logged exactly once, as one line
    assert [r.getMessage() for r in caplog.records] == [
        "tick 2 failed (retrying at the next tick): PagerDuty API unavailable",
        "tick 3 failed (retrying at the next tick): RuntimeError: boom",
    ]


def test_watch_once() -> None:
    result = watch(lambda: "done", 3600, once=True, on_error=lambda e: None)
    assert result.ticks == 1 and result.last_result == "done"


def test_watch_on_error_callback_failure_does_not_end_the_loop() -> None:
    def bad_callback(exc: Exception) -> None:
        raise ValueError("callback broken")

    result = watch(lambda: 1 / 0, 0.01, on_error=bad_callback, max_ticks=2)
    assert result.ticks == 2 and result.failures == 2


def test_stop_event_interrupts_the_sleep() -> None:
    stop = threading.Event()
    ticks: list[float] = []

    def tick() -> None:
        ticks.append(time.monotonic())
        threading.Timer(0.1, stop.set).start()

    started = time.monotonic()
    result = watch(tick, 3600, on_error=lambda e: None, stop_event=stop)
    assert result.ticks == 1
    assert time.monotonic() - started < 5  # did not sleep an hour


def test_sigterm_finishes_the_current_tick_then_stops() -> None:
    """A signal during a tick: the tick completes, no further tick runs, handlers are restored."""
    if threading.current_thread() is not threading.main_thread():  # pragma: no cover
        pytest.skip("signal handlers need the main thread")
    before = signal.getsignal(signal.SIGTERM)
    finished: list[int] = []

    def tick() -> None:
        os.kill(os.getpid(), signal.SIGTERM)
        time.sleep(0.05)  # the handler has run; the tick keeps going
        finished.append(1)

    result = watch(tick, 0.01, on_error=lambda e: None, max_ticks=100)
    assert finished == [1] and result.ticks == 1 and result.stopped_by_signal
    assert signal.getsignal(signal.SIGTERM) is before


def test_second_signal_abandons() -> None:
    if threading.current_thread() is not threading.main_thread():  # pragma: no cover
        pytest.skip("signal handlers need the main thread")
    reached: list[str] = []

    def tick() -> None:
        os.kill(os.getpid(), signal.SIGINT)
        time.sleep(0.05)
        reached.append("after first")
        os.kill(os.getpid(), signal.SIGINT)
        time.sleep(0.05)
        reached.append("after second")  # never reached

    with pytest.raises(KeyboardInterrupt):
        watch(tick, 0.01, on_error=lambda e: None, max_ticks=5)
    assert reached == ["after first"]


@pytest.mark.parametrize(("text", "iso"), [
    ("2026-11-26T09:00:00Z", "2026-11-26T09:00:00+00:00"),
    ("2026-11-26T09:00:00.123z", "2026-11-26T09:00:00.123000+00:00"),
    ("2026-11-26T10:00:00+01:00", "2026-11-26T09:00:00+00:00"),
    (" 2026-11-26T09:00:00 ", "2026-11-26T09:00:00+00:00"),  # no offset: UTC
    ("2026-11-26", "2026-11-26T00:00:00+00:00"),
])
def test_parse_time(text: str, iso: str) -> None:
    from pdguard.units import parse_time

    assert parse_time(text).isoformat() == iso  # type: ignore[union-attr]


@pytest.mark.parametrize("value", [None, "", "  ", "yesterday", "2026-13-01T00:00:00Z", 1764147600])
def test_parse_time_rejects(value: object) -> None:
    from pdguard.units import parse_time

    assert parse_time(value) is None
