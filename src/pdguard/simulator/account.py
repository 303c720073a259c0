"""A simulated PagerDuty account: a plain container of API-shaped objects, and a generator.

`Account` holds one list per collection, each object a dict in the shape the REST API v2 list
endpoint returns it *without* any ``include[]``: links to other objects are references
(``{id, type: "<x>_reference", summary, self, html_url}``). Sub-objects that belong to one
object and have no list endpoint of their own are stored whole; the server renders them as
references unless the request asks for them with ``include[]`` (see ``EXPANSIONS``):

* services            ``integrations`` (include[]=integrations), ``auto_pause_notifications_parameters``
                      (only with include[]=auto_pause_notifications_parameters)
* users               ``contact_methods``, ``notification_rules`` (include[]=contact_methods, notification_rules)
* schedules           ``schedule_layers`` (ended layers keep their past ``end``) and ``overrides``
                      (never served as such): ``GET /schedules/{id}`` renders the layers, the
                      ``overrides_subschedule`` and the ``final_schedule`` for the requested window
* flexible_schedules  ``/v3/schedules`` objects (``type: schedule_v3``) with ``rotations``/``events``;
                      the list serves ``schedule_v3_reference``s only
* addons              as the list returns them (``*_addon_reference`` with ``name``/``src``)
* oncalls             not stored: computed from escalation policies and schedules for the window
                      asked (``Account.oncalls`` is the list at ``generated_at``)
* service_dependencies: the `relationships` of every business service
* standards: GET /standards; standards_scores: GET /standards/scores/technical_services

Dicts are shared between collections (the same reference dict may appear many times): treat an
Account as read-only once built.

`generate_account(...)` builds a deterministic, realistic account of any size;
`pdguard.simulator.sample.sample_account()` is the small bundled demo account.
"""

from __future__ import annotations

import random
from collections.abc import Iterable
from dataclasses import dataclass, field, fields
from datetime import UTC, datetime, timedelta
from functools import cached_property
from typing import Any

from pdguard.snapshot import COLLECTIONS

API = "https://api.pagerduty.com"
ALNUM = "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"

COLLECTION_NAMES: tuple[str, ...] = tuple(COLLECTIONS)  # the snapshot document's collections

# collection -> [(include[] value, field, mode, target collection(s) or None for owned sub-objects)]
# mode: "one" (object or null), "many" (list of objects), "omit" (field absent unless included),
#       "rule_targets" (escalation_rules[].targets), "item:<key>" (list of dicts whose <key> is an object)
EXPANSIONS: dict[str, list[tuple[str, str, str, Any]]] = {
    "services": [
        ("escalation_policies", "escalation_policy", "one", "escalation_policies"),
        ("teams", "teams", "many", "teams"),
        ("integrations", "integrations", "many", None),
        ("auto_pause_notifications_parameters", "auto_pause_notifications_parameters", "omit", None),
    ],
    "escalation_policies": [
        ("services", "services", "many", "services"),
        ("teams", "teams", "many", "teams"),
        ("targets", "escalation_rules", "rule_targets", ("users", "schedules")),
    ],
    "schedules": [
        ("schedule_layers", "schedule_layers", "omit", None),
    ],
    "users": [
        ("contact_methods", "contact_methods", "many", None),
        ("notification_rules", "notification_rules", "many", None),
        ("teams", "teams", "many", "teams"),
    ],
    "incidents": [
        ("services", "service", "one", "services"),
        ("escalation_policies", "escalation_policy", "one", "escalation_policies"),
        ("teams", "teams", "many", "teams"),
        ("assignees", "assignments", "item:assignee", "users"),
        ("acknowledgers", "acknowledgements", "item:acknowledger", "users"),
        ("priorities", "priority", "one", None),
    ],
    "extensions": [
        ("extension_objects", "extension_objects", "many", "services"),
        ("extension_schemas", "extension_schema", "one", None),
    ],
    "oncalls": [
        ("escalation_policies", "escalation_policy", "one", "escalation_policies"),
        ("users", "user", "one", "users"),
        ("schedules", "schedule", "one", "schedules"),
    ],
}
# Stored fields the API never returns as such (rendered into other fields).
INTERNAL_FIELDS: dict[str, tuple[str, ...]] = {"schedules": ("overrides",)}

# User roles that cannot be paged (PagerDuty: observers and read-only users).
UNPAGEABLE_ROLES = frozenset({"observer", "read_only_user", "read_only_limited_user"})

STANDARDS: list[dict[str, Any]] = [
    {
        "active": True,
        "description": "A description provides critical context about what a service represents or is used "
        "for to inform team members and responders.",
        "exclusions": [],
        "id": "01CXX38Q0U8XKHO4LNKXUJTBFG",
        "inclusions": [],
        "name": "Service has a description",
        "resource_type": "technical_service",
        "type": "has_technical_service_description",
    },
    {
        "active": True,
        "description": "Ensure that no incident goes unaddressed, even if the on-call responder on the first "
        "level of the escalation policy is unavailable.",
        "exclusions": [],
        "id": "01CXX38Q0Y8D9IYFAEDCH5F53L",
        "inclusions": [],
        "name": "Service has an escalation policy with 2 or more unique levels",
        "resource_type": "technical_service",
        "type": "minimum_escalation_policy_rule_depth",
    },
    {
        "active": True,
        "description": "Extensions or add-ons streamline incident response and communication processes by "
        "connecting PagerDuty services to other tools that matter to your incident management workflow.",
        "exclusions": [],
        "id": "01CXX38Q11T19P0K1GFKHUZJ35",
        "inclusions": [],
        "name": "Service has an extension or add-on (e.g. Slack, etc.)",
        "resource_type": "technical_service",
        "type": "minimum_outbound_integrations",
    },
]

DEFAULT_ABILITIES = [
    "teams",
    "read_only_users",
    "service_support_hours",
    "urgencies",
    "standards",
]


