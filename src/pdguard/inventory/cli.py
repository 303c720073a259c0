"""Click commands over the inventory store: ``inventory list|show|scans|prune``, ``diff``, ``codify``.

:func:`register` adds them to the main ``pdguard`` group. Every command takes ``--store URL``
(default: ``$PDGUARD_STORE``, then ``store:`` of pdguard.yaml, then the per-user SQLite file).
Errors are :class:`pdguard.errors.PdguardError` subclasses; the main entry point turns them
into exit codes.
"""

from __future__ import annotations

import json
from typing import Any

import click

from pdguard.cligrammar import deprecated, emit, format_options, parse_formats


def _config(ctx: click.Context) -> Any:
    obj = ctx.find_root().obj
    cfg = getattr(obj, "cfg", None)
    if cfg is not None:
        return cfg
    from pdguard.config import Config, load_config

    if isinstance(obj, Config):
        return obj
    return load_config(None)


def _open_store(ctx: click.Context, url: str | None) -> Any:
    from pdguard.inventory.store import Store

    if url:
        return Store(url)
    return Store(None, config=_config(ctx))


store_option = click.option(
    "--store",
    "store_url",
    metavar="URL",
    envvar="PDGUARD_STORE",
    show_envvar=True,
    help="Inventory store: sqlite:///PATH, a file path, or postgresql://… (default: `store:` in "
    "pdguard.yaml, else the per-user SQLite file).",
)


def _json(data: Any) -> str:
    return json.dumps(data, indent=2, ensure_ascii=False, default=str)


def _specs(formats: tuple[str, ...], output: str | None, as_json: bool, kinds: tuple[str, ...] = ("table", "json"),
           default: str = "table") -> Any:
    """`--format KIND[=FILE]` / `-o`, with the deprecated `--json` as `--format json`."""
    if as_json:
        deprecated("--json", "--format json")
        formats = (*formats, "json")
    return parse_formats(formats, output, kinds=kinds, default=default)


account_option = click.option(
    "--account", "account", metavar="NAME",
    help="Only this account's scans (the configured name of `accounts:`, else the account's subdomain). "
         "Needed when the store holds several accounts and no scan id is given.")


def _account(store: Any, account: str | None, needed: bool) -> str | None:
    """The account a command looks at: `account`, else the store's only account. When the command
    picks scans by itself (`needed`: no scan id) and the store holds several accounts, one must
    be named: the latest scan of "some" account is never what was meant."""
    from pdguard.inventory.store import StoreError

    accounts = store.accounts()
    if account is not None:
        if account not in accounts:
            known = ", ".join(str(a) for a in accounts) or "none"
            raise StoreError(f"--account {account}: the store holds no scan of that account (accounts: {known})")
        return account
    if needed and len(accounts) > 1:
        raise StoreError(f"the store holds scans of {len(accounts)} accounts "
                         f"({', '.join(str(a) for a in accounts)}): choose one with --account NAME")
    return None


scan_id_option = click.option("--scan", "scan_id", type=click.IntRange(1, 2**63 - 1), metavar="ID",
                              help="Scan id (default: latest complete scan).")
json_flag = click.option("--json", "as_json", is_flag=True, hidden=True, help="Deprecated: --format json.")


def _table(rows: list[list[str]], headers: list[str]) -> str:
    """Aligned columns; cells are untrusted (names from PagerDuty): control/bidi characters neutralised."""
    from pdguard.textsafe import safe_text

    rows = [[safe_text(c) for c in r] for r in rows]
    widths = [len(h) for h in headers]
    for r in rows:
        for i, c in enumerate(r):
            widths[i] = max(widths[i], len(c))
    fmt = "  ".join(f"{{:<{w}}}" for w in widths)
    lines = [fmt.format(*headers).rstrip(), fmt.format(*("-" * w for w in widths)).rstrip()]
    lines += [fmt.format(*r).rstrip() for r in rows]
    return "\n".join(lines)


