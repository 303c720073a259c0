"""The steps `check`, `demo` and `watch` share: scan → (IaC) → evaluate → report → gate."""

from __future__ import annotations

import os
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from pdguard.cligrammar import FormatSpec
from pdguard.config import AccountSettings, Config
from pdguard.engine.base import Engine, InputRef
from pdguard.errors import EXIT_FINDINGS, EXIT_OK, ConfigError, IncompleteScanError
from pdguard.evaluate import apply_baseline, evaluate, make_engine, show_only
from pdguard.fileout import write_output
from pdguard.findings import Report
from pdguard.output import get_output
from pdguard.snapshot import dump_document
from pdguard.units import check_timeout

if TYPE_CHECKING:  # the scanner (httpx) is imported only when a scan runs: `check --snapshot` starts faster
    from pdguard.scanner import ScanOptions, ScanResult

API_KEY_ENV = "PAGERDUTY_API_KEY"
OAUTH_ENV = "PAGERDUTY_OAUTH_TOKEN"


def resolve_api_key(cfg: Config, flag: str | None, oauth: bool) -> tuple[str, str]:
    """(key, auth type), first found: --api-key > $PAGERDUTY_OAUTH_TOKEN (Bearer) > $PAGERDUTY_API_KEY >
    `scan.api_key` in pdguard.yaml. `--oauth` sends a key from the flag, $PAGERDUTY_API_KEY or the file as
    an OAuth Bearer token. (The README documents this order.)"""
    if flag:
        return flag, "bearer" if oauth else "token"
    if os.environ.get(OAUTH_ENV):
        return os.environ[OAUTH_ENV], "bearer"
    if os.environ.get(API_KEY_ENV):
        return os.environ[API_KEY_ENV], "bearer" if oauth else "token"
    if cfg.scan.api_key:
        return cfg.scan.api_key, "bearer" if oauth else "token"
    raise ConfigError(f"no PagerDuty API key: set {API_KEY_ENV} (or {OAUTH_ENV}){_or_snapshot('pass --api-key')}")


def _or_snapshot(last: str) -> str:
    """`, pass --api-key, or use --snapshot FILE` where the running command reads a snapshot instead
    of scanning (check, explain, ...), else `, or pass --api-key` (scan and watch have no --snapshot)."""
    import click

    ctx = click.get_current_context(silent=True)
    if ctx is not None and any(p.name == "snapshot" for p in ctx.command.params):
        return f", {last}, or use --snapshot FILE"
    return f", or {last}"


def parse_since(value: str | None) -> datetime | None:
    if not value:
        return None
    try:
        dt = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        raise ConfigError(f"--incidents-since: '{value}' is not an ISO 8601 date or timestamp") from None
    from pdguard.scanner import check_incidents_since

    return check_incidents_since(dt, value)  # 0001-01-01: out of range, before any request


def resolve_account_key(account: AccountSettings) -> tuple[str, str]:
    """(key, auth type) of a configured account: its environment variable (never the file)."""
    key = os.environ.get(account.key_env)
    if not key:
        raise ConfigError(f"account {account.name}: no PagerDuty API key: set the environment variable "
                          f"{account.key_env} (accounts[].api_key_env in pdguard.yaml names it)")
    return key, "bearer" if account.oauth else "token"


def _first(*values: Any) -> Any:
    return next((v for v in values if v is not None), None)


