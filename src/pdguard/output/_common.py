"""Helpers shared by the output formats: ordering, labels, counts.

Every format orders findings the same way (:func:`pdguard.findings.finding_sort_key`, as the
report itself is ordered): severity (critical first), then policy id, resource type, resource id
and fingerprint, so output is deterministic whatever order the engine produced findings in.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from typing import Any
from urllib.parse import quote

from pdguard.findings import (  # noqa: F401 - the ordering helpers, re-exported for the formats
    SEVERITIES,
    Finding,
    PolicyInfo,
    Report,
    Resource,
    Summary,
    finding_sort_key,
    severity_at_least,
    severity_counts,
    severity_index,
    sorted_findings,
)
from pdguard.textsafe import safe_text


def _orjson_renders_alike(value: Any) -> bool:
    """orjson writes `value` exactly as the standard library's json module does: it is made of
    dicts with string keys, lists, strings, booleans, None, 64-bit integers and floats 0 or of
    magnitude in [1e-4, 1e16) (where both print the shortest repr; below, orjson writes 0.00001 for 1e-05)."""
    t = type(value)
    if t is str or t is bool or value is None:
        return True
    if t is dict:
        return all(type(k) is str and _orjson_renders_alike(v) for k, v in value.items())
    if t is list:
        return all(_orjson_renders_alike(v) for v in value)
    if t is int:
        return -(1 << 63) <= value < (1 << 64)
    if t is float:
        return value == 0 or 1e-4 <= abs(value) < 1e16  # False for NaN and infinities too
    return False


def dumps_indented(doc: Any, *, sort_keys: bool = False, default: Callable[[Any], Any] | None = None) -> str:
    """`json.dumps(doc, indent=2, sort_keys=sort_keys, ensure_ascii=False, default=default) + "\n"`, byte for byte,
    written by orjson when it gives the same bytes (ten times faster on a report of 17,000
    findings; the standard library's indenting encoder is pure Python), else by json."""
    if _orjson_renders_alike(doc):
        try:
            import orjson

            option = orjson.OPT_INDENT_2 | orjson.OPT_APPEND_NEWLINE | (orjson.OPT_SORT_KEYS if sort_keys else 0)
            return orjson.dumps(doc, option=option).decode("utf-8")
        except (ImportError, TypeError):  # pragma: no cover - orjson is a dependency
            pass
    return json.dumps(doc, indent=2, sort_keys=sort_keys, ensure_ascii=False, default=default) + "\n"


def summary_counts(s: Summary) -> dict[str, int]:
    """Active findings per severity as the summary counts them: all of them, also those `--severity`
    does not list; every known severity (zeros included) in SEVERITIES order, then any other."""
    return {**dict.fromkeys(SEVERITIES, 0), **s.by_severity}


def resource_label(resource: Resource) -> str:
    """`service "API gateway" (PABC123)`; without a name: `service PABC123`."""
    if resource.name:
        return f'{resource.type} "{resource.name}" ({resource.id})'
    return f"{resource.type} {resource.id}"


def plural(resource_type: str) -> str:
    """`service` → `services`, `escalation_policy` → `escalation_policies`."""
    t = resource_type.removesuffix("_reference") or "resource"
    if t.endswith("y") and t[-2:-1] not in ("a", "e", "i", "o", "u"):
        return t[:-1] + "ies"
    if t.endswith(("s", "x", "ch", "sh")):
        return t + "es"
    return t + "s"


def pseudo_path(resource: Resource) -> str:
    """Stable repository-relative pseudo path for a PagerDuty resource (no Terraform source)."""
    rtype = re.sub(r"[^A-Za-z0-9_.-]+", "_", plural(resource.type))
    return f"pagerduty/{rtype}/{quote(resource.id, safe='')}.json"


def first_sentence(text: str, limit: int = 100) -> str:
    """First sentence of `text` on one line, cut at `limit` characters with an ellipsis."""
    text = " ".join(text.split())
    m = re.search(r"(?<=[.!?])\s", text)
    if m:
        text = text[: m.start()]
    if len(text) > limit:
        text = text[: limit - 1].rstrip() + "…"
    return text


def policy_area(policy: PolicyInfo | None, finding: Finding | None = None) -> str | None:
    """`services` from package `pdguard.services.has_ep` or file `policies/services/has_ep.rego`."""
    package = (policy.package if policy else None) or (finding.package if finding else None)
    if package:
        parts = package.split(".")
        if len(parts) >= 3 and parts[0] == "pdguard":
            return parts[1]
    file = (policy.file if policy else None) or (finding.file if finding else None)
    if file:
        parts = file.replace("\\", "/").split("/")
        if len(parts) >= 2:
            return parts[-2]
    return None


def policy_titles(report: Report) -> dict[str, str]:
    """policy id → title, from the report's policies and (for unknown policies) its findings."""
    titles = {p.id: p.title for p in report.policies}
    for f in [*report.findings, *report.waived]:
        titles.setdefault(f.policy_id, f.title)
    return titles


def count(n: int, singular: str, plural_form: str | None = None) -> str:
    """`1 finding`, `2 findings`, `1 policy`, `3 policies`."""
    if n == 1:
        return f"{n} {singular}"
    if plural_form is None:
        plural_form = singular[:-1] + "ies" if singular.endswith("y") and singular[-2:-1] not in "aeiou" else singular + "s"
    return f"{n:,} {plural_form}"


def report_summary(report: Report) -> Summary:
    """The report's summary: what the gate decided over every finding (not only those shown).

    A report assembled by hand (no summary: total 0 but findings) gets one derived from its lists.
    """
    s = report.summary
    if s.total == 0 and report.findings and not s.hidden:
        failing = [f for f in report.findings if f.kind == "deny" and severity_at_least(f.severity, s.fail_on)]
        by_sev = severity_counts(report.findings)
        return s.model_copy(update={
            "total": len(report.findings), "by_severity": by_sev, "waived": len(report.waived),
            "failing": sum(1 for f in failing if s.new is None or f.baseline == "new"),
            "failing_total": len(failing),
        })
    if s.failing_total < s.failing:  # older reports (no failing_total)
        s = s.model_copy(update={"failing_total": s.failing})
    return s


def gate_line(s: Summary) -> str:
    """`9 failing (>= high)`; with a baseline `2 new failing (>= high) of 9`; `--fail-on none`: ''."""
    if s.fail_on == "none":
        return "gate off (--fail-on none)"
    if s.new is not None:
        return f"{s.failing} new failing (>= {s.fail_on}) of {s.failing_total} failing"
    return f"{s.failing} failing (>= {s.fail_on})"


def shown_note(s: Summary) -> str | None:
    """`showing only medium, low (--severity): 12 findings not listed; the gate counts them`."""
    if not s.shown_severities:
        return None
    return (f"showing only {', '.join(s.shown_severities)} (--severity): {count(s.hidden, 'finding')} not "
            "listed; the gate still counts every finding")


def safe_resource_label(resource: Resource) -> str:
    """:func:`resource_label` with untrusted text neutralised (for human-readable outputs)."""
    return safe_text(resource_label(resource))


REVISION_SHOWN = 12  # hex digits of a policy revision the human-readable formats show (the JSON has all 64)
FIELD_SHOWN = 200  # at most this many characters of any other evaluation field


def evaluation_fields(meta: dict[str, Any]) -> dict[str, str]:
    """What decided the findings, from ``meta.evaluation``, for the human-readable formats: ``engine``,
    ``policy_revision``, and on OPA ``bundle``, ``bundle_revision`` (only when it is not the policy
    revision: the check makes them equal) and ``decision_id``. Only the fields present and non-empty,
    as plain text: the values come from the report (a report file may hold anything), each format
    still neutralises and escapes them. Empty without ``meta.evaluation``."""
    evaluation = meta.get("evaluation")
    if not isinstance(evaluation, dict):
        return {}
    out: dict[str, str] = {}
    for key in ("engine", "policy_revision", "bundle", "bundle_revision", "decision_id"):
        value = evaluation.get(key)
        if value is None or isinstance(value, dict | list) or str(value) == "":
            continue
        text = str(value)
        out[key] = text if len(text) <= FIELD_SHOWN else text[: FIELD_SHOWN - 1] + "…"
    if out.get("bundle_revision") == out.get("policy_revision"):
        out.pop("bundle_revision", None)
    return out


def short_revision(revision: str) -> str:
    """The first :data:`REVISION_SHOWN` characters of a revision, with an ellipsis when cut."""
    return revision if len(revision) <= REVISION_SHOWN else revision[:REVISION_SHOWN] + "…"