@click.group("inventory")
def inventory() -> None:
    """Browse the stored inventory history (scans saved by `pdguard watch`)."""


@inventory.command("scans")
@store_option
@click.option("--limit", type=click.IntRange(1, 2**31 - 1), default=None, help="Newest N scans only.")
@account_option
@format_options(("table", "json"))
@json_flag
@click.pass_context
def scans_cmd(ctx: click.Context, store_url: str | None, limit: int | None, account: str | None,
              formats: tuple[str, ...], output: str | None, as_json: bool) -> None:
    """List stored scans (of every account, or of --account NAME), newest first."""
    specs = _specs(formats, output, as_json)
    with _open_store(ctx, store_url) as store:
        scans = store.list_scans(limit=limit, account=_account(store, account, needed=False))
    emit(specs, {"table": lambda: _scans_table(scans), "json": lambda: _json(scans)}, what="scan list")


def _scans_table(scans: list[dict[str, Any]]) -> str:
    if not scans:
        return "no scans stored yet"
    rows = [
        [
            str(s["id"]),
            str(s["scanned_at"] or ""),
            str(s["account"] or ""),
            "yes" if s["complete"] else "NO",
            str(s["assets"]),
            str(s["findings"]),
        ]
        for s in scans
    ]
    return _table(rows, ["SCAN", "SCANNED AT", "ACCOUNT", "COMPLETE", "ASSETS", "FINDINGS"])


@inventory.command("list")
@store_option
@click.option("--type", "asset_type", metavar="TYPE", help="Only this asset type (service, user, …).")
@scan_id_option
@account_option
@format_options(("table", "json"))
@json_flag
@click.pass_context
def list_cmd(ctx: click.Context, store_url: str | None, asset_type: str | None, scan_id: int | None,
             account: str | None, formats: tuple[str, ...], output: str | None, as_json: bool) -> None:
    """List the assets of a stored scan (default: the latest complete scan of the account)."""
    specs = _specs(formats, output, as_json)
    with _open_store(ctx, store_url) as store:
        scan = store.require_scan(scan_id, _account(store, account, needed=scan_id is None))
        assets = store.assets(scan["id"], type=asset_type)

    def table() -> str:
        from pdguard.output._common import count
        from pdguard.textsafe import safe_text

        head = safe_text(f"scan {scan['id']} ({scan['scanned_at']}, account {scan['account'] or '-'}): "
                         f"{count(len(assets), 'asset')}")
        if not assets:
            return head
        return head + "\n" + _table([[a["type"], a["id"], a["name"] or ""] for a in assets], ["TYPE", "ID", "NAME"])

    doc = {"scan": {k: scan[k] for k in ("id", "scanned_at", "account", "complete")}, "assets": assets}
    emit(specs, {"table": table, "json": lambda: _json(doc)}, what="asset list")


@inventory.command("show")
@store_option
@click.argument("asset_id")
@scan_id_option
@account_option
@click.option("--type", "asset_type", metavar="TYPE", help="Asset type, when an id is ambiguous.")
@format_options(("table", "json"))
@json_flag
@click.pass_context
def show_cmd(
    ctx: click.Context, store_url: str | None, asset_id: str, scan_id: int | None, account: str | None,
    asset_type: str | None, formats: tuple[str, ...], output: str | None, as_json: bool,
) -> None:
    """Show one asset: its stored configuration and its findings."""
    from pdguard.inventory.store import StoreError
    from pdguard.textsafe import safe_text

    specs = _specs(formats, output, as_json)
    with _open_store(ctx, store_url) as store:
        scan = store.require_scan(scan_id, _account(store, account, needed=scan_id is None))
        asset = store.asset(asset_id, scan["id"], type=asset_type)
    if asset is None:
        raise StoreError(f"no asset {safe_text(asset_id)} in scan {scan['id']}")

    def table() -> str:
        lines = [safe_text(f"{asset['type']} {asset['id']}  {asset['name'] or ''}"),
                 safe_text(f"scan {asset['scan_id']} ({scan['scanned_at']}, account {scan['account'] or '-'}), "
                           f"content hash {asset['content_hash']}")]
        findings = asset["findings"]
        lines.append(f"findings: {len(findings)}")
        for f in findings:
            waived = " (waived)" if f.get("waived") else ""
            lines.append("  " + safe_text(f"[{f.get('severity')}] {f.get('policy_id')}: {f.get('msg')}{waived}"))
        lines.append("config:")
        lines.append(safe_text(json.dumps(asset["config"], indent=2, ensure_ascii=False, sort_keys=True), multiline=True))
        return "\n".join(lines)

    emit(specs, {"table": table, "json": lambda: _json(asset)}, what="asset")