def scan_options(
    cfg: Config, *, api_key: str | None = None, oauth: bool = False, region: str | None = None,
    api_url: str | None = None, concurrency: int | None = None, incidents_since: str | None = None,
    lookback_days: int | None = None, exclude: tuple[str, ...] = (), timeout: float | None = None,
    max_duration: str | float | None = None, audit_days: int | None = None, account: AccountSettings | None = None,
) -> ScanOptions:
    """Scan options from flags and pdguard.yaml, checked before any request: a key no HTTP header
    can carry (trailing newline, non-ASCII…) or a scheme-less --api-url is one clear error here.
    With `account` (one of ``accounts:``): its key, region and URL, its ``scan:`` settings under
    the flags and over ``scan:``."""
    from pdguard.pdapi.client import check_api_key, check_api_url
    from pdguard.scanner import ALL_COLLECTIONS, DEFAULT_MAX_DURATION, ScanOptions

    own = account.scan if account is not None else None
    if account is not None:
        key, auth = resolve_account_key(account)
        url = account.api_url
        region = account.region or cfg.scan.region
    else:
        key, auth = resolve_api_key(cfg, api_key, oauth)
        url = api_url or cfg.scan.api_url
        region = region or cfg.scan.region
    where = f"account {account.name}: " if account is not None else ""
    try:
        check_api_key(key)
        if url:
            check_api_url(url)
    except ConfigError as exc:
        raise ConfigError(f"{where}{exc}") from None
    exclude = (*exclude, *(own.exclude if own else ()))
    bad = set(exclude) - set(ALL_COLLECTIONS)
    if bad:
        raise ConfigError(f"{where}--exclude: unknown collection(s) {', '.join(sorted(bad))} "
                          f"(known: {', '.join(ALL_COLLECTIONS)})")
    if timeout is not None:
        check_timeout(timeout, "--timeout")
    limit = _first(max_duration, own.max_duration if own else None, cfg.scan.max_duration)
    days = _first(audit_days, own.audit_days if own else None, cfg.scan.audit_days)
    if days == 0:  # no window: no audit records, knowingly
        exclude = (*exclude, "audit_records")
    return ScanOptions(
        api_key=key, auth_type=auth,  # type: ignore[arg-type]
        region=region,
        api_url=url,
        concurrency=_first(concurrency, own.concurrency if own else None, cfg.scan.concurrency),
        incidents_since=parse_since(incidents_since),
        lookback_days=_first(lookback_days, own.incidents_lookback_days if own else None,
                             cfg.scan.incidents_lookback_days),
        collections=tuple(c for c in ALL_COLLECTIONS if c not in exclude),
        service_dependencies=_first(own.service_dependencies if own else None, cfg.scan.service_dependencies),
        timeout=timeout or 30.0,
        max_duration=parse_duration(limit, "--max-duration") if limit is not None else DEFAULT_MAX_DURATION,
        audit_days=days,
        account=account.name if account is not None else None,
    )


def parse_duration(value: str | float, what: str) -> float:
    """"30m", "90s", "1h30m", "90" (seconds) -> seconds > 0."""
    from pdguard.inventory.watch import parse_interval

    try:
        return parse_interval(value)
    except ConfigError as exc:
        raise ConfigError(f"{what}: {exc}") from None


def is_complete(doc: dict[str, Any]) -> bool:
    return (doc.get("meta") or {}).get("complete", True) is not False


def require_complete(doc: dict[str, Any], allow_incomplete: bool, *, written: str | None = None) -> None:
    """An incomplete scan (``meta.complete`` false) is an error (exit 2) unless the user accepts it
    with ``--allow-incomplete``. ``written``: where the incomplete snapshot was kept, if anywhere."""
    if allow_incomplete or is_complete(doc):
        return
    warnings = [str(w) for w in (doc.get("meta") or {}).get("warnings") or []]
    shown = "; ".join(warnings[:3]) + (f"; and {len(warnings) - 3} more" if len(warnings) > 3 else "")
    kept = f"; the incomplete snapshot is in {written}" if written else ""
    raise IncompleteScanError(
        f"the scan is incomplete: {shown or 'not every object was accounted for'}{kept} "
        "(pass --allow-incomplete to use what was collected)")


def incomplete_path(path: str) -> str:
    """Where an incomplete snapshot goes instead of `path`: snapshot.json -> snapshot.incomplete.json."""
    p = Path(path)
    return str(p.with_name(f"{p.stem}.incomplete{p.suffix}" if p.suffix else f"{p.name}.incomplete"))


def save_scanned(doc: dict[str, Any], path: str, allow_incomplete: bool) -> str:
    """Write a scanned snapshot; returns the file written.

    An incomplete snapshot never replaces `path` (the last good snapshot stays as it was): it is
    written beside it as ``<name>.incomplete.json``, unless ``--allow-incomplete`` accepts it.
    """
    target = path if allow_incomplete or is_complete(doc) else incomplete_path(path)
    save_snapshot(doc, target)
    return target


@contextmanager
def _progress(quiet: bool) -> Iterator[Any]:
    if quiet or not sys.stderr.isatty():
        yield None
        return
    from rich.console import Console
    from rich.progress import Progress, SpinnerColumn, TextColumn, TimeElapsedColumn

    # transient: the spinner lines are cleared when the scan ends (nothing left above the table)
    with Progress(SpinnerColumn(), TextColumn("[bold]{task.description:<22}"), TextColumn("{task.fields[n]:>14}"),
                  TimeElapsedColumn(), console=Console(stderr=True), transient=True) as progress:
        tasks: dict[str, Any] = {}

        def update(collection: str, n: int, total: int | None) -> None:
            label = f"{n:,} item" + ("" if n == 1 else "s")
            if collection not in tasks:
                tasks[collection] = progress.add_task(collection, total=None, n=label)
            progress.update(tasks[collection], n=label)

        yield update


