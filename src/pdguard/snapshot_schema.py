"""The pydantic models of snapshot schema 2.1 (`pdguard schema`, docs/design.md).

Kept out of :mod:`pdguard.snapshot`, which `check` imports: evaluation never validates a snapshot
object by object (the policies read it as it is), so building these models is paid for only where
the schema is needed. ``pdguard.snapshot.Snapshot`` (and every model name) still resolves here.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, create_model

from pdguard import __version__
from pdguard.snapshot import COLLECTIONS, SCHEMA_VERSION


class _Open(BaseModel):
    """A PagerDuty object: unknown fields are kept, optional fields may be missing."""

    model_config = ConfigDict(extra="allow", populate_by_name=True)


class Reference(_Open):
    """The API's reference form of an object that has its own collection (never an embedded copy)."""

    id: str
    type: str = Field(pattern=r"^[a-z0-9_]+_reference$")
    summary: str | None = None
    self: str | None = None
    html_url: str | None = None


def _reference(name: str, *types: str) -> type[Reference]:
    """A Reference subclass whose `type` is one of `types` (shown as an enum by `pdguard schema`)."""
    literal = Literal[types]  # type: ignore[valid-type]
    return create_model(name, __base__=Reference, type=(literal, ...))  # type: ignore[call-overload]


ServiceReference = _reference("ServiceReference", "service_reference")
EscalationPolicyReference = _reference("EscalationPolicyReference", "escalation_policy_reference")
ScheduleReference = _reference("ScheduleReference", "schedule_reference")
TeamReference = _reference("TeamReference", "team_reference")
UserReference = _reference("UserReference", "user_reference")
# Escalation rule targets: a user, a classic schedule or a flexible (v3) schedule.
EscalationTarget = _reference("EscalationTarget", "user_reference", "schedule_reference", "schedule_v3_reference")
OncallSchedule = _reference("OncallScheduleReference", "schedule_reference", "schedule_v3_reference")
DependencySide = _reference("DependencySideReference", "technical_service_reference", "business_service_reference")


class PDObject(_Open):
    id: str
    type: str | None = None
    summary: str | None = None
    self: str | None = None
    html_url: str | None = None


class Integration(PDObject):
    """Embedded in `services[].integrations` (no list endpoint returns integrations)."""

    name: str | None = None
    service: ServiceReference | None = None  # type: ignore[valid-type]
    vendor: Reference | None = None
    created_at: str | None = None


class UrgencyPart(_Open):
    type: str | None = None  # constant | use_support_hours
    urgency: str | None = None  # high | low | severity_based (dynamic urgency)


class IncidentUrgencyRule(UrgencyPart):
    during_support_hours: UrgencyPart | None = None
    outside_support_hours: UrgencyPart | None = None


class Service(PDObject):
    name: str | None = None
    description: str | None = None
    status: str | None = None  # active | warning | critical | maintenance | disabled
    created_at: str | None = None
    last_incident_timestamp: str | None = None
    auto_resolve_timeout: int | None = None
    acknowledgement_timeout: int | None = None
    escalation_policy: EscalationPolicyReference | None = None  # type: ignore[valid-type]
    teams: list[TeamReference] = Field(default_factory=list)  # type: ignore[valid-type]
    integrations: list[Integration] = Field(default_factory=list)
    incident_urgency_rule: IncidentUrgencyRule | None = None
    support_hours: dict[str, Any] | None = None
    scheduled_actions: list[dict[str, Any]] = Field(default_factory=list)
    alert_creation: str | None = None
    alert_grouping_parameters: dict[str, Any] | None = None
    auto_pause_notifications_parameters: dict[str, Any] | None = None


class EscalationRule(_Open):
    id: str | None = None
    escalation_delay_in_minutes: int | None = None
    targets: list[EscalationTarget] = Field(default_factory=list)  # type: ignore[valid-type]


class EscalationPolicy(PDObject):
    name: str | None = None
    description: str | None = None
    num_loops: int | None = None
    on_call_handoff_notifications: str | None = None
    escalation_rules: list[EscalationRule] = Field(default_factory=list)
    services: list[ServiceReference] = Field(default_factory=list)  # type: ignore[valid-type]
    teams: list[TeamReference] = Field(default_factory=list)  # type: ignore[valid-type]


