"""New-findings notifications, delivered at least once from the store's outbox.

``watch --on-new-findings TARGET`` (repeatable). When a complete scan is stored, each of its new
findings (those :func:`pdguard.inventory.diff.diff_scans` calls ``new``) gets one outbox row per
target, in the scan's own transaction (:meth:`pdguard.inventory.store.Store.save_scan`). Every
tick then runs :func:`deliver`:

1. undelivered rows older than ``notify.max_age`` (default 7 days) are dropped, with a warning;
2. per target, the pending rows (oldest first) are sent; a message that is accepted (HTTP 2xx,
   or the file written) marks its rows delivered, so they are never sent again; a failed one is
   retried ``notify.retries`` times within the tick (backoff ``notify.backoff``, doubling; a
   ``Retry-After`` header wins, up to 60 s), then left pending for the next tick.

So a webhook that is down for a few ticks receives every finding exactly once when it is back.
(A crash between the receiver's 2xx and the commit of "delivered" re-sends that message once:
messages carry ``delivery_id`` and each finding its ``fingerprint`` for receivers that dedupe.)

Targets:

* ``https://…``: a webhook. Body ``slack`` (Slack incoming webhooks: ``text`` + ``blocks``; the
  default for ``hooks.slack.com``) or ``json`` (any other URL; see :func:`json_body`), or forced
  with ``--notify-format`` / ``notify.format``. JSON bodies carry up to :data:`JSON_CHUNK`
  findings each; a Slack message lists the :data:`SLACK_LINES` most severe and counts the rest.
* ``FILE.json`` (the JSON body) or ``FILE.sarif`` (SARIF 2.1.0 from :mod:`pdguard.output.sarif`,
  with the Terraform locations the findings had in their tick): written with
  :func:`pdguard.fileout.write_output`; delivered when written.

The target's URL is never stored nor logged: the outbox keeps a hash of it and its redacted
form (:func:`pdguard.redact.redact_url`).
"""

from __future__ import annotations

import hashlib
import json
import logging
import re
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

from pdguard import __version__
from pdguard.errors import ConfigError
from pdguard.findings import severity_index
from pdguard.redact import redact_text, redact_url
from pdguard.textsafe import safe_text
from pdguard.units import format_duration

if TYPE_CHECKING:  # pragma: no cover
    from pdguard.config import NotifySettings
    from pdguard.inventory.store import Store

log = logging.getLogger("pdguard.watch")

SLACK_HOSTS = frozenset({"hooks.slack.com", "hooks.slack-gov.com"})
JSON_CHUNK = 500  # findings per JSON message
SLACK_LINES = 20  # findings listed in a Slack message (the rest are counted)
MAX_RETRY_AFTER = 60.0
EVENT = "pdguard.new_findings"


@dataclass(frozen=True)
class Target:
    """One ``--on-new-findings`` target. ``raw`` (the URL, maybe with a secret) is never shown."""

    raw: str = field(repr=False)
    kind: Literal["webhook", "json", "sarif"]
    body: Literal["slack", "json"]
    key: str
    label: str

    def __repr__(self) -> str:
        return f"Target({self.label!r}, {self.kind}, {self.body})"


def _key(text: str) -> str:
    return hashlib.sha256(b"pdguard-notify-target\0" + text.encode("utf-8")).hexdigest()[:32]


def parse_target(text: str, fmt: str = "auto") -> Target:
    """An http(s) URL (webhook) or a ``.json`` / ``.sarif`` file path; `fmt` chooses a webhook's body."""
    t = text.strip()
    if fmt not in ("auto", "slack", "json"):
        raise ConfigError(f"--notify-format must be auto, slack or json, got '{fmt}'")
    if re.match(r"^https?://", t, re.IGNORECASE):
        from urllib.parse import urlsplit

        try:
            host = (urlsplit(t).hostname or "").lower()
        except ValueError:
            host = ""
        if not host:
            raise ConfigError(f"--on-new-findings: invalid URL {redact_url(t)}")
        body: Literal["slack", "json"] = ("slack" if host in SLACK_HOSTS else "json") if fmt == "auto" else fmt  # type: ignore[assignment]
        return Target(t, "webhook", body, _key(t), redact_url(t))
    lower = t.lower()
    if lower.endswith((".json", ".sarif")):
        path = str(Path(t).expanduser().absolute())
        return Target(path, "sarif" if lower.endswith(".sarif") else "json", "json", _key("file:" + path), t)
    raise ConfigError(f"--on-new-findings target must be a .json or .sarif file or an http(s) URL, "
                      f"got '{redact_url(text)}'")


