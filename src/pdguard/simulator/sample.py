"""The bundled demo account ("acme"): ~30 services, mostly healthy, with deliberate problems.

Built in code, deterministically; every timestamp is relative to `now`, so the problems below
stay true whenever the demo runs. Each finding has one root cause, and every policy but the
Terraform ones (they need --tfstate) fires at least once. Problems (policy id → object id / name):

Services
  PDG-SVC-001  PSVCPAY "Payments API", PSVCLGB "legacy_billing"           (name not kebab-case)
  PDG-SVC-002  PSVCNTR "notification-router"                               (escalation_policy null)
  PDG-SVC-003  PSVCIMG "image-resizer" (teams == []: its escalation policy PEPIMGS, which only it uses,
               has no team - a service's teams follow its escalation policy's)
  PDG-SVC-004  PSVCSID "side-project" (description "Managed by Terraform", the provider's placeholder;
               the account's description standard excludes it, so PDG-STD-001 does not report it)
  PDG-SVC-005  PSVCORP "old-reporting" (disabled, last incident 75 days ago),
               PSVCBEX "batch-exporter" (maintenance, last incident 45 days ago)
               (services have no `updated_at` in the API: when a service was parked is unknown)
  PDG-SVC-006  PSVCEML "email-gateway"                                     (integrations == [])
  PDG-SVC-007  PSVCLAR "ledger-archive" (last incident 100 days ago),
               PSVCFAX "fax-bridge" (no incident ever, created 200 days ago),
               PSVCLGB "legacy_billing" (last incident 97 days ago, still acknowledged)
  PDG-SVC-008  PSVCPAY, PSVCLAU "legacy-auth" (constant high urgency; most services are dynamic)
  PDG-SVC-009  PSVCORD "order-service" (acknowledgement_timeout null)
  PDG-SVC-010  PSVCSRI "search-indexer" (14 incidents in 6 days, auto-pause off)
  PDG-SVC-011  PSVCSRI "search-indexer" (alert grouping off); PSVCAGW "api-gateway" is as noisy but
               pauses and groups its alerts
Escalation policies
  PDG-EP-001   PEPSNGL "Legacy Single Level" (one rule: Platform Secondary) used by PSVCLAU "legacy-auth"
  PDG-EP-002   PEPEMPT "Broken Escalation" (2nd rule has no targets)       used by PSVCCRN "cron-runner"
  PDG-EP-003   PEPNOCM "Contractor Escalation" targets PUSRNOC "Nora Quiet" (no contact methods)
                                                                           used by PSVCVND "vendor-sync"
  PDG-EP-004   PEPSOLO "One Person Army" (both levels: PUSRSAM "Sam Solo")  used by PSVCSID "side-project"
  PDG-EP-005   PEPNOLP "Fraud No Repeat" (num_loops 0) used by PSVCFRD "fraud-detector" (dynamic urgency)
               (PEPSOLO has num_loops null, as the API may return, but only low-urgency services)
  PDG-EP-006   PEPOLDX "Old Platform Escalation (2023)" (no service uses it)
  PDG-EP-007   PEPRECO "Recommendations Escalation": its first level, PSCHNEW "Recommendations
               Rotation", starts the day after tomorrow - nobody is on call there now (/oncalls)
  PDG-EP-008   PEPDATA "Data Escalation" level 2: PSCHDEU "Data Europe" (06:00-18:00 UTC) and
               PSCHDNT "Data Night" (20:00-04:00) leave 18:00-20:00 and 04:00-06:00 uncovered
Schedules
  PDG-SCH-001  PSCHDAT "Data Solo Rotation" (only PUSRDAV "Dave Data" in its current layer; a layer
               that ended 30 days ago still lists PUSRLEN too: ended layers do not count)
  PDG-SCH-002  PSCHGAP "Payments Business Hours" (daily 08:00-23:00 UTC, alone on PEPPAYM's 2nd level:
               62.5% covered). PSCHMO1 "Mobile Europe" and PSCHMO2 "Mobile Americas" are restricted
               too but cover Mobile's first level together (follow the sun): no finding
  PDG-SCH-003  PSCHORP "Orphaned Holiday Rotation" (no escalation policy targets it)
Users / teams / business services
  PDG-USR-001  PUSRLEO "Leo Lowly" (only low-urgency rules, in no rotation)
  PDG-USR-002  PUSRHUG "Hugo Haas" (on call; high-urgency rules e-mail only)
  PDG-USR-003  PUSRMIL "Milo Moreau" (in Data Europe's rotation; invitation not accepted)
               (PUSRNOC "Nora Quiet" has no contact method at all: PDG-EP-003's finding)
  PDG-TEAM-001 PTMGHST "Ghost Team" (no user is a member)
  PDG-TEAM-002 PSCHNEW "Recommendations Rotation" (no team)
  PDG-BS-001   PBSPRTL "Partner Portal" (no supporting technical service)
  PDG-BS-002   PSVCFFL "feature-flags", PSVCNTR (can open high-urgency incidents, support no business service;
               judged when every service's dependencies are read, as `pdguard demo` does)
  PDG-BS-003   PBSMOBL "Mobile App" (no point of contact)
Incidents
  PDG-INC-001  PINCTRG high urgency, triggered 2 hours ago, not acknowledged (checkout-api);
               PINCOLD high urgency, acknowledged, open for 3 days (search-api)
  Also unresolved and older than 90 days: PINCANC (legacy_billing, acknowledged, low urgency).
Service Standards (PDG-STD-*; the account's three standards, scores in standards_scores)
  PDG-STD-001  no description: PSVCFFL "feature-flags" (PSVCSID is excluded from the standard);
               no extension or add-on: PSVCORP, PSVCBEX, PSVCFAX, PSVCLAR, PSVCSID, PSVCCRN, PSVCVND,
               PSVCIMG, PSVCLAU (every other service is on the "Slack #incidents" extension).
               < 2 unique levels is reported on the escalation policies (PDG-EP-001/002/004) and
               PDG-SVC-002, not again here.
  PDG-STD-002  PSVCWHL "warehouse-loader": PagerDuty's score still fails the outbound standard it
               passes since it joined the Slack extension (scores are recomputed periodically)

Everything else (PSVCCHK "checkout-api", PEPPLAT "Platform Escalation", PSCHPL1 ...) is healthy, including
what real accounts have and a tool must not misread: the flexible (v3) schedule PFSSRCH "Search
Follow-the-Sun", level 2 of PEPSRCH (a `schedule_v3_reference`), an override on PSCHPL1, the
observer PUSROBS and read-only user PUSRRDO (never on call), dynamic (severity_based) urgency.
"""

