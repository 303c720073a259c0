"""Incident history kept by the store for incremental rescans (store schema 7).

A snapshot holds every unresolved incident plus the resolved incidents created in the lookback
window (default 90 days): tens of thousands of objects, nearly all of them resolved and final.
An incremental ``watch`` tick reads from the API only what can have changed since the previous
complete scan of the account (see :mod:`pdguard.inventory.incremental`) and takes the resolved
history from the store. What the store keeps per stored scan, compactly:

* the **resolved** incidents, one *part* per UTC day of ``created_at`` (``"2026-11-26"``): the
  canonical JSON array of that day's incidents (sorted by ``created_at``, ``id``), zlib-compressed,
  stored once in ``incident_chunks`` under the hash of its JSON (content-addressed like asset
  configs): a day whose incidents did not change between two scans costs the second scan one
  link row (``scan_incident_chunks``), not a second copy. Between two ticks 8 hours apart only
  the newest day or two (and the days of incidents resolved since) get a new chunk;
* the **unresolved** incidents as ``[id, created_at, status]`` only (part ``"unresolved"``): an
  incremental tick re-reads every unresolved incident anyway, and needs only to know which ones
  were open last time (those resolved since are fetched again);
* a summary in ``scans.meta.incident_history`` (``v``, ``parts``, ``resolved``, ``unresolved``),
  checked when the history is read back: a missing or damaged chunk, or counts that do not add
  up, make the history unusable (:class:`IncidentHistoryError`) and the tick scans in full.

Incidents whose ``created_at`` cannot be read go to the part ``"undated"``: the merge cannot place
them in a window, so a history holding any makes the next tick a full scan.
"""

from __future__ import annotations

import hashlib
import zlib
from dataclasses import dataclass, field
from datetime import UTC
from typing import Any

import orjson

from pdguard.units import parse_time

HISTORY_VERSION = 1
UNRESOLVED_PART = "unresolved"
UNDATED_PART = "undated"
_LEVEL = 6  # zlib: the size/time sweet spot for these JSON arrays


class IncidentHistoryError(Exception):
    """The stored incident history of a scan cannot be used (missing, damaged, inconsistent)."""


def _encode(items: list[Any]) -> tuple[str, bytes]:
    raw = orjson.dumps(items, option=orjson.OPT_SORT_KEYS)
    return hashlib.sha256(raw).hexdigest()[:32], zlib.compress(raw, _LEVEL)


def decode(data: bytes) -> list[Any]:
    try:
        value = orjson.loads(zlib.decompress(data))
    except (zlib.error, orjson.JSONDecodeError, TypeError) as exc:
        raise IncidentHistoryError(f"a stored incident chunk cannot be read ({exc})") from None
    if not isinstance(value, list):
        raise IncidentHistoryError("a stored incident chunk is not a list")
    return value


@dataclass
class Part:
    name: str  # UTC day "YYYY-MM-DD", UNRESOLVED_PART or UNDATED_PART
    hash: str
    count: int
    data: bytes


def history_parts(incidents: list[Any]) -> list[Part]:
    """The parts a scan's incidents are stored as (see the module docstring)."""
    days: dict[str, list[tuple[str, str, dict[str, Any]]]] = {}
    unresolved: list[list[Any]] = []
    for inc in incidents:
        if not isinstance(inc, dict) or not isinstance(inc.get("id"), str):
            continue
        created = parse_time(inc.get("created_at"))
        if inc.get("status") != "resolved":
            unresolved.append([inc["id"], inc.get("created_at"), inc.get("status")])
            continue
        day = created.astimezone(UTC).strftime("%Y-%m-%d") if created is not None else UNDATED_PART
        stamp = created.astimezone(UTC).isoformat() if created is not None else ""
        days.setdefault(day, []).append((stamp, inc["id"], inc))
    parts = []
    for day, items in sorted(days.items()):
        items.sort(key=lambda t: (t[0], t[1]))
        h, data = _encode([t[2] for t in items])
        parts.append(Part(day, h, len(items), data))
    if unresolved:
        unresolved.sort(key=lambda r: r[0])
        h, data = _encode(unresolved)
        parts.append(Part(UNRESOLVED_PART, h, len(unresolved), data))
    return parts


def summary(parts: list[Part]) -> dict[str, Any]:
    """What ``scans.meta.incident_history`` records (checked when the history is read back)."""
    return {
        "v": HISTORY_VERSION,
        "parts": len(parts),
        "resolved": sum(p.count for p in parts if p.name != UNRESOLVED_PART),
        "unresolved": sum(p.count for p in parts if p.name == UNRESOLVED_PART),
    }


@dataclass
class History:
    """The incident history of one stored scan, as read back (resolved ones from `since_day` on)."""

    scan_id: int
    resolved: list[dict[str, Any]] = field(default_factory=list)  # resolved incidents (parts read)
    unresolved: list[tuple[str, str | None, str | None]] = field(default_factory=list)  # (id, created_at, status)
    undated: int = 0  # resolved incidents without a readable created_at
    skipped_days: int = 0  # parts before `since_day`, not read (their counts were checked)
