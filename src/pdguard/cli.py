"""pdguard command line.

Exit codes: see pdguard.errors (EXIT_HELP below is what `--help` prints of them).

Grammar shared by every subcommand (see pdguard.cligrammar): --format KIND[=FILE], -o/--output,
--snapshot reads / --save-snapshot writes, --config and -v also after the subcommand.
"""

from __future__ import annotations

import json
import logging
import os
import sys
from pathlib import Path
from typing import Any

import click

from pdguard import __version__
from pdguard.cligrammar import (
    configure_logging,
    deprecated,
    echo_warning,
    emit,
    format_options,
    install_global_options,
    parse_formats,
    refuse_clobbering,
)
from pdguard.config import Config, load_config
from pdguard.errors import EXIT_ERROR, EXIT_FINDINGS, EXIT_NOTIFY, EXIT_OK, PdguardError
from pdguard.findings import SEVERITIES
from pdguard.output.base import FORMATS
from pdguard.redact import redact_text
from pdguard.textsafe import safe_text

EXIT_HELP = """\b
Exit codes:
  0  no failing finding
  1  failing findings at or above --fail-on (default high; 'none' never fails)
  2  error: scan failed or incomplete (see --allow-incomplete), auth, engine/OPA error,
     bad config, invalid policy, usage, unwritable output, policy evaluation over its
     time/memory limit, a store pdguard cannot use
  3  an input file (snapshot, baseline, Terraform state or plan) that cannot be read
"""

ALL_EXIT_HELP = EXIT_HELP + """  4  watch --once: a notification could not be delivered (it stays in the
     store's outbox; the next tick retries it)
"""


class Ctx:
    def __init__(self, config_path: str | None, verbose: int) -> None:
        self.config_path = config_path
        self.verbose = verbose
        self._cfg: Config | None = None

    @property
    def cfg(self) -> Config:
        if self._cfg is None:
            self._cfg = load_config(self.config_path)
        return self._cfg


@click.group(context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100},
             epilog=ALL_EXIT_HELP)
@click.version_option(__version__, prog_name="pdguard")
@click.option("--config", "config_path", metavar="FILE",
              help="pdguard.yaml (default: ./pdguard.yaml or $PDGUARD_CONFIG). Also accepted after the subcommand.")
@click.option("-v", "--verbose", count=True,
              help="-v: log API retries and rate-limit waits; -vv: also every HTTP request. Also after the subcommand.")
@click.pass_context
def cli(ctx: click.Context, config_path: str | None, verbose: int) -> None:
    """pdguard: policy-as-code guardrails for PagerDuty.

    Scan an account into an inventory snapshot, evaluate Rego governance policies over it, and
    report findings as a table, JSON, SARIF, JUnit, Markdown or HTML.
    """
    configure_logging(verbose)
    ctx.obj = Ctx(config_path, verbose)


def scan_options_decorator(f: Any) -> Any:
    opts = [
        click.option("--account", "accounts", multiple=True, metavar="NAME",
                     help="Only this account of `accounts:` in pdguard.yaml (repeatable; default: every account)."),
        click.option("--api-key", metavar="KEY",
                     help="REST API key (account or user token). Never printed or stored. Order: --api-key, "
                          "$PAGERDUTY_OAUTH_TOKEN, $PAGERDUTY_API_KEY, scan.api_key in pdguard.yaml."),
        click.option("--oauth", is_flag=True, help="The key is an OAuth access token (sent as Bearer)."),
        click.option("--region", type=click.Choice(["us", "eu"]), help="PagerDuty service region (default us)."),
        click.option("--api-url", metavar="URL", help="API base URL (proxies, the simulator)."),
        click.option("--concurrency", type=click.IntRange(1, 64), help="Requests in flight (default 8)."),
        click.option("--incidents-since", metavar="DATE", help="Scan incidents created since DATE (ISO 8601)."),
        click.option("--lookback-days", type=click.IntRange(0, 3650), help="Incident lookback (default 90 days)."),
        click.option("--exclude", multiple=True, metavar="COLLECTION", help="Skip a collection (repeatable)."),
        click.option("--audit-days", type=click.IntRange(0, 365), metavar="N",
                     help="Audit records (who changed what) of the last N days (default 30; 0: none). Needs an "
                          "admin-level key and Audit Trail; without them the scan goes on without actors."),
        click.option("--timeout", type=float,
                     help="Timeout of one whole request (connect + the whole body), in seconds (default 30)."),
        click.option("--max-duration", metavar="DURATION",
                     help="Deadline of a whole scan, e.g. 30m (default), 2h, 900s: past it the scan stops, incomplete."),
        click.option("--allow-incomplete", is_flag=True,
                     help="Accept an incomplete scan (403 on an optional collection, objects unaccounted for, "
                          "deadline): evaluate/write what was collected instead of failing (exit 2)."),
        click.option("-q", "--quiet", is_flag=True, help="No progress display."),
    ]
    for o in reversed(opts):
        f = o(f)
    return f


def _targets(cfg: Config, kw: dict[str, Any]) -> list[Any]:
    """The accounts the command covers, with their scan options (see pdguard.accounts)."""
    from pdguard.accounts import targets

    return targets(cfg, kw)


@cli.command()
@scan_options_decorator
@click.option("-o", "--output", "output", default="snapshot.json", show_default=True, metavar="FILE",
              help="Snapshot file (written atomically; '-' for stdout). Several accounts: one file each, "
                   "FILE with {account} replaced, else snapshot.NAME.json.")
@click.pass_obj
def scan(obj: Ctx, output: str, **kw: Any) -> None:
    """Scan a PagerDuty account into an inventory snapshot (JSON).

    An incomplete scan (meta.complete false) exits 2 and never replaces FILE: it is written to
    FILE's name + .incomplete (snapshot.incomplete.json), unless --allow-incomplete accepts it.
    The snapshot is streamed into the file as pages arrive, never built whole in memory.

    With `accounts:` in pdguard.yaml every account (or each --account NAME) is scanned into its
    own snapshot: FILE with {account} replaced by the name, else the name before the extension
    (snapshot.eu.json); a snapshot is always one account's document.
    """
    from pdguard.accounts import labelled, snapshot_path

    targets = _targets(obj.cfg, kw)
    several = len(targets) > 1
    if several and output == "-":
        raise click.UsageError("-o -: several accounts give several snapshots; write them to files "
                               "(-o 'snapshots/{account}.json') or choose one with --account NAME")
    failed: list[str] = []
    for t in targets:
        path = snapshot_path(output, t.name, several)
        try:
            _scan_one(t.opts, path, kw, t.label)
        except PdguardError as exc:
            if not several:
                raise labelled(exc, t.label) from None
            click.echo(f"pdguard: error: {redact_text(safe_text(labelled(exc, t.label)))}", err=True)
            failed.append(str(t.name))
    if failed:
        click.echo(f"pdguard: error: {len(failed)} of {len(targets)} accounts failed: {', '.join(failed)}", err=True)
        sys.exit(EXIT_ERROR)


