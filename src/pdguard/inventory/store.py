"""Inventory history store: every scan's assets and findings in SQLite (default) or Postgres.

One SQLAlchemy Core code path serves both back ends. The default URL is ``$PDGUARD_STORE``, the
``store:`` value of ``pdguard.yaml`` or ``sqlite:///<platformdirs.user_data_dir("pdguard")>/inventory.sqlite``; a
bare path is taken as a SQLite file, ``postgresql://…`` uses psycopg (3) when it is installed.

Schema (version :data:`SCHEMA_VERSION`, migrations are versioned in code, see :data:`MIGRATIONS`)::

    schema_migrations(version PK, name, applied_at)
    pdguard_store(key PK, value)                                       v4: application = pdguard
    scans(id PK, started_at, scanned_at, stored_at, account, region, complete, meta JSON,
          counts JSON, error, window_end)                              window_end: v6
    assets(scan_id FK, type, id, name, config JSON, content_hash, config_hash, volatile JSON)
                                                                      PK (scan_id, type, id)
    configs(hash PK, config JSON)                                      v3: configs stored once
    findings(row_id PK, scan_id FK, fingerprint, policy_id, severity, resource_type, resource_id,
             resource_name, msg, waived, data JSON)
    outbox(id PK, scan_id FK, target_key, target_label, fingerprint, finding JSON, created_at,
           attempts, last_attempt_at, last_error, delivered_at)        v5: notifications
    incident_chunks(hash PK, count, data BLOB)                         v7: incident history
    scan_incident_chunks(scan_id FK, part, chunk_hash) PK (scan_id, part)

Opening a store never writes into something that is not one: the database is identified first
(:func:`_identify`): empty → created; pdguard's (the marker, or an older store's own tables and
migrations) → migrated if older; written by a newer pdguard → :class:`NewerStoreError`; anything
else → :class:`NotAStoreError` (both exit 2).

An asset's configuration is stored once however many scans hold it unchanged: ``configs`` holds
each distinct object without its volatile fields (keyed by ``config_hash``, the hash of that
JSON) and the asset row keeps only its volatile fields (``volatile``, e.g. a service's
``last_incident_timestamp``). Rows stored before schema version 3 keep their whole object in
``config``. A scan of an unchanged account therefore costs one small row per asset.

JSON columns are JSON text (portable across SQLite and Postgres; written once, pre-encoded).
Timestamps are ISO-8601 UTC strings as they appear in the snapshot.

What is stored as an asset: one row per object per scan for every collection of
:data:`pdguard.snapshot.COLLECTIONS` except ``incidents``, ``oncalls`` and ``standards_scores``
(see :data:`EXCLUDED_COLLECTIONS`), plus one ``integration`` row per service integration (they
live inside ``services[].integrations``; the service row keeps them too). Incidents are events,
not configuration, are high-volume (tens of thousands per scan) and their lookback window slides
every scan, so diffing them as added/removed would be noise; on-call entries change with every
rotation and standards scores are derived data. Their numbers are kept in ``scans.counts``.
A complete scan's incidents are kept as its *incident history* instead (schema 7; resolved ones
per day of creation, compressed and stored once, the unresolved ones' ids: see
:mod:`pdguard.inventory.incidents`), the base of the next incremental rescan.

``scans.account`` is the configured account's name (``meta.account``), else the account's
subdomain: :meth:`Store.latest`, :meth:`Store.previous`, prune and the outbox work per account.
Audit records are events too: a scan keeps only who changed which asset last
(:func:`pdguard.inventory.audit.stored_index`, in ``scans.meta.audit``), for diffs.

``content_hash`` is a hash of the object's :func:`stable_view` (no volatile fields of
:data:`VOLATILE_FIELDS`, e.g. a service's ``last_incident_timestamp`` or a schedule's rendered
``final_schedule``; references reduced to ``{id, type}``), so a diff can skip unchanged objects
cheaply and does not report churn.

Only snapshots of schema 2.x are stored, and diffs compare scans of the same schema major: a
scan stored from a 1.x snapshot (embedded copies where 2.x has references) is kept and listed,
but never diffed against a 2.x scan nor rebuilt into a document.

A scan whose ``meta.complete`` is ``False`` is stored, flagged incomplete, and never becomes
:meth:`Store.latest` nor a default side of a diff.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import logging
import os
import tempfile
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.pool import StaticPool
from sqlalchemy.types import TypeDecorator

from pdguard.errors import PdguardError
from pdguard.snapshot import COLLECTIONS
from pdguard.units import parse_time

log = logging.getLogger("pdguard.store")

if TYPE_CHECKING:  # pragma: no cover
    from pdguard.config import Config
    from pdguard.findings import Report

EXCLUDED_COLLECTIONS: tuple[str, ...] = ("incidents", "oncalls", "standards_scores", "audit_records")
ASSET_COLLECTIONS: dict[str, str] = {k: v for k, v in COLLECTIONS.items() if k not in EXCLUDED_COLLECTIONS}
# Asset type -> top-level fields left out of content_hash and of diffs (still stored in config).
VOLATILE_FIELDS: dict[str, frozenset[str]] = {
    "service": frozenset({"last_incident_timestamp", "updated_at"}),
    "schedule": frozenset({"final_schedule", "overrides_subschedule", "oncall"}),
    "flexible_schedule": frozenset({"final_schedule"}),
}


class StoreError(PdguardError):
    """The inventory store cannot be opened, migrated, or does not hold what was asked for."""


class StoreLockedError(StoreError):
    """Another process holds the store lock (another `pdguard watch` on the same store)."""


# --------------------------------------------------------------------------------------------- JSON


class RawJSON(str):
    """A value already encoded as JSON text: bound as is (no second encoding)."""


def canonical_json(obj: Any) -> str:
    return json.dumps(obj, sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=str)


def _sha(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:32]


def content_hash(asset_type: str, obj: dict[str, Any]) -> str:
    """sha256 of the canonical JSON of the object's :func:`stable_view`, first 32 hex digits."""
    return _sha(canonical_json(stable_view(asset_type, obj)))


