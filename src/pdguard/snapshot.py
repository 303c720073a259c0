"""The inventory snapshot document: what a scan writes and what policies receive as `input`.

The document is plain JSON. Its shape is described by the pydantic models of
:mod:`pdguard.snapshot_schema` (which publish `pdguard schema`; tests validate scanned snapshots
against them; also reachable here, e.g. ``pdguard.snapshot.Snapshot``). Neither the scan nor the
evaluation path validates object by object: the scanner gives each object a cheap check (a JSON
object, a string id, each id once), and `load_document` reads the JSON, checks the envelope
(`schema_version`, `meta`, collections are lists) and hands the dict on as it is.

Every PagerDuty object model keeps unknown fields (``extra="allow"``) so that a newer API
adding fields does not break a scan, and every field except ``id`` is optional so that a
missing optional field does not crash one.
"""

from __future__ import annotations

import json
import os
import stat
from pathlib import Path
from typing import Any

import orjson

from pdguard import __version__
from pdguard.errors import InputError

SCHEMA_VERSION = "2.1"
SCHEMA_MAJOR = SCHEMA_VERSION.split(".")[0]

# Collection key in the document -> asset type used in findings/inventory.
COLLECTIONS: dict[str, str] = {
    "services": "service",
    "escalation_policies": "escalation_policy",
    "schedules": "schedule",
    "flexible_schedules": "flexible_schedule",
    "incidents": "incident",
    "teams": "team",
    "users": "user",
    "business_services": "business_service",
    "service_dependencies": "service_dependency",
    "addons": "addon",
    "extensions": "extension",
    "oncalls": "oncall",
    "standards": "standard",
    "standards_scores": "standards_score",
    # Who changed what (GET /audit/records over meta.audit_window): supplementary, see
    # pdguard.inventory.audit. A key that may not read them leaves the scan complete.
    "audit_records": "audit_record",
}

COLLECTION_STATUSES = ("complete", "incomplete", "forbidden", "excluded")

# Where an object is shown in PagerDuty's web app, under meta.web_url (objects in a snapshot
# carry no `self`/`html_url` links: they follow from type and id).
WEB_PATHS: dict[str, str] = {
    "service": "service-directory",
    "escalation_policy": "escalation_policies",
    "schedule": "schedules",
    "flexible_schedule": "schedules",
    "user": "users",
    "team": "teams",
    "incident": "incidents",
}


def web_link(meta: dict[str, Any] | None, asset_type: str, oid: str) -> str | None:
    """The web page of an object (e.g. https://acme.pagerduty.com/service-directory/PABC123), or
    None when the snapshot does not know the account's web address or the type has no page."""
    base = (meta or {}).get("web_url")
    path = WEB_PATHS.get(asset_type)
    if not isinstance(base, str) or not base.startswith("https://") or not path or not oid:
        return None
    return f"{base.rstrip('/')}/{path}/{oid}"


def __getattr__(name: str) -> Any:
    """The schema's pydantic models (``Snapshot``, ``Meta``, ``Service``...) live in
    :mod:`pdguard.snapshot_schema`, imported on first use: `check` does not build them."""
    if name.startswith("__"):  # e.g. __path__, which every `from pdguard.snapshot import x` asks for
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    from pdguard import snapshot_schema

    try:
        return getattr(snapshot_schema, name)
    except AttributeError:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}") from None


def json_schema() -> dict[str, Any]:
    from pdguard.snapshot_schema import Snapshot

    schema = Snapshot.model_json_schema()
    schema["$schema"] = "https://json-schema.org/draft/2020-12/schema"
    schema["title"] = "pdguard inventory snapshot"
    schema["$id"] = f"https://pdguard.dev/schemas/snapshot-{SCHEMA_VERSION}.json"
    return schema


def dump_document(doc: dict[str, Any]) -> bytes:
    """Compact UTF-8 JSON (orjson: a 150 MB snapshot is written in a fraction of a second)."""
    try:
        return orjson.dumps(doc)
    except TypeError:  # e.g. an int beyond 64 bits from an exotic API field: the stdlib copes
        return json.dumps(doc, separators=(",", ":"), ensure_ascii=False).encode("utf-8")


def _unreadable(exc: OSError, what: str, p: Path) -> InputError:
    """The one-line error for a file that cannot be opened: missing, or why not."""
    if isinstance(exc, FileNotFoundError):
        return InputError(f"{what} file not found: {p}")
    return InputError(f"cannot read {what} {p}: {exc.strerror}")