def _counts_text(meta: dict[str, Any]) -> str:
    """`31 services, 13 escalation_policies, …` (the non-empty collections of a scan)."""
    return ", ".join(f"{n} {name}" for name, n in meta["counts"].items() if n)


def _scan_one(opts: Any, output: str, kw: dict[str, Any], label: str) -> None:
    """`pdguard scan` of one account into `output` (`label`: "account NAME: " or "")."""
    import shutil
    import tempfile

    from pdguard.pipeline import require_complete, run_scan

    had = output != "-" and Path(output).exists()
    if output == "-":  # streamed into a temporary file, then copied out
        with tempfile.TemporaryDirectory(prefix="pdguard-scan-") as tmp:
            result = run_scan(opts, quiet=kw["quiet"], output=Path(tmp) / "snapshot.json")
            with open(Path(tmp) / "snapshot.json", "rb") as fh:
                sys.stdout.flush()
                shutil.copyfileobj(fh, sys.stdout.buffer)
            sys.stdout.buffer.write(b"\n")
            sys.stdout.flush()
        where = "stdout"
    else:
        result = run_scan(opts, quiet=kw["quiet"], output=output, allow_incomplete=kw["allow_incomplete"])
        where = str(result.path)
    meta = result.meta
    for w in meta["warnings"]:
        echo_warning(label + w)
    if not kw["quiet"]:
        counts = _counts_text(meta)
        state = "complete" if meta["complete"] else "INCOMPLETE"
        click.echo(f"pdguard: {safe_text(label)}scanned {counts} in {result.requests} requests ({state}) -> "
                   f"{safe_text(where)}", err=True)
    require_complete({"meta": meta}, kw["allow_incomplete"], written=None if output == "-" else
                     f"{where} ({output} {'left unchanged' if had else 'not written'})")
    if not kw["quiet"] and output != "-":
        click.echo(f"pdguard: evaluate it offline with: pdguard check --snapshot {safe_text(output)}", err=True)


@cli.command()
@click.option("-o", "--output", metavar="FILE", help="Write the schema to FILE instead of stdout.")
def schema(output: str | None) -> None:
    """Print the JSON Schema of the snapshot document."""
    from pdguard.snapshot import json_schema

    emit(parse_formats(None, output, kinds=("json",), default="json"),
         {"json": lambda: json.dumps(json_schema(), indent=2)}, what="schema")


def _check_options(f: Any) -> Any:
    opts = [
        click.option("--policy", "policies", multiple=True, metavar="PATH", help="Extra policy file/dir (repeatable)."),
        click.option("--no-builtin", is_flag=True, help="Do not evaluate the built-in policy library."),
        click.option("--engine", type=click.Choice(["embedded", "opa"]), help="Policy engine (default embedded)."),
        click.option("--opa-url", metavar="URL", envvar="PDGUARD_OPA_URL", help="OPA server for --engine opa."),
        click.option("--opa-token", metavar="TOKEN", envvar="PDGUARD_OPA_TOKEN", help="Bearer token for OPA."),
        click.option("--opa-preloaded", is_flag=True, default=None,
                     help="OPA runs `pdguard policy bundle`'s bundle: only query it (no writes); its revision must match."),
        click.option("--opa-timeout", type=float, help="OPA request timeout in seconds (default 60)."),
        click.option("--eval-timeout", metavar="DURATION",
                     help="Stop a policy evaluation after DURATION (default 300s; 'none': no limit; "
                          "limits.eval_timeout in pdguard.yaml). Exceeded: exit 2 naming the policy."),
        click.option("--eval-memory", metavar="SIZE",
                     help="Memory a policy evaluation may add (default 4GiB; 'none': no limit; "
                          "limits.eval_memory). Exceeded: exit 2 naming the policy."),
    ]
    for o in reversed(opts):
        f = o(f)
    return f


def _apply_engine_flags(cfg: Config, kw: dict[str, Any]) -> Config:
    from pdguard.engine.limits import EvalLimits
    from pdguard.units import check_timeout

    limits = cfg.limits.model_copy()
    if kw.get("eval_timeout") is not None:
        limits.eval_timeout = kw["eval_timeout"]
    if kw.get("eval_memory") is not None:
        limits.eval_memory = kw["eval_memory"]
    EvalLimits.from_settings(limits)  # validates the flags (ConfigError, exit 2)
    cfg = cfg.model_copy(update={"limits": limits})
    opa = cfg.opa.model_copy()
    if kw.get("opa_token"):
        opa.token = kw["opa_token"]
    if kw.get("opa_preloaded"):
        opa.preloaded = True
    if kw.get("opa_timeout") is not None:  # 0 is refused, never silently the default
        opa.timeout = check_timeout(kw["opa_timeout"], "--opa-timeout")
    if kw.get("opa_url"):
        opa.url = kw["opa_url"]
    return cfg.model_copy(update={"opa": opa})


REPORT_KINDS = tuple(FORMATS)  # table json sarif junit markdown html: one module each (pdguard.output)
MIN_WATCH_INTERVAL = 1.0  # seconds: the shortest --interval `watch` takes


def _report_summary_line(report: Any, written: list[str]) -> str:
    """`pdguard: 48 findings (9 high, 20 medium, 19 low), 9 failing (>= high) -> r.json, r.sarif`."""
    from pdguard.output._common import count, gate_line, report_summary

    s = report_summary(report)
    by = ", ".join(f"{n} {sev}" for sev, n in s.by_severity.items() if n)
    line = f"pdguard: {count(s.total, 'finding')}" + (f" ({by})" if by else "") + f", {gate_line(s)}"
    if s.waived:
        line += f", {s.waived} waived"
    return line + (f" -> {', '.join(safe_text(w) for w in written)}" if written else "")


@cli.command(epilog=EXIT_HELP)
@click.option("--snapshot", metavar="FILE", help="Evaluate this saved snapshot (read) instead of scanning.")
@scan_options_decorator
@_check_options
@format_options(REPORT_KINDS, default="table")
@click.option("--fail-on", type=click.Choice(["none", *SEVERITIES]), help="Fail (exit 1) at or above this severity (default high).")
@click.option("--severity", "severities", multiple=True, type=click.Choice(list(SEVERITIES)),
              help="Only list these severities (repeatable). Display only: the gate still counts every finding.")
@click.option("--baseline", metavar="FILE", help="Earlier JSON report: only new findings fail the gate.")
@click.option("--save-snapshot", metavar="FILE", help="Also write the scanned snapshot here.")
@click.option("--tfstate", multiple=True, metavar="PATH", help="Terraform state (or `terraform show -json`) for IaC status.")
@click.option("--tf-dir", multiple=True, metavar="DIR", help="Terraform sources, for file/line locations.")
@click.option("--tfplan", metavar="FILE",
              help="`terraform show -json PLANFILE` output: evaluate the account as it will be after the apply.")
@click.option("--sarif-category", metavar="NAME", help="SARIF runAutomationDetails category (default: account).")
@click.option("--store", "store_url", metavar="URL", envvar="PDGUARD_STORE",
              help="Inventory store to read the findings trend from (HTML report). Read only.")