def run_scan(opts: ScanOptions, *, quiet: bool = False, output: str | os.PathLike[str] | None = None,
             allow_incomplete: bool = True) -> ScanResult:
    """Scan; with `output` the snapshot is streamed into that file instead of memory. An incomplete
    scan goes to :func:`incomplete_path` of it unless `allow_incomplete` (see :func:`save_scanned`)."""
    from pdguard.scanner import scan

    beside = incomplete_path(os.fspath(output)) if output is not None and not allow_incomplete else None
    with _progress(quiet) as progress:
        return scan(opts, progress, output=output, incomplete_output=beside)


def save_snapshot(doc: dict[str, Any], path: str) -> None:
    write_output(path, dump_document(doc), what="snapshot")


def _full_report_pointer(specs: list[FormatSpec]) -> str | None:
    """The file a truncated Markdown report points at: the HTML, JSON or SARIF file of the same run."""
    for kind in ("html", "json", "sarif"):
        for s in specs:
            if s.name == kind and s.path not in (None, "-"):
                return s.path
    return None


def render_outputs(report: Report, specs: list[FormatSpec], *, sarif_category: str | None = None,
                   document: dict[str, Any] | None = None, snapshot_path: str | None = None,
                   store_url: str | None = None, cfg: Config | None = None,
                   account_snapshots: dict[str, str] | None = None) -> list[str]:
    """Render every spec to stdout or its file (:func:`pdguard.fileout.write_output`); returns the files.

    The HTML report also reads the snapshot (`document`, else `snapshot_path`; with several
    accounts each account's file of `account_snapshots`) for teams and links, and with
    `store_url` the findings trend of the stored scans (per account)."""
    written: list[str] = []
    rendered: dict[tuple[str, bool], str] = {}  # a format asked twice (stdout and a file) is rendered once
    for spec in specs:
        to_stdout = spec.path is None or spec.path == "-"
        color = to_stdout and sys.stdout.isatty() and not os.environ.get("NO_COLOR")
        key = (spec.name, bool(color and spec.name == "table"))  # colour only changes the table
        if key not in rendered:
            out = get_output(spec.name)
            if spec.name == "sarif" and sarif_category:
                out.category = sarif_category  # type: ignore[attr-defined]
            if spec.name == "markdown":
                out.full_report = _full_report_pointer(specs)  # type: ignore[attr-defined]
            if spec.name == "html":
                from pdguard.output.html import html_context

                out.context = html_context(document=document, snapshot_path=snapshot_path,  # type: ignore[attr-defined]
                                           store_url=store_url, cfg=cfg, report=report,
                                           account_snapshots=account_snapshots)
            rendered[key] = out.render(report, color=key[1])
        text = rendered[key]
        if to_stdout:
            sys.stdout.write(text if text.endswith("\n") else text + "\n")
            sys.stdout.flush()
        else:
            write_output(spec.path, text, what=f"{spec.name} report")
            written.append(spec.path)
    return written


def check_document(
    input_ref: InputRef, cfg: Config, *, engine: Engine | None = None, engine_name: str | None = None,
    opa_url: str | None = None, policy_paths: list[str] | None = None, builtin: bool = True,
    fail_on: str | None = None, severities: list[str] | None = None, baseline: dict[str, Any] | None = None,
) -> Report:
    """Evaluate, then mark findings against `baseline` (an earlier JSON report, read with
    :func:`pdguard.evaluate.load_baseline` before any scan), then `--severity`'s display filter."""
    eng = engine or make_engine(cfg, engine_name, opa_url)
    report = evaluate(input_ref, cfg, engine=eng, policy_paths=policy_paths, builtin=builtin, fail_on=fail_on)
    if baseline is not None:
        report = apply_baseline(report, baseline)
    # --severity filters what is shown, never what gates: applied last, the summary keeps every finding.
    return show_only(report, severities)


def gate(report: Report) -> int:
    return EXIT_FINDINGS if report.summary.failing > 0 else EXIT_OK
