"""New-findings notifications: targets, bodies (Slack, generic JSON, files), and at-least-once
delivery from the store's outbox over real HTTP (tests/receiver.py)."""

from __future__ import annotations

import json
import logging
import time
from pathlib import Path

import pytest
from receiver import receiver

from pdguard.config import NotifySettings
from pdguard.errors import ConfigError
from pdguard.findings import Finding, Report, Resource, fingerprint
from pdguard.inventory import notify
from pdguard.inventory.notify import Target, deliver, json_body, parse_target, slack_body
from pdguard.inventory.store import Store
from pdguard.inventory.watch import watch
from pdguard.snapshot import SCHEMA_VERSION

FAST = NotifySettings(retries=0, backoff="1ms", timeout="5s")

SECRET = "xoxbSecretToken9876543210"


def finding(rid: str, severity: str = "high", msg: str | None = None, name: str | None = None) -> Finding:
    return Finding(policy_id="PDG-SVC-002", title="Service has an escalation policy", severity=severity,
                   msg=msg or f"service {rid} has no escalation policy",
                   resource=Resource(type="service", id=rid, name=name or rid.lower()),
                   fingerprint=fingerprint("PDG-SVC-002", "service", rid, {}))


def doc(n: int) -> dict:
    return {"schema_version": SCHEMA_VERSION,
            "meta": {"scanned_at": f"2026-11-2{n}T09:00:00Z", "account_subdomain": "acme", "complete": True,
                     "counts": {}, "collections": ["services"]},
            "services": [{"id": f"PS{i}", "name": f"s{i}"} for i in range(n)]}


@pytest.fixture()
def store(tmp_path: Path):
    s = Store(f"sqlite:///{tmp_path / 'inv.sqlite'}")
    yield s
    s.close()


def save(store: Store, n: int, targets: list[Target], *rids: str) -> int:
    return store.save_scan(doc(n), Report(findings=[finding(r) for r in rids]),
                           notify=[(t.key, t.label) for t in targets])


# ------------------------------------------------------------------------------------------ targets


def test_parse_target_kinds_and_formats(tmp_path: Path) -> None:
    slack = parse_target(f"https://hooks.slack.com/services/T01ABCDEF/B02GHIJKL/{SECRET}")
    assert (slack.kind, slack.body) == ("webhook", "slack")
    assert slack.label == "https://hooks.slack.com/services/***/***/***"
    assert SECRET not in repr(slack) and SECRET not in slack.key
    assert parse_target("https://example.org/hooks/pdguard").body == "json"
    assert parse_target("https://example.org/hooks/pdguard", "slack").body == "slack"
    assert parse_target(f"https://hooks.slack.com/services/T/B/{SECRET}", "json").body == "json"
    j = parse_target(str(tmp_path / "new.json"))
    s = parse_target(str(tmp_path / "new.SARIF"))
    assert (j.kind, s.kind) == ("json", "sarif") and j.key != s.key
    for bad in ("report.txt", "ftp://x/y", "https://"):
        with pytest.raises(ConfigError):
            parse_target(bad)
    with pytest.raises(ConfigError) as err:
        parse_target(f"https://user:{SECRET}@example.org/x.txt?token={SECRET}", "xml")
    assert SECRET not in str(err.value)


# ------------------------------------------------------------------------------------------- bodies


def rows(*findings: Finding, scan_id: int = 7) -> list[dict]:
    return [{"id": i + 1, "scan_id": scan_id, "fingerprint": f.fingerprint, "finding": f.model_dump(mode="json"),
             "scanned_at": "2026-11-26T09:00:00Z", "account": "acme"} for i, f in enumerate(findings)]


def test_json_body() -> None:
    body = json_body(rows(finding("PS1", "low"), finding("PS2", "critical")))
    assert body["event"] == "pdguard.new_findings" and body["count"] == 2
    assert [f["resource"]["id"] for f in body["new_findings"]] == ["PS2", "PS1"]  # most severe first
    assert body["new_findings"][0]["first_seen"] == "2026-11-26T09:00:00Z"
    assert body["scans"] == [{"id": 7, "scanned_at": "2026-11-26T09:00:00Z", "account": "acme"}]
    assert body["text"] == "pdguard: 2 new findings in acme (1 critical, 1 low)"
    assert len(body["delivery_id"]) == 24