@click.pass_obj
def check(obj: Ctx, snapshot: str | None, formats: tuple[str, ...], output: str | None, fail_on: str | None,
          severities: tuple[str, ...], baseline: str | None, save_snapshot: str | None, tfstate: tuple[str, ...],
          tf_dir: tuple[str, ...], tfplan: str | None, sarif_category: str | None, store_url: str | None,
          **kw: Any) -> None:
    """Scan (or read --snapshot), evaluate the policies, report, and gate on severity.

    --severity chooses what is listed, never what gates: the exit code always counts every
    finding at or above --fail-on (only the new ones with --baseline).
    """
    import shutil
    import tempfile

    from pdguard.accounts import snapshot_path
    from pdguard.engine.base import InputRef
    from pdguard.evaluate import load_baseline
    from pdguard.pipeline import (
        check_document,
        gate,
        render_outputs,
        require_complete,
        run_scan,
        save_scanned,
    )
    from pdguard.pipeline import save_snapshot as write_snapshot

    cfg = _apply_engine_flags(obj.cfg, kw)
    specs = parse_formats(formats, output, kinds=REPORT_KINDS,
                          inputs={"--snapshot": snapshot, "--tfstate": tfstate, "--tfplan": tfplan},
                          also_writes={"--save-snapshot": save_snapshot})
    if snapshot and kw["accounts"]:
        raise click.UsageError("--account chooses the accounts to scan; --snapshot reads one snapshot (its "
                               "meta.account names the account)")
    targets = [] if snapshot else _targets(cfg, kw)  # keys and options checked before any request
    base = load_baseline(baseline) if baseline else None  # read before scanning: fail fast
    if len(targets) > 1:
        if tfstate or tf_dir or tfplan:
            raise click.UsageError("--tfstate, --tf-dir and --tfplan describe one account's Terraform: choose that "
                                   "account with --account NAME")
        _check_accounts(cfg, targets, kw, specs, fail_on=fail_on, severities=severities, baseline=base,
                        save_snapshot=save_snapshot, sarif_category=sarif_category, store_url=store_url)
        return
    label = targets[0].label if targets else ""
    if save_snapshot and targets:
        save_snapshot = snapshot_path(save_snapshot, targets[0].name, False)
    if tfplan:  # a bad plan file fails before a scan
        from pdguard.inventory.plan import apply_plan, read_plan

        plan = read_plan(tfplan)
    doc: dict[str, Any] | None = None
    # Without Terraform inputs the scan streams into the snapshot file (--save-snapshot, else a
    # temporary one) and the engine reads that file: the document is never built in memory.
    streamed = not snapshot and not (tfstate or tf_dir or tfplan)
    spool = tempfile.mkdtemp(prefix="pdguard-check-") if streamed and not save_snapshot else None
    try:
        if snapshot and not (tfstate or tf_dir or tfplan):
            from pdguard.snapshot import require_regular_file

            # the engine reads the file after pdguard's own checks: a pipe would be read empty
            ref = InputRef(path=require_regular_file(snapshot))
        elif streamed:
            target = Path(save_snapshot) if save_snapshot else Path(str(spool)) / "snapshot.json"
            try:
                result = run_scan(targets[0].opts, quiet=kw["quiet"], output=target,
                                  allow_incomplete=kw["allow_incomplete"])
                # an incomplete inventory is an error unless accepted (`watch --once` agrees)
                require_complete({"meta": result.meta}, kw["allow_incomplete"],
                                 written=str(result.path) if save_snapshot else None)
            except PdguardError as exc:
                from pdguard.accounts import labelled

                raise labelled(exc, label) from None
            ref = InputRef(path=result.path)
        else:
            scanned = not snapshot
            if snapshot:
                from pdguard.snapshot import load_document

                doc = load_document(snapshot)
            else:
                doc = run_scan(targets[0].opts, quiet=kw["quiet"]).document
            if (tfstate or tf_dir) and not tfplan:
                from pdguard.inventory.iac import apply_iac, classify

                apply_iac(doc, classify(doc, list(tfstate), list(tf_dir)))
            written = None
            if save_snapshot:  # the account as scanned, not as planned
                if scanned:
                    written = save_scanned(doc, save_snapshot, kw["allow_incomplete"])
                else:
                    write_snapshot(doc, save_snapshot)
            if scanned:  # an incomplete inventory is an error unless accepted (`watch --once` agrees)
                require_complete(doc, kw["allow_incomplete"], written=written)
            if tfplan:
                doc = apply_plan(doc, plan, tfstate_paths=list(tfstate), tf_dirs=list(tf_dir))
            ref = InputRef(doc=doc)
        report = check_document(ref, cfg, engine_name=kw["engine"], opa_url=kw["opa_url"],
                                policy_paths=list(kw["policies"]), builtin=not kw["no_builtin"], fail_on=fail_on,
                                severities=list(severities) or None, baseline=base)
        snapshot_file = snapshot if snapshot else (str(ref.path) if ref.path is not None else None)
        written = render_outputs(report, specs, sarif_category=sarif_category, document=doc,
                                 snapshot_path=snapshot_file, store_url=store_url, cfg=cfg)
    finally:
        if spool:
            shutil.rmtree(spool, ignore_errors=True)
    for w in report.warnings:
        echo_warning(w)
    if all(s.path not in (None, "-") for s in specs):  # nothing on stdout: say what happened
        click.echo(_report_summary_line(report, written), err=True)
    sys.exit(gate(report))


def _check_accounts(cfg: Config, targets: list[Any], kw: dict[str, Any], specs: list[Any], *, fail_on: str | None,
                    severities: tuple[str, ...], baseline: dict[str, Any] | None, save_snapshot: str | None,
                    sarif_category: str | None, store_url: str | None) -> None:
    """`check` over several accounts: each one scanned (streamed into its snapshot file) and
    evaluated with the same engine and policies, then ONE report (findings name their account),
    one gate. An account whose scan fails or is incomplete (without --allow-incomplete) fails
    the whole check (exit 2), naming the account."""
    import shutil
    import tempfile

    from pdguard.accounts import combine, labelled, snapshot_path
    from pdguard.engine.base import InputRef
    from pdguard.evaluate import apply_baseline, make_engine, show_only
    from pdguard.pipeline import check_document, gate, render_outputs, require_complete, run_scan

    engine = make_engine(cfg, kw["engine"], kw["opa_url"])
    spool = tempfile.mkdtemp(prefix="pdguard-check-")
    parts: list[tuple[str, Any]] = []
    snapshots: dict[str, str] = {}
    try:
        for t in targets:
            target = Path(snapshot_path(save_snapshot, t.name, True)) if save_snapshot else \
                Path(spool) / f"{t.name}.json"
            try:
                result = run_scan(t.opts, quiet=kw["quiet"], output=target, allow_incomplete=kw["allow_incomplete"])
                require_complete({"meta": result.meta}, kw["allow_incomplete"],
                                 written=str(result.path) if save_snapshot else None)
            except PdguardError as exc:
                raise labelled(exc, t.label) from None
            assert result.path is not None
            snapshots[t.name] = str(result.path)
            parts.append((t.name, check_document(InputRef(path=result.path), cfg, engine=engine,
                                                 policy_paths=list(kw["policies"]), builtin=not kw["no_builtin"],
                                                 fail_on=fail_on)))
        report = combine(parts)
        if baseline is not None:
            report = apply_baseline(report, baseline)
        report = show_only(report, list(severities) or None)
        written = render_outputs(report, specs, sarif_category=sarif_category, account_snapshots=snapshots,
                                 store_url=store_url, cfg=cfg)
    finally:
        shutil.rmtree(spool, ignore_errors=True)
    for w in report.warnings:
        echo_warning(w)
    if all(s.path not in (None, "-") for s in specs):
        click.echo(_report_summary_line(report, written), err=True)
    sys.exit(gate(report))


