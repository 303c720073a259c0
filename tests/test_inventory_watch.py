"""watch loop, interval parsing, new-findings notifications."""

from __future__ import annotations

import json
import logging
import os
import signal
import threading
import time
from http.server import BaseHTTPRequestHandler, HTTPServer
from pathlib import Path

import pytest

from pdguard.errors import ConfigError
from pdguard.inventory.watch import check_notify_target, notify_new_findings, parse_interval, watch


@pytest.mark.parametrize(
    ("text", "seconds"),
    [("8h", 28800), ("30m", 1800), ("1s", 1), ("90", 90), ("1h30m", 5400), ("1.5h", 5400), ("250ms", 0.25),
     ("2d", 172800), (" 45S ", 45), (12, 12)],
)
def test_parse_interval(text: str, seconds: float) -> None:
    assert parse_interval(text) == pytest.approx(seconds)


@pytest.mark.parametrize("text", ["", "0", "-5", "8x", "h", "5m junk", "m5", "nan"])
def test_parse_interval_rejects(text: str) -> None:
    with pytest.raises(ConfigError):
        parse_interval(text)


def test_watch_runs_max_ticks_and_survives_a_failing_tick(caplog: pytest.LogCaptureFixture) -> None:
    calls: list[int] = []
    errors: list[Exception] = []

    def tick() -> int:
        calls.append(len(calls) + 1)
        if len(calls) == 2:
            raise RuntimeError("PagerDuty API unavailable")
        return len(calls)

    with caplog.at_level(logging.ERROR, logger="pdguard.watch"):
        result = watch(tick, 0.01, once=False, on_error=errors.append, max_ticks=3)
    assert calls == [1, 2, 3]
    assert result.ticks == 3 and result.failures == 1 and result.last_result == 3
    assert [str(e) for e in errors] == ["PagerDuty API unavailable"]
    assert "watch tick 2 failed: PagerDuty API unavailable" in caplog.text


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


DIFF = {
    "a": {"id": 1, "scanned_at": "2026-11-26T09:00:00Z"},
    "b": {"id": 2, "scanned_at": "2026-11-26T17:00:00Z"},
    "summary": {"added": 0, "removed": 0, "changed": 0, "new_findings": 1, "fixed_findings": 0},
    "findings": {
        "new": [{"fingerprint": "f" * 32, "policy_id": "PDG-SVC-002", "severity": "critical", "title": "EP",
                 "msg": "service web has no escalation policy",
                 "resource": {"type": "service", "id": "PS2", "name": "web"}}],
        "fixed": [],
    },
}


def test_notify_json_and_sarif_files(tmp_path: Path) -> None:
    j = tmp_path / "out" / "new.json"
    assert notify_new_findings(DIFF, str(j)) is True
    data = json.loads(j.read_text())
    assert data["event"] == "pdguard.new_findings" and data["new_findings"][0]["resource"]["id"] == "PS2"
    s = tmp_path / "new.sarif"
    assert notify_new_findings(DIFF, str(s)) is True
    sarif = json.loads(s.read_text())
    assert sarif["version"] == "2.1.0"
    result = sarif["runs"][0]["results"][0]
    assert result["ruleId"] == "PDG-SVC-002" and result["level"] == "error"
    # One SARIF module: the same fingerprint key as `check --format sarif`, and the physical
    # location GitHub requires (the pseudo path of the resource).
    from pdguard.output.sarif import FINGERPRINT_KEY, SarifOutput

    assert result["partialFingerprints"] == {FINGERPRINT_KEY: "f" * 32}
    loc = result["locations"][0]["physicalLocation"]
    assert loc["artifactLocation"]["uri"] == "pagerduty/services/PS2.json" and loc["region"]["startLine"] == 1
    # With the tick's report, the SARIF is exactly what `check` writes for those findings.
    from report_fixtures import sample_report

    report = sample_report()
    f = report.findings[1]  # has a Terraform location
    diff = dict(DIFF, findings={"new": [{"fingerprint": f.fingerprint, "policy_id": f.policy_id}], "fixed": []})
    assert notify_new_findings(diff, str(s), report=report) is True
    got = json.loads(s.read_text())["runs"][0]
    want = json.loads(SarifOutput().render(report.model_copy(update={"findings": [f], "waived": []})))["runs"][0]
    assert got["results"] == want["results"]
    assert got["results"][0]["locations"][0]["physicalLocation"]["artifactLocation"]["uri"] == "terraform/services.tf"
    # nothing new: nothing written
    empty = dict(DIFF, findings={"new": [], "fixed": []})
    assert notify_new_findings(empty, str(tmp_path / "none.json")) is False
    assert not (tmp_path / "none.json").exists()


def test_notify_target_validation() -> None:
    assert check_notify_target("https://hooks.example/x") == "https://hooks.example/x"
    with pytest.raises(ConfigError):
        check_notify_target("report.txt")


def test_notify_webhook_posts_json_and_never_raises(caplog: pytest.LogCaptureFixture) -> None:
    received: list[dict] = []

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:  # noqa: N802
            n = int(self.headers["Content-Length"])
            received.append(json.loads(self.rfile.read(n)))
            status = 200 if self.path == "/ok" else 500
            self.send_response(status)
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, *args: object) -> None:
            pass

    server = HTTPServer(("127.0.0.1", 0), Handler)
    t = threading.Thread(target=server.serve_forever, daemon=True)
    t.start()
    try:
        base = f"http://127.0.0.1:{server.server_port}"
        assert notify_new_findings(DIFF, f"{base}/ok") is True
        assert received[0]["new_findings"][0]["policy_id"] == "PDG-SVC-002"
        with caplog.at_level(logging.ERROR, logger="pdguard.watch"):
            assert notify_new_findings(DIFF, f"{base}/fail?token=secret") is False
        assert "could not notify" in caplog.text and "secret" not in caplog.text
    finally:
        server.shutdown()
        server.server_close()
    # unreachable: logged, not raised
    assert notify_new_findings(DIFF, "http://127.0.0.1:9/hook", timeout=0.5) is False


def test_watch_with_store_and_lock(tmp_path: Path) -> None:
    """The shape the CLI's watch uses: tick = lock, save, diff, notify."""
    from pdguard.findings import Finding, Report, Resource, fingerprint
    from pdguard.inventory.diff import diff_scans
    from pdguard.inventory.store import Store

    store = Store(f"sqlite:///{tmp_path / 'inv.sqlite'}")
    n = 0

    def tick() -> dict | None:
        nonlocal n
        n += 1
        doc = {"schema_version": "2.0", "meta": {"scanned_at": f"2026-11-26T0{n}:00:00Z", "complete": True},
               "services": [{"id": f"PS{i}", "name": f"s{i}"} for i in range(n)]}
        findings = [Finding(policy_id="PDG-SVC-002", title="t", severity="high", msg="m",
                            resource=Resource(type="service", id=f"PS{i}"),
                            fingerprint=fingerprint("PDG-SVC-002", "service", f"PS{i}", {})) for i in range(n)]
        with store.lock(timeout=5):
            store.save_scan(doc, Report(findings=findings))
        if n == 1:
            return None
        d = diff_scans(store)
        notify_new_findings(d, str(tmp_path / "new.json"))
        return d

    result = watch(tick, 0.01, on_error=lambda e: None, max_ticks=3)
    assert result.failures == 0 and result.last_result["summary"]["added"] == 1
    assert json.loads((tmp_path / "new.json").read_text())["new_findings"][0]["resource"]["id"] == "PS2"
    store.close()
