"""A small live account (snapshot v2 shape: references carry ids) matching tests/fixtures/terraform/*.json.

The plan documents are `terraform show -json PLANFILE` output for the pagerduty provider's schema:
`plan_changes.json` creates, updates, deletes and replaces objects of this account, `plan_noop.json`
is the same configuration already applied.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from pdguard.snapshot import SCHEMA_VERSION

FIXTURES = Path(__file__).parent / "fixtures" / "terraform"
PLAN_CHANGES = FIXTURES / "plan_changes.json"
PLAN_NOOP = FIXTURES / "plan_noop.json"


def r(kind: str, oid: str, summary: str | None = None) -> dict[str, Any]:
    plural = "escalation_policies" if kind == "escalation_policy" else f"{kind}s"
    out = {"id": oid, "type": f"{kind}_reference", "self": f"https://api.pagerduty.com/{plural}/{oid}"}
    if summary:
        out["summary"] = summary
    return out


def service(oid: str, name: str, description: str, ep: str, team: str, ack: int | None, integrations: list) -> dict:
    return {"id": oid, "type": "service", "summary": name, "name": name, "description": description,
            "self": f"https://api.pagerduty.com/services/{oid}",
            "html_url": f"https://acme.pagerduty.com/service-directory/{oid}", "status": "active",
            "created_at": "2025-01-10T09:00:00Z", "last_incident_timestamp": "2026-11-20T10:00:00Z",
            "auto_resolve_timeout": 14400, "acknowledgement_timeout": ack, "alert_creation": "create_alerts_and_incidents",
            "alert_grouping_parameters": {"type": None, "config": None},
            "auto_pause_notifications_parameters": {"enabled": False, "timeout": None},
            "incident_urgency_rule": {"type": "constant", "urgency": "high"}, "support_hours": None,
            "scheduled_actions": [], "escalation_policy": r("escalation_policy", ep), "teams": [r("team", team)],
            "integrations": integrations}


def live_doc() -> dict[str, Any]:
    web_events = {"id": "PIWEB", "type": "events_api_v2_inbound_integration", "summary": "Events API v2",
                  "name": "Events API v2", "service": r("service", "PSWEB"), "vendor": None,
                  "integration_key": "k3y", "created_at": "2025-01-10T09:00:00Z"}
    return {
        "schema_version": SCHEMA_VERSION,
        "meta": {"account_subdomain": "acme", "scanned_at": "2026-11-26T09:00:00Z", "complete": True, "warnings": [],
                 "collections": ["addons", "business_services", "escalation_policies", "extensions", "schedules",
                                 "service_dependencies", "services", "teams", "users"]},
        "services": [
            service("PSWEB", "web", "Web front end", "PEP2", "PT2", None, [web_events]),
            service("PSCHK", "checkout", "Checkout API", "PEP1", "PT1", 1800, []),
        ],
        "escalation_policies": [
            {"id": "PEP1", "type": "escalation_policy", "summary": "Primary", "name": "Primary", "description": "p",
             "num_loops": 1, "services": [r("service", "PSCHK")], "teams": [r("team", "PT1")],
             "escalation_rules": [{"id": "PR1", "escalation_delay_in_minutes": 15,
                                   "targets": [r("schedule", "PSCH1"), r("user", "PU1")]}]},
            {"id": "PEP2", "type": "escalation_policy", "summary": "Web EP", "name": "Web EP", "description": "w",
             "num_loops": 0, "services": [r("service", "PSWEB")], "teams": [r("team", "PT2")],
             "escalation_rules": [{"id": "PR2", "escalation_delay_in_minutes": 10, "targets": [r("user", "PU2")]}]},
        ],
        "schedules": [
            {"id": "PSCH1", "type": "schedule", "summary": "Primary rota", "name": "Primary rota", "time_zone": "UTC",
             "description": "rota", "escalation_policies": [r("escalation_policy", "PEP1")], "teams": [r("team", "PT1")],
             "users": [r("user", "PU1"), r("user", "PU2")],
             "schedule_layers": [{"id": "PL1", "name": "Layer 1", "start": "2025-01-06T09:00:00Z", "end": None,
                                  "rotation_virtual_start": "2025-01-06T09:00:00Z",
                                  "rotation_turn_length_seconds": 604800, "restrictions": [],
                                  "users": [{"user": r("user", "PU1")}, {"user": r("user", "PU2")}]}]},
            {"id": "PSOLD", "type": "schedule", "summary": "old rota", "name": "old rota", "time_zone": "UTC",
             "description": "Old rota", "escalation_policies": [], "teams": [], "users": [r("user", "PU1")],
             "schedule_layers": [{"id": "PLOLD", "name": "Layer 1", "start": "2025-01-06T09:00:00Z", "end": None,
                                  "rotation_virtual_start": "2025-01-06T09:00:00Z",
                                  "rotation_turn_length_seconds": 604800, "restrictions": [],
                                  "users": [{"user": r("user", "PU1")}]}]},
        ],
        "teams": [
            {"id": "PT1", "type": "team", "summary": "Platform", "name": "Platform", "description": "Platform team",
             "default_role": "manager", "parent": None,
             "members": [{"user": r("user", "PU1"), "role": "manager"}, {"user": r("user", "PU2"), "role": "responder"}]},
            {"id": "PT2", "type": "team", "summary": "Web", "name": "Web", "description": "Web team",
             "default_role": "manager", "parent": None, "members": []},
        ],
        "users": [
            {"id": "PU1", "type": "user", "summary": "Ann Adams", "name": "Ann Adams", "email": "ann@acme.example",
             "role": "admin", "job_title": "SRE", "time_zone": "Europe/Paris", "color": "green", "description": None,
             "teams": [r("team", "PT1")]},
            {"id": "PU2", "type": "user", "summary": "Bob Brown", "name": "Bob Brown", "email": "bob@acme.example",
             "role": "user", "job_title": None, "time_zone": "UTC", "color": "red", "description": None,
             "teams": [r("team", "PT1")]},
            {"id": "PU3", "type": "user", "summary": "Cid Cole", "name": "Cid Cole", "email": "cid@acme.example",
             "role": "user", "job_title": None, "time_zone": "UTC", "color": "blue", "description": None, "teams": []},
        ],
        "business_services": [],
        "service_dependencies": [],
        "iac": None,
    }


TF_MAIN = '''resource "pagerduty_escalation_policy" "platform" {
  name      = "Platform"
  num_loops = 2
}

resource "pagerduty_schedule" "new_rota" {
  name      = "Platform Primary"
  time_zone = "Europe/Paris"
}

resource "pagerduty_service" "api" {
  name              = "api"
  escalation_policy = pagerduty_escalation_policy.platform.id
}

resource "pagerduty_service_integration" "api_datadog" {
  name    = "Datadog"
  service = pagerduty_service.api.id
}

resource "pagerduty_service" "web" {
  name              = "web"
  escalation_policy = "PEP1"
}

resource "pagerduty_team_membership" "oncall" {
  user_id = "PU3"
  team_id = "PT1"
}
'''


# --- blast radius (tests/fixtures/terraform/blast_*.json): plans over live_doc() -------------------
# blast_delete_schedule.json          delete the Primary rota, take it out of the Primary policy
# blast_delete_user.json              delete Bob and his Platform membership, take him off the rota
# blast_remove_membership.json        remove Bob's Platform membership only
# blast_replace_service.json          -replace web, delete checkout
# blast_cross_state_dependency.json   the web team's state adds web -> checkout (checkout: payments' state)
# blast_delete_service_used_elsewhere.json  the web team's state deletes web, which payments' dependency uses
# blast_last_oncall.json              the Primary policy loses its user target, the rota its current layer
# blast_new_service.json              a new service whose escalation_policy variable is empty
# blast_payments.tfstate              the payments team's state: checkout and checkout -> web
BLAST = {name: FIXTURES / f"blast_{name}.json" for name in (
    "delete_schedule", "delete_user", "remove_membership", "replace_service", "cross_state_dependency",
    "delete_service_used_elsewhere", "last_oncall", "new_service")}
PAYMENTS_STATE = FIXTURES / "blast_payments.tfstate"


def blast_live_doc() -> dict[str, Any]:
    """live_doc() with open incidents (checkout via Primary for Ann, web via Web EP for Bob) and the
    payments team's dependency of checkout on web."""
    doc = live_doc()
    doc["meta"]["collections"] = sorted([*doc["meta"]["collections"], "incidents"])

    def incident(iid: str, status: str, svc: str, ep: str, user: str) -> dict[str, Any]:
        return {"id": iid, "type": "incident", "title": f"{svc} is down", "incident_number": int(iid[1:]),
                "status": status, "urgency": "high", "created_at": "2026-11-26T07:30:00Z",
                "html_url": f"https://acme.pagerduty.com/incidents/{iid}",
                "service": r("service", svc), "escalation_policy": r("escalation_policy", ep),
                "assignments": [{"at": "2026-11-26T07:30:00Z", "assignee": r("user", user)}]}

    doc["incidents"] = [incident("Q1", "triggered", "PSCHK", "PEP1", "PU1"),
                        incident("Q2", "acknowledged", "PSWEB", "PEP2", "PU2"),
                        incident("Q3", "resolved", "PSWEB", "PEP2", "PU1")]
    doc["service_dependencies"] = [{"id": "PDEP1", "type": "service_dependency",
                                    "supporting_service": {"id": "PSWEB", "type": "technical_service_reference"},
                                    "dependent_service": {"id": "PSCHK", "type": "technical_service_reference"}}]
    return doc