@dataclass
class DeliveryOutcome:
    """What one :func:`deliver` call did (findings are counted once per target)."""

    delivered: int = 0
    messages: int = 0
    pending: int = 0  # left undelivered after a failure (retried at the next tick)
    expired: int = 0  # dropped: older than max_age
    failed_targets: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        """Every notification that was due went out (nothing left failing, nothing dropped)."""
        return not self.failed_targets and not self.expired


# ------------------------------------------------------------------------------------------ bodies

def clean(text: Any, limit: int = 300) -> str:
    """Text from PagerDuty made safe for a chat line (:func:`pdguard.textsafe.safe_text`: control
    and bidi characters made visible and inert, one line), at most `limit` characters."""
    s = safe_text(text)
    return s if len(s) <= limit else s[: limit - 1] + "…"


def _slack_escape(text: str) -> str:
    # Slack's mrkdwn: &, < and > must be escaped (else `<!channel>` or `<https://evil|click>`).
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def _finding_summary(row: dict[str, Any]) -> dict[str, Any]:
    f = row.get("finding") or {}
    return {
        "fingerprint": row["fingerprint"],
        "policy_id": f.get("policy_id"),
        "severity": f.get("severity"),
        "title": f.get("title"),
        "msg": f.get("msg"),
        "resource": f.get("resource"),
        "remediation": f.get("remediation") or None,
        "scan_id": row.get("scan_id"),
        "first_seen": row.get("scanned_at"),
        "account": row.get("account"),
    }


def _sorted(rows: Sequence[dict[str, Any]]) -> list[dict[str, Any]]:
    def key(r: dict[str, Any]) -> tuple[int, str, str]:
        f = r.get("finding") or {}
        return (severity_index(str(f.get("severity"))), str(f.get("policy_id")), str(r["fingerprint"]))

    return sorted(rows, key=key)


def _headline(rows: Sequence[dict[str, Any]]) -> str:
    by_sev: dict[str, int] = {}
    for r in rows:
        sev = str((r.get("finding") or {}).get("severity") or "unknown")
        by_sev[sev] = by_sev.get(sev, 0) + 1
    parts = ", ".join(f"{n} {s}" for s, n in sorted(by_sev.items(), key=lambda kv: severity_index(kv[0])))
    accounts = sorted({str(r.get("account")) for r in rows if r.get("account")})
    where = f" in {clean(', '.join(accounts), 80)}" if accounts else ""
    n = len(rows)
    return f"pdguard: {n} new finding{'s' if n != 1 else ''}{where} ({parts})"


def _line(row: dict[str, Any]) -> str:
    f = row.get("finding") or {}
    res = f.get("resource") or {}
    name = res.get("name") or res.get("id")
    what = f"{res.get('type')} {name}" + (f" ({res.get('id')})" if res.get("name") and res.get("id") else "")
    where = f"{clean(f.get('account'), 40)} · " if f.get("account") else ""  # a configured account
    return (f"[{str(f.get('severity')).upper()}] {where}{f.get('policy_id')} {clean(what, 120)}: "
            f"{clean(f.get('msg'), 200)}")


def delivery_id(rows: Sequence[dict[str, Any]]) -> str:
    return hashlib.sha256(",".join(str(r["id"]) for r in rows).encode()).hexdigest()[:24]