class LayerUser(_Open):
    user: UserReference  # type: ignore[valid-type]


class RenderedEntry(_Open):
    start: str | None = None
    end: str | None = None
    user: UserReference | None = None  # type: ignore[valid-type]


class SubSchedule(_Open):
    """`final_schedule` / `overrides_subschedule` as GET /schedules/{id}?since&until renders them."""

    name: str | None = None
    rendered_schedule_entries: list[RenderedEntry] = Field(default_factory=list)
    rendered_coverage_percentage: float | None = None


class ScheduleLayer(_Open):
    id: str | None = None
    name: str | None = None
    start: str | None = None
    end: str | None = None  # in the past for an ended layer (PagerDuty keeps ended layers)
    rotation_virtual_start: str | None = None
    rotation_turn_length_seconds: int | None = None
    users: list[LayerUser] = Field(default_factory=list)
    restrictions: list[dict[str, Any]] = Field(default_factory=list)


class Schedule(PDObject):
    name: str | None = None
    description: str | None = None
    time_zone: str | None = None
    schedule_layers: list[ScheduleLayer] = Field(default_factory=list)
    final_schedule: SubSchedule | None = None
    overrides_subschedule: SubSchedule | None = None
    escalation_policies: list[EscalationPolicyReference] = Field(default_factory=list)  # type: ignore[valid-type]
    users: list[UserReference] = Field(default_factory=list)  # type: ignore[valid-type]
    teams: list[TeamReference] = Field(default_factory=list)  # type: ignore[valid-type]


class FlexibleSchedule(PDObject):
    """A flexible (shift-based) schedule: GET /v3/schedules/{id} (`type` "schedule_v3")."""

    name: str | None = None
    description: str | None = None
    time_zone: str | None = None
    rotations: list[dict[str, Any]] = Field(default_factory=list)
    final_schedule: dict[str, Any] | None = None  # {rendered_coverage_percentage, computed_shift_assignments}
    escalation_policies: list[EscalationPolicyReference] = Field(default_factory=list)  # type: ignore[valid-type]
    users: list[UserReference] = Field(default_factory=list)  # type: ignore[valid-type]
    teams: list[TeamReference] = Field(default_factory=list)  # type: ignore[valid-type]


class Incident(PDObject):
    incident_number: int | None = None
    title: str | None = None
    status: str | None = None
    urgency: str | None = None
    created_at: str | None = None
    updated_at: str | None = None
    last_status_change_at: str | None = None
    resolved_at: str | None = None
    service: ServiceReference | None = None  # type: ignore[valid-type]
    escalation_policy: EscalationPolicyReference | None = None  # type: ignore[valid-type]
    assignments: list[dict[str, Any]] = Field(default_factory=list)
    acknowledgements: list[dict[str, Any]] = Field(default_factory=list)
    teams: list[TeamReference] = Field(default_factory=list)  # type: ignore[valid-type]
    priority: dict[str, Any] | None = None


class TeamMember(_Open):
    user: UserReference  # type: ignore[valid-type]
    role: str | None = None


class Team(PDObject):
    name: str | None = None
    description: str | None = None
    parent: Reference | None = None
    # Derived from users' `teams` references: no per-team request is made.
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
    teams: list[TeamReference] = Field(default_factory=list)  # type: ignore[valid-type]


class BusinessService(PDObject):
    name: str | None = None
    description: str | None = None
    point_of_contact: str | None = None
    team: Reference | None = None


class ServiceDependency(_Open):
    id: str | None = None
    type: str | None = None
    supporting_service: DependencySide | None = None  # type: ignore[valid-type]
    dependent_service: DependencySide | None = None  # type: ignore[valid-type]


class Addon(PDObject):
    name: str | None = None
    src: str | None = None
    services: list[ServiceReference] = Field(default_factory=list)  # type: ignore[valid-type]


class Extension(PDObject):
    name: str | None = None
    endpoint_url: str | None = None
    extension_schema: Reference | None = None
    extension_objects: list[Reference] = Field(default_factory=list)