from __future__ import annotations

import random
from datetime import datetime, timedelta
from typing import Any

from pdguard.simulator.account import (
    API,
    STANDARDS,
    Account,
    Builder,
    IdFactory,
    _now,
    addon_reference,
    finish_account,
    iso,
    make_ref,
    midnight,
    support_hours,
    urgency_constant,
    urgency_support_hours,
)

SUBDOMAIN = "acme"

# id, name, description
TEAMS = [
    ("PTMPLAT", "Platform", "Core infrastructure and developer platform"),
    ("PTMPAYM", "Payments", "Checkout, payments and billing"),
    ("PTMSRCH", "Search", "Search and discovery"),
    ("PTMMOBL", "Mobile", "iOS and Android apps and their backends"),
    ("PTMDATA", "Data", "Data pipelines and the warehouse"),
    ("PTMGHST", "Ghost Team", "Team left over from the 2023 reorg"),
]

# id, name, teams, kind ("ok" | "no_contact" | "low_only" | "email_only" | "invited"), role (default "user")
USERS: list[tuple[Any, ...]] = [
    ("PUSRAVA", "Ava Adams", ["PTMPLAT"], "ok"),
    ("PUSRBEN", "Ben Brooks", ["PTMPLAT"], "ok"),
    ("PUSRCHL", "Chloe Chen", ["PTMPLAT", "PTMDATA"], "ok"),
    ("PUSRDAN", "Dan Diaz", ["PTMPAYM"], "ok"),
    ("PUSREVA", "Eva Evans", ["PTMPAYM"], "ok"),
    ("PUSRFIN", "Finn Fischer", ["PTMPAYM"], "ok"),
    ("PUSRGIA", "Gia Garcia", ["PTMSRCH"], "ok"),
    ("PUSRHUG", "Hugo Haas", ["PTMSRCH"], "email_only"),
    ("PUSRIVY", "Ivy Ito", ["PTMMOBL"], "ok"),
    ("PUSRJAC", "Jack Jensen", ["PTMMOBL"], "ok"),
    ("PUSRKAI", "Kai Kim", ["PTMMOBL"], "ok"),
    ("PUSRLEN", "Lena Lopez", ["PTMDATA"], "ok"),
    ("PUSRMIL", "Milo Moreau", ["PTMDATA"], "invited"),
    ("PUSROMA", "Omar Ortiz", ["PTMPLAT"], "ok"),
    ("PUSRPIA", "Pia Patel", ["PTMPAYM", "PTMSRCH"], "ok"),
    ("PUSRROS", "Rosa Rossi", ["PTMSRCH"], "ok"),
    ("PUSRDAV", "Dave Data", ["PTMDATA"], "ok"),
    ("PUSRSAM", "Sam Solo", ["PTMPLAT"], "ok"),
    ("PUSRNOC", "Nora Quiet", ["PTMPLAT"], "no_contact"),
    ("PUSRLEO", "Leo Lowly", ["PTMMOBL"], "low_only"),
    ("PUSROBS", "Olga Observer", ["PTMPLAT"], "ok", "observer"),
    ("PUSRRDO", "Rudy Reader", ["PTMDATA"], "ok", "read_only_user"),
]
ROLES = {"PUSRAVA": "admin", "PUSRBEN": "limited_user"}

