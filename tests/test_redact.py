"""The one URL redaction helper and the log line format."""

from __future__ import annotations

import io
import logging
import re

import pytest

from pdguard import logs
from pdguard.redact import redact_text, redact_url


@pytest.mark.parametrize(
    ("url", "shown"),
    [
        ("https://hooks.slack.com/services/T0123ABCD/B0456EFGH/abcdEFGH1234ijklMNOP5678",
         "https://hooks.slack.com/services/***/***/***"),
        ("https://user:pa55@example.org/hooks/pdguard?token=s3cr3t#frag", "https://***@example.org/hooks/pdguard?***#***"),
        ("https://discord.com/api/webhooks/123456789012345678/AbCdEf-GhIj_KlMn", "https://discord.com/api/webhooks/***/***"),
        ("https://example.org/v2/hook", "https://example.org/v2/hook"),
        # a segment is kept only as a short lowercase word: a 24-letter lowercase token is masked too
        ("https://example.org/hook/qwertyuiopasdfghjklzxcvb", "https://example.org/hook/***"),
        ("http://127.0.0.1:8080/services?offset=100", "http://127.0.0.1:8080/services?***"),
        # PagerDuty's API: no credential in path or query (the key is a header): kept for -v
        ("https://api.pagerduty.com/services?offset=100&limit=100", "https://api.pagerduty.com/services?offset=100&limit=100"),
        ("https://me:pw@api.eu.pagerduty.com/incidents/Q1", "https://***@api.eu.pagerduty.com/incidents/Q1"),
        ("postgresql://pdguard:hunter2@db.internal:5432/inventory?sslpassword=x",
         "postgresql://***@db.internal:5432/inventory?***"),
        ("sqlite:////var/lib/pdguard/inventory-2.sqlite", "sqlite:////var/lib/pdguard/inventory-2.sqlite"),
        ("sqlite:////var/lib/pdguard/inventory.sqlite?key=s3cr3t", "sqlite:////var/lib/pdguard/inventory.sqlite?***"),
        # a lowercase segment with digits is a token, not a word
        ("https://example.org/hooks/abc123def456", "https://example.org/hooks/***"),
        # no scheme: nothing can be parsed apart, so anything that may carry a credential is hidden
        ("hooks.example.org/x?token=s3cr3t", "<url>"),
        ("user:s3cr3t@hooks.example.org/x", "<url>"),
        ("hooks.example.org/notify", "hooks.example.org/notify"),
        # only the REST API hosts keep their path: other pagerduty.com hosts carry integration keys
        ("https://events.pagerduty.com/integration/0123456789abcdef0123456789abcdef/enqueue",
         "https://events.pagerduty.com/integration/***/enqueue"),
        ("https://acme.pagerduty.com/services?token=s3cr3t", "https://acme.pagerduty.com/services?***"),
    ],
)
def test_redact_url(url: str, shown: str) -> None:
    assert redact_url(url) == shown


def test_redact_text_finds_every_url() -> None:
    text = ("POST https://hooks.slack.com/services/T01/B02/xyzSECRET9 failed; retry "
            "http://u:SECRETpw@h.example/x?SECRETq=1 (see https://api.pagerduty.com/services)")
    out = redact_text(text)
    assert "SECRET" not in out
    assert "https://api.pagerduty.com/services" in out and out.startswith("POST https://hooks.slack.com/services/***")


def test_redact_text_masks_database_urls_too() -> None:
    out = redact_text("store postgresql+psycopg://pdguard:SECRETpw@db.internal/inv is not a pdguard store")
    assert "SECRET" not in out and "postgresql+psycopg://***@db.internal/inv" in out


def test_log_lines_are_timestamped_utc_and_redacted() -> None:
    buf = io.StringIO()
    root = logging.getLogger()
    saved = (root.level, list(root.handlers), logging.getLogger("pdguard").level)
    try:
        logs.setup(0, stream=buf)
        logs.setup(0, stream=buf)  # idempotent: one handler, one line per record
        logging.getLogger("pdguard.watch").warning("posting to https://x:SECRET@hooks.example/a/SECRETb?c=SECRET")
        logging.getLogger("pdguard.api").error("boom \x1b[2J")
        logging.getLogger("pdguard.watch").info("not shown at the default level")
    finally:
        for h in list(root.handlers):
            root.removeHandler(h)
        for h in saved[1]:
            root.addHandler(h)
        root.setLevel(saved[0])
        logging.getLogger("pdguard").setLevel(saved[2])
    lines = buf.getvalue().splitlines()
    assert len(lines) == 2
    ts = r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z"
    assert re.fullmatch(ts + r" pdguard watch: warning: posting to https://\*\*\*@hooks\.example/a/\*\*\*\?\*\*\*", lines[0])
    assert re.fullmatch(ts + r" pdguard: error: boom \\x1b\[2J", lines[1])  # escapes made inert