@dataclass
class Account:
    """A PagerDuty account as plain API-shaped dicts (see module docstring for the shape)."""

    subdomain: str = "acme"
    services: list[dict[str, Any]] = field(default_factory=list)
    escalation_policies: list[dict[str, Any]] = field(default_factory=list)
    schedules: list[dict[str, Any]] = field(default_factory=list)
    flexible_schedules: list[dict[str, Any]] = field(default_factory=list)
    incidents: list[dict[str, Any]] = field(default_factory=list)
    teams: list[dict[str, Any]] = field(default_factory=list)
    users: list[dict[str, Any]] = field(default_factory=list)
    business_services: list[dict[str, Any]] = field(default_factory=list)
    service_dependencies: list[dict[str, Any]] = field(default_factory=list)
    addons: list[dict[str, Any]] = field(default_factory=list)
    extensions: list[dict[str, Any]] = field(default_factory=list)
    standards: list[dict[str, Any]] = field(default_factory=list)
    standards_scores: list[dict[str, Any]] = field(default_factory=list)
    abilities: list[str] = field(default_factory=lambda: list(DEFAULT_ABILITIES))
    # GET /audit/records (newest first; see pdguard.simulator.audit) and whether the plan has Audit Trail.
    audit_records: list[dict[str, Any]] = field(default_factory=list)
    audit_trail: bool = True
    # ISO 8601 reference time the account was generated for (informational; `oncalls` is at this time).
    generated_at: str | None = None

    @cached_property
    def oncalls(self) -> list[dict[str, Any]]:
        """`GET /oncalls` (every page) at `generated_at` (or now): computed, not stored."""
        from pdguard.simulator.render import compute_oncalls

        at = parse_time(self.generated_at) if self.generated_at else datetime.now(UTC).replace(microsecond=0)
        return compute_oncalls(self, at, at)

    def collections(self) -> dict[str, list[dict[str, Any]]]:
        return {name: getattr(self, name) for name in COLLECTION_NAMES}

    def counts(self) -> dict[str, int]:
        return {name: len(getattr(self, name)) for name in COLLECTION_NAMES}

    def to_dict(self) -> dict[str, Any]:
        return {f.name: getattr(self, f.name) for f in fields(self)}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Account:
        known = {f.name for f in fields(cls)}
        return cls(**{k: v for k, v in data.items() if k in known})


# ---------------------------------------------------------------------------------------------
# helpers shared by the generator, the sample account and the server


def iso(dt: datetime) -> str:
    """``2026-11-26T09:00:00Z`` (UTC, whole seconds)."""
    if dt.tzinfo is not UTC:
        dt = dt.astimezone(UTC)
    return dt.isoformat(timespec="seconds")[:-6] + "Z"


def parse_time(value: str) -> datetime:
    """Parse an ISO 8601 timestamp (``Z`` or offset; a naive value is taken as UTC)."""
    text = value.strip()
    if text.endswith("Z") or text.endswith("z"):
        text = text[:-1] + "+00:00"
    dt = datetime.fromisoformat(text)
    if dt.tzinfo is None:
        dt = dt.replace(tzinfo=UTC)
    return dt


def make_ref(obj: dict[str, Any] | None) -> dict[str, Any] | None:
    """The `<type>_reference` form of an object (a reference is returned as it is)."""
    if obj is None or not isinstance(obj, dict):
        return obj
    typ = obj.get("type") or ""
    if typ.endswith("_reference"):
        return obj
    return {
        "id": obj.get("id"),
        "type": f"{typ}_reference" if typ else "reference",
        "summary": obj["summary"] if "summary" in obj else obj.get("name"),
        "self": obj.get("self"),
        "html_url": obj.get("html_url"),
    }


def _now(now: datetime | None) -> datetime:
    if now is None:
        now = datetime.now(UTC)
    if now.tzinfo is None:
        now = now.replace(tzinfo=UTC)
    return now.replace(microsecond=0)


def midnight(dt: datetime) -> datetime:
    return dt.astimezone(UTC).replace(hour=0, minute=0, second=0, microsecond=0)


_B36_3 = [a + b + c for a in ALNUM for b in ALNUM for c in ALNUM]


class IdFactory:
    """PagerDuty-like ids: 7 uppercase alphanumerics starting with "P", unique, deterministic."""

    def __init__(self, rng: random.Random, reserved: Iterable[str] = ()) -> None:
        self.rng = rng
        self.used: set[str] = set(reserved)

    def __call__(self) -> str:
        bits = self.rng.getrandbits
        while True:
            hi, lo = divmod(bits(31), 46656)  # 2**31 < 36**6
            candidate = "P" + _B36_3[hi % 46656] + _B36_3[lo]
            if candidate not in self.used:
                self.used.add(candidate)
                return candidate

    def ulid(self) -> str:
        """A 26-character id like the v3 schedule API's rotation and event ids."""
        return "".join(self.rng.choice(ALNUM) for _ in range(26))