def json_body(rows: Sequence[dict[str, Any]]) -> dict[str, Any]:
    """The generic JSON body (webhooks with ``json`` format and ``.json`` files)::

        {"event": "pdguard.new_findings", "tool": {"name", "version"}, "delivery_id": str,
         "text": "pdguard: 2 new findings in acme (1 critical, 1 high)",
         "scans": [{"id", "scanned_at", "account"}], "count": 2,
         "new_findings": [{"fingerprint", "policy_id", "severity", "title", "msg", "resource",
                           "remediation", "scan_id", "first_seen", "account"}]}
    """
    ordered = _sorted(rows)
    scans: dict[Any, dict[str, Any]] = {}
    for r in rows:
        scans.setdefault(r.get("scan_id"), {"id": r.get("scan_id"), "scanned_at": r.get("scanned_at"),
                                            "account": r.get("account")})
    return {
        "event": EVENT,
        "tool": {"name": "pdguard", "version": __version__},
        "delivery_id": delivery_id(rows),
        "text": _headline(rows),
        "scans": [scans[k] for k in sorted(scans, key=lambda x: (x is None, x))],
        "count": len(rows),
        "new_findings": [_finding_summary(r) for r in ordered],
    }


def slack_body(rows: Sequence[dict[str, Any]]) -> dict[str, Any]:
    """A Slack incoming-webhook message: ``text`` (the fallback, also read by Mattermost-style
    receivers) and ``blocks``: a header, the :data:`SLACK_LINES` most severe findings in sections
    of at most 3,000 characters, and a context line counting the rest."""
    ordered = _sorted(rows)
    shown = ordered[:SLACK_LINES]
    rest = len(ordered) - len(shown)
    headline = _slack_escape(_headline(rows))
    lines = [f"• {_slack_escape(_line(r))}" for r in shown]
    more = f"…and {rest} more (see `pdguard diff`)" if rest else ""
    sections: list[str] = []
    for line in lines:
        if sections and len(sections[-1]) + 1 + len(line) <= 3000:
            sections[-1] += "\n" + line
        else:
            sections.append(line[:3000])
    blocks: list[dict[str, Any]] = [{"type": "header", "text": {"type": "plain_text", "text": headline[:150]}}]
    blocks += [{"type": "section", "text": {"type": "mrkdwn", "text": sec}} for sec in sections]
    scans = sorted({int(r["scan_id"]) for r in rows if r.get("scan_id") is not None})
    context = f"scan{'s' if len(scans) != 1 else ''} {', '.join(map(str, scans[-5:]))}" if scans else ""
    context = " · ".join(x for x in (context, more) if x)
    if context:
        blocks.append({"type": "context", "elements": [{"type": "mrkdwn", "text": context}]})
    text = "\n".join([headline, *lines, *([more] if more else [])])
    return {"text": text[:3000], "blocks": blocks}


def sarif_text(rows: Sequence[dict[str, Any]]) -> str:
    """The findings as SARIF 2.1.0, rendered by the one SARIF module (:mod:`pdguard.output.sarif`)."""
    from pdguard.findings import Finding, Report
    from pdguard.output.sarif import SarifOutput

    findings = [Finding.model_validate(r["finding"]) for r in _sorted(rows)]
    accounts = sorted({str(r.get("account")) for r in rows if r.get("account")})
    configured = sorted({f.account for f in findings if f.account})
    if len(configured) > 1:  # several accounts: one run each (see pdguard.output.sarif)
        meta: dict[str, Any] = {"accounts": {name: {"account": name} for name in configured}}
    elif configured:
        meta = {"account": configured[0]}
    else:
        meta = {"account_subdomain": accounts[0]} if len(accounts) == 1 else {}
    report = Report(tool={"name": "pdguard", "version": __version__}, meta=meta, findings=findings)
    return SarifOutput().render(report)


# ---------------------------------------------------------------------------------------- delivery


@dataclass
class HttpResult:
    status: int | None  # None: no answer (network error)
    error: str  # one line, redacted
    retry_after: float | None = None


def _retry_after(value: str | None) -> float | None:
    if not value:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        return None