@inventory.command("prune")
@store_option
@click.option("--keep", type=click.IntRange(1), metavar="N", help="Keep the newest N scans (of each account).")
@account_option
@click.option("--older-than", metavar="AGE", help="Delete scans older than AGE (e.g. 90d, 12w, 36h).")
@click.option("--dry-run", is_flag=True, help="List what would be deleted; delete nothing.")
@click.option("--no-vacuum", is_flag=True, help="SQLite: do not compact the file after deleting.")
@click.pass_context
def prune_cmd(ctx: click.Context, store_url: str | None, keep: int | None, account: str | None,
              older_than: str | None, dry_run: bool, no_vacuum: bool) -> None:
    """Delete old scans with their assets, findings and notifications.

    A scan is kept when any option keeps it (among the newest N, or younger than AGE); the latest
    complete scan of each account is always kept. --account NAME prunes only that account's scans. `watch` applies the same rules after every tick
    when pdguard.yaml has `store_retention: {keep: N, older_than: AGE}`.
    """
    import contextlib
    import logging

    from pdguard.inventory.store import StoreLockedError
    from pdguard.textsafe import safe_text
    from pdguard.units import format_duration, parse_duration

    if keep is None and older_than is None:
        raise click.UsageError("give --keep N and/or --older-than AGE")
    age = parse_duration(older_than, what="--older-than", require_unit=True) if older_than else None
    with _open_store(ctx, store_url) as store:
        account = _account(store, account, needed=False)
        if dry_run:
            plan = store.prune_plan(keep, age, account=account)
            for d in plan:
                click.echo(safe_text(f"would delete scan {d['id']} ({d['scanned_at']}, {d['account'] or '-'}"
                                     f"{'' if d['complete'] else ', incomplete'})"))
            click.echo(f"pdguard: {len(plan)} scan(s) would be deleted (dry run)", err=True)
            return
        with contextlib.ExitStack() as stack:
            try:
                stack.enter_context(store.lock(timeout=0))
            except StoreLockedError:
                logging.getLogger("pdguard").warning("waiting for the store lock (a pdguard watch is using the store)")
                stack.enter_context(store.lock())
            before = store.size_bytes()
            result = store.prune(keep, age, account=account)
            vacuumed = bool(result.deleted) and not no_vacuum and store.dialect == "sqlite"
            if vacuumed:
                store.vacuum()
            after = store.size_bytes()
    rules = ", ".join(x for x in (f"keep {keep}" if keep else "", f"older than {format_duration(age)}" if age else "") if x)
    msg = f"pdguard: pruned {len(result.deleted)} scan(s) ({rules})"
    if result.deleted:
        ids = result.deleted
        msg += f": {', '.join(map(str, ids[:10]))}{', …' if len(ids) > 10 else ''}"
    if result.undelivered:
        msg += f"; {result.undelivered} undelivered notification(s) went with them"
    if before is not None and after is not None and result.deleted:
        msg += f"; store {before / 1e6:.1f} MB -> {after / 1e6:.1f} MB" + ("" if vacuumed else " (space reused by later scans)")
    click.echo(msg, err=True)