class Builder:
    """Builds API-shaped objects for one account subdomain (base form: links as references)."""

    def __init__(self, subdomain: str) -> None:
        self.sub = subdomain
        self.web = f"https://{subdomain}.pagerduty.com"

    def _obj(self, typ: str, oid: str, summary: str, path: str, html: str | None) -> dict[str, Any]:
        return {
            "id": oid,
            "type": typ,
            "summary": summary,
            "self": f"{API}/{path}/{oid}",
            "html_url": html,
        }

    def team(self, oid: str, name: str, description: str = "") -> dict[str, Any]:
        o = self._obj("team", oid, name, "teams", f"{self.web}/teams/{oid}")
        o.update(name=name, description=description, default_role="manager")
        return o

    def contact_method(self, uid: str, oid: str, kind: str, label: str, address: str) -> dict[str, Any]:
        o = {
            "id": oid,
            "type": f"{kind}_contact_method",
            "summary": label,
            "self": f"{API}/users/{uid}/contact_methods/{oid}",
            "html_url": None,
            "label": label,
            "address": address,
        }
        if kind in ("phone", "sms"):
            o["country_code"] = 1
        if kind == "email":
            o["send_short_email"] = False
        return o

    def notification_rule(
        self, uid: str, oid: str, contact_method: dict[str, Any], urgency: str, delay: int = 0
    ) -> dict[str, Any]:
        return {
            "id": oid,
            "type": "assignment_notification_rule",
            "summary": f"{delay} minutes: channel {contact_method['id']}",
            "self": f"{API}/users/{uid}/notification_rules/{oid}",
            "html_url": None,
            "start_delay_in_minutes": delay,
            "contact_method": make_ref(contact_method),
            "urgency": urgency,
        }

    def user(
        self,
        oid: str,
        name: str,
        email: str,
        *,
        role: str = "user",
        time_zone: str = "UTC",
        job_title: str = "Software Engineer",
        contact_methods: list[dict[str, Any]],
        notification_rules: list[dict[str, Any]],
        teams: list[dict[str, Any]],
        color: str = "green",
    ) -> dict[str, Any]:
        o = self._obj("user", oid, name, "users", f"{self.web}/users/{oid}")
        o.update(
            name=name,
            email=email,
            time_zone=time_zone,
            color=color,
            role=role,
            avatar_url="https://pd-static-assets.pagerduty.com/users/blank-avatar.png",
            description=None,
            invitation_sent=False,
            job_title=job_title,
            created_via_sso=False,
            contact_methods=contact_methods,
            notification_rules=notification_rules,
            teams=teams,
        )
        return o

    def integration(self, sid: str, oid: str, kind: str, created_at: str) -> dict[str, Any]:
        names = {
            "events_api_v2_inbound_integration": "Events API V2",
            "generic_email_inbound_integration": "Email",
            "generic_events_api_inbound_integration": "Events API V1",
            "aws_cloudwatch_inbound_integration": "Amazon CloudWatch",
            "nagios_inbound_integration": "Nagios",
        }
        name = names.get(kind, "Integration")
        o = {
            "id": oid,
            "type": kind,
            "summary": name,
            "self": f"{API}/services/{sid}/integrations/{oid}",
            "html_url": f"{self.web}/services/{sid}/integrations/{oid}",
            "name": name,
            "service": {
                "id": sid,
                "type": "service_reference",
                "summary": None,
                "self": f"{API}/services/{sid}",
                "html_url": f"{self.web}/service-directory/{sid}",
            },
            "created_at": created_at,
            "vendor": None,
        }
        if kind == "generic_email_inbound_integration":
            o["integration_email"] = f"{oid.lower()}@{self.sub}.pagerduty.com"
        return o

    def service(
        self,
        oid: str,
        name: str,
        *,
        description: str | None,
        status: str,
        created_at: str,
        escalation_policy: dict[str, Any] | None,
        teams: list[dict[str, Any]],
        integrations: list[dict[str, Any]],
        urgency_rule: dict[str, Any],
        support_hours: dict[str, Any] | None,
        last_incident_timestamp: str | None = None,
        alert_grouping: str | None = "intelligent",
        addons: list[dict[str, Any]] | None = None,
    ) -> dict[str, Any]:
        """A service: no `updated_at` (the API has none); `teams` follows the escalation policy's team."""
        o = self._obj("service", oid, name, "services", f"{self.web}/service-directory/{oid}")
        o.update(
            name=name,
            description=description,
            auto_resolve_timeout=14400,
            acknowledgement_timeout=1800,
            created_at=created_at,
            status=status,
            last_incident_timestamp=last_incident_timestamp,
            escalation_policy=make_ref(escalation_policy),
            teams=[make_ref(t) for t in teams],
            integrations=integrations,
            incident_urgency_rule=urgency_rule,
            support_hours=support_hours,
            scheduled_actions=[],
            addons=[make_ref(a) for a in addons or []],
            alert_creation="create_alerts_and_incidents",
            alert_grouping_parameters={"type": alert_grouping, "config": None}
            if alert_grouping
            else {"type": None, "config": None},
            auto_pause_notifications_parameters={"enabled": False, "timeout": None},
        )
        if o["integrations"]:
            for integ in o["integrations"]:
                integ["service"]["summary"] = name
        return o

    def escalation_policy(
        self,
        oid: str,
        name: str,
        *,
        rules: list[list[dict[str, Any]]],
        num_loops: int | None,
        teams: list[dict[str, Any]],
        description: str = "",
        delay: int = 30,
        rule_ids: list[str] | None = None,
    ) -> dict[str, Any]:
        """Targets may be users, schedules or flexible schedules (`schedule_v3_reference`)."""
        o = self._obj("escalation_policy", oid, name, "escalation_policies", f"{self.web}/escalation_policies/{oid}")
        o.update(
            name=name,
            description=description,
            num_loops=num_loops,
            on_call_handoff_notifications="if_has_services",
            escalation_rules=[
                {
                    "id": rule_ids[i] if rule_ids else f"{oid[:1]}R{oid[1:5]}{i}",
                    "escalation_delay_in_minutes": delay,
                    "targets": [make_ref(t) for t in targets],
                }
                for i, targets in enumerate(rules)
            ],
            services=[],
            teams=[make_ref(t) for t in teams],
        )
        return o

    def schedule(
        self,
        oid: str,
        name: str,
        *,
        time_zone: str,
        description: str,
        layers: list[dict[str, Any]],
        teams: list[dict[str, Any]],
        overrides: list[dict[str, Any]] | None = None,
    ) -> dict[str, Any]:
        o = self._obj("schedule", oid, name, "schedules", f"{self.web}/schedules/{oid}")
        users: dict[str, dict[str, Any]] = {}
        for layer in layers:
            for entry in layer["users"]:
                users.setdefault(entry["user"]["id"], entry["user"])
        o.update(
            name=name,
            time_zone=time_zone,
            description=description,
            escalation_policies=[],
            users=list(users.values()),
            teams=[make_ref(t) for t in teams],
            schedule_layers=layers,
            overrides=overrides or [],
        )
        return o

    def layer(
        self,
        oid: str,
        name: str,
        *,
        start: str,
        users: list[dict[str, Any]],
        turn_seconds: int = 604800,
        restrictions: list[dict[str, Any]] | None = None,
        end: str | None = None,
    ) -> dict[str, Any]:
        return {
            "id": oid,
            "name": name,
            "start": start,
            "end": end,
            "rotation_virtual_start": start,
            "rotation_turn_length_seconds": turn_seconds,
            "users": [{"user": make_ref(u)} for u in users],
            "restrictions": restrictions or [],
        }

    @staticmethod
    def override(oid: str, user: dict[str, Any], start: datetime, end: datetime) -> dict[str, Any]:
        return {"id": oid, "start": iso(start), "end": iso(end), "user": make_ref(user)}

    @staticmethod
    def daily_restriction(coverage: float, start: str = "08:00:00") -> list[dict[str, Any]]:
        """A daily window covering `coverage` % of each day (none at 100 %)."""
        if coverage >= 100:
            return []
        return [{"type": "daily_restriction", "start_time_of_day": start,
                 "duration_seconds": int(round(86400 * coverage / 100.0))}]

    def flexible_schedule(
        self,
        oid: str,
        name: str,
        *,
        time_zone: str,
        description: str,
        teams: list[dict[str, Any]],
        rotations: list[dict[str, Any]],
    ) -> dict[str, Any]:
        """A `/v3/schedules` object (what `GET /v3/schedules/{id}` returns without include[])."""
        return {
            "id": oid,
            "type": "schedule_v3",
            "name": name,
            "time_zone": time_zone,
            "description": description,
            "teams": [make_ref(t) for t in teams],
            "escalation_policies": [],
            "rotations": rotations,
            "http_cal_url": f"https://{self.sub}.pagerduty.com/private/schedules/{oid}.ics",
            "web_cal_url": f"webcal://{self.sub}.pagerduty.com/private/schedules/{oid}.ics",
            "self": f"{API}/v3/schedules/{oid}",
            "html_url": f"{self.web}/schedules/{oid}",
        }

    @staticmethod
    def rotation(rid: str, sid: str, events: list[dict[str, Any]]) -> dict[str, Any]:
        return {"id": rid, "type": "schedule_rotation", "events": events,
                "self": f"{API}/v3/schedules/{sid}/rotations/{rid}", "html_url": None}

    @staticmethod
    def event(
        eid: str, name: str, *, start: datetime, hours: float, recurrence: str, members: list[dict[str, Any]],
        time_zone: str = "UTC", rotating: bool = True, shifts_per_member: int = 1,
        effective_since: datetime | None = None, effective_until: datetime | None = None,
    ) -> dict[str, Any]:
        strategy: dict[str, Any] = {
            "type": "rotating_member_assignment_strategy" if rotating else "every_member_assignment_strategy",
            "members": [{"type": "user_member", "user_id": u["id"]} for u in members],
        }
        if rotating:
            strategy["shifts_per_member"] = shifts_per_member
        return {
            "id": eid,
            "type": "schedule_event",
            "name": name,
            "start_time": {"date_time": iso(start), "time_zone": time_zone},
            "end_time": {"date_time": iso(start + timedelta(hours=hours)), "time_zone": time_zone},
            "effective_since": iso(effective_since or start),
            "effective_until": iso(effective_until) if effective_until else None,
            "recurrence": [recurrence],
            "assignment_strategy": strategy,
        }

    def business_service(
        self, oid: str, name: str, description: str, team: dict[str, Any] | None, poc: str | None
    ) -> dict[str, Any]:
        o = self._obj("business_service", oid, name, "business_services", None)
        # The business service's team is the API's short reference {id, type, self} (no summary).
        team_ref = {"id": team["id"], "type": "team_reference", "self": team.get("self")} if team else None
        o.update(name=name, description=description, point_of_contact=poc, team=team_ref)
        return o

    @staticmethod
    def dependency(did: str, supporting: dict[str, Any], dependent: dict[str, Any]) -> dict[str, Any]:
        def side(o: dict[str, Any]) -> dict[str, Any]:
            kind = "business_service" if o["type"].startswith("business_service") else "technical_service"
            return {"id": o["id"], "type": f"{kind}_reference"}

        return {
            "supporting_service": side(supporting),
            "dependent_service": side(dependent),
            "id": did,
            "type": "service_dependency",
        }

    def incident(
        self,
        oid: str,
        number: int,
        title: str,
        *,
        status: str,
        urgency: str,
        created: datetime,
        service: dict[str, Any],
        escalation_policy: dict[str, Any] | None,
        teams: list[dict[str, Any]],
        assignee: dict[str, Any] | None,
        resolved: datetime | None = None,
        acknowledged: datetime | None = None,
    ) -> dict[str, Any]:
        created_s = iso(created)
        last_change = resolved or acknowledged or created
        o = {
            "id": oid,
            "type": "incident",
            "summary": f"[#{number}] {title}",
            "self": f"{API}/incidents/{oid}",
            "html_url": f"{self.web}/incidents/{oid}",
            "incident_number": number,
            "title": title,
            "created_at": created_s,
            "updated_at": iso(last_change),
            "status": status,
            "incident_key": f"{oid.lower()}{number:08d}",
            "service": make_ref(service),
            "assignments": [],
            "assigned_via": "escalation_policy",
            "last_status_change_at": iso(last_change),
            "resolved_at": iso(resolved) if resolved else None,
            "first_trigger_log_entry": None,
            "alert_counts": {
                "all": 1,
                "triggered": 0 if status == "resolved" else 1,
                "resolved": 1 if status == "resolved" else 0,
            },
            "is_mergeable": True,
            "incident_type": {"name": "incident_default"},
            "escalation_policy": make_ref(escalation_policy),
            "teams": teams,
            "pending_actions": [],
            "acknowledgements": [],
            "alert_grouping": None,
            "last_status_change_by": make_ref(service),
            "priority": None,
            "resolve_reason": None,
            "conference_bridge": None,
            "incidents_responders": [],
            "responder_requests": [],
            "urgency": urgency,
        }
        if status != "resolved" and assignee is not None:
            o["assignments"] = [{"at": created_s, "assignee": make_ref(assignee)}]
        if status == "acknowledged" and assignee is not None:
            o["acknowledgements"] = [{"at": iso(acknowledged or created), "acknowledger": make_ref(assignee)}]
            o["last_status_change_by"] = make_ref(assignee)
        return o