# id, name, team (None: no team), users, hours on call a day, from (a daily window; 24: round the clock)
SCHEDULES: list[tuple[Any, ...]] = [
    ("PSCHPL1", "Platform Primary", "PTMPLAT", ["PUSRAVA", "PUSRBEN", "PUSROMA"], 24, None),
    ("PSCHPL2", "Platform Secondary", "PTMPLAT", ["PUSRCHL", "PUSROMA", "PUSRBEN"], 24, None),
    ("PSCHPY1", "Payments Primary", "PTMPAYM", ["PUSRDAN", "PUSREVA", "PUSRFIN"], 24, None),
    ("PSCHGAP", "Payments Business Hours", "PTMPAYM", ["PUSRPIA", "PUSREVA"], 15, "08:00:00"),
    ("PSCHSR1", "Search Primary", "PTMSRCH", ["PUSRGIA", "PUSRHUG", "PUSRROS"], 24, None),
    # follow the sun: Europe and the Americas cover the day together on Mobile's first level
    ("PSCHMO1", "Mobile Europe", "PTMMOBL", ["PUSRIVY", "PUSRJAC"], 12, "06:00:00"),
    ("PSCHMO2", "Mobile Americas", "PTMMOBL", ["PUSRKAI", "PUSRJAC"], 12, "18:00:00"),
    ("PSCHDAT", "Data Solo Rotation", "PTMDATA", ["PUSRDAV"], 24, None),
    # Data's second level: day and night schedules that leave 18:00-20:00 and 04:00-06:00 open
    ("PSCHDEU", "Data Europe", "PTMDATA", ["PUSRLEN", "PUSRMIL"], 12, "06:00:00"),
    ("PSCHDNT", "Data Night", "PTMDATA", ["PUSRCHL", "PUSRLEN"], 8, "20:00:00"),
    ("PSCHORP", "Orphaned Holiday Rotation", "PTMPLAT", ["PUSRAVA", "PUSRCHL"], 24, None),
    # a rotation that starts the day after tomorrow, already on Recommendations' first level
    ("PSCHNEW", "Recommendations Rotation", None, ["PUSRROS", "PUSRPIA"], 24, None),
]

# Data Solo Rotation used to be shared: a layer that ended 30 days ago still lists its former members.
ENDED_LAYERS = {"PSCHDAT": ["PUSRLEN", "PUSRDAV"]}
# Rotations whose only layer starts in that many days (midnight UTC).
STARTS_LATER = {"PSCHNEW": 2}
# Ben covers eight hours of Platform Primary the day after tomorrow (an override).
OVERRIDES = {"PSCHPL1": [("PUSRBEN", 2, 8)]}  # schedule -> [(user, days from today, hours)]

# Flexible (v3, shift-based) schedules: id, name, team, members (rotating daily, 24 h shifts)
FLEXIBLE_SCHEDULES = [
    ("PFSSRCH", "Search Follow-the-Sun", "PTMSRCH", ["PUSRHUG", "PUSRROS", "PUSRGIA"]),
]