@click.command("diff")
@store_option
@click.argument("scan_a", type=click.IntRange(1, 2**63 - 1), required=False)
@click.argument("scan_b", type=click.IntRange(1, 2**63 - 1), required=False)
@account_option
@format_options(("text", "json"), default="text")
@json_flag
@click.pass_context
def diff_cmd(ctx: click.Context, store_url: str | None, scan_a: int | None, scan_b: int | None, account: str | None,
             formats: tuple[str, ...], output: str | None, as_json: bool) -> None:
    """What changed between two stored scans of one account (default: its previous complete scan vs
    its latest; with several accounts in the store, --account NAME chooses).

    With one id, compares that scan with the latest complete scan of its account.
    """
    from pdguard.inventory.diff import diff_scans, render_text

    specs = _specs(formats, output, as_json, kinds=("text", "json"), default="text")
    with _open_store(ctx, store_url) as store:
        result = diff_scans(store, scan_a, scan_b, account=_account(store, account, needed=scan_a is None))
    emit(specs, {"text": lambda: render_text(result), "json": lambda: _json(result)}, what="diff")


@click.command("codify")
@store_option
@click.option("--type", "types", multiple=True, metavar="TYPE",
              help="Only these types (service, escalation_policy, … or pagerduty_service; repeatable).")
@click.option("--tfstate", multiple=True, metavar="PATH",
              help="Terraform state or `terraform show -json` output (repeatable): objects in it are skipped.")
@click.option("--tf-dir", multiple=True, metavar="DIR", help="Terraform sources (for name collisions/locations).")
@click.option("--snapshot", metavar="FILE", help="Snapshot file (default: the latest complete scan in the store).")
@account_option
@click.option("-o", "--output", metavar="FILE", help="Write the Terraform here (atomically) instead of stdout.")
@click.pass_context
def codify_cmd(
    ctx: click.Context,
    store_url: str | None,
    types: tuple[str, ...],
    tfstate: tuple[str, ...],
    tf_dir: tuple[str, ...],
    snapshot: str | None,
    account: str | None,
    output: str | None,
) -> None:
    """Terraform import blocks + resource skeletons for objects not managed by Terraform.

    From --snapshot FILE, else from the latest complete scan in the store (of --account NAME: a
    store holding several accounts asks which one)."""
    from pdguard.inventory.codify import codify
    from pdguard.inventory.iac import TF_TYPES, classify

    known = set(TF_TYPES) | set(TF_TYPES.values())
    bad = [t for t in types if t not in known]
    if bad:
        raise click.BadParameter(
            f"unknown type {', '.join(bad)} (one of {', '.join(sorted(TF_TYPES.values()))})", param_hint="--type"
        )
    if output:
        from pdguard.cligrammar import refuse_clobbering

        refuse_clobbering({"-o/--output": output}, {"--snapshot": snapshot, "--tfstate": tfstate})
    if snapshot:
        if account is not None:
            raise click.UsageError("--account chooses a stored scan: not with --snapshot (a snapshot is one account's)")
        from pdguard.snapshot import load_document

        doc = load_document(snapshot)
    else:
        with _open_store(ctx, store_url) as store:
            doc = store.load_document(None, _account(store, account, needed=True))
    iac = classify(doc, list(tfstate), list(tf_dir))
    text = codify(doc, iac, list(types) or None)
    if output:
        from pdguard.fileout import write_output

        write_output(output, text, what="Terraform")
        from pdguard.output._common import count
        from pdguard.textsafe import safe_text

        n = text.count("\nimport {") + text.startswith("import {")
        click.echo(f"pdguard: {count(n, 'import block')} written to {safe_text(output)}", err=True)
    else:
        click.echo(text, nl=False)


def register(group: click.Group) -> None:
    """Add ``inventory``, ``diff`` and ``codify`` to the main click group."""
    for cmd in (inventory, diff_cmd, codify_cmd):
        if cmd.name not in group.commands:
            group.add_command(cmd)