def urgency_constant(urgency: str) -> dict[str, Any]:
    return {"type": "constant", "urgency": urgency}


def urgency_support_hours() -> dict[str, Any]:
    return {
        "type": "use_support_hours",
        "during_support_hours": {"type": "constant", "urgency": "high"},
        "outside_support_hours": {"type": "constant", "urgency": "low"},
    }


def support_hours(tz: str = "America/New_York") -> dict[str, Any]:
    return {
        "type": "fixed_time_per_day",
        "time_zone": tz,
        "start_time": "09:00:00",
        "end_time": "17:00:00",
        "days_of_week": [1, 2, 3, 4, 5],
    }


def addon_reference(aid: str, name: str, src: str, kind: str = "full_page_addon") -> dict[str, Any]:
    """An add-on as `GET /addons` lists it (the spec's AddonReference: name and src, no services)."""
    return {"id": aid, "type": f"{kind}_reference", "summary": name, "self": f"{API}/addons/{aid}",
            "html_url": None, "name": name, "src": src}


# ---------------------------------------------------------------------------------------------
# finishing an account: back-links, last incident, standards


def _standard_applies(standard: dict[str, Any], service_id: str) -> bool:
    """A standard scores a technical service when active, not excluded, and included if it lists inclusions."""
    inclusions = {r["id"] for r in standard.get("inclusions") or []}
    return (bool(standard.get("active", True)) and service_id not in {r["id"] for r in standard.get("exclusions") or []}
            and (not inclusions or service_id in inclusions))