def http_post(url: str, body: dict[str, Any], timeout: float) -> HttpResult:
    import httpx

    data = json.dumps(body, ensure_ascii=False).encode("utf-8")
    headers = {"Content-Type": "application/json", "User-Agent": f"pdguard/{__version__}"}
    try:
        resp = httpx.post(url, content=data, headers=headers, timeout=timeout, follow_redirects=False)
    except httpx.HTTPError as exc:
        text = redact_text(" ".join(str(exc).split())).replace(url, redact_url(url)) or type(exc).__name__
        return HttpResult(None, f"{type(exc).__name__}: {text}"[:300])
    if 200 <= resp.status_code < 300:
        return HttpResult(resp.status_code, "")
    return HttpResult(resp.status_code, f"HTTP {resp.status_code}", _retry_after(resp.headers.get("retry-after")))


def _retryable(result: HttpResult) -> bool:
    return result.status is None or result.status in (408, 425, 429) or result.status >= 500


def _write_file(target: Target, rows: Sequence[dict[str, Any]]) -> str:
    """'' when written (:func:`pdguard.fileout.write_output`: atomic for a regular file, through a
    symlink, never replacing a device), else the one-line error."""
    from pdguard.errors import PdguardError
    from pdguard.fileout import write_output

    text = sarif_text(rows) if target.kind == "sarif" else json.dumps(json_body(rows), indent=2, ensure_ascii=False) + "\n"
    try:
        write_output(target.raw, text, what="new findings")
    except PdguardError as exc:
        return str(exc)
    return ""


def deliver(
    store: Store,
    targets: Sequence[Target],
    settings: NotifySettings,
    *,
    post: Callable[[str, dict[str, Any], float], HttpResult] = http_post,
    sleep: Callable[[float], None] = time.sleep,
) -> DeliveryOutcome:
    """Drop expired outbox rows, then send every target's pending rows (see the module docstring).

    Never raises for a delivery problem (it is logged once and counted in the outcome); a store
    error propagates.
    """
    out = DeliveryOutcome()
    max_age = settings.seconds("max_age")
    for gone in store.expire_notifications(max_age):
        out.expired += gone["count"]
        log.warning(
            "dropped %d undelivered notification(s) for %s: older than notify.max_age %s (oldest from %s%s)",
            gone["count"], gone["target_label"], format_duration(max_age), gone["oldest"],
            f"; last error: {gone['last_error']}" if gone.get("last_error") else "",
        )
    retries, backoff, timeout = settings.retries, settings.seconds("backoff"), settings.seconds("timeout")
    for target in targets:
        rows = store.pending_notifications(target.key)
        if not rows:
            continue
        if target.kind == "webhook" and target.body == "json":
            chunks = [rows[i : i + JSON_CHUNK] for i in range(0, len(rows), JSON_CHUNK)]
        else:  # a Slack message counts what it does not list; a file holds them all
            chunks = [rows]
        sent = 0
        for n_chunk, chunk in enumerate(chunks):
            ids = [int(r["id"]) for r in chunk]
            if target.kind != "webhook":
                error = _write_file(target, chunk)
            else:
                body = slack_body(chunk) if target.body == "slack" else json_body(chunk)
                error = ""
                for attempt in range(retries + 1):
                    result = post(target.raw, body, timeout)
                    error = result.error
                    if not error:
                        break
                    if attempt == retries or not _retryable(result):
                        break
                    wait = result.retry_after if result.retry_after is not None else backoff * (2 ** attempt)
                    sleep(min(MAX_RETRY_AFTER, wait))
            if error:
                store.mark_failed(ids, error)
                left = sum(len(c) for c in chunks[n_chunk:])
                out.pending += left
                out.failed_targets.append(target.label)
                log.error("could not notify %s of %d new finding(s): %s; they stay in the outbox and the next "
                          "tick retries them", target.label, left, error)
                break
            store.mark_delivered(ids)
            sent += len(chunk)
            out.messages += 1
        if sent:
            out.delivered += sent
            log.info("notified %s of %d new finding(s)", target.label, sent)
    return out