@cli.command()
@format_options(REPORT_KINDS, default="table")
@click.option("--save-snapshot", metavar="FILE", help="Also write the scanned snapshot here.")
@click.option("--fail-on", type=click.Choice(["none", *SEVERITIES]), default="high", show_default=True)
@click.option("--sarif", "sarif_path", metavar="FILE", hidden=True, help="Deprecated: --format sarif=FILE.")
@click.option("--snapshot", "snapshot_out", metavar="FILE", hidden=True, help="Deprecated: --save-snapshot FILE.")
def demo(formats: tuple[str, ...], output: str | None, save_snapshot: str | None, fail_on: str,
         sarif_path: str | None, snapshot_out: str | None) -> None:
    """Scan the bundled sample account (local simulator over HTTP), evaluate, report. No key or network.

    Prints the table and writes pdguard-demo.sarif unless a sarif format is given
    (e.g. --format html=demo.html --format sarif=demo.sarif).
    """
    import secrets
    import tempfile

    from pdguard.cligrammar import FormatSpec
    from pdguard.engine.base import InputRef
    from pdguard.pipeline import check_document, gate, render_outputs, run_scan
    from pdguard.scanner import ScanOptions
    from pdguard.simulator import sample_account, serve

    if sarif_path:
        deprecated("demo --sarif FILE", f"--format sarif={sarif_path}")
        formats = (*formats, f"sarif={sarif_path}")
    if snapshot_out:
        deprecated("demo --snapshot FILE (it writes)", "--save-snapshot FILE (--snapshot always reads)")
        save_snapshot = save_snapshot or snapshot_out
    specs = parse_formats(formats, output, kinds=REPORT_KINDS, also_writes={"--save-snapshot": save_snapshot})
    if not any(s.name == "sarif" for s in specs):
        specs.append(FormatSpec("sarif", "pdguard-demo.sarif"))
        refuse_clobbering({"--save-snapshot": save_snapshot, "the default SARIF file": "pdguard-demo.sarif"})
    token = secrets.token_hex(16)
    cfg = Config()
    # Like `check`: the scan streams into the snapshot file (--save-snapshot, else a temporary one)
    # and the engine and the HTML report read that file.
    with tempfile.TemporaryDirectory(prefix="pdguard-demo-") as spool:
        target = Path(save_snapshot) if save_snapshot else Path(spool) / "snapshot.json"
        with serve(sample_account(), tokens={token}) as server:
            click.echo(f"pdguard demo: simulated PagerDuty account at {server.url}", err=True)
            # Every service's dependencies (scan.service_dependencies: all; 30 more requests on this
            # small account): chains of technical services are known, so PDG-BS-002 is judged.
            result = run_scan(ScanOptions(api_key=token, api_url=server.url, concurrency=8,
                                          service_dependencies="all"), quiet=True, output=target)
        click.echo(f"pdguard demo: scanned {_counts_text(result.meta)} in {result.requests} requests", err=True)
        report = check_document(InputRef(path=result.path), cfg, fail_on=fail_on)
        written = render_outputs(report, specs, snapshot_path=str(result.path))
    if written:
        click.echo(f"pdguard demo: written {', '.join(safe_text(w) for w in written)}", err=True)
    sys.exit(gate(report))


@cli.command()
@click.argument("fingerprint", required=False)
@click.option("--policy", "policy_id", metavar="ID", help="A policy id (with --resource), instead of a FINGERPRINT.")
@click.option("--resource", metavar="ID", help="A resource id or name (with --policy).")
@click.option("--snapshot", metavar="FILE", help="Explain over this saved snapshot (read) instead of scanning.")
@click.option("--policy-path", "policy_paths", multiple=True, metavar="PATH",
              help="Extra policy file/dir (repeatable; check's --policy).")
@click.option("--no-builtin", is_flag=True, help="Leave the built-in policy library out.")
@click.option("--engine", type=click.Choice(["embedded", "opa"]), help="Policy engine (default embedded).")
@click.option("--opa-url", metavar="URL", envvar="PDGUARD_OPA_URL", help="OPA server for --engine opa.")
@scan_options_decorator
@format_options(("text", "json"), default="text")
@click.pass_obj
def explain(obj: Ctx, fingerprint: str | None, policy_id: str | None, resource: str | None, snapshot: str | None,
            policy_paths: tuple[str, ...], no_builtin: bool, formats: tuple[str, ...], output: str | None,
            **kw: Any) -> None:
    """Explain a finding: the finding, the policy's text, and the input it judged.

    \b
    pdguard explain 3f2c9a1b...                       # a fingerprint (or 8+ first characters) from a report
    pdguard explain --policy PDG-EP-004 --resource PEPSOLO --snapshot snapshot.json
    The input is the resource, the objects it references, and the entries that name it (on-calls,
    Service Standards scores, dependencies, objects that reference it). A policy that does not
    report the resource says so, with the same excerpt (exit 0).
    """
    from pdguard.engine.base import InputRef
    from pdguard.engine.loader import load_policies
    from pdguard.errors import InputError
    from pdguard.evaluate import evaluate, make_engine
    from pdguard.explain import as_json, as_text, excerpt, find_resource, select
    from pdguard.pipeline import require_complete, run_scan
    from pdguard.snapshot import load_document

    if bool(fingerprint) == bool(policy_id or resource) or (not fingerprint and not (policy_id and resource)):
        raise click.UsageError("give a FINGERPRINT, or --policy ID with --resource ID")
    specs = parse_formats(formats, output, kinds=("text", "json"), default="text", inputs={"--snapshot": snapshot})
    if snapshot:
        if kw["accounts"]:
            raise click.UsageError("--account chooses the account to scan; --snapshot reads one snapshot (its "
                                   "meta.account names the account)")
        doc = load_document(snapshot)
    else:
        targets = _targets(obj.cfg, kw)
        if len(targets) > 1:  # a finding is one account's: its fingerprint names the account
            raise click.UsageError("explain looks at one account: choose it with --account NAME (accounts: "
                                   f"{', '.join(str(t.name) for t in targets)})")
        from pdguard.accounts import labelled

        try:
            doc = run_scan(targets[0].opts, quiet=kw["quiet"]).document
            require_complete(doc, kw["allow_incomplete"])
        except PdguardError as exc:
            raise labelled(exc, targets[0].label) from None
    cfg = obj.cfg
    ps = load_policies(list(policy_paths), builtin=not no_builtin)
    if policy_id:
        known = {m.info.id: m.info for m in ps.policies if m.info}
        if policy_id not in known:
            raise click.UsageError(f"no policy {policy_id} (see pdguard policy list)")
        # explain a policy even when pdguard.yaml switches it off
        from pdguard.config import PolicySwitch

        switch = (cfg.policies.get(policy_id) or PolicySwitch()).model_copy(update={"enabled": True})
        cfg = cfg.model_copy(update={"policies": {**cfg.policies, policy_id: switch}})
    eng = make_engine(cfg, kw["engine"], kw["opa_url"])
    report = evaluate(InputRef(doc=doc), cfg, engine=eng, policyset=ps)
    for w in ps.warnings:
        echo_warning(w)
    findings = select(report, fingerprint=fingerprint, policy_id=policy_id, resource=resource)
    if fingerprint and not findings:
        raise PdguardError(f"no finding with fingerprint {fingerprint} in this snapshot ({report.summary.total} "
                         "findings): take the fingerprint from a report of the same snapshot (--format json)")
    if findings:
        pid, rtype, rid = findings[0].policy_id, findings[0].resource.type, findings[0].resource.id
    else:
        found = find_resource(doc, str(resource))
        if found is None:
            raise InputError(f"no object with the id or name {resource!r} in the snapshot")
        pid, (rtype, robj) = str(policy_id), found
        rid = str(robj["id"])
    info = next((m.info for m in ps.policies if m.info and m.info.id == pid), None)
    ex = excerpt(doc, rtype, rid)
    meta = doc.get("meta") or {}
    emit(specs, {"text": lambda: as_text(findings, info, ex, meta, rtype, rid, pid),
                 "json": lambda: as_json(findings, info, ex, meta)}, what="explanation")