def finish_account(
    subdomain: str,
    now: datetime,
    *,
    services: list[dict[str, Any]],
    escalation_policies: list[dict[str, Any]],
    schedules: list[dict[str, Any]],
    users: list[dict[str, Any]],
    teams: list[dict[str, Any]],
    incidents: list[dict[str, Any]],
    business_services: list[dict[str, Any]],
    service_dependencies: list[dict[str, Any]],
    addons: list[dict[str, Any]],
    extensions: list[dict[str, Any]],
    flexible_schedules: list[dict[str, Any]] | None = None,
    set_last_incident: bool = True,
    standards: list[dict[str, Any]] | None = None,
    stale_scores: dict[str, dict[str, bool]] | None = None,
) -> Account:
    """Fill derived fields (back-links, last incident, standards scores) and return the Account.

    `standards`: the account's standards (default: PagerDuty's three, active, unscoped); a score
    lists the standards that apply to the service (active, not excluded, included when the
    standard lists inclusions), as GET /standards/scores does. `stale_scores`: {service id:
    {standard type: pass}} - a score PagerDuty computed before the last change (it recomputes
    them periodically), which the live configuration contradicts.
    """
    flexible_schedules = flexible_schedules or []
    standards = [dict(s) for s in (standards if standards is not None else STANDARDS)]
    ep_by_id = {ep["id"]: ep for ep in escalation_policies}
    sched_by_id = {s["id"]: s for s in schedules}
    flex_by_id = {s["id"]: s for s in flexible_schedules}

    # EP.services and schedule.escalation_policies back-links
    for svc in services:
        ep = svc.get("escalation_policy")
        if ep and ep["id"] in ep_by_id:
            ep_by_id[ep["id"]]["services"].append(make_ref(svc))
    for ep in escalation_policies:
        ep_ref = make_ref(ep)
        seen: set[str] = set()
        for rule in ep["escalation_rules"]:
            for t in rule["targets"]:
                target = (sched_by_id if t["type"] == "schedule_reference" else
                          flex_by_id if t["type"] == "schedule_v3_reference" else {}).get(t["id"])
                if target is not None and t["id"] not in seen:
                    seen.add(t["id"])
                    target["escalation_policies"].append(ep_ref)

    # last_incident_timestamp from incidents
    if set_last_incident:
        last: dict[str, str] = {}
        for inc in incidents:
            sid = inc["service"]["id"]
            ts = inc["created_at"]
            if ts > last.get(sid, ""):
                last[sid] = ts
        for svc in services:
            svc["last_incident_timestamp"] = last.get(svc["id"])

    # service standards, evaluated from the account itself
    outbound: set[str] = set()
    for ext in extensions:
        for obj in ext.get("extension_objects", []):
            outbound.add(obj["id"])
    for svc in services:
        if svc.get("addons"):
            outbound.add(svc["id"])
    scores = []
    for svc in services:
        ep = ep_by_id.get((svc.get("escalation_policy") or {}).get("id"))
        levels = set()
        if ep:
            for rule in ep["escalation_rules"]:
                key = tuple(sorted(t["id"] for t in rule["targets"]))
                if key:
                    levels.add(key)
        results = {
            "has_technical_service_description": bool((svc.get("description") or "").strip()),
            "minimum_escalation_policy_rule_depth": len(levels) >= 2,
            "minimum_outbound_integrations": svc["id"] in outbound,
            **(stale_scores or {}).get(svc["id"], {}),
        }
        std_rows = [
            {
                "active": s["active"],
                "description": s["description"],
                "id": s["id"],
                "pass": results[s["type"]],
                "name": s["name"],
                "type": s["type"],
            }
            for s in standards if _standard_applies(s, svc["id"])
        ]
        scores.append(
            {
                "resource_id": svc["id"],
                "resource_type": "technical_service",
                "score": {"passing": sum(1 for r in std_rows if r["pass"]), "total": len(std_rows)},
                "standards": std_rows,
            }
        )

    return Account(
        subdomain=subdomain,
        services=services,
        escalation_policies=escalation_policies,
        schedules=schedules,
        flexible_schedules=flexible_schedules,
        incidents=incidents,
        teams=teams,
        users=users,
        business_services=business_services,
        service_dependencies=service_dependencies,
        addons=addons,
        extensions=extensions,
        standards=standards,
        standards_scores=scores,
        generated_at=iso(now),
    )


# ---------------------------------------------------------------------------------------------
# generator

_WORDS = (
    "auth billing cart catalog checkout search payments ledger inventory shipping orders identity "
    "notifications email sms push gateway router indexer pipeline warehouse reporting analytics "
    "fraud risk pricing promo loyalty reviews media images video storage cache queue scheduler "
    "cron backup dns cdn edge mobile web admin partner vendor sync export import metrics logging"
).split()
_FIRST = (
    "Ava Ben Chloe Dan Eva Finn Gia Hugo Ivy Jack Kai Lena Milo Nina Omar Pia Quinn Rosa Sam Tara "
    "Uma Victor Wren Xena Yuri Zoe Aria Blake Cora Dev Elsa Felix"
).split()
_LAST = (
    "Adams Brooks Chen Diaz Evans Fischer Garcia Haas Ito Jensen Kim Lopez Moreau Novak Ortiz Patel "
    "Quinn Rossi Silva Tanaka Ueda Varga Weber Xu Young Zhang"
).split()
_TZS = ("America/New_York", "America/Los_Angeles", "Europe/London", "Europe/Berlin", "Asia/Tokyo", "UTC")
_INTEGRATION_KINDS = (
    "events_api_v2_inbound_integration",
    "events_api_v2_inbound_integration",
    "generic_events_api_inbound_integration",
    "aws_cloudwatch_inbound_integration",
    "generic_email_inbound_integration",
)
# roles of generated users other than "user"/"admin", with their share
_OTHER_ROLES = (("limited_user", 0.03), ("observer", 0.02), ("read_only_user", 0.02), ("restricted_access", 0.01))
_INCIDENT_TITLES = (
    "High error rate",
    "Latency above SLO",
    "Disk usage above 90%",
    "Pod crash looping",
    "Health check failing",
    "Queue backlog growing",
    "Certificate expiring soon",
    "5xx spike on load balancer",
    "Replication lag",
    "Memory pressure",
)