def test_slack_body_fits_slack_and_neutralises_pagerduty_text() -> None:
    evil = finding("PS1", msg="<!channel> click <https://evil.example|here> & \x1b[2J\u202eoops",
                   name="web\x07<@U123>")
    many = [finding(f"PX{i:03d}", "medium", msg="m" * 400) for i in range(60)]
    body = slack_body(rows(evil, *many))
    assert set(body) == {"text", "blocks"}
    assert 0 < len(body["blocks"]) <= 50 and body["blocks"][0]["type"] == "header"
    assert len(body["blocks"][0]["text"]["text"]) <= 150
    for b in body["blocks"]:
        if b["type"] == "section":
            assert len(b["text"]["text"]) <= 3000
    text = json.dumps(body)
    assert "<!channel>" not in text and "<https://evil" not in text and "<@U123>" not in text
    assert "&lt;!channel&gt;" in body["text"] and "&amp;" in body["text"]
    assert not any(ch in body["text"] or ch in text for ch in ("\x1b", "\x07", "\u202e"))
    assert not any(ch in json.loads(text)["text"] for ch in ("\x1b", "\x07", "\u202e"))
    assert "…and 41 more" in body["blocks"][-1]["elements"][0]["text"]  # 61 findings, 20 listed
    assert body["text"].splitlines()[1].startswith("• [HIGH] PDG-SVC-002")


def test_sarif_file_is_what_check_writes_for_those_findings(store: Store, tmp_path: Path) -> None:
    """One SARIF module: the .sarif target renders the stored findings (Terraform location kept)
    exactly as `check --format sarif` renders them."""
    from report_fixtures import sample_report

    from pdguard.output.sarif import SarifOutput

    report = sample_report()
    f = report.findings[1]  # has a Terraform location
    assert f.location is not None
    target = parse_target(str(tmp_path / "new.sarif"))
    store.save_scan(doc(1), Report(findings=[]))
    store.save_scan(doc(2), Report(findings=[f]), notify=[(target.key, target.label)])
    assert deliver(store, [target], FAST).ok
    got = json.loads((tmp_path / "new.sarif").read_text())["runs"][0]
    want = json.loads(SarifOutput().render(report.model_copy(update={"findings": [f], "waived": []})))["runs"][0]
    assert got["results"] == want["results"]
    assert got["results"][0]["locations"][0]["physicalLocation"]["artifactLocation"]["uri"] == "terraform/services.tf"


def test_sarif_file_uses_the_sarif_module(store: Store, tmp_path: Path) -> None:
    target = parse_target(str(tmp_path / "out" / "new.sarif"))
    save(store, 1, [target], "PS0")
    save(store, 2, [target], "PS0", "PS1")
    out = deliver(store, [target], FAST)
    assert out.delivered == 1 and out.ok
    sarif = json.loads((tmp_path / "out" / "new.sarif").read_text())
    from pdguard.output.sarif import FINGERPRINT_KEY

    result = sarif["runs"][0]["results"][0]
    assert result["partialFingerprints"] == {FINGERPRINT_KEY: fingerprint("PDG-SVC-002", "service", "PS1", {})}
    assert result["locations"][0]["physicalLocation"]["artifactLocation"]["uri"] == "pagerduty/services/PS1.json"
    assert sarif["runs"][0]["automationDetails"]["id"] == "pdguard/acme/"
    schema_path = Path(__file__).resolve().parents[2] / "shared" / "reference" / "sarif-schema-2.1.0.json"
    if schema_path.is_file():
        import jsonschema

        jsonschema.validate(sarif, json.loads(schema_path.read_text()))


# ----------------------------------------------------------------------------------------- delivery