# id, name, team (None: no team), rules (list of target id lists), num_loops (None: null, as the API may return)
ESCALATION_POLICIES: list[tuple[Any, ...]] = [
    ("PEPPLAT", "Platform Escalation", "PTMPLAT", [["PSCHPL1"], ["PSCHPL2"], ["PUSROMA"]], 2),
    ("PEPPAYM", "Payments Escalation", "PTMPAYM", [["PSCHPY1"], ["PSCHGAP"]], 1),
    ("PEPSRCH", "Search Escalation", "PTMSRCH", [["PSCHSR1"], ["PFSSRCH"]], 1),
    ("PEPMOBL", "Mobile Escalation", "PTMMOBL", [["PSCHMO1", "PSCHMO2"], ["PUSRKAI"]], 1),
    ("PEPDATA", "Data Escalation", "PTMDATA", [["PSCHDAT"], ["PSCHDEU", "PSCHDNT"]], 1),
    ("PEPSNGL", "Legacy Single Level", "PTMPLAT", [["PSCHPL2"]], 1),
    ("PEPEMPT", "Broken Escalation", "PTMPLAT", [["PSCHPL1"], []], 1),
    ("PEPNOCM", "Contractor Escalation", "PTMPLAT", [["PUSRNOC"], ["PSCHPL2"]], 1),
    ("PEPSOLO", "One Person Army", "PTMPLAT", [["PUSRSAM"], ["PUSRSAM"]], None),
    ("PEPNOLP", "Fraud No Repeat", "PTMPAYM", [["PSCHPY1"], ["PUSRFIN"]], 0),
    ("PEPIMGS", "Image Pipeline Escalation", None, [["PSCHPL1"], ["PUSROMA"]], 1),
    ("PEPRECO", "Recommendations Escalation", "PTMSRCH", [["PSCHNEW"], ["PUSRGIA"]], 1),
    ("PEPOLDX", "Old Platform Escalation (2023)", "PTMPLAT", [["PSCHPL1"], ["PUSROMA"]], 1),
]

H = urgency_constant("high")
D = urgency_constant("severity_based")  # dynamic: the alert's severity decides
L = urgency_constant("low")
SH = "support_hours"