@cli.command(epilog=ALL_EXIT_HELP)
@click.option("--interval", default="8h", show_default=True, help="Time between scans (8h, 30m, 90s, …; at least 1s).")
@click.option("--once", is_flag=True,
              help="One tick (for cron): exit 2 if it failed, 4 if a notification could not be delivered, "
                   "else 0/1 like check.")
@click.option("--max-ticks", type=click.IntRange(1), hidden=True, help="Stop after N ticks (tests).")
@click.option("--store", "store_url", metavar="URL", envvar="PDGUARD_STORE",
              help="Inventory store: sqlite:///PATH or postgresql://… (default: per-user SQLite).")
@click.option("--on-new-findings", "notify_targets", multiple=True, metavar="TARGET",
              envvar="PDGUARD_ON_NEW_FINDINGS",
              help="Send each scan's new findings (at least once, from the store's outbox): POST to an "
                   "http(s) webhook, or write FILE.json / FILE.sarif. Repeatable.")
@click.option("--notify-format", type=click.Choice(["auto", "slack", "json"]),
              help="Webhook body: slack (text + blocks), json (generic), auto (slack for hooks.slack.com, "
                   "else json; default; notify.format).")
@click.option("--notify-max-age", metavar="AGE",
              help="Drop (with a warning) notifications still undelivered after AGE (default 7d; notify.max_age).")
@scan_options_decorator
@_check_options
@click.option("--fail-on", type=click.Choice(["none", *SEVERITIES]), help="Severity that counts as failing.")
@click.option("--tfstate", multiple=True, metavar="PATH", help="Terraform state for IaC status.")
@click.option("--tf-dir", multiple=True, metavar="DIR", help="Terraform sources, for file/line locations.")
@click.option("--full", is_flag=True,
              help="Scan in full on every tick of this run: no incremental rescans (watch.incremental in pdguard.yaml).")