def require_regular_file(path: str | os.PathLike[str], what: str = "snapshot") -> Path:
    """`path` must be an existing regular file (read, possibly twice, by pdguard and the engine):
    a missing path, a directory, a device or a pipe is a one-line InputError (exit 3) saying which."""
    p = Path(path)
    try:
        st = p.stat()
    except OSError as exc:
        raise _unreadable(exc, what, p) from None
    if stat.S_ISDIR(st.st_mode):
        raise InputError(f"{what} {p} is a directory, not a file")
    if not stat.S_ISREG(st.st_mode):
        raise InputError(f"{what} {p} is not a regular file (a device, pipe or socket): save it to a file first")
    return p


def read_json_file(path: str | os.PathLike[str], what: str) -> Any:
    """Parse a JSON file; a missing, unreadable or invalid file is a one-line InputError naming `what`."""
    p = Path(path)
    try:
        raw = p.read_bytes()
    except OSError as exc:
        raise _unreadable(exc, what, p) from None
    try:
        return json.loads(raw)
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise InputError(f"{what} {p} is not valid JSON: {exc}") from None


def load_document(path: str | os.PathLike[str]) -> dict[str, Any]:
    """Read a snapshot file for evaluation: envelope checks only, no per-object validation."""
    return check_envelope(read_json_file(path, "snapshot"), str(path))


def refuse_report(meta: Any, where: str = "") -> None:
    """A pdguard JSON report (``check --format json``) carries its snapshot's meta plus
    ``meta.evaluation`` and ``schema_version`` 1.0 (the report's own schema): read as a snapshot it
    was refused as "schema 1.0 (written by pdguard 0.1)", pointing at a rescan. Say what it is."""
    if isinstance(meta, dict) and "evaluation" in meta:
        raise InputError(f"{where or 'snapshot'} is a pdguard report (check --format json), not a snapshot: give "
                         "--snapshot the file of `pdguard scan -o FILE` or `check --save-snapshot FILE`")


def check_version(version: Any, where: str = "") -> None:
    """A 2.x snapshot passes; anything else is a one-line InputError (exit 3) saying what to do.

    A 1.x snapshot embeds copies of other objects where 2.x has references: evaluating it with
    policies written for 2.x would give wrong results silently, so it is refused, never guessed at.
    `where` names the input ("snapshot x.json", "stored scan 3"); default "snapshot".
    """
    subject = where or "snapshot"
    if not isinstance(version, str):
        raise InputError(f"{subject}: schema_version must be a string like \"{SCHEMA_VERSION}\", got {version!r}")
    major = version.split(".")[0]
    if major == SCHEMA_MAJOR:
        return
    if major == "1":
        raise InputError(
            f"{subject}: schema {version} (written by pdguard 0.1) cannot be read by pdguard {__version__}, "
            f"which reads schema {SCHEMA_VERSION}: rescan the account with `pdguard scan` (pdguard >= 0.2)"
        )
    if major.isdigit() and int(major) > int(SCHEMA_MAJOR):
        raise InputError(
            f"{subject}: schema {version} is newer than pdguard {__version__} reads (schema {SCHEMA_VERSION}): "
            "upgrade pdguard"
        )
    raise InputError(f"{subject}: schema_version {version!r} is not supported (this pdguard reads {SCHEMA_VERSION})")


def check_meta(meta: Any, where: str = "") -> dict[str, Any]:
    """The parts of `meta` evaluation relies on: `scanned_at` ("now") and `collections`."""
    subject = where or "snapshot"
    if not isinstance(meta, dict):
        raise InputError(f"{subject} is not a pdguard snapshot (missing meta)")
    if not isinstance(meta.get("scanned_at"), str):
        raise InputError(f"{subject}: meta.scanned_at must be an RFC 3339 time string (the scan's \"now\")")
    cols = meta.get("collections")
    if not isinstance(cols, list) or not all(isinstance(c, str) for c in cols):
        raise InputError(f"{subject}: meta.collections must list the collections the scan collected")
    return meta


def check_envelope(doc: Any, where: str = "snapshot") -> dict[str, Any]:
    """The envelope of a snapshot document: a 2.x schema_version, meta, collections that are lists."""
    if not isinstance(doc, dict):
        raise InputError(f"{where}: a snapshot is a JSON object, got {type(doc).__name__}")
    version = doc.get("schema_version")
    if version is None or not isinstance(doc.get("meta"), dict):
        raise InputError(f"{where}: not a pdguard snapshot (missing schema_version or meta)")
    refuse_report(doc["meta"], where)
    check_version(version, where)
    check_meta(doc["meta"], where)
    for key in COLLECTIONS:
        value = doc.get(key, [])
        if not isinstance(value, list):
            raise InputError(f"{where}: '{key}' must be a list")
    return doc