def test_webhook_down_two_ticks_then_up_delivers_every_finding_exactly_once(store: Store) -> None:
    """The issue's acceptance test, at the store level with the watch loop: ticks 2 and 3 find new
    findings while the webhook answers 500; tick 4 (webhook up) delivers both ticks' findings,
    once; tick 5 delivers nothing again."""
    with receiver() as rec:
        target = parse_target(f"{rec.url}/hook")
        plan = {1: ("PS0",), 2: ("PS0", "PS1"), 3: ("PS0", "PS1", "PS2", "PS3"), 4: ("PS0", "PS1", "PS2", "PS3", "PS4"),
                5: ("PS0", "PS1", "PS2", "PS3", "PS4")}
        outcomes = []
        n = 0

        def tick() -> notify.DeliveryOutcome:
            nonlocal n
            n += 1
            if n == 2:
                rec.down()
            if n == 4:
                rec.up()
            save(store, n, [target], *plan[n])
            out = deliver(store, [target], FAST)
            outcomes.append(out)
            return out

        result = watch(tick, 0.01, max_ticks=5, install_signal_handlers=False)
    assert result.failures == 0
    assert [o.ok for o in outcomes] == [True, False, False, True, True]
    assert [o.pending for o in outcomes] == [0, 1, 3, 0, 0]
    expected = [fingerprint("PDG-SVC-002", "service", r, {}) for r in ("PS1", "PS2", "PS3", "PS4")]
    assert sorted(rec.fingerprints()) == sorted(expected)  # each exactly once
    assert len(rec.fingerprints()) == len(set(rec.fingerprints())) == 4
    assert [s for _, s in rec.requests] == [500, 500, 200]  # tick 1 had nothing new, tick 5 nothing pending
    assert store.pending_notifications(target.key) == []
    with store.engine.connect() as conn:
        import sqlalchemy as sa

        attempts = dict(conn.execute(sa.text("SELECT fingerprint, attempts FROM outbox")).all())
    assert attempts[expected[0]] == 3 and attempts[expected[3]] == 1


def test_retries_within_a_tick_honour_retry_after_and_skip_4xx(store: Store) -> None:
    waits: list[float] = []
    settings = NotifySettings(retries=2, backoff="2s", timeout="5s")
    with receiver() as rec:
        target = parse_target(f"{rec.url}/hook")
        save(store, 1, [target], "PS0")
        save(store, 2, [target], "PS0", "PS1")
        rec.fail_next, rec.fail_status, rec.retry_after = 1, 503, "0.5"
        out = deliver(store, [target], settings, sleep=waits.append)
        assert out.ok and out.delivered == 1 and waits == [0.5]
        save(store, 3, [target], "PS0", "PS1", "PS2")
        rec.fail_next, rec.fail_status, rec.retry_after = 5, 500, None
        out = deliver(store, [target], settings, sleep=waits.append)
        assert not out.ok and waits[1:] == [2.0, 4.0]  # backoff doubles; retries + 1 attempts
        save(store, 4, [target], "PS0", "PS1", "PS2", "PS3")
        rec.fail_next = 0
        rec.down(404)  # a webhook that is gone: no retry within the tick, kept for the next one
        out = deliver(store, [target], settings, sleep=waits.append)
        assert not out.ok and out.pending == 2 and len(waits) == 3
    assert [s for _, s in rec.requests] == [503, 200, 500, 500, 500, 404]


def test_a_rate_limited_webhook_is_retried_after_at_most_a_minute(store: Store) -> None:
    """Slack answers 429 with Retry-After when a webhook posts too fast: retried within the tick (not
    left for the next one like a 404), and a Retry-After of an hour waits a minute, not an hour."""
    waits: list[float] = []
    settings = NotifySettings(retries=1, backoff="2s", timeout="5s")
    with receiver() as rec:
        target = parse_target(f"{rec.url}/hook")
        save(store, 1, [target], "PS0")
        save(store, 2, [target], "PS0", "PS1")
        rec.fail_next, rec.fail_status, rec.retry_after = 1, 429, "3600"
        out = deliver(store, [target], settings, sleep=waits.append)
    assert out.ok and out.delivered == 1 and waits == [notify.MAX_RETRY_AFTER] == [60.0]
    assert [s for _, s in rec.requests] == [429, 200]


def test_a_negative_retry_after_is_no_wait_not_a_crash(store: Store) -> None:
    """Retry-After comes from the receiver (untrusted): `-5` means retry now, never a negative
    sleep (time.sleep raises on one, which would end the tick with the finding undelivered)."""
    waits: list[float] = []

    def sleep(seconds: float) -> None:
        waits.append(seconds)
        time.sleep(seconds)  # the real sleep: it rejects a negative duration

    with receiver() as rec:
        target = parse_target(f"{rec.url}/hook")
        save(store, 1, [target], "PS0")
        save(store, 2, [target], "PS0", "PS1")
        rec.fail_next, rec.fail_status, rec.retry_after = 1, 503, "-5"
        out = deliver(store, [target], NotifySettings(retries=1, backoff="2s", timeout="5s"), sleep=sleep)
    assert out.ok and out.delivered == 1 and waits == [0.0]
    assert [s for _, s in rec.requests] == [503, 200]


