"""Evaluate policies over a snapshot and turn `deny`/`warn` results into a Report.

This is the evaluation path of a possibly 60 MB snapshot: the document is handed to the engine
as it is (a file path or the in-memory dict) and never re-validated object by object in Python;
Python only sees the engine's (small) result: the envelope and the deny/warn sets.
"""

from __future__ import annotations

import datetime as dt
import fnmatch
import json
from pathlib import Path
from typing import Any

from pdguard import INFORMATION_URI, __version__
from pdguard.config import Config
from pdguard.engine.base import Engine, InputRef, entry_module
from pdguard.engine.bundle import config_data, policy_revision
from pdguard.engine.loader import PolicySet, load_policies
from pdguard.engine.metadata import OBJECT_FORM, Module
from pdguard.errors import ConfigError, EngineError, InputError, PolicyError
from pdguard.findings import (
    SEVERITIES,
    Finding,
    Location,
    PolicyInfo,
    Report,
    Resource,
    Summary,
    Waiver,
    finding_sort_key,
    fingerprint,
    severity_at_least,
    severity_counts,
)
from pdguard.snapshot import check_meta, check_version, refuse_report


def make_engine(cfg: Config, name: str | None = None, opa_url: str | None = None) -> Engine:
    from pdguard.engine.limits import EvalLimits

    kind = name or cfg.engine
    limits = EvalLimits.from_settings(cfg.limits)
    if kind == "embedded":
        from pdguard.engine.embedded import EmbeddedEngine

        return EmbeddedEngine(limits)
    if kind == "opa":
        from pdguard.engine.opa import OpaEngine

        url = opa_url or cfg.opa.url
        if not url:
            raise ConfigError("--engine opa needs an OPA server: pass --opa-url or set opa.url in pdguard.yaml")
        # The OPA server evaluates (its memory is its own); the time limit caps the query.
        timeout = min(cfg.opa.timeout, limits.timeout) if limits.timeout is not None else cfg.opa.timeout
        return OpaEngine(url, token=cfg.opa.token, timeout=timeout, ca_cert=cfg.opa.ca_cert,
                         insecure=cfg.opa.insecure, preloaded=cfg.opa.preloaded)
    raise ConfigError(f"unknown engine '{kind}' (choose embedded or opa)")


def enabled_policies(policyset: PolicySet, cfg: Config) -> list[Module]:
    known = {m.info.id for m in policyset.policies if m.info}
    for pid in cfg.policies:
        if pid not in known:
            raise ConfigError(f"pdguard.yaml: policies.{pid}: no such policy")
    out = []
    for m in policyset.policies:
        if not m.rules or m.info is None:
            continue
        switch = cfg.policies.get(m.info.id)
        enabled = switch.enabled if switch and switch.enabled is not None else m.info.enabled_by_default
        if enabled:
            out.append(m)
    return out


def _check_envelope(result: dict[str, Any], where: str = "snapshot") -> dict[str, Any]:
    version = result.get("schema_version")
    meta = result.get("meta")
    if version is None or not isinstance(meta, dict):
        raise InputError(f"{where} is not a pdguard snapshot (missing schema_version or meta)")
    refuse_report(meta, where)
    check_version(version, where)
    check_meta(meta, where)
    bad = result.get("not_lists") or []
    if bad:
        raise InputError(f"{where}: {', '.join(bad)} must be a list")
    return meta


_JSON_KINDS = {"[": "an array", '"': "a string", "t": "a boolean", "f": "a boolean", "n": "null"}


def check_snapshot_is_object(path: Path) -> None:
    """A snapshot file must hold a JSON object: a JSON array, string or number is a one-line
    :class:`InputError` (exit 3) naming the file, like any other unreadable snapshot, before the
    engine sees it. Reads only the first bytes."""
    try:
        with open(path, "rb") as fh:
            head = fh.read(4096)
    except OSError as exc:
        raise InputError(f"cannot read snapshot {path}: {exc.strerror}") from None
    first = head.lstrip(b"\xef\xbb\xbf \t\r\n")[:1].decode("latin-1")
    if not first:
        raise InputError(f"snapshot {path} is empty")
    if first != "{":
        kind = _JSON_KINDS.get(first, "a number" if first in "-0123456789" else "not JSON")
        raise InputError(f"snapshot {path} is not a pdguard snapshot: the file holds {kind}, not a JSON object")