# id, name, description, team ids, ep id, urgency, status, created days ago, integrations, slack
SERVICES: list[tuple[Any, ...]] = [
    ("PSVCCHK", "checkout-api", "Checkout REST API", ["PTMPAYM"], "PEPPAYM", D, "active", 700, 2, True),
    ("PSVCCRT", "cart-service", "Shopping cart", ["PTMPAYM"], "PEPPAYM", D, "active", 650, 1, True),
    ("PSVCPGW", "payments-gateway", "Card payments gateway", ["PTMPAYM"], "PEPPAYM", D, "active", 800, 2, True),
    ("PSVCPAY", "Payments API", "Public payments API", ["PTMPAYM"], "PEPPAYM", H, "active", 600, 1, True),
    ("PSVCLGB", "legacy_billing", "Old billing system", ["PTMPAYM"], "PEPPAYM", L, "active", 1500, 1, True),
    ("PSVCFRD", "fraud-detector", "Scores orders for fraud", ["PTMPAYM"], "PEPNOLP", D, "active", 400, 1, True),
    ("PSVCSRA", "search-api", "Search query API", ["PTMSRCH"], "PEPSRCH", D, "active", 500, 2, True),
    ("PSVCSRI", "search-indexer", "Builds search indexes", ["PTMSRCH"], "PEPSRCH", SH, "active", 500, 1, True),
    ("PSVCREC", "recommendations", "Product recommendations", ["PTMSRCH"], "PEPRECO", SH, "active", 300, 1, True),
    ("PSVCMBF", "mobile-bff", "Backend for the mobile apps", ["PTMMOBL"], "PEPMOBL", D, "active", 450, 1, True),
    ("PSVCPSH", "push-notifier", "Sends push notifications", ["PTMMOBL"], "PEPMOBL", L, "active", 450, 1, True),
    ("PSVCDPL", "data-pipeline", "Streaming ingestion", ["PTMDATA"], "PEPDATA", SH, "active", 900, 2, True),
    ("PSVCWHL", "warehouse-loader", "Loads the warehouse", ["PTMDATA"], "PEPDATA", L, "active", 900, 1, True),
    ("PSVCIDN", "identity-service", "Login and sessions", ["PTMPLAT"], "PEPPLAT", D, "active", 1000, 2, True),
    ("PSVCAGW", "api-gateway", "Edge API gateway", ["PTMPLAT"], "PEPPLAT", D, "active", 1000, 2, True),
    ("PSVCWEB", "web-frontend", "Customer web site", ["PTMPLAT"], "PEPPLAT", D, "active", 1000, 1, True),
    ("PSVCORD", "order-service", "Order lifecycle", ["PTMPAYM"], "PEPPAYM", D, "active", 700, 1, True),
    ("PSVCINV", "inventory-service", "Stock levels", ["PTMPLAT"], "PEPPLAT", SH, "active", 700, 1, True),
    ("PSVCSHP", "shipping-service", "Carrier integrations", ["PTMPLAT"], "PEPPLAT", SH, "active", 700, 1, True),
    ("PSVCNTR", "notification-router", "Routes customer notifications", ["PTMPLAT"], None, D, "active", 300, 1, True),
    ("PSVCIMG", "image-resizer", "Resizes product images", [], "PEPIMGS", L, "active", 500, 1, False),
    ("PSVCFFL", "feature-flags", "", ["PTMPLAT"], "PEPPLAT", D, "active", 600, 1, True),
    ("PSVCORP", "old-reporting", "Legacy reporting jobs", ["PTMDATA"], "PEPDATA", L, "disabled", 1200, 1, False),
    ("PSVCBEX", "batch-exporter", "Nightly partner exports", ["PTMDATA"], "PEPDATA", L, "maintenance", 800, 1, False),
    ("PSVCEML", "email-gateway", "Outbound e-mail relay", ["PTMPLAT"], "PEPPLAT", L, "active", 900, 0, True),
    ("PSVCLAR", "ledger-archive", "Archives ledger entries", ["PTMPAYM"], "PEPPAYM", L, "active", 1100, 1, False),
    ("PSVCFAX", "fax-bridge", "Fax to e-mail bridge", ["PTMPLAT"], "PEPPLAT", L, "active", 200, 1, False),
    ("PSVCLAU", "legacy-auth", "Old SSO bridge", ["PTMPLAT"], "PEPSNGL", H, "active", 1300, 1, False),
    ("PSVCCRN", "cron-runner", "Runs scheduled jobs", ["PTMPLAT"], "PEPEMPT", L, "active", 600, 1, False),
    ("PSVCVND", "vendor-sync", "Syncs vendor catalogues", ["PTMPLAT"], "PEPNOCM", L, "active", 400, 1, False),
    ("PSVCSID", "side-project", "Managed by Terraform", ["PTMPLAT"], "PEPSOLO", L, "active", 250, 1, False),
]

# id, name, description, team, point of contact ("" none), supporting services
BUSINESS_SERVICES = [
    ("PBSCHKO", "Online Checkout", "Customers can buy things", "PTMPAYM", "Payments on-call",
     ["PSVCCHK", "PSVCPGW", "PSVCCRT", "PSVCPAY", "PSVCORD", "PSVCFRD", "PSVCINV", "PSVCSHP"]),
    ("PBSSRCH", "Customer Search", "Customers can find products", "PTMSRCH", "Search on-call",
     ["PSVCSRA", "PSVCSRI", "PSVCREC"]),
    ("PBSACCT", "Customer Accounts", "Customers can sign in", "PTMPLAT", "Platform on-call",
     ["PSVCIDN", "PSVCAGW", "PSVCWEB", "PSVCLAU"]),
    ("PBSMOBL", "Mobile App", "Customers shop on their phones", "PTMMOBL", "", ["PSVCMBF", "PSVCPSH"]),
    ("PBSDATA", "Data Insights", "Dashboards for the business", "PTMDATA", "Data on-call", ["PSVCDPL"]),
    ("PBSPRTL", "Partner Portal", "Partners manage their listings", "PTMPLAT", "Platform on-call", []),
]