def test_large_json_batches_are_chunked_and_a_partial_failure_resumes(store: Store, monkeypatch) -> None:
    monkeypatch.setattr(notify, "JSON_CHUNK", 2)
    with receiver() as rec:
        target = parse_target(f"{rec.url}/hook")
        save(store, 1, [target], "PS0")
        save(store, 2, [target], "PS0", "PS1", "PS2", "PS3", "PS4", "PS5")  # 5 new: 3 messages
        rec.fail_next, rec.status = 0, 200
        calls = []
        real = notify.http_post

        def flaky(url, body, timeout):
            calls.append(body["count"])
            if len(calls) == 2:
                return notify.HttpResult(500, "HTTP 500")
            return real(url, body, timeout)

        out = deliver(store, [target], FAST, post=flaky)
        assert out.delivered == 2 and out.pending == 3 and not out.ok
        out = deliver(store, [target], FAST)
        assert out.delivered == 3 and out.ok and out.messages == 2
    assert sorted(rec.fingerprints()) == sorted(fingerprint("PDG-SVC-002", "service", f"PS{i}", {}) for i in range(1, 6))


def test_expired_notifications_are_dropped_with_a_warning(store: Store, caplog) -> None:
    target = parse_target("https://127.0.0.1:9/hook")  # nothing listens there
    save(store, 1, [target], "PS0")
    save(store, 2, [target], "PS0", "PS1")
    with store.engine.begin() as conn:
        import sqlalchemy as sa

        conn.execute(sa.text("UPDATE outbox SET created_at = '2026-01-01T00:00:00Z', last_error = 'HTTP 500'"))
    with caplog.at_level(logging.WARNING, logger="pdguard.watch"):
        out = deliver(store, [target], NotifySettings(max_age="7d"))
    assert out.expired == 1 and not out.ok and out.delivered == 0
    assert store.pending_notifications(target.key) == []
    assert "dropped 1 undelivered notification(s) for https://127.0.0.1:9/hook: older than notify.max_age 7d" \
        in caplog.text and "HTTP 500" in caplog.text


def test_max_age_boundary_a_row_exactly_max_age_old_is_still_due(store: Store) -> None:
    """notify.max_age drops rows created MORE than max_age ago: one exactly max_age old is still
    delivered at that tick; a second later it is dropped."""
    from datetime import UTC, datetime, timedelta

    target = parse_target("https://example.org/hook")
    save(store, 1, [target], "PS0")
    save(store, 2, [target], "PS0", "PS1")
    with store.engine.begin() as conn:
        import sqlalchemy as sa

        conn.execute(sa.text("UPDATE outbox SET created_at = '2026-01-01T00:00:00Z'"))
    week = 7 * 86400.0
    at = datetime(2026, 1, 8, tzinfo=UTC)
    assert store.expire_notifications(week, now=at) == []
    assert len(store.pending_notifications(target.key)) == 1
    gone = store.expire_notifications(week, now=at + timedelta(seconds=1))
    assert [g["count"] for g in gone] == [1] and store.pending_notifications(target.key) == []


def test_delivered_notifications_never_expire(store: Store, caplog) -> None:
    """notify.max_age drops what was never delivered; rows delivered long ago are not "dropped
    undelivered" (that warning, and a failed outcome, on every tick of a healthy webhook)."""
    with receiver() as rec:
        target = parse_target(f"{rec.url}/hook")
        save(store, 1, [target], "PS0")
        save(store, 2, [target], "PS0", "PS1")
        assert deliver(store, [target], FAST).delivered == 1
        with store.engine.begin() as conn:
            import sqlalchemy as sa

            conn.execute(sa.text("UPDATE outbox SET created_at = '2026-01-01T00:00:00Z'"))
        with caplog.at_level(logging.WARNING, logger="pdguard.watch"):
            out = deliver(store, [target], NotifySettings(max_age="7d"))
    assert out.ok and out.expired == 0 and "dropped" not in caplog.text
    assert len(rec.fingerprints()) == 1


