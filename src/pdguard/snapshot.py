"""The inventory snapshot document: what a scan writes and what policies receive as `input`.

The document is plain JSON. Its shape is described by the pydantic models below (used to
validate API responses at the scan boundary and to publish `pdguard schema`). The evaluation
path never re-validates a snapshot object by object: `load_document` reads the JSON, checks the
envelope (`schema_version`, `meta`) and hands the dict on as it is.

Every PagerDuty object model keeps unknown fields (``extra="allow"``) so that a newer API
adding fields does not break a scan, and every field except ``id`` is optional so that a
missing optional field does not crash one.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import orjson
from pydantic import BaseModel, ConfigDict, Field

from pdguard import __version__
from pdguard.errors import InputError

SCHEMA_VERSION = "1.0"

# Collection key in the document -> (model name, asset type used in findings/inventory).
COLLECTIONS: dict[str, str] = {
    "services": "service",
    "escalation_policies": "escalation_policy",
    "schedules": "schedule",
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
}


class _Open(BaseModel):
    """A PagerDuty object: unknown fields are kept, optional fields may be missing."""

    model_config = ConfigDict(extra="allow", populate_by_name=True)


class Reference(_Open):
    id: str | None = None
    type: str | None = None
    summary: str | None = None
    self: str | None = None
    html_url: str | None = None


class PDObject(_Open):
    id: str
    type: str | None = None
    summary: str | None = None
    self: str | None = None
    html_url: str | None = None


class Integration(PDObject):
    name: str | None = None
    service: Reference | None = None
    vendor: Reference | None = None
    created_at: str | None = None


class Service(PDObject):
    name: str | None = None
    description: str | None = None
    status: str | None = None
    created_at: str | None = None
    updated_at: str | None = None
    last_incident_timestamp: str | None = None
    auto_resolve_timeout: int | None = None
    acknowledgement_timeout: int | None = None
    escalation_policy: dict[str, Any] | None = None
    teams: list[dict[str, Any]] = Field(default_factory=list)
    integrations: list[dict[str, Any]] = Field(default_factory=list)
    incident_urgency_rule: dict[str, Any] | None = None
    support_hours: dict[str, Any] | None = None
    scheduled_actions: list[dict[str, Any]] = Field(default_factory=list)
    alert_creation: str | None = None
    alert_grouping_parameters: dict[str, Any] | None = None
    auto_pause_notifications_parameters: dict[str, Any] | None = None


class EscalationRule(_Open):
    id: str | None = None
    escalation_delay_in_minutes: int | None = None
    targets: list[dict[str, Any]] = Field(default_factory=list)


class EscalationPolicy(PDObject):
    name: str | None = None
    description: str | None = None
    num_loops: int | None = None
    on_call_handoff_notifications: str | None = None
    escalation_rules: list[EscalationRule] = Field(default_factory=list)
    services: list[dict[str, Any]] = Field(default_factory=list)
    teams: list[dict[str, Any]] = Field(default_factory=list)


class ScheduleLayer(_Open):
    id: str | None = None
    name: str | None = None
    start: str | None = None
    end: str | None = None
    rotation_virtual_start: str | None = None
    rotation_turn_length_seconds: int | None = None
    users: list[dict[str, Any]] = Field(default_factory=list)
    restrictions: list[dict[str, Any]] = Field(default_factory=list)


class Schedule(PDObject):
    name: str | None = None
    description: str | None = None
    time_zone: str | None = None
    schedule_layers: list[ScheduleLayer] = Field(default_factory=list)
    final_schedule: dict[str, Any] | None = None
    escalation_policies: list[dict[str, Any]] = Field(default_factory=list)
    users: list[dict[str, Any]] = Field(default_factory=list)
    teams: list[dict[str, Any]] = Field(default_factory=list)


class Incident(PDObject):
    incident_number: int | None = None
    title: str | None = None
    status: str | None = None
    urgency: str | None = None
    created_at: str | None = None
    updated_at: str | None = None
    last_status_change_at: str | None = None
    resolved_at: str | None = None
    service: dict[str, Any] | None = None
    escalation_policy: dict[str, Any] | None = None
    assignments: list[dict[str, Any]] = Field(default_factory=list)
    acknowledgements: list[dict[str, Any]] = Field(default_factory=list)
    teams: list[dict[str, Any]] = Field(default_factory=list)
    priority: dict[str, Any] | None = None


class TeamMember(_Open):
    user: dict[str, Any]
    role: str | None = None


class Team(PDObject):
    name: str | None = None
    description: str | None = None
    parent: dict[str, Any] | None = None
    # Derived from users' `teams` (include[]=teams): no per-team request is made.
    members: list[TeamMember] = Field(default_factory=list)


class User(PDObject):
    name: str | None = None
    email: str | None = None
    role: str | None = None
    time_zone: str | None = None
    job_title: str | None = None
    invitation_sent: bool | None = None
    contact_methods: list[dict[str, Any]] = Field(default_factory=list)
    notification_rules: list[dict[str, Any]] = Field(default_factory=list)
    teams: list[dict[str, Any]] = Field(default_factory=list)


class BusinessService(PDObject):
    name: str | None = None
    description: str | None = None
    point_of_contact: str | None = None
    team: dict[str, Any] | None = None


class ServiceDependency(_Open):
    id: str | None = None
    type: str | None = None
    supporting_service: dict[str, Any] | None = None
    dependent_service: dict[str, Any] | None = None


class Addon(PDObject):
    name: str | None = None
    src: str | None = None
    services: list[dict[str, Any]] = Field(default_factory=list)


class Extension(PDObject):
    name: str | None = None
    endpoint_url: str | None = None
    extension_schema: dict[str, Any] | None = None
    extension_objects: list[dict[str, Any]] = Field(default_factory=list)


class Oncall(_Open):
    escalation_level: int | None = None
    start: str | None = None
    end: str | None = None
    user: dict[str, Any] | None = None
    schedule: dict[str, Any] | None = None
    escalation_policy: dict[str, Any] | None = None


class Standard(PDObject):
    name: str | None = None
    description: str | None = None
    active: bool | None = None
    resource_type: str | None = None
    exclusions: list[dict[str, Any]] = Field(default_factory=list)
    inclusions: list[dict[str, Any]] = Field(default_factory=list)


class StandardsScore(_Open):
    resource_id: str
    resource_type: str | None = None
    score: dict[str, Any] | None = None
    standards: list[dict[str, Any]] = Field(default_factory=list)


MODELS: dict[str, type[BaseModel]] = {
    "services": Service,
    "escalation_policies": EscalationPolicy,
    "schedules": Schedule,
    "incidents": Incident,
    "teams": Team,
    "users": User,
    "business_services": BusinessService,
    "service_dependencies": ServiceDependency,
    "addons": Addon,
    "extensions": Extension,
    "oncalls": Oncall,
    "standards": Standard,
    "standards_scores": StandardsScore,
}


class Meta(BaseModel):
    model_config = ConfigDict(extra="allow")

    account_subdomain: str | None = None
    region: str = "us"
    api_url: str | None = None
    scanned_at: str
    pdguard_version: str = __version__
    counts: dict[str, int] = Field(default_factory=dict)
    warnings: list[str] = Field(default_factory=list)
    complete: bool = True
    incidents_since: str | None = None
    requests: int | None = None
    duration_seconds: float | None = None


class Snapshot(BaseModel):
    """The whole inventory document (`input` of every policy)."""

    model_config = ConfigDict(extra="allow")

    schema_version: str = SCHEMA_VERSION
    meta: Meta
    services: list[Service] = Field(default_factory=list)
    escalation_policies: list[EscalationPolicy] = Field(default_factory=list)
    schedules: list[Schedule] = Field(default_factory=list)
    incidents: list[Incident] = Field(default_factory=list)
    teams: list[Team] = Field(default_factory=list)
    users: list[User] = Field(default_factory=list)
    business_services: list[BusinessService] = Field(default_factory=list)
    service_dependencies: list[ServiceDependency] = Field(default_factory=list)
    addons: list[Addon] = Field(default_factory=list)
    extensions: list[Extension] = Field(default_factory=list)
    oncalls: list[Oncall] = Field(default_factory=list)
    standards: list[Standard] = Field(default_factory=list)
    standards_scores: list[StandardsScore] = Field(default_factory=list)
    # Filled by the IaC classification (`--tfstate`): see pdguard.inventory.iac.
    iac: dict[str, Any] | None = None


def json_schema() -> dict[str, Any]:
    schema = Snapshot.model_json_schema()
    schema["$schema"] = "https://json-schema.org/draft/2020-12/schema"
    schema["title"] = "pdguard inventory snapshot"
    schema["$id"] = f"https://pdguard.dev/schemas/snapshot-{SCHEMA_VERSION}.json"
    return schema


def write_atomic(path: str | os.PathLike[str], data: bytes | str) -> None:
    """Deprecated name of :func:`pdguard.fileout.write_output` (kept for callers): atomic for regular
    files, writes through symlinks and to devices, respects the umask; raises ``OutputError``."""
    from pdguard.fileout import write_output

    write_output(path, data)


def dump_document(doc: dict[str, Any]) -> bytes:
    """Compact UTF-8 JSON (orjson: a 150 MB snapshot is written in a fraction of a second)."""
    try:
        return orjson.dumps(doc)
    except TypeError:  # e.g. an int beyond 64 bits from an exotic API field: the stdlib copes
        return json.dumps(doc, separators=(",", ":"), ensure_ascii=False).encode("utf-8")


def read_json_file(path: str | os.PathLike[str], what: str) -> Any:
    """Parse a JSON file; a missing, unreadable or invalid file is a one-line InputError naming `what`."""
    p = Path(path)
    try:
        raw = p.read_bytes()
    except FileNotFoundError:
        raise InputError(f"{what} file not found: {p}") from None
    except OSError as exc:
        raise InputError(f"cannot read {what} {p}: {exc.strerror}") from None
    try:
        return json.loads(raw)
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise InputError(f"{what} {p} is not valid JSON: {exc}") from None


def load_document(path: str | os.PathLike[str]) -> dict[str, Any]:
    """Read a snapshot file for evaluation: envelope checks only, no per-object validation."""
    return check_envelope(read_json_file(path, "snapshot"), str(path))


def check_envelope(doc: Any, where: str = "snapshot") -> dict[str, Any]:
    if not isinstance(doc, dict):
        raise InputError(f"{where}: a snapshot is a JSON object, got {type(doc).__name__}")
    version = doc.get("schema_version")
    if version is None or not isinstance(doc.get("meta"), dict):
        raise InputError(f"{where}: not a pdguard snapshot (missing schema_version or meta)")
    major = str(version).split(".")[0]
    if major != SCHEMA_VERSION.split(".")[0]:
        raise InputError(
            f"{where}: snapshot schema_version {version} is not supported (this pdguard reads {SCHEMA_VERSION})"
        )
    for key in COLLECTIONS:
        value = doc.get(key, [])
        if not isinstance(value, list):
            raise InputError(f"{where}: '{key}' must be a list")
    return doc
