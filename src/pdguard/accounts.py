"""Several PagerDuty accounts (``accounts:`` in pdguard.yaml).

* Which accounts a command covers (:func:`targets`): every configured account, or those named by
  ``--account NAME`` (repeatable); without ``accounts:`` there is one implicit account, configured
  by the flags and environment as always (its name is None).
* Each account's key comes from its own environment variable (``api_key_env``, default
  ``PAGERDUTY_API_KEY_<NAME>``); the single-account flags (``--api-key``, ``--oauth``,
  ``--region``, ``--api-url``) are refused with ``accounts:``: each account has its own.
* Scan settings, first found: the flag, the account's ``scan:``, ``scan:``, the default.
* A snapshot is one account's document (``meta.account`` names it): ``scan -o FILE`` with several
  accounts writes one file per account (:func:`snapshot_path`).
* One report over several accounts (:func:`combine`): every finding names its account
  (``Finding.account``, part of its fingerprint), ``meta.accounts`` holds each account's snapshot
  meta, warnings say which account they are about; :func:`split` gives each account's report
  back (SARIF runs, JUnit suites, table and Markdown sections).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from pdguard.errors import ConfigError
from pdguard.findings import Report, Summary

if TYPE_CHECKING:  # pragma: no cover
    from pdguard.config import AccountSettings, Config

ACCOUNT_PLACEHOLDER = "{account}"
SINGLE_ACCOUNT_FLAGS = ("api_key", "oauth", "region", "api_url")


def _prefix(name: str) -> str:
    """What starts a message about one account (errors, log lines, a combined report's warnings)."""
    return f"account {name}: "


@dataclass
class Target:
    name: str | None  # the configured account's name; None: the one implicit account
    opts: Any  # pdguard.scanner.ScanOptions

    @property
    def label(self) -> str:
        return _prefix(self.name) if self.name else ""


def labelled(exc: Exception, label: str) -> Exception:
    """The same pdguard error with "account NAME: " before its message (once)."""
    if not label or str(exc).startswith(label):
        return exc
    new = type(exc)(label + str(exc))
    new.__dict__.update({k: v for k, v in exc.__dict__.items() if k != "args"})
    return new


def select(cfg: Config, names: tuple[str, ...] | list[str] = ()) -> list[AccountSettings | None]:
    """The accounts a command covers: `names` (``--account``), else every configured account, else
    the one implicit account (None)."""
    if not cfg.accounts:
        if names:
            raise ConfigError(f"--account {names[0]}: {cfg.source or 'pdguard.yaml'} has no `accounts:` (without it "
                              "pdguard scans one account, from the flags and environment)")
        return [None]
    if not names:
        return list(cfg.accounts)
    known = {a.name: a for a in cfg.accounts}
    out = []
    for n in dict.fromkeys(names):
        if n not in known:
            raise ConfigError(f"--account {n}: no such account in {cfg.source or 'pdguard.yaml'} "
                              f"(accounts: {', '.join(known)})")
        out.append(known[n])
    return out


def targets(cfg: Config, kw: dict[str, Any]) -> list[Target]:
    """Scan options of every account the command covers (checked before any request)."""
    from pdguard.pipeline import scan_options

    chosen = select(cfg, tuple(kw.get("accounts") or ()))
    if chosen != [None]:
        given = [f"--{f.replace('_', '-')}" for f in SINGLE_ACCOUNT_FLAGS if kw.get(f)]
        if given:
            raise ConfigError(f"{', '.join(given)}: with `accounts:` in {cfg.source or 'pdguard.yaml'} each account "
                              "has its own key, region and API URL (choose accounts with --account NAME)")
        if cfg.scan.api_key or cfg.scan.api_url:
            raise ConfigError(f"{cfg.source or 'pdguard.yaml'}: scan.api_key and scan.api_url do not apply with "
                              "`accounts:`: give each account its api_key_env and region or api_url")
    return [Target(a.name if a else None, scan_options(
        cfg, account=a, api_key=kw.get("api_key"), oauth=bool(kw.get("oauth")), region=kw.get("region"),
        api_url=kw.get("api_url"), concurrency=kw.get("concurrency"), incidents_since=kw.get("incidents_since"),
        lookback_days=kw.get("lookback_days"), exclude=tuple(kw.get("exclude") or ()), timeout=kw.get("timeout"),
        max_duration=kw.get("max_duration"), audit_days=kw.get("audit_days"))) for a in chosen]


def snapshot_path(path: str, name: str | None, several: bool) -> str:
    """Where an account's snapshot goes: ``{account}`` in `path` is replaced by the name; with
    several accounts and no placeholder, the name goes before the extension
    (``snapshot.json`` -> ``snapshot.eu.json``); one account writes `path` itself."""
    if name is None:
        return path
    if ACCOUNT_PLACEHOLDER in path:
        return path.replace(ACCOUNT_PLACEHOLDER, name)
    if not several:
        return path
    p = Path(path)
    return str(p.with_name(f"{p.stem}.{name}{p.suffix}" if p.suffix else f"{p.name}.{name}"))


# ------------------------------------------------------------------------------------------ reports


def combine(parts: list[tuple[str, Report]]) -> Report:
    """One report over several accounts' reports (the same policies and configuration): findings
    of every account (each names its account), ``meta.accounts`` = each account's meta, the
    account's warnings prefixed ``account NAME: ``, the summary recomputed over everything."""
    from pdguard.evaluate import expired_warning, summarize
    from pdguard.findings import finding_sort_key

    if len(parts) == 1:
        return parts[0][1]
    first = parts[0][1]
    policies = {p.id: p for _, r in parts for p in r.policies}
    findings = sorted((f for _, r in parts for f in r.findings), key=finding_sort_key)
    waived = sorted((f for _, r in parts for f in r.waived), key=finding_sort_key)
    # What every account's report says (expired waivers, policy loading notes) is said once, as is.
    shared = {expired_warning(w) for w in first.expired_waivers} | set.intersection(
        *(set(r.warnings) for _, r in parts))
    warnings: list[str] = []
    for name, r in parts:
        warnings += [_prefix(name) + w for w in r.warnings if w not in shared]
    warnings += [w for w in dict.fromkeys(first.warnings) if w in shared]
    metas = {name: r.meta for name, r in parts}
    evaluation = first.meta.get("evaluation")
    meta: dict[str, Any] = {
        "accounts": {name: {k: v for k, v in m.items() if k != "evaluation"} for name, m in metas.items()},
        "scanned_at": max(str(m.get("scanned_at") or "") for m in metas.values()) or None,
        "complete": all(m.get("complete") is not False for m in metas.values()),
        **({"evaluation": evaluation} if evaluation is not None else {}),
    }
    summary = summarize(findings, waived, first.summary.fail_on)
    return Report(tool=first.tool, meta=meta, policies=sorted(policies.values(), key=lambda p: p.id),
                  findings=findings, waived=waived, expired_waivers=first.expired_waivers,
                  fixed=[x for _, r in parts for x in r.fixed], summary=summary, warnings=warnings)


def names(report: Report) -> list[str | None]:
    """The accounts of a report: those of ``meta.accounts``, else its one account (None: implicit)."""
    accounts = report.meta.get("accounts")
    if isinstance(accounts, dict) and accounts:
        return list(accounts)
    name = report.meta.get("account")
    return [name if isinstance(name, str) and name else None]


def is_several(report: Report) -> bool:
    return len(names(report)) > 1


def split(report: Report) -> list[tuple[str | None, Report]]:
    """Each account's report back from a combined one (the report itself for one account): its
    findings, waived and fixed findings, its warnings (unprefixed; warnings about no account
    in each), its meta (plus the shared ``evaluation``), its own summary."""
    from pdguard.evaluate import summarize

    accounts = report.meta.get("accounts")
    if not (isinstance(accounts, dict) and len(accounts) > 1):
        return [(names(report)[0], report)]
    out: list[tuple[str | None, Report]] = []
    prefixes = [_prefix(n) for n in accounts]
    general = [w for w in report.warnings if not any(w.startswith(p) for p in prefixes)]
    s = report.summary
    for name, meta in accounts.items():
        mine = [f for f in report.findings if f.account == name]
        waived = [f for f in report.waived if f.account == name]
        summary: Summary = summarize(mine, waived, s.fail_on, baseline=s.new is not None)
        if s.new is not None:
            summary.new = sum(1 for f in mine if f.baseline == "new")
            summary.unchanged = sum(1 for f in mine if f.baseline == "unchanged")
            summary.fixed = sum(1 for x in report.fixed if x.get("account") == name)
        if s.shown_severities:
            summary.shown_severities = s.shown_severities
        warnings = [w[len(_prefix(name)):] for w in report.warnings if w.startswith(_prefix(name))] + general
        sub_meta = {**meta, "account": name}
        if "evaluation" in report.meta:
            sub_meta["evaluation"] = report.meta["evaluation"]
        out.append((name, Report(tool=report.tool, meta=sub_meta, policies=report.policies, findings=mine,
                                 waived=waived, expired_waivers=report.expired_waivers,
                                 fixed=[x for x in report.fixed if x.get("account") == name], summary=summary,
                                 warnings=warnings)))
    return out


def label(report: Report) -> str:
    """`eu (acme-eu)`, `acme`, or `us, eu` for the header lines of the human outputs."""
    parts = []
    for name in names(report):
        meta = (report.meta.get("accounts") or {}).get(name) if name else report.meta
        sub = (meta or {}).get("account_subdomain") if isinstance(meta, dict) else None
        if name and sub and sub != name:
            parts.append(f"{name} ({sub})")
        elif name or sub:
            parts.append(str(name or sub))
    return ", ".join(parts)