# The account's Service Standards: the description standard leaves side-project out.
DESCRIPTION_EXCLUDES = ["PSVCSID"]
# A score PagerDuty computed before warehouse-loader joined the Slack extension an hour ago.
STALE_SCORES = {"PSVCWHL": {"minimum_outbound_integrations": False}}
# Noisy services: (service, incidents over the last 6 days); api-gateway pauses transient alerts and
# groups them, search-indexer does neither.
NOISY = [("PSVCSRI", 14), ("PSVCAGW", 12)]

_TITLES = (
    "High error rate",
    "Latency above SLO",
    "Health check failing",
    "Pod crash looping",
    "Queue backlog growing",
    "Disk usage above 90%",
)


def sample_account(now: datetime | None = None) -> Account:
    """The bundled demo account, with timestamps relative to `now` (default: the current time)."""
    now = _now(now)
    tables = (TEAMS, USERS, SCHEDULES, FLEXIBLE_SCHEDULES, ESCALATION_POLICIES, SERVICES, BUSINESS_SERVICES)
    reserved = {row[0] for table in tables for row in table}
    reserved |= {"PINCTRG", "PINCOLD", "PINCANC"}
    new_id = IdFactory(random.Random(20261126), reserved)
    b = Builder(SUBDOMAIN)

    teams = {tid: b.team(tid, name, desc) for tid, name, desc in TEAMS}
    team_ref = {tid: make_ref(t) for tid, t in teams.items()}

    users: dict[str, dict[str, Any]] = {}
    for i, (uid, name, team_ids, kind, *role) in enumerate(USERS):
        email = f"{name.lower().replace(' ', '.')}@acme.example.com"
        cms: list[dict[str, Any]] = []
        rules: list[dict[str, Any]] = []
        if kind == "invited":  # never logged in: the invitation's e-mail address and PagerDuty's default rules
            email_cm = b.contact_method(uid, new_id(), "email", "Default", email)
            cms = [email_cm]
            rules = [b.notification_rule(uid, new_id(), email_cm, urgency, 0) for urgency in ("high", "low")]
        elif kind != "no_contact":
            email_cm = b.contact_method(uid, new_id(), "email", "Work", email)
            phone_cm = b.contact_method(uid, new_id(), "phone", "Mobile", f"5550100{i:03d}")
            cms = [email_cm, phone_cm]
            if kind == "ok":
                rules.append(b.notification_rule(uid, new_id(), phone_cm, "high", 0))
            if kind in ("ok", "email_only"):
                rules.append(b.notification_rule(uid, new_id(), email_cm, "high", 3))
            rules.append(b.notification_rule(uid, new_id(), email_cm, "low", 0))
        users[uid] = b.user(
            uid,
            name,
            email,
            role=role[0] if role else ROLES.get(uid, "user"),
            time_zone="America/New_York" if i % 2 else "Europe/London",
            job_title="Site Reliability Engineer" if i % 3 == 0 else "Software Engineer",
            contact_methods=cms,
            notification_rules=rules,
            teams=[team_ref[t] for t in team_ids],
        )
        if kind == "invited":
            users[uid]["invitation_sent"] = True

    # Daily shifts handed over at midnight UTC: the shift in progress at `now` started before it.
    schedules: dict[str, dict[str, Any]] = {}
    layer_start = midnight(now - timedelta(days=400))
    for sid, name, tid, member_ids, hours, window_start in SCHEDULES:
        members = [users[u] for u in member_ids]
        start = midnight(now + timedelta(days=STARTS_LATER[sid])) if sid in STARTS_LATER else layer_start
        layers = []
        if sid in ENDED_LAYERS:
            layers.append(b.layer(new_id(), "Shared rotation (ended)", start=iso(layer_start), turn_seconds=86400,
                                  users=[users[u] for u in ENDED_LAYERS[sid]],
                                  end=iso(midnight(now - timedelta(days=30)))))
        layers.append(b.layer(new_id(), "Layer 1", start=iso(start), users=members, turn_seconds=86400,
                              restrictions=Builder.daily_restriction(100.0 * hours / 24, window_start or "08:00:00")))
        overrides = [
            Builder.override(new_id(), users[u], midnight(now + timedelta(days=days)) + timedelta(hours=9),
                             midnight(now + timedelta(days=days)) + timedelta(hours=9 + hours))
            for u, days, hours in OVERRIDES.get(sid, [])
        ]
        schedules[sid] = b.schedule(
            sid,
            name,
            time_zone="America/New_York",
            description=f"{name} on-call rotation",
            layers=layers,
            teams=[team_ref[tid]] if tid else [],
            overrides=overrides,
        )

    flexible: dict[str, dict[str, Any]] = {}
    for fid, name, tid, member_ids in FLEXIBLE_SCHEDULES:
        event = Builder.event(new_id.ulid(), "Daily shift", start=midnight(now - timedelta(days=60)), hours=24,
                              recurrence="RRULE:FREQ=DAILY", members=[users[u] for u in member_ids])
        flexible[fid] = b.flexible_schedule(fid, name, time_zone="UTC", description=f"{name} (shift-based)",
                                            teams=[team_ref[tid]],
                                            rotations=[Builder.rotation(new_id.ulid(), fid, [event])])

    def target(oid: str) -> dict[str, Any]:
        if oid.startswith("PUSR"):
            return users[oid]
        return schedules[oid] if oid in schedules else flexible[oid]

    eps: dict[str, dict[str, Any]] = {}
    for eid, name, tid, rules_spec, loops in ESCALATION_POLICIES:
        eps[eid] = b.escalation_policy(
            eid,
            name,
            rules=[[target(t) for t in rule] for rule in rules_spec],
            rule_ids=[new_id() for _ in rules_spec],
            num_loops=loops,
            teams=[team_ref[tid]] if tid else [],
            description=f"Escalation policy of the {teams[tid]['name']} team" if tid else "Escalation policy without a team",
        )

    services: dict[str, dict[str, Any]] = {}
    for sid, name, desc, team_ids, eid, urg, status, created, n_int, _slack in SERVICES:
        created_s = iso(now - timedelta(days=created))
        kinds = ("events_api_v2_inbound_integration", "generic_events_api_inbound_integration")
        integrations = [b.integration(sid, new_id(), kinds[k % 2], created_s) for k in range(n_int)]
        rule = urgency_support_hours() if urg == SH else urg
        services[sid] = b.service(
            sid,
            name,
            description=desc,
            status=status,
            created_at=created_s,
            escalation_policy=eps[eid] if eid else None,
            teams=[team_ref[t] for t in team_ids],
            integrations=integrations,
            urgency_rule=dict(rule),
            support_hours=support_hours() if urg == SH else None,
        )

    # service settings the table does not carry
    services["PSVCORD"]["acknowledgement_timeout"] = None  # disabled: an acknowledged incident never re-triggers
    services["PSVCSRI"]["alert_grouping_parameters"] = {"type": None, "config": None}
    services["PSVCAGW"]["auto_pause_notifications_parameters"] = {"enabled": True, "timeout": 300}

    # incidents: mostly resolved ones over the last 60 days, one or two per healthy service
    incident_rows: list[tuple[str | None, str, str, str, timedelta, timedelta | None]] = []
    # (fixed id, service id, status, urgency, age, time to resolve/ack)
    incident_rows.append(("PINCANC", "PSVCLGB", "acknowledged", "low", timedelta(days=97), timedelta(minutes=7)))
    incident_rows.append((None, "PSVCLAR", "resolved", "low", timedelta(days=100), timedelta(hours=3)))
    incident_rows.append((None, "PSVCORP", "resolved", "low", timedelta(days=75), timedelta(hours=1)))
    incident_rows.append((None, "PSVCBEX", "resolved", "low", timedelta(days=45), timedelta(hours=1)))
    stale = {"PSVCLAR", "PSVCFAX", "PSVCLGB", "PSVCORP", "PSVCBEX"}
    busy = [row[0] for row in SERVICES if row[0] not in stale]
    rng = random.Random(7)
    for k in range(52):
        sid = busy[k % len(busy)]
        age = timedelta(days=2 + (k * 37) % 58, hours=rng.randrange(24), minutes=rng.randrange(60))
        incident_rows.append((None, sid, "resolved", "high" if k % 3 else "low", age, timedelta(minutes=10 + rng.randrange(240))))
    for sid, n in NOISY:
        for k in range(n):
            incident_rows.append((None, sid, "resolved", "high" if k % 2 else "low",
                                  timedelta(hours=3 + k * 10, minutes=rng.randrange(60)), timedelta(minutes=4)))
    incident_rows.append(("PINCTRG", "PSVCCHK", "triggered", "high", timedelta(hours=2), None))
    incident_rows.append(("PINCOLD", "PSVCSRA", "acknowledged", "high", timedelta(days=3), timedelta(minutes=4)))
    incident_rows.append((None, "PSVCAGW", "triggered", "high", timedelta(minutes=10), None))
    incident_rows.append((None, "PSVCMBF", "acknowledged", "high", timedelta(hours=1), timedelta(minutes=3)))
    incident_rows.append((None, "PSVCPSH", "triggered", "low", timedelta(hours=5), None))
    incident_rows.append((None, "PSVCIDN", "resolved", "high", timedelta(hours=20), timedelta(minutes=25)))
    incident_rows.sort(key=lambda r: -r[4].total_seconds())

    oncall_user = {
        eid: users[u]
        for eid, u in (
            ("PEPPLAT", "PUSRAVA"),
            ("PEPPAYM", "PUSRDAN"),
            ("PEPSRCH", "PUSRGIA"),
            ("PEPMOBL", "PUSRIVY"),
            ("PEPDATA", "PUSRDAV"),
            ("PEPSNGL", "PUSRBEN"),
            ("PEPEMPT", "PUSRBEN"),
            ("PEPNOCM", "PUSRNOC"),
            ("PEPSOLO", "PUSRSAM"),
            ("PEPNOLP", "PUSRFIN"),
        )
    }
    incidents = []
    for number, (fixed, sid, status, urgency, age, delta) in enumerate(incident_rows, start=1001):
        svc = services[sid]
        created = now - age
        ep_ref = svc["escalation_policy"] or make_ref(eps["PEPPLAT"])
        resolved = created + delta if status == "resolved" and delta else None
        acked = created + delta if status == "acknowledged" and delta else None
        incidents.append(
            b.incident(
                fixed or new_id(),
                number,
                f"{_TITLES[number % len(_TITLES)]} on {svc['name']}",
                status=status,
                urgency=urgency,
                created=created,
                service=svc,
                escalation_policy=ep_ref,
                teams=svc["teams"],
                assignee=oncall_user.get(ep_ref["id"], users["PUSRAVA"]),
                resolved=resolved,
                acknowledged=acked,
            )
        )

    business = []
    deps = []
    for k, (bid, name, desc, tid, poc, supporting) in enumerate(BUSINESS_SERVICES):
        bs = b.business_service(bid, name, desc, teams[tid], poc)
        business.append(bs)
        for j, sid in enumerate(supporting):
            deps.append(Builder.dependency(f"DSAMPLEDEP{k:03d}{j:03d}", services[sid], bs))

    slack_objects = [make_ref(services[row[0]]) for row in SERVICES if row[9]]
    extensions = [
        {
            "id": "PEXSLCK",
            "type": "extension",
            "summary": "Slack #incidents",
            "self": f"{API}/extensions/PEXSLCK",
            "html_url": None,
            "name": "Slack #incidents",
            "endpoint_url": "https://hooks.slack.example.com/services/T000/B000/XXXX",
            "extension_schema": {
                "id": "PSLACK2",
                "type": "extension_schema_reference",
                "summary": "Slack V2",
                "self": f"{API}/extension_schemas/PSLACK2",
                "html_url": None,
            },
            "extension_objects": slack_objects,
            "temporarily_disabled": False,
        }
    ]
    addons = [addon_reference("PADSTAT", "Internal Status Page", "https://status.acme.example.com")]

    account = finish_account(
        SUBDOMAIN,
        now,
        services=list(services.values()),
        escalation_policies=list(eps.values()),
        schedules=list(schedules.values()),
        flexible_schedules=list(flexible.values()),
        users=list(users.values()),
        teams=list(teams.values()),
        incidents=incidents,
        business_services=business,
        service_dependencies=deps,
        addons=addons,
        extensions=extensions,
        standards=[dict(std, exclusions=[{"type": "technical_service_reference", "id": sid} for sid in DESCRIPTION_EXCLUDES])
                   if std["type"] == "has_technical_service_description" else std for std in STANDARDS],
        stale_scores=STALE_SCORES,
    )
    from pdguard.simulator.audit import sample_records

    account.audit_records = sample_records(account, now)
    return account