class Oncall(_Open):
    """GET /oncalls over ``meta.oncall_window`` (schema 2.1; at scan time only in 2.0): who is on call
    per escalation policy and level, shift by shift (layers, restrictions and overrides applied)."""

    escalation_level: int | None = None
    start: str | None = None  # null for users targeted directly
    end: str | None = None
    user: UserReference | None = None  # type: ignore[valid-type]
    schedule: OncallSchedule | None = None  # type: ignore[valid-type]
    escalation_policy: EscalationPolicyReference | None = None  # type: ignore[valid-type]


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


class AuditRecord(_Open):
    """An audit trail record (``GET /audit/records``) as the API returns it, without
    ``method.truncated_token`` and ``execution_context`` (a token's last characters, the remote IP)."""

    id: str
    execution_time: str | None = None
    action: str | None = None
    actors: list[Reference] | None = None
    method: dict[str, Any] | None = None
    root_resource: Reference | None = None
    details: dict[str, Any] | None = None


class CollectionStatus(BaseModel):
    """How completely one collection was read (the scan's accounting of every object)."""

    model_config = ConfigDict(extra="allow")

    status: Literal["complete", "incomplete", "forbidden", "excluded"]
    expected: int | None = None
    got: int = 0
    warnings: list[str] = Field(default_factory=list)


class ScheduleWindow(BaseModel):
    model_config = ConfigDict(extra="allow")

    since: str
    until: str


class IncidentsMerged(BaseModel):
    """An incremental scan's incidents: those created in ``[since, until)`` and resolved come from
    the incident history of stored scan ``from_scan``; everything else was read now."""

    model_config = ConfigDict(extra="allow")

    from_scan: int
    since: str
    until: str
    merged: int  # incidents taken from the history
    refetched: int  # the base's unresolved incidents resolved since, read again by id
    gone: int = 0  # ... that PagerDuty no longer returned
    run: int  # incremental scans in a row, this one included


class Meta(BaseModel):
    model_config = ConfigDict(extra="allow")

    account_subdomain: str | None = None
    region: str = "us"
    api_url: str | None = None
    web_url: str | None = None  # e.g. https://acme.pagerduty.com (see web_link)
    scanned_at: str  # "now" of every policy (never the evaluation clock)
    pdguard_version: str = __version__
    # The collections actually collected: an excluded or 403-skipped collection is NOT listed,
    # and policies do not judge it (`data.pdguard.lib.collected(name)`).
    collections: list[str]
    collections_status: dict[str, CollectionStatus] = Field(default_factory=dict)
    counts: dict[str, int] = Field(default_factory=dict)
    warnings: list[str] = Field(default_factory=list)
    complete: bool = True  # false when anything the account holds is unaccounted for
    account: str | None = None  # the configured account's name (`accounts:` in pdguard.yaml); absent: the one account
    incidents_since: str | None = None
    incidents_lookback_days: int | None = None  # null when --incidents-since fixed the window
    incremental: bool = False  # incidents merged from the store's history of an earlier scan (watch)
    incidents_merged: IncidentsMerged | None = None  # when incremental: what came from the history
    schedule_window: ScheduleWindow | None = None  # the coverage window (flexible schedules rendered over it)
    # 2.1: the window `oncalls` lists every shift of (the schedule window); absent in 2.0 (now only)
    oncall_window: ScheduleWindow | None = None
    audit_window: ScheduleWindow | None = None  # the window audit records were read over (when asked for)
    # Whose dependencies service_dependencies holds (when collected): "business" - those of the
    # business services (default) - or "all": every technical service's too (chains of services).
    service_dependencies: Literal["business", "all"] | None = None
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
    flexible_schedules: list[FlexibleSchedule] = Field(default_factory=list)
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
    audit_records: list[AuditRecord] = Field(default_factory=list)
    # Filled by the IaC classification (`--tfstate`): see pdguard.inventory.iac.
    iac: dict[str, Any] | None = None


assert [k for k in Snapshot.model_fields if k in COLLECTIONS] == list(COLLECTIONS), "a model per collection"