@click.pass_obj
def watch(obj: Ctx, interval: str, once: bool, max_ticks: int | None, store_url: str | None,
          notify_targets: tuple[str, ...], notify_format: str | None, notify_max_age: str | None,
          fail_on: str | None, tfstate: tuple[str, ...], tf_dir: tuple[str, ...], full: bool, **kw: Any) -> None:
    """Continuous governance: scan → evaluate → store → diff → notify on every tick (default every 8 hours).

    Every scan is kept in the inventory store (pruned by `store_retention:` in pdguard.yaml). A
    failed scan is logged and retried at the next tick; an incomplete one is stored as incomplete
    and never becomes the latest. New findings go to an outbox in the store with the scan and are
    delivered at least once: every tick retries what is undelivered. Log lines carry ISO 8601 UTC
    timestamps. SIGTERM/SIGINT let the current tick finish (a second one abandons it).

    Incremental rescans: after a complete scan of the account, a tick reads incidents only since
    that scan (less watch.overlap, 1h) plus every unresolved one and merges the resolved history
    from the store; one tick in watch.full_every (21) scans in full, and so does --full.
    With `accounts:` in pdguard.yaml each tick covers every account (or each --account NAME).
    """
    import dataclasses
    from dataclasses import dataclass

    from pdguard.accounts import labelled
    from pdguard.engine.base import InputRef
    from pdguard.errors import ScanError
    from pdguard.evaluate import make_engine
    from pdguard.inventory.diff import diff_scans
    from pdguard.inventory.incremental import IncrementalSettings, audit_since_latest, plan_scan
    from pdguard.inventory.notify import DeliveryOutcome, deliver, parse_target
    from pdguard.inventory.store import Store
    from pdguard.inventory.watch import parse_interval
    from pdguard.inventory.watch import watch as watch_loop
    from pdguard.pipeline import check_document, gate, run_scan
    from pdguard.scanner import BaseMismatch
    from pdguard.units import format_duration

    cfg = _apply_engine_flags(obj.cfg, kw)
    seconds = parse_interval(interval)
    if seconds < MIN_WATCH_INTERVAL and not once:  # a tick per millisecond would hammer the API
        raise click.BadParameter(f"at least {MIN_WATCH_INTERVAL:g}s between ticks, got {interval}",
                                 param_hint="--interval")
    notify = cfg.notify.model_copy()
    if notify_format:
        notify.format = notify_format  # type: ignore[assignment]
    if notify_max_age:
        from pdguard.units import parse_duration

        parse_duration(notify_max_age, what="--notify-max-age", require_unit=True)
        notify.max_age = notify_max_age
    targets = list({t.key: t for t in (parse_target(x, notify.format) for x in notify_targets)}.values())
    retention = cfg.store_retention
    accounts = _targets(cfg, kw)  # validates every key and option before the first tick
    if len(accounts) > 1 and (tfstate or tf_dir):
        raise click.UsageError("--tfstate and --tf-dir describe one account's Terraform: choose that account with "
                               "--account NAME")
    incremental = IncrementalSettings(enabled=cfg.watch.incremental, full_every=cfg.watch.full_every,
                                      overlap=cfg.watch.overlap_seconds())
    engine = make_engine(cfg, kw["engine"], kw["opa_url"])  # kept across ticks: compiled once
    store = Store(store_url, config=cfg)
    log = logging.getLogger("pdguard.watch")
    log.setLevel(logging.INFO)
    failed_last: dict[str | None, bool] = {}  # the account's previous tick failed: the next one is full

    @dataclass
    class Tick:
        code: int
        delivery: DeliveryOutcome

    def scan_evaluate_store(account: Any) -> int:
        label = account.label
        plan = plan_scan(store, audit_since_latest(store, account.opts), incremental, full=full,
                         last_failed=failed_last.get(account.name, False))
        reason = plan.reason.removeprefix("incremental: ")
        try:
            result = run_scan(plan.opts, quiet=True)
        except BaseMismatch as exc:  # another account behind the same URL: nothing merged, scan it all
            log.warning("%s%s; scanning in full", label, exc)
            reason = "another account answered"
            result = run_scan(dataclasses.replace(plan.opts, incident_base=None), quiet=True)
        doc = result.document
        if tfstate or tf_dir:
            from pdguard.inventory.iac import apply_iac, classify

            apply_iac(doc, classify(doc, list(tfstate), list(tf_dir)))
        report = check_document(InputRef(doc=doc), cfg, engine=engine, policy_paths=list(kw["policies"]),
                                builtin=not kw["no_builtin"], fail_on=fail_on)
        scan_id = store.save_scan(doc, report, notify=[(t.key, t.label) for t in targets])
        meta = doc["meta"]
        kind = "incremental" if meta.get("incremental") else "full scan"
        line = (f"{label}scan {scan_id}: {store.count_assets(scan_id)} assets, {report.summary.total} findings "
                f"({report.summary.failing} failing); {kind} ({reason}), {result.requests} requests")
        if not meta.get("complete", True):
            log.error("%s; INCOMPLETE, not made latest: %s", line, "; ".join(meta.get("warnings") or []))
            # Like `check`: an incomplete inventory is an error unless --allow-incomplete accepts it.
            return gate(report) if kw["allow_incomplete"] else EXIT_ERROR
        previous = store.previous(scan_id)
        if previous is not None:
            d = diff_scans(store, previous["id"], scan_id)
            s = d["summary"]
            line += (f"; since scan {previous['id']}: +{s['added']} -{s['removed']} ~{s['changed']} assets, "
                     f"{s['new_findings']} new / {s['fixed_findings']} fixed findings")
        log.info("%s", line)
        return gate(report)

    def apply_retention() -> None:
        if not retention.enabled:
            return
        pruned = store.prune(retention.keep, retention.older_than_seconds())
        if pruned.deleted:
            rules = ", ".join(x for x in (f"keep {retention.keep}" if retention.keep else "",
                                          f"older than {retention.older_than}" if retention.older_than else "") if x)
            log.info("store retention (%s): pruned %d scan(s)%s", rules, len(pruned.deleted),
                     f" and {pruned.undelivered} undelivered notification(s)" if pruned.undelivered else "")

    def tick() -> Tick:
        with store.lock():
            failures: list[Exception] = []
            code = EXIT_OK
            delivery = DeliveryOutcome()
            for account in accounts:  # one account failing does not stop the others
                try:
                    code = max(code, scan_evaluate_store(account))
                    failed_last[account.name] = False
                except Exception as exc:  # noqa: BLE001 - logged once by the loop, after the outbox is flushed
                    failed_last[account.name] = True
                    failures.append(labelled(exc, account.label) if isinstance(exc, PdguardError) else exc)
            # Whatever happened to the scans, what is waiting in the outbox is retried.
            if targets:
                try:
                    delivery = deliver(store, targets, notify)
                except Exception as exc:  # noqa: BLE001
                    failures.append(exc)
            try:
                apply_retention()
            except Exception as exc:  # noqa: BLE001
                failures.append(exc)
            if len(failures) == 1:
                raise failures[0]
            if failures:
                raise ScanError(f"{len(failures)} failures: " + "; ".join(
                    " ".join(str(f).split()) if isinstance(f, PdguardError) else f"{type(f).__name__}: {f}"
                    for f in failures))
            return Tick(code, delivery)

    if not once:
        names = ", ".join(str(a.name) for a in accounts if a.name)
        log.info("watching every %s; store %s%s%s", format_duration(seconds), store.label,
                 f"; accounts {names}" if names else "",
                 f"; notifying {', '.join(t.label for t in targets)}" if targets else "")
    try:
        result = watch_loop(tick, seconds, once=once, max_ticks=max_ticks)
    finally:
        store.close()
    if once:
        if result.failures or result.last_result is None:
            sys.exit(EXIT_ERROR)
        last = result.last_result
        # 2 (an incomplete scan) > 4 (a notification not delivered) > 1 (failing findings) > 0
        sys.exit(last.code if last.code == EXIT_ERROR or last.delivery.ok else EXIT_NOTIFY)


@cli.group()
def policy() -> None:
    """Work with policies: test, eval, bundle, doc, list."""


@policy.command("test")
@click.argument("paths", nargs=-1)
@click.option("--engine", type=click.Choice(["embedded", "opa"]),
              help="Policy engine (default: engine in pdguard.yaml, else embedded).")
@click.option("--opa-url", metavar="URL", envvar="PDGUARD_OPA_URL", help="OPA server for --engine opa.")
@click.pass_obj
def policy_test(obj: Ctx, paths: tuple[str, ...], engine: str | None, opa_url: str | None) -> None:
    """Run the test_* rules of *_test.rego files (default: the built-in library), like `opa test`.

    -v (the global verbosity, before or after `test`) lists every test, not only failures.
    """
    from pdguard.engine.bundle import config_data
    from pdguard.engine.loader import load_policies
    from pdguard.evaluate import make_engine

    verbose = obj.verbose > 0

    ps = load_policies(list(paths), builtin=not paths, tests=True)
    for w in ps.warnings:
        echo_warning(w)
    eng = make_engine(obj.cfg, engine, opa_url)
    data = config_data(obj.cfg.policy_settings(ps.infos()))
    results = eng.run_tests(ps.modules, data)
    if not results:
        click.echo("pdguard: no test_* rules found", err=True)
        sys.exit(EXIT_ERROR)
    failed = [r for r in results if not r.passed]
    current = None
    for r in results:
        if verbose or not r.passed:
            if r.file != current:
                click.echo(f"{safe_text(r.file)}:")
                current = r.file
            status = "PASS" if r.passed else "FAIL"
            click.echo(safe_text(f"  data.{r.package}.{r.name}: {status}" + (f" ({r.error})" if r.error else "")))
            for line in r.output:  # print() lines of a failing test (data.pdguard.lib.testing's got/want)
                for part in safe_text(line, multiline=True).splitlines():
                    click.echo(f"      {part}")
    click.echo("-" * 60)
    click.echo(f"PASS: {len(results) - len(failed)}/{len(results)}" + (f"\nFAIL: {len(failed)}/{len(results)}" if failed else ""))
    sys.exit(EXIT_FINDINGS if failed else EXIT_OK)