@pytest.mark.parametrize("status", [408, 425, 429, 502])
def test_transient_statuses_are_retried_within_the_tick(store: Store, status: int) -> None:
    with receiver() as rec:
        target = parse_target(f"{rec.url}/hook")
        save(store, 1, [target], "PS0")
        save(store, 2, [target], "PS0", "PS1")
        rec.fail_next, rec.fail_status = 1, status
        out = deliver(store, [target], NotifySettings(retries=1, backoff="1ms", timeout="5s"), sleep=lambda s: None)
    assert out.ok and out.delivered == 1
    assert [s for _, s in rec.requests] == [status, 200]


def test_a_file_that_cannot_be_written_stays_pending(store: Store, tmp_path: Path) -> None:
    blocker = tmp_path / "not-a-dir"
    blocker.write_text("x")
    target = parse_target(str(blocker / "new.json"))
    save(store, 1, [target], "PS0")
    save(store, 2, [target], "PS0", "PS1")
    assert not deliver(store, [target], FAST).ok
    assert len(store.pending_notifications(target.key)) == 1
    blocker.unlink()
    out = deliver(store, [target], FAST)
    assert out.ok and out.delivered == 1
    assert json.loads((blocker / "new.json").read_text())["new_findings"][0]["resource"]["id"] == "PS1"


def test_outbox_rows_are_exactly_the_diffs_new_findings(store: Store) -> None:
    from pdguard.inventory.diff import diff_scans

    target = parse_target("https://example.org/hook")
    store.save_scan(doc(1), Report(findings=[finding("PS0"), finding("PS9")]))
    waived = finding("PS3").model_copy(update={"waived": True})
    sid = store.save_scan(doc(2), Report(findings=[finding("PS0"), finding("PS1"), finding("PS1"), finding("PS2")],
                                         waived=[waived]), notify=[(target.key, target.label)])
    d = diff_scans(store)
    assert d["b"]["id"] == sid
    assert sorted(r["fingerprint"] for r in store.pending_notifications(target.key)) == \
        sorted(f["fingerprint"] for f in d["findings"]["new"])
    # an incomplete scan, or the very first scan, notifies nothing
    incomplete = doc(3)
    incomplete["meta"]["complete"] = False
    store.save_scan(incomplete, Report(findings=[finding("PS7")]), notify=[(target.key, target.label)])
    assert len(store.pending_notifications(target.key)) == 2


@pytest.fixture()
def log_stream():
    """pdguard's own log handler (what the CLI installs) writing to a buffer, at -vv (httpx lines too)."""
    import io

    from pdguard import logs

    root = logging.getLogger()
    names = ("httpx", "httpcore", "pdguard")
    saved = (root.level, list(root.handlers), {n: logging.getLogger(n).level for n in names})
    buf = io.StringIO()
    logs.setup(2, stream=buf)
    yield buf
    for h in list(root.handlers):
        root.removeHandler(h)
    for h in saved[1]:
        root.addHandler(h)
    root.setLevel(saved[0])
    for n, level in saved[2].items():
        logging.getLogger(n).setLevel(level)


def test_failures_are_logged_once_with_the_url_redacted(store: Store, log_stream) -> None:
    with receiver() as rec:
        url = f"http://user:{SECRET}@{rec.url.removeprefix('http://')}/services/T0AB12/B0CD34/{SECRET}?token={SECRET}"
        target = parse_target(url)
        save(store, 1, [target], "PS0")
        save(store, 2, [target], "PS0", "PS1")
        rec.down()
        deliver(store, [target], FAST)
        rec.up()
        deliver(store, [target], FAST)
    text = log_stream.getvalue()
    assert "HTTP Request: POST" in text  # httpx's own request lines are there (-vv), redacted too
    assert SECRET not in text and "user:" not in text and "T0AB12" not in text
    errors = [line for line in text.splitlines() if "error:" in line]
    assert len(errors) == 1 and "/services/***/***/***?***" in errors[0]
    assert "notified http://***@127.0.0.1" in text
    with store.engine.connect() as conn:
        import sqlalchemy as sa

        stored = " ".join(str(v) for row in conn.execute(sa.text("SELECT * FROM outbox")).all() for v in row)
    assert SECRET not in stored