def _items(m: Module, kind: str, value: Any) -> list[dict[str, Any]]:
    where = f"{m.path}:{m.package_line}"
    if value is None:
        return []
    if not isinstance(value, list):
        raise PolicyError(f"{where}: {kind} must be a set of objects, got {type(value).__name__}")
    for v in value:
        if isinstance(v, str):  # conftest style: a set of messages
            raise PolicyError(f"{where}: {kind} returned the message {json.dumps(v)[:60]} (a string, as conftest "
                              f"policies do); pdguard needs findings: {OBJECT_FORM}")
        if not isinstance(v, dict):
            raise PolicyError(f"{where}: {kind} returned {json.dumps(v)[:60]}, expected an object with msg and resource")
        res = v.get("resource")
        if not isinstance(v.get("msg"), str) or not isinstance(res, dict) or res.get("type") is None or res.get("id") is None:
            raise PolicyError(
                f"{where}: {kind} returned an object without msg (string) and resource {{type, id, name}}: "
                f"{json.dumps(v, sort_keys=True)[:100]}"
            )
        if "details" in v and not isinstance(v["details"], dict):
            raise PolicyError(f"{where}: {kind} 'details' must be an object")
    return value


def _iac_locations(iac: Any, plan: Any = None) -> dict[tuple[str, str], tuple[Location | None, str | None]]:
    """{(type, id): (Terraform source location, resource address)} from input.iac and input.plan."""
    out: dict[tuple[str, str], tuple[Location | None, str | None]] = {}

    def add(rtype: Any, rid: Any, entry: dict[str, Any]) -> None:
        loc = Location(path=str(entry["file"]), line=int(entry.get("line") or 1)) if entry.get("file") else None
        address = entry.get("address") if isinstance(entry.get("address"), str) else None
        if loc is not None or address is not None:
            out.setdefault((str(rtype), str(rid)), (loc, address))

    if isinstance(iac, dict):
        for rtype, by_id in (iac.get("resources") or {}).items():
            if isinstance(by_id, dict):
                for rid, entry in by_id.items():
                    if isinstance(entry, dict):
                        add(rtype, rid, entry)
        for g in iac.get("ghosts") or []:
            if isinstance(g, dict):
                add(g.get("type"), g.get("id"), g)
    # A planned change names its address even when the object is gone after the apply (delete),
    # and for the old object of a replace (findings about what the replace removes).
    for ch in (plan or {}).get("changes") or [] if isinstance(plan, dict) else []:
        res = ch.get("resource") if isinstance(ch, dict) else None
        if isinstance(res, dict) and res.get("id") is not None:
            add(res.get("type"), res.get("id"), ch)
            before = ch.get("before")
            if ch.get("action") == "replace" and isinstance(before, dict) and before.get("id") is not None:
                add(res.get("type"), before.get("id"), ch)
    return out


def _waiver_matches(w: Waiver, f: Finding) -> bool:
    if not fnmatch.fnmatchcase(f.policy_id, w.policy):
        return False
    if w.account is not None and w.account != f.account:
        return False
    if not w.resource:
        return True
    return fnmatch.fnmatchcase(f.resource.id, w.resource) or (
        f.resource.name is not None and fnmatch.fnmatchcase(f.resource.name, w.resource)
    )


def apply_waivers(findings: list[Finding], waivers: list[Waiver], today: dt.date) -> tuple[list[Finding], list[Finding], list[Waiver]]:
    active_w, expired = [], []
    for w in waivers:
        if w.expires and dt.date.fromisoformat(w.expires) < today:
            expired.append(w)
        else:
            active_w.append(w)
    active, waived = [], []
    for f in findings:
        w = next((w for w in active_w if _waiver_matches(w, f)), None)
        if w is None:
            active.append(f)
        else:
            waived.append(f.model_copy(update={"waived": True, "waiver": w}))
    return active, waived, expired