def _reduce_refs(value: Any) -> Any:
    """References ({id, type: "<x>_reference", summary, ...}) reduced to {id, type}, at any depth."""
    if isinstance(value, dict):
        typ = value.get("type")
        if isinstance(typ, str) and typ.endswith("_reference") and "id" in value:
            return {"id": value["id"], "type": typ}
        return {k: _reduce_refs(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_reduce_refs(v) for v in value]
    return value


def stable_view(asset_type: str, obj: dict[str, Any]) -> dict[str, Any]:
    """What identifies a change of this asset: volatile fields dropped, references as {id, type}.

    In a 2.x snapshot every cross-reference is the API's reference form: a renamed team changes
    the team (and the `summary` of every reference to it), not every service of the team.
    """
    volatile = VOLATILE_FIELDS.get(asset_type, frozenset())
    out = {k: _reduce_refs(v) for k, v in obj.items() if k not in volatile}
    if asset_type == "schedule" and isinstance(out.get("schedule_layers"), list):  # rendered for the scan's window
        out["schedule_layers"] = [
            {k: v for k, v in layer.items() if not k.startswith("rendered_")} if isinstance(layer, dict) else layer
            for layer in out["schedule_layers"]
        ]
    return out


_ANY = object()  # any account (Store._previous_id)
_INTEGRATION = "$integration"  # a service's integration stored as its own asset row
_NO_SERVICE = "$no_service"  # ... which had no `service` reference (the row was given one)


def _stored_form(asset_type: str, obj: dict[str, Any]) -> dict[str, Any]:
    """What is stored of an object: a service's integrations are integration rows of the same
    scan, so the service keeps a placeholder per integration instead of a second copy."""
    integrations = obj.get("integrations") if asset_type == "service" else None
    if not integrations or not isinstance(integrations, list):
        return obj
    if not all(isinstance(i, dict) and i.get("id") for i in integrations):
        return obj
    return {**obj, "integrations": [{_INTEGRATION: str(i["id"]), **({} if i.get("service") else {_NO_SERVICE: True})}
                                    for i in integrations]}


def integration_ids(config: Any) -> list[str]:
    """Ids of the integration rows a stored service config points to (placeholders)."""
    if not isinstance(config, dict) or not isinstance(config.get("integrations"), list):
        return []
    return [i[_INTEGRATION] for i in config["integrations"] if isinstance(i, dict) and _INTEGRATION in i]


def inflate_service(config: Any, integrations: dict[str, Any]) -> Any:
    """A stored service config with its integration placeholders replaced by the integration objects."""
    ids = integration_ids(config)
    if not ids:
        return config
    out = []
    for ph in config["integrations"]:
        integ = integrations.get(ph[_INTEGRATION], {"id": ph[_INTEGRATION]})
        if ph.get(_NO_SERVICE) and isinstance(integ, dict):
            integ = {k: v for k, v in integ.items() if k != "service"}
        out.append(integ)
    return {**config, "integrations": out}


def encode_asset(asset_type: str, obj: dict[str, Any]) -> tuple[str, str, str | None, str]:
    """(shared config JSON, its config_hash, volatile fields JSON or None, content_hash).

    The shared part is the object without its volatile fields (and a service without copies of
    its integrations): identical in every scan where the object did not change, it is stored
    once in ``configs``. The content hash is the hash of the whole object's stable view.
    """
    volatile_keys = VOLATILE_FIELDS.get(asset_type, frozenset())
    stored = _stored_form(asset_type, obj)
    shared = {k: v for k, v in stored.items() if k not in volatile_keys} if volatile_keys else stored
    volatile = {k: obj[k] for k in volatile_keys if k in obj}
    encoded = canonical_json(shared)
    return encoded, _sha(encoded), canonical_json(volatile) if volatile else None, content_hash(asset_type, obj)


def merge_config(shared: Any, volatile: Any) -> Any:
    """The stored object: its shared config with its volatile fields, keys in canonical order."""
    if not isinstance(shared, dict):
        return shared
    if volatile:
        shared = {**shared, **volatile}
    return dict(sorted(shared.items()))


class JSONText(TypeDecorator[Any]):
    """JSON stored as text: same on SQLite and Postgres; accepts pre-encoded :class:`RawJSON`."""

    impl = sa.Text
    cache_ok = True

    def process_bind_param(self, value: Any, dialect: sa.Dialect) -> str | None:
        if value is None:
            return None
        if isinstance(value, RawJSON):
            return str(value)
        return canonical_json(value)

    def process_result_value(self, value: Any, dialect: sa.Dialect) -> Any:
        if value is None:
            return None
        return json.loads(value)


# ------------------------------------------------------------------------------------------- schema


def _define_tables(md: sa.MetaData) -> tuple[sa.Table, ...]:
    """The CURRENT schema (what queries use). Migrations never call this: each one builds the
    tables it creates from its own frozen definition, so changing this does not change history."""
    migrations = sa.Table(
        "schema_migrations",
        md,
        sa.Column("version", sa.Integer, primary_key=True, autoincrement=False),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("applied_at", sa.String(40), nullable=False),
    )
    store_info = sa.Table(
        "pdguard_store",
        md,
        sa.Column("key", sa.String(64), primary_key=True),
        sa.Column("value", sa.Text),
    )
    scans = sa.Table(
        "scans",
        md,
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("started_at", sa.String(40)),
        sa.Column("scanned_at", sa.String(40)),
        sa.Column("stored_at", sa.String(40), nullable=False),
        sa.Column("account", sa.String(200)),
        sa.Column("region", sa.String(20)),
        sa.Column("complete", sa.Boolean, nullable=False),
        sa.Column("meta", JSONText),
        sa.Column("counts", JSONText),
        sa.Column("error", sa.Text),
        sa.Column("window_end", sa.String(40)),  # v6: end of the scan's incident window
    )
    assets = sa.Table(
        "assets",
        md,
        sa.Column("scan_id", sa.Integer, sa.ForeignKey("scans.id", ondelete="CASCADE"), primary_key=True),
        sa.Column("type", sa.String(64), primary_key=True),
        sa.Column("id", sa.String(200), primary_key=True),
        sa.Column("name", sa.Text),
        sa.Column("config", JSONText),  # the whole object: rows stored before version 3 only
        sa.Column("content_hash", sa.String(64), nullable=False),
        sa.Column("config_hash", sa.String(64)),  # v3: -> configs.hash
        sa.Column("volatile", JSONText),  # v3: the object's volatile fields
    )
    configs = sa.Table(
        "configs",
        md,
        sa.Column("hash", sa.String(64), primary_key=True),
        sa.Column("config", JSONText, nullable=False),
    )
    findings = sa.Table(
        "findings",
        md,
        sa.Column("row_id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("scan_id", sa.Integer, sa.ForeignKey("scans.id", ondelete="CASCADE"), nullable=False),
        sa.Column("fingerprint", sa.String(64), nullable=False),
        sa.Column("policy_id", sa.String(100), nullable=False),
        sa.Column("severity", sa.String(20)),
        sa.Column("resource_type", sa.String(64)),
        sa.Column("resource_id", sa.String(200)),
        sa.Column("resource_name", sa.Text),
        sa.Column("msg", sa.Text),
        sa.Column("waived", sa.Boolean, nullable=False),
        sa.Column("data", JSONText),
    )
    outbox = sa.Table(
        # v5. One row per (new finding, notification target) of a stored scan, written in the
        # scan's transaction; delivered rows get ``delivered_at``. The target's URL is never
        # stored: only a keyed hash (``target_key``) and its redacted form (``target_label``).
        "outbox",
        md,
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("scan_id", sa.Integer, sa.ForeignKey("scans.id", ondelete="CASCADE"), nullable=False),
        sa.Column("target_key", sa.String(64), nullable=False),
        sa.Column("target_label", sa.Text),
        sa.Column("fingerprint", sa.String(64), nullable=False),
        sa.Column("finding", JSONText),
        sa.Column("created_at", sa.String(40), nullable=False),
        sa.Column("attempts", sa.Integer, nullable=False),
        sa.Column("last_attempt_at", sa.String(40)),
        sa.Column("last_error", sa.Text),
        sa.Column("delivered_at", sa.String(40)),
        sa.UniqueConstraint("scan_id", "target_key", "fingerprint", name="uq_outbox_scan_target_fp"),
    )
    incident_chunks = sa.Table(
        # v7. Resolved incidents of one UTC day (or the unresolved ones' ids), compressed JSON,
        # stored once (content-addressed): see pdguard.inventory.incidents.
        "incident_chunks",
        md,
        sa.Column("hash", sa.String(64), primary_key=True),
        sa.Column("count", sa.Integer, nullable=False),
        sa.Column("data", sa.LargeBinary, nullable=False),
    )
    scan_incident_chunks = sa.Table(
        # v7. Which chunks make up a stored scan's incident history, one row per part (day).
        "scan_incident_chunks",
        md,
        sa.Column("scan_id", sa.Integer, sa.ForeignKey("scans.id", ondelete="CASCADE"), primary_key=True),
        sa.Column("part", sa.String(20), primary_key=True),
        sa.Column("chunk_hash", sa.String(64), nullable=False),
    )
    return migrations, store_info, scans, assets, configs, findings, outbox, incident_chunks, scan_incident_chunks


METADATA = sa.MetaData()
(schema_migrations_t, store_info_t, scans_t, assets_t, configs_t, findings_t, outbox_t, incident_chunks_t,
 scan_incident_chunks_t) = _define_tables(METADATA)
PDGUARD_TABLES = frozenset(METADATA.tables)
APPLICATION = "pdguard"


def _migration_001_tables(conn: Connection) -> None:
    # Frozen: the version-1 schema exactly as it was released.
    md = sa.MetaData()
    sa.Table(
        "scans", md,
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("started_at", sa.String(40)), sa.Column("scanned_at", sa.String(40)),
        sa.Column("stored_at", sa.String(40), nullable=False), sa.Column("account", sa.String(200)),
        sa.Column("region", sa.String(20)), sa.Column("complete", sa.Boolean, nullable=False),
        sa.Column("meta", sa.Text), sa.Column("counts", sa.Text), sa.Column("error", sa.Text),
    )
    sa.Table(
        "assets", md,
        sa.Column("scan_id", sa.Integer, sa.ForeignKey("scans.id", ondelete="CASCADE"), primary_key=True),
        sa.Column("type", sa.String(64), primary_key=True), sa.Column("id", sa.String(200), primary_key=True),
        sa.Column("name", sa.Text), sa.Column("config", sa.Text),
        sa.Column("content_hash", sa.String(64), nullable=False),
    )
    sa.Table(
        "findings", md,
        sa.Column("row_id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("scan_id", sa.Integer, sa.ForeignKey("scans.id", ondelete="CASCADE"), nullable=False),
        sa.Column("fingerprint", sa.String(64), nullable=False), sa.Column("policy_id", sa.String(100), nullable=False),
        sa.Column("severity", sa.String(20)), sa.Column("resource_type", sa.String(64)),
        sa.Column("resource_id", sa.String(200)), sa.Column("resource_name", sa.Text), sa.Column("msg", sa.Text),
        sa.Column("waived", sa.Boolean, nullable=False), sa.Column("data", sa.Text),
    )
    md.create_all(conn)


def _frozen_columns(md: sa.MetaData, table: str, *columns: str) -> sa.Table:
    """A stand-in for an existing table, naming only the columns an index of a migration needs
    (never created: indexes are built on it so a migration does not depend on the current schema)."""
    return sa.Table(table, md, *(sa.Column(c, sa.Text) for c in columns))


def _migration_002_indexes(conn: Connection) -> None:
    md = sa.MetaData()
    scans = _frozen_columns(md, "scans", "complete", "id")
    assets = _frozen_columns(md, "assets", "id")
    findings = _frozen_columns(md, "findings", "scan_id", "fingerprint", "resource_id")
    sa.Index("ix_scans_complete_id", scans.c.complete, scans.c.id).create(conn)
    sa.Index("ix_assets_id", assets.c.id).create(conn)
    sa.Index("ix_findings_scan_fp", findings.c.scan_id, findings.c.fingerprint).create(conn)
    sa.Index("ix_findings_scan_resource", findings.c.scan_id, findings.c.resource_id).create(conn)


def _migration_003_shared_configs(conn: Connection) -> None:
    # Configs stored once (content-addressed); existing rows keep their whole `config`.
    md = sa.MetaData()
    configs = sa.Table(
        "configs",
        md,
        sa.Column("hash", sa.String(64), primary_key=True),
        sa.Column("config", sa.Text, nullable=False),
    )
    configs.create(conn)
    conn.execute(sa.text("ALTER TABLE assets ADD COLUMN config_hash VARCHAR(64)"))
    conn.execute(sa.text("ALTER TABLE assets ADD COLUMN volatile TEXT"))


def _migration_004_marker(conn: Connection) -> None:
    # What tells a pdguard store from any other database (see Store._identify).
    md = sa.MetaData()
    info = sa.Table("pdguard_store", md, sa.Column("key", sa.String(64), primary_key=True), sa.Column("value", sa.Text))
    info.create(conn, checkfirst=True)
    conn.execute(info.insert(), [{"key": "application", "value": APPLICATION},
                                 {"key": "created_by", "value": f"pdguard {_pdguard_version()}"}])


def _migration_005_outbox(conn: Connection) -> None:
    md = sa.MetaData()
    sa.Table("scans", md, sa.Column("id", sa.Integer, primary_key=True))  # FK target only; not created
    outbox = sa.Table(
        "outbox",
        md,
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("scan_id", sa.Integer, sa.ForeignKey("scans.id", ondelete="CASCADE"), nullable=False),
        sa.Column("target_key", sa.String(64), nullable=False),
        sa.Column("target_label", sa.Text),
        sa.Column("fingerprint", sa.String(64), nullable=False),
        sa.Column("finding", sa.Text),
        sa.Column("created_at", sa.String(40), nullable=False),
        sa.Column("attempts", sa.Integer, nullable=False),
        sa.Column("last_attempt_at", sa.String(40)),
        sa.Column("last_error", sa.Text),
        sa.Column("delivered_at", sa.String(40)),
        sa.UniqueConstraint("scan_id", "target_key", "fingerprint", name="uq_outbox_scan_target_fp"),
    )
    outbox.create(conn)
    sa.Index("ix_outbox_target_pending", outbox.c.target_key, outbox.c.delivered_at, outbox.c.id).create(conn)
    sa.Index("ix_outbox_scan", outbox.c.scan_id).create(conn)


def _migration_006_scan_window(conn: Connection) -> None:
    # For incremental rescans and several accounts: where a scan's incident window ended, and the
    # latest complete scan per account found by index. Older scans' windows ended when they ran.
    conn.execute(sa.text("ALTER TABLE scans ADD COLUMN window_end VARCHAR(40)"))
    conn.execute(sa.text("UPDATE scans SET window_end = scanned_at WHERE window_end IS NULL"))
    scans = _frozen_columns(sa.MetaData(), "scans", "account", "complete", "id")
    sa.Index("ix_scans_account_complete_id", scans.c.account, scans.c.complete, scans.c.id).create(conn)


def _migration_007_incident_history(conn: Connection) -> None:
    # For incremental rescans: the incidents of each stored scan, compactly (resolved ones per UTC
    # day of creation, compressed and stored once; the unresolved ones' ids), see
    # pdguard.inventory.incidents. Older scans have none: the first tick after the upgrade is full.
    md = sa.MetaData()
    sa.Table("scans", md, sa.Column("id", sa.Integer, primary_key=True))  # FK target only; not created
    chunks = sa.Table(
        "incident_chunks",
        md,
        sa.Column("hash", sa.String(64), primary_key=True),
        sa.Column("count", sa.Integer, nullable=False),
        sa.Column("data", sa.LargeBinary, nullable=False),
    )
    links = sa.Table(
        "scan_incident_chunks",
        md,
        sa.Column("scan_id", sa.Integer, sa.ForeignKey("scans.id", ondelete="CASCADE"), primary_key=True),
        sa.Column("part", sa.String(20), primary_key=True),
        sa.Column("chunk_hash", sa.String(64), nullable=False),
    )
    chunks.create(conn)
    links.create(conn)
    sa.Index("ix_scan_incident_chunks_hash", links.c.chunk_hash).create(conn)


# Applied in order, each in its own transaction with its row in schema_migrations. Append only:
# never edit a released migration.
MIGRATIONS: list[tuple[int, str, Callable[[Connection], None]]] = [
    (1, "scans, assets, findings", _migration_001_tables),
    (2, "indexes", _migration_002_indexes),
    (3, "configs stored once", _migration_003_shared_configs),
    (4, "store marker", _migration_004_marker),
    (5, "notification outbox", _migration_005_outbox),
    (6, "scan window end, account index", _migration_006_scan_window),
    (7, "incident history", _migration_007_incident_history),
]
SCHEMA_VERSION = len(MIGRATIONS)
assert [m[0] for m in MIGRATIONS] == list(range(1, SCHEMA_VERSION + 1))


def _pdguard_version() -> str:
    from pdguard import __version__

    return __version__


# ------------------------------------------------------------------------------------------ helpers


def _iso(when: datetime) -> str:
    return when.astimezone(UTC).replace(microsecond=0).isoformat().replace("+00:00", "Z")


def _now_iso() -> str:
    return _iso(datetime.now(UTC))


def default_store_url(config: Config | None = None) -> str:
    """The store URL when none is given: ``$PDGUARD_STORE``, else ``store:`` of pdguard.yaml, else
    the per-user SQLite file ``platformdirs.user_data_dir("pdguard")/inventory.sqlite``."""
    env = os.environ.get("PDGUARD_STORE")
    if env:
        return normalize_url(env)
    if config is not None and config.store:
        return normalize_url(config.store)
    import platformdirs

    path = Path(platformdirs.user_data_dir("pdguard")) / "inventory.sqlite"
    return f"sqlite:///{path}"


def normalize_url(url: str) -> str:
    """A bare path becomes a SQLite URL; ``postgresql://`` uses psycopg 3 when psycopg2 is absent."""
    url = url.strip()
    if "://" not in url:
        return f"sqlite:///{Path(url).expanduser()}"
    if url.startswith(("postgresql://", "postgres://")):
        rest = url.split("://", 1)[1]
        try:
            import psycopg2  # noqa: F401
        except ImportError:
            return f"postgresql+psycopg://{rest}"
        return f"postgresql://{rest}"
    return url


def asset_id(asset_type: str, obj: dict[str, Any]) -> str | None:
    """The id an object is stored under (service dependencies without an id get a synthetic one)."""
    oid = obj.get("id")
    if oid:
        return str(oid)
    if asset_type == "service_dependency":
        sup = (obj.get("supporting_service") or {}).get("id")
        dep = (obj.get("dependent_service") or {}).get("id")
        if sup or dep:
            return f"{sup}->{dep}"
    return None


def asset_name(asset_type: str, obj: dict[str, Any]) -> str | None:
    for key in ("name", "summary", "email", "title"):
        value = obj.get(key)
        if isinstance(value, str) and value:
            return value
    if asset_type == "service_dependency":
        sup = obj.get("supporting_service") or {}
        dep = obj.get("dependent_service") or {}
        return f"{sup.get('summary') or sup.get('id')} -> {dep.get('summary') or dep.get('id')}"
    return None


def iter_assets(doc: dict[str, Any]) -> Iterator[tuple[str, str, dict[str, Any]]]:
    """(type, id, object) for every stored asset of a snapshot document (integrations included)."""
    for collection, asset_type in ASSET_COLLECTIONS.items():
        for obj in doc.get(collection) or []:
            if not isinstance(obj, dict):
                continue
            oid = asset_id(asset_type, obj)
            if oid is None:
                continue
            yield asset_type, oid, obj
            if asset_type == "service":
                for integ in obj.get("integrations") or []:
                    if isinstance(integ, dict) and integ.get("id"):
                        if not integ.get("service"):
                            integ = {**integ, "service": {"id": oid, "type": "service_reference"}}
                        yield "integration", str(integ["id"]), integ


_ASSET_COLS = ("type", "id", "name", "content_hash", "config_hash", "volatile")
_FINDING_COLS = (
    "fingerprint", "policy_id", "severity", "resource_type", "resource_id", "resource_name", "msg", "waived", "data",
)
_OUTBOX_COLS = ("scan_id", "target_key", "target_label", "fingerprint", "finding", "created_at", "attempts")


@dataclass
class PruneResult:
    deleted: list[int]  # scan ids, oldest first
    undelivered: int  # undelivered notifications that went with them


def _bulk_insert(conn: Connection, table: str, columns: tuple[str, ...], rows: list[tuple[Any, ...]],
                 chunk: int = 5000, *, skip_existing: str | None = None) -> None:
    """executemany of pre-encoded rows straight to the DB-API cursor (``exec_driver_sql``).

    Values are already plain str/int/bool (JSON columns pre-encoded), so the per-row parameter
    processing of a Core ``insert()`` would only add time: it is ~3x slower for 30,000 rows.
    `skip_existing` names a primary-key column: rows whose key is already stored are skipped.
    """
    if not rows:
        return
    if skip_existing:
        verb = "INSERT OR IGNORE" if conn.dialect.name == "sqlite" else "INSERT"
        tail = "" if conn.dialect.name == "sqlite" else f" ON CONFLICT ({skip_existing}) DO NOTHING"
        marks = ", ".join("?" if conn.dialect.paramstyle == "qmark" else "%s" for _ in columns)
        sql = f"{verb} INTO {table} ({', '.join(columns)}) VALUES ({marks}){tail}"
        for start in range(0, len(rows), chunk):
            conn.exec_driver_sql(sql, rows[start : start + chunk])
        return
    style = conn.dialect.paramstyle
    if style == "qmark":
        marks = ", ".join("?" for _ in columns)
    elif style in ("format", "pyformat"):
        marks = ", ".join("%s" for _ in columns)
    elif style == "numeric":
        marks = ", ".join(f":{i + 1}" for i in range(len(columns)))
    else:  # named / numeric_dollar etc.: use Core
        tbl = METADATA.tables[table]
        for start in range(0, len(rows), chunk):
            conn.execute(tbl.insert(), [dict(zip(columns, r, strict=True)) for r in rows[start : start + chunk]])
        return
    sql = f"INSERT INTO {table} ({', '.join(columns)}) VALUES ({marks})"
    for start in range(0, len(rows), chunk):
        conn.exec_driver_sql(sql, rows[start : start + chunk])


# ----------------------------------------------------------------------------------------- identity


class NotAStoreError(StoreError):
    """The URL points at something that is not a pdguard store: pdguard never writes into it."""


class NewerStoreError(StoreError):
    """The store was written by a newer pdguard (a schema version this one does not know)."""


_SQLITE_MAGIC = b"SQLite format 3\x00"


def _identify(label: str, tables: set[str], marker: str | None, versions: dict[int, str] | None) -> int:
    """The schema version of the database behind `label` (0: empty, pdguard may create its store),
    or :class:`NotAStoreError` / :class:`NewerStoreError`. Reads only what it is given.

    A pdguard store is a database with the ``pdguard_store`` marker table (``application =
    pdguard``, since schema version 4), or an older store (versions 1 to 3): only pdguard's
    tables, with ``schema_migrations`` whose rows name pdguard's own migrations. A marked store
    whose migration rows name other migrations than this pdguard's (a development build's
    numbering) is refused too: migrating it would apply the wrong steps.
    """
    tables = {t for t in tables if not t.startswith("sqlite_")}
    if not tables:
        return 0
    foreign = NotAStoreError(
        f"{label} is not a pdguard inventory store (it holds other tables: {', '.join(sorted(tables)[:6])}"
        f"{', …' if len(tables) > 6 else ''}); pdguard does not write into it: use a new file, or an empty "
        "database (on Postgres a dedicated database, or a schema via ?options=-csearch_path%3DNAME)"
    )
    known = {v: n for v, n, _ in MIGRATIONS}
    differing = sorted(v for v, n in (versions or {}).items() if known.get(v, n) != n)
    if "pdguard_store" in tables:
        if marker != APPLICATION:
            raise foreign
        if differing:
            v = differing[0]
            raise StoreError(
                f"store {label} has a different migration history (its migration {v} is "
                f"'{(versions or {})[v]}', pdguard {_pdguard_version()}'s is '{known[v]}'): it was written by "
                "another build of pdguard; pdguard does not migrate it"
            )
    elif versions is None or not tables <= PDGUARD_TABLES or differing:
        raise foreign
    version = max(versions or {0: ""})
    if version > SCHEMA_VERSION:
        raise NewerStoreError(
            f"this store ({label}) was written by a newer pdguard (store schema version {version}; pdguard "
            f"{_pdguard_version()} knows up to {SCHEMA_VERSION}): upgrade pdguard"
        )
    return version


def _read_identity(label: str, execute: Callable[[str], list[tuple[Any, ...]]], tables: set[str]) -> int:
    """Query the marker and the migration rows through `execute` (read-only SELECTs) and identify."""
    marker: str | None = None
    versions: dict[int, str] | None = None
    if "pdguard_store" in tables:
        try:
            rows = execute("SELECT value FROM pdguard_store WHERE key = 'application'")
            marker = str(rows[0][0]) if rows else None
        except Exception:  # noqa: BLE001 - a table of that name with another shape: not ours
            marker = None
    if "schema_migrations" in tables:
        try:
            versions = {int(v): str(n) for v, n in execute("SELECT version, name FROM schema_migrations")}
        except Exception:  # noqa: BLE001 - e.g. Rails' schema_migrations(version): not ours
            versions = None
    return _identify(label, tables, marker, versions)


def _identify_sqlite_file(path: Path, label: str) -> int:
    """Identify a SQLite store file WITHOUT writing anything (header check, then a read-only open)."""
    import sqlite3

    if not path.exists():
        return 0
    if not path.is_file():
        raise NotAStoreError(f"{label} is not a pdguard inventory store (not a regular file)")
    try:
        with open(path, "rb") as fh:
            header = fh.read(100)
    except OSError as exc:
        raise StoreError(f"cannot read store {label}: {exc.strerror}") from None
    if not header:
        return 0  # an empty file is an empty SQLite database
    if not header.startswith(_SQLITE_MAGIC):
        raise NotAStoreError(f"{label} is not a pdguard inventory store (not a SQLite database); pdguard does not "
                             "write into it")
    from urllib.parse import quote

    # Read-only. A WAL database without a -wal file is read as immutable, so that not even the
    # -shm/-wal files a WAL reader creates appear beside a database that is not ours.
    wal_mode = len(header) > 19 and header[18] == 2
    immutable = "&immutable=1" if wal_mode and not path.with_name(path.name + "-wal").exists() else ""
    try:
        conn = sqlite3.connect(f"file:{quote(str(path.resolve()))}?mode=ro{immutable}", uri=True)
    except sqlite3.Error as exc:
        raise StoreError(f"cannot open store {label}: {exc}") from None
    try:
        def execute(sql: str) -> list[tuple[Any, ...]]:
            return conn.execute(sql).fetchall()

        try:
            tables = {r[0] for r in execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
        except sqlite3.DatabaseError as exc:
            raise NotAStoreError(f"{label} is not a pdguard inventory store ({exc}); pdguard does not write into it") \
                from None
        return _read_identity(label, execute, tables)
    finally:
        conn.close()


# --------------------------------------------------------------------------------------------- lock


class _FileLock:
    """An exclusive advisory lock on a file (flock; msvcrt on Windows), polled so it can time out."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._fh: Any = None

    def try_acquire(self) -> bool:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        fh = open(self.path, "a+")  # noqa: SIM115 - held for the lock's lifetime
        try:
            try:
                import fcntl

                fcntl.flock(fh.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
            except ImportError:  # pragma: no cover - Windows
                import msvcrt

                msvcrt.locking(fh.fileno(), msvcrt.LK_NBLCK, 1)
        except OSError:
            fh.close()
            return False
        try:
            fh.seek(0)
            fh.truncate()
            fh.write(f"{os.getpid()}\n")
            fh.flush()
        except OSError:
            pass
        self._fh = fh
        return True

    def release(self) -> None:
        fh, self._fh = self._fh, None
        if fh is None:
            return
        try:
            try:
                import fcntl

                fcntl.flock(fh.fileno(), fcntl.LOCK_UN)
            except ImportError:  # pragma: no cover - Windows
                import msvcrt

                fh.seek(0)
                msvcrt.locking(fh.fileno(), msvcrt.LK_UNLCK, 1)
        finally:
            fh.close()


def _pg_lock(fn: str, name: str) -> sa.TextClause:
    """``SELECT fn(key, schema)``: a Postgres advisory lock of this store. Its key is the lock's
    name and the store's schema, so that a lock of one store never blocks a store in another
    schema of the same database (``?options=-csearch_path%3DNAME``)."""
    key = int.from_bytes(hashlib.sha256(name.encode()).digest()[:4], "big", signed=True)
    return sa.text(f"SELECT {fn}({key}, hashtext(coalesce(current_schema(), '')))")


def _configs_lock(conn: Connection, *, shared: bool) -> None:
    """Postgres: saves (shared) against the removal of unused configs (exclusive), per store schema.

    A save that finds a config already stored does not insert it, and its asset rows are invisible
    to other transactions until it commits: a concurrent prune would see the config unused and
    drop it under the save. So the removal waits for the saves in flight (and new saves wait for
    it). Transaction-level: released at commit. SQLite serialises writers on its own.
    """
    if conn.dialect.name != "postgresql":
        return
    conn.execute(_pg_lock("pg_advisory_xact_lock_shared" if shared else "pg_advisory_xact_lock", "pdguard.configs"))


# -------------------------------------------------------------------------------------------- store


class Store:
    """Scan history. ``Store(None)`` opens the default store (``store:`` in pdguard.yaml or the
    per-user SQLite file); migrations are applied on open."""

    LOCK_NAME = "pdguard.inventory.watch"

    def __init__(self, url: str | None = None, *, config: Config | None = None, echo: bool = False) -> None:
        if url is None:
            if config is None:
                from pdguard.config import load_config

                config = load_config(None)
            url = default_store_url(config)
        self.url = normalize_url(url)
        try:
            sa_url = sa.engine.make_url(self.url)
        except sa.exc.ArgumentError:
            raise StoreError(f"invalid store URL: {self._safe_url(self.url)}") from None
        self.dialect = sa_url.get_backend_name()
        self._lock_path: Path | None = None
        kwargs: dict[str, Any] = {"echo": echo, "future": True}
        if self.dialect == "sqlite":
            db = sa_url.database
            if db and db != ":memory:" and not db.startswith("file:"):
                path = Path(db)
                _identify_sqlite_file(path, self._safe_url(self.url))  # before anything writes to it
                try:
                    path.parent.mkdir(parents=True, exist_ok=True)
                except OSError as exc:
                    raise StoreError(f"cannot create store directory {path.parent}: {exc.strerror}") from None
                self._lock_path = path.with_name(path.name + ".lock")
            else:
                kwargs["poolclass"] = StaticPool
                kwargs["connect_args"] = {"check_same_thread": False}
                digest = hashlib.sha256(self.url.encode()).hexdigest()[:16]
                self._lock_path = Path(tempfile.gettempdir()) / f"pdguard-store-{digest}.lock"
        elif self.dialect == "postgresql":
            # `watch` keeps its connections between ticks hours apart: one the server, a proxy or a
            # NAT dropped meanwhile is replaced on checkout instead of failing the next tick.
            kwargs["pool_pre_ping"] = True
        else:
            raise StoreError(f"unsupported store URL scheme '{sa_url.drivername}' (use sqlite:/// or postgresql://)")
        try:
            self.engine: Engine = sa.create_engine(self.url, **kwargs)
        except (ImportError, sa.exc.ArgumentError) as exc:
            raise StoreError(f"cannot open store {self._safe_url(self.url)}: {exc}") from None
        if self.dialect == "sqlite":
            sa.event.listen(self.engine, "connect", _sqlite_pragmas)
        self._migrate()

    # ------------------------------------------------------------------ lifecycle

    @staticmethod
    def _safe_url(url: str) -> str:
        from pdguard.redact import redact_url

        return redact_url(url)

    @property
    def label(self) -> str:
        """The store's URL, safe to show (:func:`pdguard.redact.redact_url`)."""
        return self._safe_url(self.url)

    def __repr__(self) -> str:
        return f"Store({self.label!r})"

    def close(self) -> None:
        self.engine.dispose()

    def __enter__(self) -> Store:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def schema_version(self) -> int:
        with self.engine.connect() as conn:
            return self._current_version(conn)

    @staticmethod
    def _current_version(conn: Connection) -> int:
        if not sa.inspect(conn).has_table("schema_migrations"):
            return 0
        v = conn.execute(sa.select(sa.func.max(schema_migrations_t.c.version))).scalar()
        return int(v or 0)

    def _identify(self, conn: Connection) -> int:
        """Schema version of the open database (0 when empty); refuses foreign and newer ones."""
        tables = set(sa.inspect(conn).get_table_names())

        def execute(sql: str) -> list[tuple[Any, ...]]:
            with conn.begin_nested() if self.dialect == "postgresql" else contextlib.nullcontext():
                return [tuple(r) for r in conn.exec_driver_sql(sql).all()]

        return _read_identity(self._safe_url(self.url), execute, tables)

    def _migrate(self) -> None:
        try:
            with self.engine.connect() as conn:
                version = self._identify(conn)
                conn.rollback()
            if version >= SCHEMA_VERSION:
                return
        except sa.exc.OperationalError as exc:
            raise StoreError(f"cannot open store {self._safe_url(self.url)}: {getattr(exc, 'orig', exc)}") from None
        except sa.exc.DatabaseError as exc:
            raise NotAStoreError(f"{self._safe_url(self.url)} is not a pdguard inventory store "
                                 f"({getattr(exc, 'orig', exc)}); pdguard does not write into it") from None
        # Serialise concurrent first opens: a file lock beside the SQLite DB, a transaction-level
        # advisory lock on Postgres.
        file_lock = _FileLock(self._lock_path.with_suffix(".migrate")) if self._lock_path else None
        if file_lock is not None:
            deadline = time.monotonic() + 60
            while not file_lock.try_acquire():
                if time.monotonic() > deadline:
                    raise StoreLockedError(f"timed out waiting for the store migration lock {file_lock.path}")
                time.sleep(0.05)
        try:
            with self.engine.begin() as conn:
                if self.dialect == "postgresql":
                    conn.execute(_pg_lock("pg_advisory_xact_lock", "pdguard.migrate"))
                self._identify(conn)
                schema_migrations_t.create(conn, checkfirst=True)
            for version, name, fn in MIGRATIONS:
                with self.engine.begin() as conn:
                    if self.dialect == "postgresql":
                        conn.execute(_pg_lock("pg_advisory_xact_lock", "pdguard.migrate"))
                    if self._current_version(conn) >= version:
                        continue
                    log.info("store %s: applying migration %d (%s)", self._safe_url(self.url), version, name)
                    fn(conn)
                    conn.execute(
                        schema_migrations_t.insert().values(version=version, name=name, applied_at=_now_iso())
                    )
        except sa.exc.SQLAlchemyError as exc:
            raise StoreError(f"store migration failed: {getattr(exc, 'orig', exc)}") from None
        finally:
            if file_lock is not None:
                file_lock.release()

    # ----------------------------------------------------------------------- lock

    @contextlib.contextmanager
    def lock(self, timeout: float | None = None, poll: float = 0.2) -> Iterator[None]:
        """Hold the store's exclusive inter-process lock (one ``watch`` per store).

        ``timeout=None`` waits until the lock is free; otherwise :class:`StoreLockedError` is raised
        after ``timeout`` seconds (``0``: fail at once if another process holds it). SQLite: ``flock``
        on ``<db>.lock``; Postgres: an advisory lock of the store's schema (:func:`_pg_lock`) on a
        dedicated connection. Not re-entrant.
        """
        deadline = None if timeout is None else time.monotonic() + max(0.0, timeout)

        def wait_or_fail() -> None:
            if deadline is not None and time.monotonic() >= deadline:
                raise StoreLockedError(
                    f"store {self._safe_url(self.url)} is locked by another pdguard process "
                    "(is another `pdguard watch` running on it?)"
                )
            time.sleep(poll if deadline is None else max(0.0, min(poll, deadline - time.monotonic())))

        if self.dialect == "postgresql":
            conn = self.engine.connect().execution_options(isolation_level="AUTOCOMMIT")
            try:
                while not conn.execute(_pg_lock("pg_try_advisory_lock", self.LOCK_NAME)).scalar():
                    wait_or_fail()
                try:
                    yield
                finally:
                    conn.execute(_pg_lock("pg_advisory_unlock", self.LOCK_NAME))
            finally:
                conn.close()
            return

        assert self._lock_path is not None
        flock = _FileLock(self._lock_path)
        while not flock.try_acquire():
            wait_or_fail()
        try:
            yield
        finally:
            flock.release()

    # ---------------------------------------------------------------------- write

    def save_scan(
        self, doc: dict[str, Any], report: Report | None = None, *, notify: Sequence[tuple[str, str]] = ()
    ) -> int:
        """Store a snapshot document (and its report's findings) in one transaction; return the scan id.

        Only 2.x documents are stored (a 1.x one is an InputError, exit 3, like a 1.x file).
        `notify`: ``(target_key, target_label)`` of each notification target. For a complete scan
        with a previous complete scan (of the same snapshot schema major, as :meth:`previous`),
        each NEW finding (active now, not active in that scan: the ``new`` of
        :func:`pdguard.inventory.diff.diff_scans`) gets one outbox row per target, in the same
        transaction: a scan is never stored without its notifications, nor the reverse.
        """
        from pdguard.snapshot import check_version

        check_version(doc.get("schema_version"), "store")
        meta = doc.get("meta") if isinstance(doc.get("meta"), dict) else {}
        complete = meta.get("complete") is not False
        counts = meta.get("counts") or {k: len(doc.get(k) or []) for k in COLLECTIONS}
        scanned_at = meta.get("scanned_at")
        started_at = meta.get("started_at")
        if started_at is None:
            ts, dur = parse_time(scanned_at), meta.get("duration_seconds")
            started_at = scanned_at
            if ts is not None and isinstance(dur, int | float):
                started_at = _iso(ts - timedelta(seconds=float(dur)))
        error = meta.get("error")
        if error is None and not complete:
            error = "; ".join(str(w) for w in meta.get("warnings") or []) or "scan incomplete"

        # Rows as tuples in _ASSET_COLS / _FINDING_COLS order (bulk-inserted with executemany).
        asset_rows: dict[tuple[str, str], tuple[Any, ...]] = {}
        configs: dict[str, str] = {}
        for asset_type, oid, obj in iter_assets(doc):
            shared, config_hash, volatile, digest = encode_asset(asset_type, obj)
            configs[config_hash] = shared
            asset_rows[(asset_type, oid)] = (asset_type, oid, asset_name(asset_type, obj), digest, config_hash, volatile)
        finding_rows: list[tuple[Any, ...]] = []
        if report is not None:
            for waived, items in ((False, report.findings), (True, report.waived)):
                for f in items:
                    data = canonical_json(f.model_dump(mode="json"))
                    finding_rows.append(
                        (f.fingerprint, f.policy_id, f.severity, f.resource.type, f.resource.id,
                         f.resource.name, f.msg, bool(waived or f.waived), data)
                    )
        scan_meta = {k: v for k, v in meta.items() if k != "counts"}
        scan_meta.setdefault("schema_version", doc.get("schema_version"))
        if doc.get("iac") is not None:
            scan_meta["iac_sources"] = (doc.get("iac") or {}).get("sources")
        audit_index = _audit_index(doc)
        if audit_index is not None:  # who changed what, for diffs (the records themselves are not stored)
            scan_meta["audit"] = audit_index
        window_end = meta.get("incidents_until") or scanned_at
        # The account a scan belongs to: the configured account name (`accounts:` in pdguard.yaml),
        # else the account's subdomain (a single implicit account, as stores have always held).
        account = meta.get("account") or meta.get("account_subdomain")
        parts: list[Any] = []
        if complete and "incidents" in (meta.get("collections") or []):
            # For incremental rescans: the base of the next tick (see pdguard.inventory.incidents).
            from pdguard.inventory.incidents import history_parts
            from pdguard.inventory.incidents import summary as history_summary

            parts = history_parts(doc.get("incidents") or [])
            scan_meta["incident_history"] = history_summary(parts)
        try:
            with self.engine.begin() as conn:
                _configs_lock(conn, shared=True)
                previous_id = None
                if notify and complete and report is not None:
                    previous_id = self._previous_id(conn, None, schema_major({"meta": scan_meta}), account)
                result = conn.execute(
                    scans_t.insert().values(
                        started_at=started_at,
                        scanned_at=scanned_at,
                        stored_at=_now_iso(),
                        account=account,
                        region=meta.get("region"),
                        complete=complete,
                        meta=scan_meta,
                        counts=counts,
                        error=error,
                        window_end=window_end,
                    )
                )
                scan_id = int(result.inserted_primary_key[0])
                _bulk_insert(conn, "configs", ("hash", "config"), list(configs.items()), skip_existing="hash")
                _bulk_insert(conn, "assets", ("scan_id", *_ASSET_COLS),
                             [(scan_id, *r) for r in asset_rows.values()])
                _bulk_insert(conn, "findings", ("scan_id", *_FINDING_COLS),
                             [(scan_id, *r) for r in finding_rows])
                if parts:
                    _bulk_insert(conn, "incident_chunks", ("hash", "count", "data"),
                                 [(p.hash, p.count, p.data) for p in parts], skip_existing="hash")
                    _bulk_insert(conn, "scan_incident_chunks", ("scan_id", "part", "chunk_hash"),
                                 [(scan_id, p.name, p.hash) for p in parts])
                if previous_id is not None and report is not None:
                    self._enqueue(conn, scan_id, previous_id, report, notify)
        except sa.exc.SQLAlchemyError as exc:
            raise StoreError(f"cannot save scan to {self._safe_url(self.url)}: {getattr(exc, 'orig', exc)}") from None
        return scan_id

    def delete_scan(self, scan_id: int) -> None:
        with self.engine.begin() as conn:
            self._delete_scans(conn, [scan_id])

    @staticmethod
    def _delete_scans(conn: Connection, ids: list[int]) -> None:
        """Delete scans with their outbox rows, findings and assets (in chunks), then the configs
        no remaining asset uses. Runs in the caller's transaction."""
        for start in range(0, len(ids), 500):
            chunk = ids[start : start + 500]
            for table in (outbox_t, findings_t, assets_t, scan_incident_chunks_t):
                conn.execute(table.delete().where(table.c.scan_id.in_(chunk)))
            conn.execute(scans_t.delete().where(scans_t.c.id.in_(chunk)))
        if conn.dialect.name == "postgresql":
            _configs_lock(conn, shared=False)
            # An anti-join (NOT IN over a large subquery is a nested loop once it outgrows work_mem).
            used = sa.exists().where(assets_t.c.config_hash == configs_t.c.hash)
            conn.execute(configs_t.delete().where(~used))
            linked = sa.exists().where(scan_incident_chunks_t.c.chunk_hash == incident_chunks_t.c.hash)
            conn.execute(incident_chunks_t.delete().where(~linked))
        else:
            # SQLite builds a temporary index of the subquery's hashes once.
            used_hashes = sa.select(assets_t.c.config_hash).where(assets_t.c.config_hash.is_not(None))
            conn.execute(configs_t.delete().where(configs_t.c.hash.not_in(used_hashes)))
            linked_hashes = sa.select(scan_incident_chunks_t.c.chunk_hash)
            conn.execute(incident_chunks_t.delete().where(incident_chunks_t.c.hash.not_in(linked_hashes)))

    def prune_plan(
        self, keep: int | None = None, older_than: float | None = None, *, now: datetime | None = None,
        account: str | None = None,
    ) -> list[dict[str, Any]]:
        """The scans :meth:`prune` would delete (oldest first), each ``{id, account, scanned_at, complete}``.

        A scan is KEPT when any rule keeps it: it is among the newest `keep` scans of its account,
        or it is younger than `older_than` seconds (by ``scanned_at``, else ``stored_at``); the
        latest complete scan of each account is always kept, whatever the rules. With no rule,
        nothing is deleted. `account`: only that account's scans are considered.
        """
        if keep is None and older_than is None:
            return []
        if keep is not None and keep < 1:
            raise StoreError("--keep must be at least 1 (the latest complete scan is always kept)")
        now = now or datetime.now(UTC)
        cutoff = now - timedelta(seconds=older_than) if older_than is not None else None
        cols = (scans_t.c.id, scans_t.c.account, scans_t.c.complete, scans_t.c.scanned_at, scans_t.c.stored_at)
        q = sa.select(*cols).order_by(scans_t.c.id.desc())
        if account is not None:
            q = q.where(scans_t.c.account == account)
        with self.engine.connect() as conn:
            rows = conn.execute(q).all()
        seen: dict[Any, int] = {}
        latest_complete: dict[Any, int] = {}
        doomed: list[dict[str, Any]] = []
        for r in rows:  # newest first
            rank = seen[r.account] = seen.get(r.account, 0) + 1
            if r.complete and r.account not in latest_complete:
                latest_complete[r.account] = r.id
                continue
            when = parse_time(r.scanned_at) or parse_time(r.stored_at)
            kept_by_count = keep is not None and rank <= keep
            kept_by_age = cutoff is not None and (when is None or when >= cutoff)
            if kept_by_count or kept_by_age:
                continue
            doomed.append({"id": r.id, "account": r.account, "scanned_at": r.scanned_at, "complete": bool(r.complete)})
        doomed.reverse()
        return doomed

    def prune(
        self, keep: int | None = None, older_than: float | None = None, *, now: datetime | None = None,
        account: str | None = None,
    ) -> PruneResult:
        """Delete the scans of :meth:`prune_plan` with their assets, findings, outbox rows and
        incident history links (one transaction), then the configs and incident chunks no remaining
        scan uses. Returns what was deleted, and how many undelivered notifications went with it."""
        doomed = [d["id"] for d in self.prune_plan(keep, older_than, now=now, account=account)]
        if not doomed:
            return PruneResult([], 0)
        with self.engine.begin() as conn:
            undelivered = 0
            for start in range(0, len(doomed), 500):
                undelivered += int(conn.execute(
                    sa.select(sa.func.count()).where(outbox_t.c.scan_id.in_(doomed[start : start + 500]),
                                                     outbox_t.c.delivered_at.is_(None))
                ).scalar() or 0)
            self._delete_scans(conn, doomed)
        return PruneResult(doomed, undelivered)

    def vacuum(self) -> None:
        """Give the space of deleted scans back to the file system (SQLite ``VACUUM``; Postgres'
        autovacuum does this on its own, so nothing is done there)."""
        if self.dialect != "sqlite":
            return
        with self.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            conn.exec_driver_sql("VACUUM")
            conn.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")

    def size_bytes(self) -> int | None:
        """Bytes the store takes on disk (SQLite file + WAL; Postgres: this schema's tables), or None."""
        if self.dialect == "sqlite":
            db = self.engine.url.database
            if not db or db == ":memory:":
                return None
            path = Path(db)
            return sum(p.stat().st_size for p in path.parent.glob(path.name + "*")
                       if p.is_file() and not p.name.endswith((".lock", ".migrate")))
        with self.engine.connect() as conn:
            return int(conn.execute(sa.text(
                "SELECT COALESCE(SUM(pg_total_relation_size(c.oid)), 0) FROM pg_class c "
                "JOIN pg_namespace n ON n.oid = c.relnamespace WHERE c.relkind = 'r' "
                "AND n.nspname = current_schema() AND c.relname = ANY(:names)"
            ), {"names": sorted(PDGUARD_TABLES)}).scalar() or 0)

    # --------------------------------------------------------------------- outbox

    @staticmethod
    def _enqueue(conn: Connection, scan_id: int, previous_id: int, report: Report,
                 targets: Sequence[tuple[str, str]]) -> None:
        before = set(conn.execute(
            sa.select(findings_t.c.fingerprint).where(findings_t.c.scan_id == previous_id,
                                                      findings_t.c.waived.is_(False))
        ).scalars())
        new: dict[str, str] = {}
        for f in report.findings:
            if not f.waived and f.fingerprint not in before and f.fingerprint not in new:
                new[f.fingerprint] = canonical_json(f.model_dump(mode="json"))
        if not new:
            return
        now = _now_iso()
        rows = [(scan_id, key, label, fp, data, now, 0) for key, label in dict(targets).items()
                for fp, data in new.items()]
        _bulk_insert(conn, "outbox", _OUTBOX_COLS, rows)

    def pending_notifications(self, target_key: str) -> list[dict[str, Any]]:
        """Undelivered outbox rows of one target, oldest first:
        ``{id, scan_id, fingerprint, finding, created_at, attempts, last_error, scanned_at, account}``."""
        q = (
            sa.select(outbox_t.c.id, outbox_t.c.scan_id, outbox_t.c.fingerprint, outbox_t.c.finding,
                      outbox_t.c.created_at, outbox_t.c.attempts, outbox_t.c.last_error,
                      scans_t.c.scanned_at, scans_t.c.account)
            .join(scans_t, scans_t.c.id == outbox_t.c.scan_id)
            .where(outbox_t.c.target_key == target_key, outbox_t.c.delivered_at.is_(None))
            .order_by(outbox_t.c.id)
        )
        with self.engine.connect() as conn:
            return [dict(r._mapping) for r in conn.execute(q)]

    def mark_delivered(self, ids: Sequence[int]) -> None:
        """Mark outbox rows delivered (one transaction): they are never sent again."""
        now = _now_iso()
        with self.engine.begin() as conn:
            for start in range(0, len(ids), 500):
                conn.execute(
                    outbox_t.update()
                    .where(outbox_t.c.id.in_(list(ids[start : start + 500])), outbox_t.c.delivered_at.is_(None))
                    .values(delivered_at=now, attempts=outbox_t.c.attempts + 1, last_attempt_at=now, last_error=None)
                )

    def mark_failed(self, ids: Sequence[int], error: str) -> None:
        """Record a failed delivery attempt of outbox rows (they stay pending)."""
        now = _now_iso()
        with self.engine.begin() as conn:
            for start in range(0, len(ids), 500):
                conn.execute(
                    outbox_t.update()
                    .where(outbox_t.c.id.in_(list(ids[start : start + 500])))
                    .values(attempts=outbox_t.c.attempts + 1, last_attempt_at=now, last_error=error[:500])
                )

    def expire_notifications(self, max_age: float, *, now: datetime | None = None) -> list[dict[str, Any]]:
        """Delete undelivered outbox rows created more than `max_age` seconds ago (every target).
        Returns ``{target_label, count, oldest, last_error}`` per target, for the warning."""
        now = now or datetime.now(UTC)
        cutoff = _iso(now - timedelta(seconds=max_age))
        cond = sa.and_(outbox_t.c.delivered_at.is_(None), outbox_t.c.created_at < cutoff)
        q = (
            sa.select(outbox_t.c.target_key, sa.func.max(outbox_t.c.target_label).label("label"),
                      sa.func.count().label("n"), sa.func.min(outbox_t.c.created_at).label("oldest"),
                      sa.func.max(outbox_t.c.last_error).label("last_error"))
            .where(cond)
            .group_by(outbox_t.c.target_key)
        )
        with self.engine.begin() as conn:
            groups = conn.execute(q).all()
            if groups:
                conn.execute(outbox_t.delete().where(cond))
        return [{"target_label": g.label, "count": int(g.n), "oldest": g.oldest, "last_error": g.last_error}
                for g in groups]

    def count_assets(self, scan_id: int) -> int:
        """Assets stored for a scan: the one number pdguard calls "assets" everywhere."""
        with self.engine.connect() as conn:
            return int(conn.execute(sa.select(sa.func.count()).where(assets_t.c.scan_id == scan_id)).scalar() or 0)

    # ----------------------------------------------------------------------- read

    @staticmethod
    def _scan_dict(row: sa.Row[Any]) -> dict[str, Any]:
        return {
            "id": row.id,
            "started_at": row.started_at,
            "scanned_at": row.scanned_at,
            "stored_at": row.stored_at,
            "account": row.account,
            "region": row.region,
            "complete": bool(row.complete),
            "meta": row.meta or {},
            "counts": row.counts or {},
            "error": row.error,
        }

    def latest(self, account: str | None = None) -> dict[str, Any] | None:
        """The newest complete scan (incomplete scans never are) of `account` (any account when
        None), or None."""
        q = sa.select(scans_t).where(scans_t.c.complete.is_(True))
        if account is not None:
            q = q.where(scans_t.c.account == account)
        with self.engine.connect() as conn:
            row = conn.execute(q.order_by(scans_t.c.id.desc()).limit(1)).first()
        return self._scan_dict(row) if row else None

    def accounts(self) -> list[str | None]:
        """The accounts the stored scans belong to (``scans.account``), sorted (None last)."""
        with self.engine.connect() as conn:
            found = conn.execute(sa.select(scans_t.c.account).distinct()).scalars().all()
        return sorted(found, key=lambda a: (a is None, a or ""))

    def previous(self, scan_id: int) -> dict[str, Any] | None:
        """The newest complete scan older than `scan_id` of the same account and the same snapshot
        schema major (a scan stored from a 1.x snapshot is not comparable with a 2.x one)."""
        from pdguard.snapshot import SCHEMA_MAJOR

        scan = self.get_scan(scan_id)
        major = schema_major(scan) if scan else SCHEMA_MAJOR
        with self.engine.connect() as conn:  # (a scan id not stored: the newest before it, any account)
            prev = self._previous_id(conn, scan_id, major, scan["account"] if scan else _ANY)
        return self.get_scan(prev) if prev is not None else None

    @staticmethod
    def _previous_id(conn: Connection, before: int | None, major: str, account: Any) -> int | None:
        """Id of the newest complete scan of `account` (older than `before`, if given) stored from a
        snapshot of schema major `major`: what a diff, and the notification outbox, compare a scan
        with. Scans of another account are never "previous"."""
        q = sa.select(scans_t.c.id, scans_t.c.meta).where(scans_t.c.complete.is_(True)).order_by(scans_t.c.id.desc())
        if account is not _ANY:
            q = q.where(scans_t.c.account.is_(None) if account is None else scans_t.c.account == account)
        if before is not None:
            q = q.where(scans_t.c.id < before)
        result = conn.execute(q)
        try:
            for row in result:
                if schema_major({"meta": row.meta}) == major:
                    return int(row.id)
        finally:
            result.close()
        return None

    def get_scan(self, scan_id: int) -> dict[str, Any] | None:
        with self.engine.connect() as conn:
            row = conn.execute(sa.select(scans_t).where(scans_t.c.id == scan_id)).first()
        return self._scan_dict(row) if row else None

    def require_scan(self, scan_id: int | None, account: str | None = None) -> dict[str, Any]:
        """`get_scan(scan_id)`, or `latest(account)` when None; :class:`StoreError` when there is
        none, or when the scan is not of `account` (when given)."""
        if scan_id is None:
            scan = self.latest(account)
            if scan is None:
                of = f" of account {account}" if account is not None else ""
                raise StoreError(f"the store {self._safe_url(self.url)} holds no complete scan{of} yet")
            return scan
        scan = self.get_scan(int(scan_id))
        if scan is None:
            raise StoreError(f"no scan {scan_id} in the store")
        if account is not None and scan["account"] != account:
            raise StoreError(f"scan {scan_id} is of account {scan['account']}, not {account}")
        return scan

    def list_scans(self, limit: int | None = None, account: str | None = None, *,
                   counts: bool = True) -> list[dict[str, Any]]:
        """All scans (of `account`, when given; the newest `limit`), newest first, with their asset
        and active finding numbers (``assets``, ``findings``: counted for the scans listed only;
        ``counts=False`` reads the scan rows alone)."""
        q = sa.select(scans_t).order_by(scans_t.c.id.desc())
        if account is not None:
            q = q.where(scans_t.c.account == account)
        if limit:
            q = q.limit(limit)
        if counts:
            listed = q.subquery()
            n_assets = sa.select(sa.func.count()).where(assets_t.c.scan_id == listed.c.id).scalar_subquery()
            n_findings = (sa.select(sa.func.count())
                          .where(findings_t.c.scan_id == listed.c.id, findings_t.c.waived.is_(False))
                          .scalar_subquery())
            q = sa.select(listed, n_assets.label("n_assets"), n_findings.label("n_findings")).order_by(
                listed.c.id.desc())
        with self.engine.connect() as conn:
            out = []
            for row in conn.execute(q):
                d = self._scan_dict(row)
                if counts:
                    d["assets"] = int(row.n_assets)
                    d["findings"] = int(row.n_findings)
                out.append(d)
        return out

    def finding_trend(self, limit: int = 60, account: str | None = None) -> list[dict[str, Any]]:
        """The newest `limit` scans (of `account`, when given), oldest first, with their active (not
        waived) findings by severity: ``[{id, scanned_at, complete, total, by_severity: {severity: n}}]``
        (the HTML report's chart)."""
        q = sa.select(scans_t.c.id, scans_t.c.scanned_at, scans_t.c.complete)
        if account is not None:
            q = q.where(scans_t.c.account == account)
        with self.engine.connect() as conn:
            scans = conn.execute(q.order_by(scans_t.c.id.desc()).limit(limit)).all()
            ids = [r.id for r in scans]
            counts: dict[int, dict[str, int]] = {i: {} for i in ids}
            if ids:
                q = (sa.select(findings_t.c.scan_id, findings_t.c.severity, sa.func.count())
                     .where(findings_t.c.scan_id.in_(ids), findings_t.c.waived.is_(False))
                     .group_by(findings_t.c.scan_id, findings_t.c.severity))
                for scan_id, severity, n in conn.execute(q):
                    counts[scan_id][str(severity)] = int(n)
        return [{"id": r.id, "scanned_at": r.scanned_at, "complete": bool(r.complete),
                 "total": sum(counts[r.id].values()), "by_severity": counts[r.id]} for r in reversed(scans)]

    def incident_history(self, scan_id: int, since: datetime | None = None) -> Any:
        """The incident history stored with a complete scan (:class:`pdguard.inventory.incidents.History`):
        its resolved incidents created on or after the UTC day of `since` (all when None) and its
        unresolved incidents' ids. Raises :class:`~pdguard.inventory.incidents.IncidentHistoryError`
        when the scan has none, or it is damaged or does not add up (the caller then scans in full)."""
        from pdguard.inventory.incidents import (
            HISTORY_VERSION,
            UNDATED_PART,
            UNRESOLVED_PART,
            History,
            IncidentHistoryError,
            decode,
        )

        scan = self.get_scan(scan_id)
        if scan is None:
            raise IncidentHistoryError(f"scan {scan_id} is not in the store")
        info = (scan["meta"] or {}).get("incident_history")
        if not scan["complete"] or not isinstance(info, dict):
            raise IncidentHistoryError(f"scan {scan_id} has no stored incident history")
        if info.get("v") != HISTORY_VERSION:
            raise IncidentHistoryError(f"scan {scan_id}'s incident history has format {info.get('v')!r}, "
                                       f"this pdguard reads {HISTORY_VERSION}")
        first_day = since.astimezone(UTC).strftime("%Y-%m-%d") if since is not None else ""
        q = (sa.select(scan_incident_chunks_t.c.part, incident_chunks_t.c.count, incident_chunks_t.c.data,
                       incident_chunks_t.c.hash.label("found"))
             .select_from(scan_incident_chunks_t.outerjoin(
                 incident_chunks_t, incident_chunks_t.c.hash == scan_incident_chunks_t.c.chunk_hash))
             .where(scan_incident_chunks_t.c.scan_id == scan_id))
        history = History(scan_id)
        resolved_total = unresolved_total = 0
        with self.engine.connect() as conn:
            rows = conn.execute(q).all()
            if len(rows) != info.get("parts"):
                raise IncidentHistoryError(f"scan {scan_id}'s incident history has {len(rows)} of its "
                                           f"{info.get('parts')} parts")
            wanted = []
            for r in rows:
                if r.found is None:
                    raise IncidentHistoryError(f"scan {scan_id}'s incident history misses its part {r.part}")
                if r.part == UNRESOLVED_PART:
                    unresolved_total += int(r.count)
                    wanted.append(r)
                    continue
                resolved_total += int(r.count)
                if r.part == UNDATED_PART:
                    history.undated += int(r.count)
                elif r.part >= first_day:
                    wanted.append(r)
                else:
                    history.skipped_days += 1
            if (resolved_total, unresolved_total) != (info.get("resolved"), info.get("unresolved")):
                raise IncidentHistoryError(
                    f"scan {scan_id}'s incident history holds {resolved_total} resolved and {unresolved_total} "
                    f"unresolved incidents, its scan recorded {info.get('resolved')} and {info.get('unresolved')}")
        for r in wanted:
            items = decode(bytes(r.data))
            if len(items) != int(r.count):
                raise IncidentHistoryError(f"scan {scan_id}'s incident history part {r.part} holds "
                                           f"{len(items)} incidents, not {r.count}")
            if r.part == UNRESOLVED_PART:
                history.unresolved.extend(
                    (str(x[0]), x[1], x[2]) for x in items if isinstance(x, list) and len(x) == 3)
            else:
                history.resolved.extend(i for i in items if isinstance(i, dict))
        if len(history.unresolved) != unresolved_total:
            raise IncidentHistoryError(f"scan {scan_id}'s unresolved incident ids cannot be read")
        return history

    def _resolve_scan_id(self, scan_id: int | None) -> int | None:
        if scan_id is not None:
            return int(scan_id)
        latest = self.latest()
        return latest["id"] if latest else None

    def assets(
        self, scan_id: int | None = None, type: str | None = None, *, with_config: bool = False
    ) -> list[dict[str, Any]]:
        """Assets of a scan (default: latest complete), ordered by type then name:
        ``{scan_id, type, id, name, content_hash[, config]}``."""
        sid = self._resolve_scan_id(scan_id)
        if sid is None:
            return []
        cols = [assets_t.c.scan_id, assets_t.c.type, assets_t.c.id, assets_t.c.name, assets_t.c.content_hash]
        if with_config:
            cols += _CONFIG_COLS
        q = sa.select(*cols).where(assets_t.c.scan_id == sid)
        if with_config:
            q = q.select_from(_WITH_CONFIGS)
        if type:
            q = q.where(assets_t.c.type == type)
        q = q.order_by(assets_t.c.type, assets_t.c.name, assets_t.c.id)
        out = []
        with self.engine.connect() as conn:
            for r in conn.execute(q):
                d = {k: r._mapping[k] for k in ("scan_id", "type", "id", "name", "content_hash")}
                if with_config:
                    d["config"] = _row_config(r)
                out.append(d)
            if with_config:
                self._inflate(conn, sid, [(d["type"], d["config"]) for d in out], out)
        return out

    @staticmethod
    def _configs(conn: Connection, scan_id: int, asset_type: str, ids: list[str]) -> dict[str, Any]:
        """{id: object} of the given assets of one type of one scan (batched lookups)."""
        out: dict[str, Any] = {}
        for start in range(0, len(ids), 500):
            q = (
                sa.select(assets_t.c.id, *_CONFIG_COLS)
                .select_from(_WITH_CONFIGS)
                .where(assets_t.c.scan_id == scan_id, assets_t.c.type == asset_type,
                       assets_t.c.id.in_(ids[start : start + 500]))
            )
            for r in conn.execute(q):
                out[r.id] = _row_config(r)
        return out

    def _inflate(self, conn: Connection, scan_id: int, configs: list[tuple[str, Any]],
                 targets: list[dict[str, Any]], known: dict[str, Any] | None = None) -> None:
        """Put the integrations back into the service configs of `targets` (same order as `configs`)."""
        wanted = sorted({i for t, c in configs if t == "service" for i in integration_ids(c)})
        if not wanted:
            return
        found = dict(known or {})
        missing = [i for i in wanted if i not in found]
        if missing:
            found.update(self._configs(conn, scan_id, "integration", missing))
        for (t, c), target in zip(configs, targets, strict=True):
            if t == "service":
                target["config"] = inflate_service(c, found)

    def asset(self, asset_id: str, scan_id: int | None = None, type: str | None = None) -> dict[str, Any] | None:
        """One asset of a scan (default: latest complete) with its config and its findings, or None."""
        sid = self._resolve_scan_id(scan_id)
        if sid is None:
            return None
        q = (
            sa.select(assets_t, configs_t.c.config.label("shared_config"))
            .select_from(_WITH_CONFIGS)
            .where(assets_t.c.scan_id == sid, assets_t.c.id == asset_id)
        )
        if type:
            q = q.where(assets_t.c.type == type)
        with self.engine.connect() as conn:
            row = conn.execute(q.order_by(assets_t.c.type).limit(1)).first()
            if row is None:
                return None
            frows = conn.execute(
                sa.select(findings_t)
                .where(findings_t.c.scan_id == sid, findings_t.c.resource_id == asset_id)
                .order_by(findings_t.c.row_id)
            ).all()
            out = {k: row._mapping[k] for k in ("scan_id", "type", "id", "name", "content_hash")}
            out["config"] = _row_config(row)
            self._inflate(conn, sid, [(out["type"], out["config"])], [out])
        out["findings"] = [self._finding_dict(r) for r in frows if r.resource_type in (None, row.type)]
        return out

    @staticmethod
    def _finding_dict(row: sa.Row[Any]) -> dict[str, Any]:
        data = dict(row.data or {})
        data.update(
            {
                "fingerprint": row.fingerprint,
                "policy_id": row.policy_id,
                "severity": row.severity,
                "msg": row.msg,
                "waived": bool(row.waived),
                "resource": {"type": row.resource_type, "id": row.resource_id, "name": row.resource_name},
            }
        )
        return data

    def findings(self, scan_id: int | None = None, *, include_waived: bool = True) -> list[dict[str, Any]]:
        """Findings of a scan (default: latest complete), each the stored Finding as a dict (+ `waived`)."""
        sid = self._resolve_scan_id(scan_id)
        if sid is None:
            return []
        q = sa.select(findings_t).where(findings_t.c.scan_id == sid)
        if not include_waived:
            q = q.where(findings_t.c.waived.is_(False))
        with self.engine.connect() as conn:
            return [self._finding_dict(r) for r in conn.execute(q.order_by(findings_t.c.row_id))]

    def asset_configs(self, scan_id: int, keys: list[tuple[str, str]]) -> dict[tuple[str, str], Any]:
        """Configs of the given (type, id) assets of one scan (batched lookups)."""
        out: dict[tuple[str, str], Any] = {}
        by_type: dict[str, list[str]] = {}
        for t, i in keys:
            by_type.setdefault(t, []).append(i)
        with self.engine.connect() as conn:
            for t, ids in by_type.items():
                out.update({(t, i): c for i, c in self._configs(conn, scan_id, t, ids).items()})
            services = [(k, v) for k, v in out.items() if k[0] == "service"]
            holders = [{"config": v} for _, v in services]
            self._inflate(conn, scan_id, [("service", v) for _, v in services], holders)
            for (k, _), h in zip(services, holders, strict=True):
                out[k] = h["config"]
        return out

    def load_document(self, scan_id: int | None = None, account: str | None = None) -> dict[str, Any]:
        """Rebuild a snapshot document from a stored scan (default: the latest complete scan of
        `account`, see :meth:`require_scan`; stored collections only; no incidents).

        A scan stored from a 1.x snapshot is refused (InputError, exit 3), like a 1.x file.
        """
        from pdguard.snapshot import SCHEMA_VERSION as DOC_VERSION
        from pdguard.snapshot import check_version

        scan = self.require_scan(scan_id, account)
        version = scan["meta"].get("schema_version") or DOC_VERSION
        check_version(version, f"stored scan {scan['id']}")
        meta = dict(scan["meta"])
        meta.pop("schema_version", None)
        meta.pop("iac_sources", None)
        meta.pop("audit", None)
        meta["counts"] = scan["counts"]
        meta.setdefault("complete", scan["complete"])
        doc: dict[str, Any] = {"schema_version": version, "meta": meta}
        for collection in COLLECTIONS:
            doc[collection] = []
        type_to_collection = {v: k for k, v in ASSET_COLLECTIONS.items()}
        q = (
            sa.select(assets_t.c.type, assets_t.c.id, *_CONFIG_COLS)
            .select_from(_WITH_CONFIGS)
            .where(assets_t.c.scan_id == scan["id"])
            .order_by(assets_t.c.type, assets_t.c.id)
        )
        integrations: dict[str, Any] = {}
        with self.engine.connect() as conn:
            for r in conn.execute(q):
                if r.type == "integration":
                    integrations[r.id] = _row_config(r)
                collection = type_to_collection.get(r.type)
                if collection is not None:
                    doc[collection].append(_row_config(r))
            holders = [{"config": c} for c in doc["services"]]
            self._inflate(conn, scan["id"], [("service", c) for c in doc["services"]], holders, integrations)
        doc["services"] = [h["config"] for h in holders]
        doc["iac"] = None
        return doc


_WITH_CONFIGS = assets_t.outerjoin(configs_t, assets_t.c.config_hash == configs_t.c.hash)
_CONFIG_COLS = [assets_t.c.config, assets_t.c.volatile, configs_t.c.config.label("shared_config")]


def _audit_index(doc: dict[str, Any]) -> dict[str, Any] | None:
    from pdguard.inventory.audit import stored_index

    return stored_index(doc)


def _row_config(row: sa.Row[Any]) -> Any:
    """An asset's object: the whole `config` of a row stored before schema 3, else shared + volatile."""
    m = row._mapping
    if m["config"] is not None:
        return m["config"]
    return merge_config(m["shared_config"], m["volatile"])


def schema_major(scan: dict[str, Any]) -> str:
    """The snapshot schema major a stored scan came from ("1" when it predates the field)."""
    return str((scan.get("meta") or {}).get("schema_version") or "1").split(".")[0]


def _sqlite_pragmas(dbapi_conn: Any, _record: Any) -> None:
    cur = dbapi_conn.cursor()
    try:
        # Before the first table is created (ignored afterwards): 16 KiB pages waste less space
        # around ~2 KB JSON rows than the 4 KiB default.
        cur.execute("PRAGMA page_size=16384")
        cur.execute("PRAGMA foreign_keys=ON")
        cur.execute("PRAGMA busy_timeout=30000")
        cur.execute("PRAGMA journal_mode=WAL")
        cur.execute("PRAGMA synchronous=NORMAL")
    finally:
        cur.close()

