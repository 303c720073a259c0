"""JSON output: the whole :class:`~pdguard.findings.Report`, deterministically ordered.

The document is ``report.model_dump(mode="json")`` with lists sorted and keys sorted, written
with 2-space indentation, UTF-8 (no ``\\u`` escapes for non-ASCII) and a trailing newline. Two
renders of equal reports are byte-identical. Schema (version in ``schema_version``; fields are
only ever added within a major version):

``schema_version`` (string)
    Report schema version (``pdguard.findings.REPORT_SCHEMA_VERSION``, currently ``"1.0"``).
``tool`` (object of strings)
    ``{"name": "pdguard", "version": ...}`` as set by the caller.
``meta`` (object)
    The snapshot's ``meta``: ``account_subdomain``, ``account`` (the configured account's name,
    with ``accounts:`` in pdguard.yaml), ``region``, ``scanned_at``, ``counts``,
    ``complete``, ``warnings`` … (see docs/design.md); a report over several accounts has instead
    ``accounts`` ({name: that account's snapshot meta}), ``scanned_at`` (the latest) and
    ``complete`` (all of them); plus ``evaluation``: ``engine``
    (embedded|opa), ``policy_revision`` (the revision ``pdguard policy bundle`` gives these
    policies and settings) and, on OPA, ``decision_id`` (with decision logs on) and, with
    ``--opa-preloaded``, ``bundle`` and ``bundle_revision``.
``policies`` (array, sorted by ``id``)
    Every policy evaluated: ``id``, ``title``, ``description``, ``severity``, ``remediation``,
    ``docs_url`` (string|null), ``package``, ``file``, ``tags``, ``enabled_by_default``,
    ``related_resources``.
``findings`` (array)
    Active (not waived) findings, sorted by severity (critical first), ``policy_id``,
    ``resource.type``, ``resource.id``, ``fingerprint``. Each finding: ``policy_id``, ``title``,
    ``severity`` (critical|high|medium|low|info), ``description``, ``remediation``, ``docs_url``,
    ``kind`` (deny|warn), ``msg``, ``resource`` {``type``, ``id``, ``name``, …extra keys},
    ``details`` (object), ``fingerprint`` (32 hex chars, stable across runs; the configured
    account is part of it), ``account`` (the configured account's name, null without
    ``accounts:``), ``package``,
    ``file``, ``waived`` (bool), ``waiver`` ({``policy``, ``resource``, ``reason``, ``expires``}
    or null), ``location`` ({``path``, ``line``} or null: Terraform source of the resource),
    ``baseline`` ("new"|"unchanged"|null: only with a baseline).
``waived`` (array)
    Findings a valid waiver covers (same shape, ``waived: true``), same order as ``findings``.
``expired_waivers`` (array, sorted by policy, resource, expires)
    Waivers past their ``expires`` date: ``policy``, ``resource``, ``reason``, ``expires``.
``fixed`` (array of objects, sorted)
    With a baseline: baseline entries whose fingerprint is no longer found.
``summary`` (object)
    ``total``, ``failing``, ``waived``, ``by_severity`` {severity: count}, ``fail_on``,
    ``new``, ``unchanged``, ``fixed`` (the last three null without a baseline).
``warnings`` (array of strings)
    Non-fatal problems (incomplete scan, truncated output …), in the order they happened.
"""

from __future__ import annotations

import json
from typing import Any, ClassVar

from pdguard.findings import Report
from pdguard.output._common import dumps_indented, finding_sort_key


def _canonical(value: Any) -> str:
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=str)


def report_document(report: Report) -> dict[str, Any]:
    """The JSON-ready dict (sorted lists) that :class:`JSONOutput` serialises."""
    doc = report.model_dump(mode="json", exclude={"findings", "waived"})  # those two dumped once, sorted
    doc["policies"] = sorted(doc["policies"], key=lambda p: (p["id"], p.get("package") or ""))
    doc["findings"] = [f.model_dump(mode="json") for f in sorted(report.findings, key=finding_sort_key)]
    doc["waived"] = [f.model_dump(mode="json") for f in sorted(report.waived, key=finding_sort_key)]
    doc["expired_waivers"] = sorted(
        doc["expired_waivers"],
        key=lambda w: (w["policy"], w.get("resource") or "", w.get("expires") or "", w["reason"]),
    )
    doc["fixed"] = sorted(doc["fixed"], key=_canonical)
    return doc


class JSONOutput:
    name: ClassVar[str] = "json"

    def __init__(self, *, indent: int | None = 2) -> None:
        self.indent = indent

    def render(self, report: Report, *, color: bool = False) -> str:
        doc = report_document(report)
        if self.indent == 2:
            return dumps_indented(doc, sort_keys=True, default=str)
        return json.dumps(doc, indent=self.indent, sort_keys=True, ensure_ascii=False, default=str) + "\n"