def summarize(findings: list[Finding], waived: list[Finding], fail_on: str, *, baseline: bool = False) -> Summary:
    failing = [f for f in findings if f.kind == "deny" and severity_at_least(f.severity, fail_on)]
    return Summary(
        total=len(findings),
        failing=sum(1 for f in failing if not baseline or f.baseline == "new"),
        failing_total=len(failing),
        waived=len(waived),
        by_severity=severity_counts(findings),
        fail_on=fail_on,
    )


def evaluate(
    input_ref: InputRef,
    cfg: Config,
    *,
    engine: Engine,
    policy_paths: list[str] | None = None,
    builtin: bool = True,
    fail_on: str | None = None,
    today: dt.date | None = None,
    policyset: PolicySet | None = None,
) -> Report:
    if input_ref.path is not None:
        check_snapshot_is_object(input_ref.path)
    ps = policyset or load_policies(policy_paths, builtin=builtin)
    targets = enabled_policies(ps, cfg)
    data = config_data(cfg.policy_settings(ps.infos()))
    result = engine.evaluate(ps.sources, targets, data, input_ref)
    meta = _check_envelope(result, f"snapshot {input_ref.path}" if input_ref.path is not None else "snapshot")
    # Which policies decided (the revision `pdguard policy bundle` would give them) and, on OPA,
    # the bundle and decision_id that trace these findings to OPA's decision log.
    meta = {**meta, "evaluation": {"engine": engine.name,
                                   "policy_revision": policy_revision(ps.sources, entry_module(targets), data),
                                   **(engine.last_evaluation or {})}}
    results = result.get("results")
    if not isinstance(results, dict):
        raise EngineError("the engine returned no policy results")
    plan = input_ref.doc.get("plan") if input_ref.doc is not None else None  # plans are merged in memory
    locations = _iac_locations(result.get("iac"), plan)
    account = meta.get("account") if isinstance(meta.get("account"), str) and meta.get("account") else None
    overrides = {pid: s.severity for pid, s in cfg.policies.items() if s.severity}
    findings: list[Finding] = []
    infos: list[PolicyInfo] = []
    for m in targets:
        info = m.info
        assert info is not None
        severity = overrides.get(info.id, info.severity)
        infos.append(info.model_copy(update={"severity": severity}))
        per = results.get(m.package)
        if not isinstance(per, dict):
            raise EngineError(f"no result for policy package {m.package} ({m.path})")
        for kind in ("deny", "warn"):
            if kind not in m.rules:
                continue
            for item in _items(m, kind, per.get(kind)):
                res = item["resource"]
                rtype, rid = str(res["type"]), str(res["id"])
                details = item.get("details") or {}
                location, address = locations.get((rtype, rid), (None, None))
                if address and "address" not in res:  # the Terraform resource, for IaC-managed objects
                    res = {**res, "address": address}
                findings.append(Finding(
                    policy_id=info.id, title=info.title, severity=severity if kind == "deny" else "info",
                    description=info.description, remediation=info.remediation, docs_url=info.docs_url,
                    kind=kind, msg=item["msg"],
                    resource=Resource(**{**res, "type": rtype, "id": rid,
                                         "name": None if res.get("name") is None else str(res.get("name"))}),
                    # A warn and a deny of one policy on one resource must not share a fingerprint.
                    details=details, fingerprint=fingerprint(info.id if kind == "deny" else f"{info.id}/warn",
                                                             rtype, rid, details, account),
                    account=account, package=m.package, file=m.path, location=location,
                ))
    active, waived, expired = apply_waivers(findings, cfg.waiver_list(), today or dt.date.today())
    active.sort(key=finding_sort_key)
    waived.sort(key=finding_sort_key)
    fail = fail_on or cfg.fail_on
    warnings = list(meta.get("warnings") or []) + list(ps.warnings)
    if meta.get("complete") is False:
        warnings.insert(0, "the inventory is incomplete (meta.complete is false): findings cover only what was "
                           "collected, and a collection that was not collected can hide problems")
    for w in expired:
        warnings.append(expired_warning(w))
    loaded = [i.id for i in ps.infos()]
    for w in cfg.waiver_list():  # a misspelt policy id would silently waive nothing
        if not any(fnmatch.fnmatchcase(pid, w.policy) for pid in loaded):
            warnings.append(f"waiver for {w.policy} {w.resource or '*'} matches no policy loaded (a typo?): "
                            "it waives nothing")
    return Report(
        tool={"name": "pdguard", "version": __version__, "informationUri": INFORMATION_URI, "engine": engine.name},
        meta=meta, policies=infos, findings=active, waived=waived, expired_waivers=expired,
        summary=summarize(active, waived, fail), warnings=warnings,
    )