@policy.command("eval")
@click.argument("query")
@click.option("--snapshot", metavar="FILE", help="The input document (a snapshot file); without it input is undefined.")
@click.option("--policy", "policies", multiple=True, metavar="PATH", help="Extra policy file/dir (repeatable).")
@click.option("--no-builtin", is_flag=True, help="Leave the built-in policies out (data.pdguard.lib stays).")
@click.option("--engine", type=click.Choice(["embedded", "opa"]),
              help="Policy engine (default: engine in pdguard.yaml, else embedded).")
@click.option("--opa-url", metavar="URL", envvar="PDGUARD_OPA_URL", help="OPA server for --engine opa.")
@format_options(("value", "json"), default="value")
@click.pass_obj
def policy_eval(obj: Ctx, query: str, snapshot: str | None, policies: tuple[str, ...], no_builtin: bool, engine: str | None,
                opa_url: str | None, formats: tuple[str, ...], output: str | None) -> None:
    """Evaluate one Rego QUERY, like `opa eval`: the policies, data.pdguard.lib and the settings loaded.

    \b
    pdguard policy eval 'data.pdguard.lib.oncall_users' --snapshot snapshot.json
    pdguard policy eval 'some s in input.services; lib.is_parked(s); name := s.name' --snapshot s.json
    pdguard policy eval 'data.pdguard.escalation_policies.single_user.deny' --snapshot s.json
    value (default): the value, or the variables each result binds; json: {"result": [...]}.
    `lib` in a query is data.pdguard.lib. Undefined prints `undefined` (exit 0). With --engine opa
    (OPA's query API answers bound variables only) assign what you want to see: `x := count(...)`.
    """
    from pdguard.engine.base import InputRef
    from pdguard.engine.bundle import config_data
    from pdguard.engine.loader import load_policies
    from pdguard.evaluate import check_snapshot_is_object, make_engine

    specs = parse_formats(formats, output, kinds=("value", "json"), default="value", inputs={"--snapshot": snapshot})
    ref = None
    if snapshot:
        from pdguard.snapshot import require_regular_file

        path = require_regular_file(snapshot)
        check_snapshot_is_object(path)
        ref = InputRef(path=path)
    ps = load_policies(list(policies), builtin=not no_builtin)
    for w in ps.warnings:
        echo_warning(w)
    eng = make_engine(obj.cfg, engine, opa_url)
    data = config_data(obj.cfg.policy_settings(ps.infos()))
    text = query.strip()
    if "lib." in text and "data.pdguard.lib" not in text:  # `lib.x` as in a policy that imports it
        import re

        text = re.sub(r"(?<![\w.])lib\.", "data.pdguard.lib.", text)
    result = eng.query(ps.sources, data, ref, text)

    def value() -> str:
        rows = result.get("result") or []
        if not rows:
            return "undefined"
        shown = []
        for row in rows:
            values = [e.get("value") for e in row.get("expressions") or []]
            shown.append(row["bindings"] if row.get("bindings") else (values[0] if len(values) == 1 else values))
        return json.dumps(shown[0] if len(shown) == 1 else shown, indent=2, ensure_ascii=False)

    emit(specs, {"value": value, "json": lambda: json.dumps(result, indent=2, ensure_ascii=False)}, what="query result")


@policy.command("bundle")
@click.option("-o", "--output", required=True, metavar="FILE", help="Bundle file to write (e.g. pdguard-bundle.tar.gz).")
@click.option("--policy", "policies", multiple=True, metavar="PATH", help="Extra policy file/dir (repeatable).")
@click.option("--no-builtin", is_flag=True, help="Leave the built-in policy library out.")
@click.option("--signing-key", metavar="KEY", envvar="PDGUARD_BUNDLE_SIGNING_KEY", show_envvar=True,
              help="Sign the bundle: PEM file of an RSA private key (RS256), or the HS256 secret (or a file holding it).")
@click.option("--signing-alg", type=click.Choice(["RS256", "HS256"]), default="RS256", show_default=True)
@click.pass_obj
def policy_bundle(obj: Ctx, output: str, policies: tuple[str, ...], no_builtin: bool, signing_key: str | None,
                  signing_alg: str) -> None:
    """Build an OPA bundle of the policies (tests left out), the entry module and pdguard.yaml's settings.

    Serve it with `opa run --server --bundle FILE` and evaluate against it with
    `pdguard check --engine opa --opa-preloaded`, which only queries OPA and checks that the
    bundle's revision matches the local policies and settings.
    """
    from pdguard.engine.bundle import build_bundle, read_signing_key, write_bundle
    from pdguard.engine.loader import load_policies
    from pdguard.evaluate import enabled_policies

    ps = load_policies(list(policies), builtin=not no_builtin)
    for w in ps.warnings:
        echo_warning(w)
    targets = enabled_policies(ps, obj.cfg)
    bundle = build_bundle(ps.sources, targets, obj.cfg.policy_settings(ps.infos()))
    key = read_signing_key(signing_key) if signing_key is not None else None
    write_bundle(output, bundle, signing_key=key, signing_alg=signing_alg)
    signed = f", signed {signing_alg}" if key is not None else ""
    click.echo(f"pdguard: wrote {output}: revision {bundle.revision}, {len(ps.sources)} modules "
               f"({len(targets)} policies enabled), roots {', '.join(bundle.roots)}{signed}", err=True)
    verify = f" --verification-key {'PUBLIC_KEY.pem' if signing_alg == 'RS256' else 'SECRET'} --signing-alg {signing_alg}" if key else ""
    click.echo(f"pdguard: serve it with: opa run --server --bundle {output}{verify}", err=True)


@policy.command("doc")
@click.argument("paths", nargs=-1)
@click.option("-o", "--output", metavar="FILE", help="Write to FILE instead of stdout.")
@click.option("--check", "check_file", metavar="FILE", help="Exit 1 when FILE differs from the generated catalogue.")
def policy_doc(paths: tuple[str, ...], output: str | None, check_file: str | None) -> None:
    """Markdown catalogue of policies from their METADATA (policies/README.md)."""
    from pdguard.engine.loader import load_policies
    from pdguard.fileout import write_output
    from pdguard.policydoc import render_catalogue

    ps = load_policies(list(paths), builtin=not paths)
    for w in ps.warnings:
        echo_warning(w)
    text = render_catalogue(ps)
    if check_file:
        try:
            current = Path(check_file).read_text(encoding="utf-8")
        except OSError:
            current = ""
        if current != text:
            click.echo(f"pdguard: {check_file} is out of date: run `pdguard policy doc -o {check_file}`", err=True)
            sys.exit(EXIT_FINDINGS)
        click.echo(f"pdguard: {check_file} is up to date", err=True)
        return
    if output:
        write_output(output, text, what="policy catalogue")
    else:
        click.echo(text, nl=False)