def generate_account(
    services: int = 100,
    escalation_policies: int = 20,
    schedules: int = 15,
    users: int = 60,
    teams: int = 10,
    incidents: int = 500,
    business_services: int = 5,
    *,
    seed: int = 0,
    now: datetime | None = None,
    subdomain: str = "acme",
    flexible_schedules: int | None = None,
) -> Account:
    """A deterministic, realistic account: same arguments (and `now`) → identical account.

    Mostly healthy objects with a small share of governance problems (a few % of each kind);
    with enough objects at least one of each is guaranteed: services[1..6] (bad name, no EP,
    no teams, no description, disabled, no integrations), escalation_policies[1..3] (single
    rule, empty rule, one user everywhere), schedules[1] (one user), schedules[2] (75 %
    coverage), users[1] (no contact method), users[2] (low-urgency rules only), the last team
    (no members). Incidents are spread over the last ~120 days (oldest first, numbered from 1);
    a few unresolved ones are older than 90 days.

    Like real accounts: some users are observers or read-only (never on call), some schedules
    keep an ended layer or have an override, `num_loops` is sometimes 0 or null, and
    `flexible_schedules` (default: 1 per 20 schedules, at least 1 from 5 schedules) live at
    `/v3/schedules` and are targeted by some escalation policies (`schedule_v3_reference`).
    """
    now = _now(now)
    rng = random.Random(seed)
    new_id = IdFactory(rng)
    b = Builder(subdomain)
    rand = rng.random
    teams = max(teams, 0)
    if flexible_schedules is None:
        flexible_schedules = schedules // 20 + (1 if 5 <= schedules < 20 else 0)

    # teams
    team_objs = []
    for i in range(teams):
        word = _WORDS[i % len(_WORDS)]
        name = f"{word.capitalize()} Team" + (f" {i // len(_WORDS) + 1}" if i >= len(_WORDS) else "")
        team_objs.append(b.team(new_id(), name, f"Owns the {word} domain"))
    team_refs = [make_ref(t) for t in team_objs]
    # a few teams stay without members
    memberless = {i for i in range(teams) if teams >= 5 and (rand() < 0.04 or i == teams - 1)}
    staffed = [i for i in range(teams) if i not in memberless] or list(range(teams))

    # users
    user_objs = []
    for i in range(users):
        uid = new_id()
        name = f"{_FIRST[i % len(_FIRST)]} {_LAST[(i // len(_FIRST) + i) % len(_LAST)]}"
        email = f"{name.lower().replace(' ', '.')}{i}@{subdomain}.example.com"
        r = rand()
        if users >= 10 and i in (1, 2):  # at least one of each problem
            r = 0.01 if i == 1 else 0.03
        cms: list[dict[str, Any]] = []
        rules: list[dict[str, Any]] = []
        if r >= 0.02:  # 2 % without any contact method
            email_cm = b.contact_method(uid, new_id(), "email", "Default", email)
            phone_cm = b.contact_method(uid, new_id(), "phone", "Mobile", f"555{i:07d}")
            cms = [email_cm, phone_cm]
            if r >= 0.05:  # 3 % only low-urgency rules
                rules.append(b.notification_rule(uid, new_id(), phone_cm, "high", 0))
                rules.append(b.notification_rule(uid, new_id(), email_cm, "high", 5))
            rules.append(b.notification_rule(uid, new_id(), email_cm, "low", 0))
        user_teams = []
        if team_refs:
            user_teams.append(team_refs[staffed[i % len(staffed)]])
            if rand() < 0.2:
                extra = team_refs[staffed[rng.randrange(len(staffed))]]
                if extra is not user_teams[0]:
                    user_teams.append(extra)
        role = "admin" if i % 25 == 0 else "user"
        if i > 2 and role == "user":
            roll = rand()
            for other, share in _OTHER_ROLES:
                if roll < share:
                    role = other
                    break
                roll -= share
        user_objs.append(
            b.user(
                uid,
                name,
                email,
                role=role,
                time_zone=_TZS[i % len(_TZS)],
                contact_methods=cms,
                notification_rules=rules,
                teams=user_teams,
            )
        )
    pageable = [u for u in user_objs if u["role"] not in UNPAGEABLE_ROLES] or user_objs
    reachable_users = [u for u in pageable if u["contact_methods"]] or pageable

    # schedules: rotations start at midnight UTC a year ago, so the shift in progress at `now`
    # started before it (a window starting at `now` cuts it unless overflow=true)
    sched_objs = []
    start_dt = midnight(now - timedelta(days=365))
    start = iso(start_dt)
    for i in range(schedules):
        sid = new_id()
        r = rand()
        if schedules >= 5 and i == 1:
            r = 0.0
        if r < 0.03:
            members = [reachable_users[rng.randrange(len(reachable_users))]] if reachable_users else []
        else:
            k = min(len(reachable_users), 2 + rng.randrange(5))
            members = rng.sample(reachable_users, k) if reachable_users else []
        coverage = 100.0 if rand() >= 0.05 else float(rng.choice((50, 62.5, 75, 87.5)))
        if schedules >= 5 and i == 2:
            coverage = 75.0
        turn = 86400 if rand() < 0.5 else 604800
        layers = []
        if i != 1 and rand() < 0.2 and reachable_users:  # a layer that ended 10 days before `now`
            former = rng.sample(reachable_users, min(len(reachable_users), 2))
            layers.append(b.layer(new_id(), "Old Layer", start=iso(start_dt - timedelta(days=200)), users=former,
                                  turn_seconds=turn, end=iso(midnight(now - timedelta(days=10)))))
        layers.append(b.layer(new_id(), "Layer 1", start=start, users=members, turn_seconds=turn,
                              restrictions=Builder.daily_restriction(coverage)))
        overrides = []
        if len(members) > 1 and rand() < 0.1:  # someone covers a shift in two days
            o_start = midnight(now + timedelta(days=2)) + timedelta(hours=8)
            overrides.append(Builder.override(new_id(), members[-1], o_start, o_start + timedelta(hours=8)))
        word = _WORDS[i % len(_WORDS)]
        team = [team_refs[i % len(team_refs)]] if team_refs else []
        sched_objs.append(
            b.schedule(
                sid,
                f"{word.capitalize()} On-Call {i + 1}",
                time_zone=_TZS[i % len(_TZS)],
                description=f"Primary rotation for {word}",
                layers=layers,
                teams=team,
                overrides=overrides,
            )
        )

    # flexible (v3) schedules: a weekday business-hours rotation plus a daily follow-the-sun one
    flex_objs = []
    for i in range(flexible_schedules):
        fid = new_id()
        k = min(len(reachable_users), 2 + rng.randrange(3))
        members = rng.sample(reachable_users, k) if reachable_users else []
        begin = midnight(now - timedelta(days=90)) + timedelta(hours=9)
        events = [
            Builder.event(new_id.ulid(), "Business hours", start=begin, hours=8,
                          recurrence="RRULE:FREQ=WEEKLY;BYDAY=MO,TU,WE,TH,FR", members=members),
            Builder.event(new_id.ulid(), "After hours", start=begin + timedelta(hours=8), hours=16,
                          recurrence="RRULE:FREQ=DAILY", members=list(reversed(members)), shifts_per_member=7),
        ]
        word = _WORDS[(i * 3 + 1) % len(_WORDS)]
        team = [team_refs[(i * 3) % len(team_refs)]] if team_refs else []
        flex_objs.append(
            b.flexible_schedule(fid, f"{word.capitalize()} Flexible {i + 1}", time_zone="UTC",
                                description=f"Shift-based rotation for {word}", teams=team,
                                rotations=[Builder.rotation(new_id.ulid(), fid, events)] if members else [])
        )

    # escalation policies: every schedule is targeted by some EP, except a few orphans
    ep_objs = []
    sched_pool = [s for s in sched_objs if rand() >= 0.04] or sched_objs
    for i in range(escalation_policies):
        r = rand()
        if escalation_policies >= 5 and i in (1, 2, 3):
            r = (0.0, 0.045, 0.06)[i - 1]
        first: list[dict[str, Any]] = []
        if flex_objs and i % 10 == 7:
            first = [flex_objs[(i // 10) % len(flex_objs)]]
        elif sched_pool:
            first = [sched_pool[i % len(sched_pool)]]
        elif reachable_users:
            first = [reachable_users[i % len(reachable_users)]]
        second_user = pageable[rng.randrange(len(pageable))] if pageable else None
        rules: list[list[dict[str, Any]]]
        if r < 0.04:
            rules = [first]  # single level
        elif r < 0.05:
            rules = [first, []]  # empty targets
        elif r < 0.07 and second_user:
            rules = [[second_user], [second_user]]  # one person
        else:
            rules = [first, [second_user] if second_user else first]
            if rand() < 0.3 and reachable_users:
                rules.append([reachable_users[rng.randrange(len(reachable_users))]])
        loops_roll = rand()
        num_loops = 0 if loops_roll < 0.1 else None if loops_roll < 0.15 else rng.choice((1, 2, 3))
        word = _WORDS[i % len(_WORDS)]
        team = [team_refs[i % len(team_refs)]] if team_refs else []
        ep_objs.append(
            b.escalation_policy(
                new_id(),
                f"{word.capitalize()} Escalation {i + 1}",
                rule_ids=[new_id() for _ in rules],
                rules=rules,
                num_loops=num_loops,
                teams=team,
                description=f"Escalation for {word}",
            )
        )
    ep_refs = [make_ref(e) for e in ep_objs]

    # services: `teams` follows the escalation policy's team, as in PagerDuty
    ep_team = {e["id"]: e["teams"] for e in ep_objs}
    svc_objs = []
    for i in range(services):
        sid = new_id()
        r = rand()
        forced = i if services >= 10 else 0  # services 1..6 carry one problem each
        if forced == 1:
            r = 0.0
        word = _WORDS[i % len(_WORDS)]
        word2 = _WORDS[(i * 7 + 3) % len(_WORDS)]
        name = f"{word}-{word2}-{i}"
        if r < 0.02:
            name = f"{word.capitalize()} {word2.capitalize()} {i}"
        elif r < 0.03:
            name = f"{word}_{word2}_{i}"
        created = now - timedelta(days=100 + rng.randrange(900))
        status = "active"
        rs = rand() if forced != 5 else 0.0
        if rs < 0.02:
            status = "disabled"
        elif rs < 0.03:
            status = "maintenance"
        elif rs < 0.06:
            status = "warning"
        ep = ep_refs[i % len(ep_refs)] if ep_refs and rand() >= 0.02 and forced != 2 else None
        svc_teams = list(ep_team.get(ep["id"], [])) if ep else []
        if rand() < 0.03 or forced == 3:
            svc_teams = []
        description = f"{word.capitalize()} {word2} service" if rand() >= 0.04 and forced != 4 else ("" if i % 2 else None)
        created_s = iso(created)
        integrations = []
        if rand() >= 0.03 and forced != 6:
            for _ in range(1 + (rand() < 0.3)):
                integrations.append(b.integration(sid, new_id(), rng.choice(_INTEGRATION_KINDS), created_s))
        urgency = urgency_support_hours() if rand() < 0.25 else urgency_constant("high" if rand() < 0.8 else "low")
        svc_objs.append(
            b.service(
                sid,
                name,
                description=description,
                status=status,
                created_at=created_s,
                escalation_policy=ep,
                teams=svc_teams,
                integrations=integrations,
                urgency_rule=urgency,
                support_hours=support_hours() if urgency["type"] == "use_support_hours" else None,
                alert_grouping=rng.choice(("intelligent", "time", "content_based", None)),
            )
        )

    # extensions (Slack-like) on most services, one add-on
    ext_objs = []
    slack_schema = {
        "id": "PSLACK2",
        "type": "extension_schema_reference",
        "summary": "Slack V2",
        "self": f"{API}/extension_schemas/PSLACK2",
        "html_url": None,
    }
    chunk = 50
    with_ext = [make_ref(s) for s in svc_objs if rand() >= 0.1]
    for k in range(0, len(with_ext), chunk):
        eid = new_id()
        ext_objs.append(
            {
                "id": eid,
                "type": "extension",
                "summary": f"Slack #alerts-{k // chunk + 1}",
                "self": f"{API}/extensions/{eid}",
                "html_url": None,
                "name": f"Slack #alerts-{k // chunk + 1}",
                "endpoint_url": f"https://hooks.slack.example.com/services/{eid}",
                "extension_schema": slack_schema,
                "extension_objects": with_ext[k : k + chunk],
                "temporarily_disabled": False,
            }
        )
    addon_objs = []
    if svc_objs:
        addon_objs.append(addon_reference(new_id(), "Internal Status Page", f"https://status.{subdomain}.example.com"))

    # business services and dependencies
    bs_objs = []
    deps = []
    for i in range(business_services):
        word = _WORDS[(i * 5) % len(_WORDS)]
        team = team_objs[i % len(team_objs)] if team_objs else None
        bs = b.business_service(new_id(), f"{word.capitalize()} Experience {i + 1}", f"Customer-facing {word}", team, None)
        bs_objs.append(bs)
        if svc_objs and (i == 0 or rand() >= 0.2):
            for s in rng.sample(svc_objs, min(len(svc_objs), 1 + rng.randrange(4))):
                deps.append(Builder.dependency("D" + "".join(rng.choices(ALNUM, k=15)), s, bs))

    # incidents: created over the last ~120 days, oldest first
    inc_objs = []
    if svc_objs and incidents:
        horizon = 120 * 86400
        offsets = sorted((rng.random() * horizon for _ in range(incidents)), reverse=True)
        svc_count = len(svc_objs)
        user_count = len(pageable)
        svc_refs = [make_ref(s) for s in svc_objs]
        for n, off in enumerate(offsets, start=1):
            created = now - timedelta(seconds=int(off))
            si = rng.randrange(svc_count)
            svc = svc_objs[si]
            age_days = off / 86400
            r = rand()
            if age_days > 2:
                status = "resolved" if r >= 0.004 else ("triggered" if r < 0.002 else "acknowledged")
            else:
                status = "resolved" if r >= 0.3 else ("triggered" if r < 0.15 else "acknowledged")
            urgency = "high" if rand() < 0.7 else "low"
            assignee = pageable[rng.randrange(user_count)] if user_count else None
            resolved = created + timedelta(minutes=5 + rng.randrange(600)) if status == "resolved" else None
            if resolved and resolved > now:
                resolved = now
            acked = created + timedelta(minutes=1 + rng.randrange(10)) if status == "acknowledged" else None
            if acked and acked > now:
                acked = now
            inc_objs.append(
                b.incident(
                    new_id(),
                    n,
                    f"{_INCIDENT_TITLES[n % len(_INCIDENT_TITLES)]} on {svc['name']}",
                    status=status,
                    urgency=urgency,
                    created=created,
                    service=svc_refs[si],
                    escalation_policy=svc["escalation_policy"] or (ep_refs[0] if ep_refs else None),
                    teams=svc["teams"],
                    assignee=assignee,
                    resolved=resolved,
                    acknowledged=acked,
                )
            )
        # guarantee a few unresolved incidents older than 90 days
        old = [inc for inc in inc_objs if inc["created_at"] < iso(now - timedelta(days=91))]
        for inc in old[: max(1, min(3, len(old) // 100))]:
            if inc["status"] == "resolved":
                inc["status"] = "triggered"
                inc["resolved_at"] = None
                inc["alert_counts"] = {"all": 1, "triggered": 1, "resolved": 0}
                inc["last_status_change_at"] = inc["updated_at"] = inc["created_at"]
                if pageable:
                    inc["assignments"] = [{"at": inc["created_at"], "assignee": make_ref(pageable[0])}]

    account = finish_account(
        subdomain,
        now,
        services=svc_objs,
        escalation_policies=ep_objs,
        schedules=sched_objs,
        flexible_schedules=flex_objs,
        users=user_objs,
        teams=team_objs,
        incidents=inc_objs,
        business_services=bs_objs,
        service_dependencies=deps,
        addons=addon_objs,
        extensions=ext_objs,
    )
    from pdguard.simulator.audit import generate_records

    account.audit_records = generate_records(account, now, seed)
    return account


def minimum_scan_requests(
    account: Account, now: datetime, lookback_days: int = 90, *, service_dependencies: str = "business",
    audit_days: int = 30,
) -> dict[str, int]:
    """The fewest requests a complete scan of `account` at `now` can make, per collection.

    List endpoints: one page per 100 objects (1,000 for `/v3/schedules`), at least one; for
    `/oncalls`, the entries over the 7-day schedule window. Per object, where the API has no list
    that renders it: one `GET /v3/schedules/{id}` per flexible schedule,
    one dependency request per business service (and per service with
    ``service_dependencies: all``), one Service Standards score request per 100 services plus
    `/standards`, one page per 100 audit records of each ≤ 31-day window of `audit_days`. Incidents: the unresolved ones (`date_range=all`) plus the resolved ones of
    each ≤ 6-month window of the lookback; a window holding more than the API's 10,000-offset
    cap is read in parts of 10,000, each starting at the second of the previous part's last
    incident (the incidents of that second are read twice: nothing tells where it ends).
    """

    def pages(n: int, per: int = 100) -> int:
        return max(1, -(-n // per))

    c = account.collections()
    since = now - timedelta(days=lookback_days)
    unresolved = sum(1 for i in c["incidents"] if i.get("status") != "resolved")
    windows: list[int] = []  # requests per window
    cursor = since
    created = sorted(parse_time(i["created_at"]) for i in c["incidents"] if i.get("status") == "resolved")
    while cursor < now:
        nxt = min(now, cursor + timedelta(days=180))
        start, requests = cursor, 0
        while True:  # past the 10,000-offset cap: go on from the last second read (it is read again)
            part = [t for t in created if start <= t < nxt]
            requests += pages(min(len(part), 10_000))
            if len(part) <= 10_000:
                break
            start = part[9_999].replace(microsecond=0)
        windows.append(requests)
        cursor = nxt
    out = {name: pages(len(c[name])) for name in ("services", "escalation_policies", "users", "teams",
                                                    "business_services", "addons", "extensions", "schedules")}
    # On-calls over the schedule window; past the offset cap, by batches of 100 escalation policies
    # (the scanner spends one more request: the first page, which tells the total).
    from pdguard.simulator.render import compute_oncalls  # render imports this module

    shifts = compute_oncalls(account, now, now + timedelta(days=7))
    if len(shifts) <= 10_000:
        out["oncalls"] = pages(len(shifts))
    else:
        per_ep: dict[str, int] = {}
        for o in shifts:
            per_ep[o["escalation_policy"]["id"]] = per_ep.get(o["escalation_policy"]["id"], 0) + 1
        ids = sorted(ep["id"] for ep in c["escalation_policies"])
        out["oncalls"] = 1 + sum(pages(sum(per_ep.get(i, 0) for i in ids[k:k + 100])) for k in range(0, len(ids), 100))
    out["flexible_schedules"] = pages(len(c["flexible_schedules"]), 1000) + len(c["flexible_schedules"])
    out["incidents"] = pages(unresolved) + sum(windows)
    out["service_dependencies"] = len(c["business_services"]) + (
        len(c["services"]) if service_dependencies == "all" else 0)
    out["standards"] = 1
    out["standards_scores"] = -(-len(c["services"]) // 100) if c["standards"] else 0
    # Audit records: one cursor-paginated query per window of at most 31 days, 100 records a page.
    audit = 0
    start = now - timedelta(days=audit_days)
    while start < now:
        end = min(now, start + timedelta(days=31))
        n = sum(1 for r in c["audit_records"] if start <= parse_time(r["execution_time"]) < end)
        audit += pages(n)
        start = end
    out["audit_records"] = audit
    return out