def expired_warning(w: Waiver) -> str:
    of = f" of account {w.account}" if w.account else ""
    return f"waiver for {w.policy} {w.resource or '*'}{of} expired on {w.expires}: it no longer waives anything"


def show_only(report: Report, severities: list[str] | tuple[str, ...] | None) -> Report:
    """`--severity`: list only findings of these severities. Display only: the summary (counts,
    `failing`, and so the gate) still covers every finding; `summary.hidden` says how many are
    not listed. Apply it last (after a baseline)."""
    if not severities:
        return report
    keep = set(severities)
    shown = [f for f in report.findings if f.severity in keep]
    summary = report.summary.model_copy(update={
        "shown_severities": [s for s in SEVERITIES if s in keep],
        "hidden": report.summary.hidden + len(report.findings) - len(shown),
    })
    return report.model_copy(update={
        "findings": shown, "waived": [f for f in report.waived if f.severity in keep], "summary": summary,
    })


def load_baseline(path: str) -> dict[str, Any]:
    """Read an earlier `--format json` report."""
    p = Path(path)
    try:
        doc = json.loads(p.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise InputError(f"baseline file not found: {p}") from None
    except (OSError, ValueError) as exc:
        raise InputError(f"baseline {p} is not a pdguard JSON report: {exc}") from None
    if not isinstance(doc, dict) or not isinstance(doc.get("findings"), list):
        raise InputError(f"baseline {p} is not a pdguard JSON report (no 'findings' list)")
    for key in ("findings", "waived"):
        items = doc.get(key)
        if items is None and key == "waived":
            continue
        if not isinstance(items, list):
            raise InputError(f"baseline {p}: '{key}' must be a list of findings")
        for i, f in enumerate(items):
            if not isinstance(f, dict) or not isinstance(f.get("fingerprint"), str):
                raise InputError(f"baseline {p}: {key}[{i}] is not a finding with a string 'fingerprint'")
    return doc


def apply_baseline(report: Report, baseline: dict[str, Any]) -> Report:
    """Mark findings new/unchanged against an earlier JSON report; only new ones gate."""
    base_findings = [f for f in baseline["findings"] if isinstance(f, dict)]
    base = {f.get("fingerprint") for f in base_findings + [w for w in baseline.get("waived") or [] if isinstance(w, dict)]}
    current = {f.fingerprint for f in report.findings} | {f.fingerprint for f in report.waived}
    findings = [f.model_copy(update={"baseline": "unchanged" if f.fingerprint in base else "new"})
                for f in report.findings]
    fixed = [
        {k: f.get(k) for k in ("fingerprint", "policy_id", "title", "severity", "resource", "msg", "account")}
        for f in base_findings if f.get("fingerprint") not in current
    ]
    summary = summarize(findings, report.waived, report.summary.fail_on, baseline=True)
    summary.shown_severities, summary.hidden = report.summary.shown_severities, report.summary.hidden
    summary.new = sum(1 for f in findings if f.baseline == "new")
    summary.unchanged = sum(1 for f in findings if f.baseline == "unchanged")
    summary.fixed = len(fixed)
    return report.model_copy(update={"findings": findings, "fixed": fixed, "summary": summary})