@policy.command("list")
@click.option("--policy", "policies", multiple=True, metavar="PATH", help="Also list the policies under PATH (repeatable).")
@click.option("--no-builtin", is_flag=True, help="Do not list the built-in library.")
@format_options(("table", "json"), default="table")
@click.option("--json", "as_json", is_flag=True, hidden=True, help="Deprecated: --format json.")
@click.pass_obj
def policy_list(obj: Ctx, policies: tuple[str, ...], no_builtin: bool, formats: tuple[str, ...],
                output: str | None, as_json: bool) -> None:
    """List policies (built-in and --policy PATH) with their id, effective severity and whether they are
    enabled, as pdguard.yaml sets them (severity overrides, enabled switches)."""
    from pdguard.engine.loader import load_policies
    from pdguard.evaluate import enabled_policies

    if as_json:
        deprecated("--json", "--format json")
        formats = (*formats, "json")
    specs = parse_formats(formats, output, kinds=("table", "json"))
    ps = load_policies(list(policies), builtin=not no_builtin)
    for w in ps.warnings:
        echo_warning(w)
    builtin_files = {m.path for m in load_policies([], builtin=True).policies} if not no_builtin else set()
    cfg = obj.cfg
    enabled = {m.info.id for m in enabled_policies(ps, cfg) if m.info}
    rows = []
    for i in sorted(ps.infos(), key=lambda i: i.id):
        switch = cfg.policies.get(i.id)
        effective = (switch.severity if switch and switch.severity else None) or i.severity
        rows.append({**i.model_dump(), "severity": effective, "default_severity": i.severity,
                     "enabled": i.id in enabled, "builtin": i.file in builtin_files})

    def table() -> str:
        width = max([len(r["id"]) for r in rows] + [2])
        lines = []
        for r in rows:
            sev = r["severity"] + ("*" if r["severity"] != r["default_severity"] else "")
            lines.append(safe_text(f"{r['id']:<{width}}  {sev:<9} {'on ' if r['enabled'] else 'off'}  {r['title']}")
                         + ("" if r["builtin"] else f"  ({safe_text(r['file'])})"))
        if any(r["severity"] != r["default_severity"] for r in rows):
            lines.append("* severity overridden in pdguard.yaml")
        return "\n".join(lines) if lines else "no policies"

    emit(specs, {"table": table, "json": lambda: json.dumps(rows, indent=2, ensure_ascii=False)}, what="policy list")


@cli.group("config")
def config_group() -> None:
    """Configuration helpers."""


@config_group.command("defaults")
@click.option("--policy", "policies", multiple=True, metavar="PATH",
              help="Also the settings your policies declare (METADATA custom.settings).")
@click.option("--no-builtin", is_flag=True, help="Leave the built-in policies out (their settings stay in the schema).")
@format_options(("yaml", "json"), default="yaml")
def config_defaults(policies: tuple[str, ...], no_builtin: bool, formats: tuple[str, ...], output: str | None) -> None:
    """Print the policy settings (data.pdguard.config): default, type, meaning and the policies reading each.

    yaml: a `settings:` block to paste into pdguard.yaml; json: the schema.
    """
    import yaml

    from pdguard.engine.loader import load_policies
    from pdguard.settings import declarations

    ps = load_policies(list(policies), builtin=not no_builtin)
    specs = declarations(ps.infos())

    def as_yaml() -> str:
        lines = ["settings:"]
        for s in specs.values():
            bounds = "".join([f", >= {s.minimum:g}" if s.minimum is not None else "",
                              f", <= {s.maximum:g}" if s.maximum is not None else ""])
            readers = ", ".join(s.read_by) or "no policy loaded"
            origin = "" if s.declared_by == "built-in" else f"; declared by {s.declared_by}"
            if s.description:
                lines.append(f"  # {' '.join(s.description.split())}")
            lines.append(f"  # {s.kind}{bounds}; read by {readers}{origin}")
            dumped = yaml.safe_dump({s.name: s.default}, default_flow_style=True, width=1000).strip()
            lines.append(f"  {dumped[1:-1]}")
        return "\n".join(lines)

    def as_json() -> str:
        return json.dumps([{"name": s.name, "type": s.kind, "default": s.default, "description": s.description,
                            "minimum": s.minimum, "maximum": s.maximum, "declared_by": s.declared_by,
                            "read_by": list(s.read_by)} for s in specs.values()], indent=2)

    emit(parse_formats(formats, output, kinds=("yaml", "json"), default="yaml"),
         {"yaml": as_yaml, "json": as_json}, what="settings")


@cli.command("simulator")
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=8080, show_default=True, type=int)
@click.option("--token", "tokens", multiple=True, help="Accepted API key (default: any).")
def simulator_cmd(host: str, port: int, tokens: tuple[str, ...]) -> None:
    """Serve the bundled sample account on a local PagerDuty-compatible API (for trying pdguard)."""
    import time

    from pdguard.simulator import sample_account, serve

    with serve(sample_account(), host=host, port=port, tokens=set(tokens) or None) as server:
        click.echo(f"pdguard simulator listening on {server.url} (Ctrl-C to stop)", err=True)
        try:
            while True:
                time.sleep(3600)
        except KeyboardInterrupt:
            pass


def _register_optional() -> None:
    try:
        from pdguard.inventory.cli import register
    except ImportError:  # pragma: no cover - inventory is part of the package
        return
    register(cli)


_register_optional()
install_global_options(cli)  # --config and -v after any subcommand (keep this after every add_command)


def main(argv: list[str] | None = None) -> None:
    """Entry point: every error is one line on stderr and a distinct exit code, never a traceback."""
    try:
        cli.main(args=argv, prog_name="pdguard", standalone_mode=False)
    except PdguardError as exc:
        click.echo(f"pdguard: error: {redact_text(safe_text(exc))}", err=True)
        sys.exit(exc.exit_code)
    except click.exceptions.Abort:
        click.echo("pdguard: aborted", err=True)
        sys.exit(130)
    except click.UsageError as exc:  # one line, like every other error (exit 2)
        where = exc.ctx.command_path if exc.ctx is not None else "pdguard"
        click.echo(f"pdguard: error: {safe_text(exc.format_message())} (see '{where} --help')", err=True)
        sys.exit(EXIT_ERROR)
    except click.ClickException as exc:
        click.echo(f"pdguard: error: {safe_text(exc.format_message())}", err=True)
        sys.exit(EXIT_ERROR if exc.exit_code in (1, 2) else exc.exit_code)
    except KeyboardInterrupt:
        click.echo("pdguard: interrupted", err=True)
        sys.exit(130)
    except SystemExit:
        raise
    except OSError as exc:  # e.g. a full disk or a permission problem outside the file helpers
        where = f"{exc.filename}: " if getattr(exc, "filename", None) else ""
        click.echo(f"pdguard: error: {safe_text(where)}{safe_text(exc.strerror or exc)}", err=True)
        sys.exit(EXIT_ERROR)
    except Exception as exc:  # a bug: still one line, unless debugging
        if os.environ.get("PDGUARD_DEBUG"):
            raise
        click.echo(f"pdguard: internal error: {type(exc).__name__}: {redact_text(safe_text(exc))[:300]}", err=True)
        sys.exit(EXIT_ERROR)
    sys.exit(EXIT_OK)
