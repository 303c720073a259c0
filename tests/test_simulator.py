"""The PagerDuty simulator, exercised over real HTTP with httpx."""

from __future__ import annotations

import json
import re
import subprocess
import sys
import threading
import time
from datetime import UTC, datetime, timedelta

import httpx
import pytest

from pdguard.simulator import Account, FaultConfig, SimulatorServer, generate_account, sample_account, serve
from pdguard.simulator.account import parse_time
from pdguard.simulator.render import Window, render_schedule

NOW = datetime(2026, 11, 26, 9, 0, 0, tzinfo=UTC)
ACCEPT = {"Accept": "application/vnd.pagerduty+json;version=2"}
ID_RE = re.compile(r"^P[A-Z0-9]{6}$")


@pytest.fixture(scope="module")
def sample() -> Account:
    return sample_account(now=NOW)


@pytest.fixture(scope="module")
def server(sample):
    with serve(sample, now=NOW) as srv:
        yield srv


@pytest.fixture()
def client(server):
    with httpx.Client(base_url=server.url, headers=ACCEPT, timeout=10) as c:
        yield c


def ago(ts: str | None) -> timedelta:
    assert ts is not None
    return NOW - parse_time(ts)


# ------------------------------------------------------------------------------------------ pagination
def test_pagination_envelope_and_total(client, sample):
    r = client.get("/services", params={"limit": 10})
    assert r.status_code == 200
    body = r.json()
    assert set(body) == {"services", "limit", "offset", "more", "total"}
    assert body["limit"] == 10 and body["offset"] == 0 and body["more"] is True
    assert body["total"] is None  # like the real API unless total=true
    assert len(body["services"]) == 10

    body = client.get("/services", params={"limit": 10, "offset": 30, "total": "true"}).json()
    assert body["total"] == len(sample.services)
    assert body["more"] is False
    assert len(body["services"]) == len(sample.services) - 30

    # default limit 25, max 100 (clamped)
    assert client.get("/users").json()["limit"] == 25
    assert client.get("/users", params={"limit": 500}).json()["limit"] == 100


def test_walking_all_pages_returns_every_object_once(client, sample):
    seen, offset = [], 0
    while True:
        body = client.get("/services", params={"limit": 7, "offset": offset}).json()
        seen.extend(s["id"] for s in body["services"])
        if not body["more"]:
            break
        offset += 7
    assert seen == [s["id"] for s in sample.services]


def test_offset_plus_limit_over_10000_is_400(client):
    ok = client.get("/services", params={"limit": 100, "offset": 9900})
    assert ok.status_code == 200 and ok.json()["services"] == []
    r = client.get("/services", params={"limit": 100, "offset": 9901})
    assert r.status_code == 400
    err = r.json()["error"]
    assert err["code"] == 2002
    assert "Offset+limit exceeds maximum allowed value of 10000" in err["errors"][0]


def test_unknown_path_is_404_envelope(client):
    r = client.get("/nope")
    assert r.status_code == 404
    assert r.json() == {"error": {"message": "Not Found", "code": 2100}}


# ------------------------------------------------------------------------------------------ include[]
def test_services_references_vs_include(client):
    plain = client.get("/services", params={"limit": 1}).json()["services"][0]
    assert plain["escalation_policy"]["type"] == "escalation_policy_reference"
    assert set(plain["escalation_policy"]) == {"id", "type", "summary", "self", "html_url"}
    assert all(t["type"] == "team_reference" for t in plain["teams"])
    assert all(i["type"].endswith("_inbound_integration_reference") for i in plain["integrations"])

    full = client.get(
        "/services", params={"limit": 1, "include[]": ["escalation_policies", "teams", "integrations"]}
    ).json()["services"][0]
    assert full["id"] == plain["id"]
    ep = full["escalation_policy"]
    assert ep["type"] == "escalation_policy" and ep["escalation_rules"] and "num_loops" in ep
    # the nested object is in its own un-expanded form
    assert all(t["type"].endswith("_reference") for r in ep["escalation_rules"] for t in r["targets"])
    assert all(t["type"] == "team" and "name" in t for t in full["teams"])
    assert all(i["type"].endswith("_inbound_integration") and "created_at" in i for i in full["integrations"])


def test_escalation_policy_targets_include(client):
    ref = client.get("/escalation_policies", params={"limit": 1}).json()["escalation_policies"][0]
    assert {t["type"] for r in ref["escalation_rules"] for t in r["targets"]} <= {"user_reference", "schedule_reference"}
    assert all(s["type"] == "service_reference" for s in ref["services"])
    full = client.get(
        "/escalation_policies", params={"limit": 1, "include[]": ["targets", "services", "teams"]}
    ).json()["escalation_policies"][0]
    types = {t["type"] for r in full["escalation_rules"] for t in r["targets"]}
    assert types <= {"user", "schedule"} and types
    assert all(s["type"] == "service" and "name" in s for s in full["services"])


def test_users_include(client):
    ref = client.get("/users", params={"limit": 1}).json()["users"][0]
    assert all(c["type"].endswith("_contact_method_reference") for c in ref["contact_methods"])
    assert all(n["type"] == "assignment_notification_rule_reference" for n in ref["notification_rules"])
    full = client.get(
        "/users", params={"limit": 1, "include[]": ["contact_methods", "notification_rules", "teams"]}
    ).json()["users"][0]
    assert all("address" in c for c in full["contact_methods"])
    assert all(n["urgency"] in ("high", "low") for n in full["notification_rules"])
    assert all(t["type"] == "team" for t in full["teams"])


WEEK = {"since": "2026-11-26T09:00:00Z", "until": "2026-12-03T09:00:00Z", "time_zone": "UTC"}


def test_services_have_no_updated_at_and_auto_pause_only_when_included(client):
    plain = client.get("/services", params={"limit": 100}).json()["services"]
    assert all("updated_at" not in s and "auto_pause_notifications_parameters" not in s for s in plain)
    inc = client.get("/services", params={"limit": 100, "include[]": "auto_pause_notifications_parameters"}).json()
    pause = {s["id"]: s["auto_pause_notifications_parameters"] for s in inc["services"]}
    assert pause.pop("PSVCAGW") == {"enabled": True, "timeout": 300}  # the noisy service that pauses
    assert all(p == {"enabled": False, "timeout": None} for p in pause.values())


def test_schedules_list_never_renders_final_schedule(client):
    plain = client.get("/schedules", params={"limit": 100}).json()["schedules"]
    assert plain and all("schedule_layers" not in s and "final_schedule" not in s for s in plain)
    assert all(u["type"] == "user_reference" for s in plain for u in s["users"])
    asked = client.get("/schedules", params={"limit": 100, "include[]": ["schedule_layers", "final_schedule",
                                                                          "overrides_subschedule"], **WEEK}).json()
    for s in asked["schedules"]:
        assert "final_schedule" not in s and "overrides_subschedule" not in s and "overrides" not in s
        assert s["schedule_layers"] and all("rendered_schedule_entries" not in layer for layer in s["schedule_layers"])
    assert {s["id"] for s in asked["schedules"]} == {s["id"] for s in plain}  # flexible ones are not listed here


def test_schedule_render_needs_time_zone_and_cuts_unless_overflow(client):
    def render(**params):
        r = client.get("/schedules/PSCHGAP", params=params)
        assert r.status_code == 200
        return r.json()["schedule"]

    bare = render()
    assert bare["final_schedule"] == {"name": "Final Schedule", "rendered_schedule_entries": [],
                                      "rendered_coverage_percentage": None}
    no_tz = render(since=WEEK["since"], until=WEEK["until"])  # since/until are not honoured without time_zone
    assert no_tz["final_schedule"]["rendered_schedule_entries"] == []
    cut = render(**WEEK)["final_schedule"]
    whole = render(**WEEK, overflow="true")["final_schedule"]
    # a daily 08:00-23:00 UTC window: 15 hours in 24, whatever the window's edges
    assert cut["rendered_coverage_percentage"] == whole["rendered_coverage_percentage"] == 62.5
    assert cut["rendered_schedule_entries"][0]["start"] == "2026-11-26T09:00:00Z"  # cut at `since`
    assert whole["rendered_schedule_entries"][0]["start"] == "2026-11-26T08:00:00Z"  # the whole shift
    assert cut["rendered_schedule_entries"][1:-1] == whole["rendered_schedule_entries"][1:-1]
    assert len(whole["rendered_schedule_entries"]) == 8 and whole["rendered_schedule_entries"][-1]["start"] == \
        "2026-12-03T08:00:00Z"
    assert len(cut["rendered_schedule_entries"]) == 8 and cut["rendered_schedule_entries"][-1]["end"] == \
        "2026-12-03T09:00:00Z"
    assert client.get("/schedules/PSCHGAP", params={**WEEK, "until": WEEK["since"]}).status_code == 400


def test_schedule_render_keeps_ended_layers_and_applies_overrides(client):
    dat = client.get("/schedules/PSCHDAT", params={**WEEK, "overflow": "true"}).json()["schedule"]
    ended, current = dat["schedule_layers"]
    assert ended["end"] == "2026-10-27T00:00:00Z" and ended["rendered_schedule_entries"] == []
    assert {u["user"]["id"] for u in ended["users"]} == {"PUSRLEN", "PUSRDAV"}
    assert {e["user"]["id"] for e in dat["final_schedule"]["rendered_schedule_entries"]} == {"PUSRDAV"}
    pl1 = client.get("/schedules/PSCHPL1", params={**WEEK, "overflow": "true"}).json()["schedule"]
    (override,) = pl1["overrides_subschedule"]["rendered_schedule_entries"]
    assert (override["start"], override["end"], override["user"]["id"]) == \
        ("2026-11-28T09:00:00Z", "2026-11-28T17:00:00Z", "PUSRBEN")
    final = pl1["final_schedule"]["rendered_schedule_entries"]
    during = [e for e in final if e["start"] <= "2026-11-28T09:00:00Z" < e["end"]]
    assert [e["user"]["id"] for e in during] == ["PUSRBEN"]
    assert any(e["end"] == "2026-11-28T09:00:00Z" for e in final)  # the layer's shift is split around it
    assert pl1["final_schedule"]["rendered_coverage_percentage"] == 100.0


def test_flexible_schedules_live_at_v3(client, sample):
    listed = client.get("/v3/schedules", params={"limit": 100, "total": "true"}).json()
    assert set(listed) == {"schedules", "limit", "offset", "more"}  # no `total` on this endpoint
    assert listed["schedules"] == [{"id": "PFSSRCH", "type": "schedule_v3_reference", "summary": "Search Follow-the-Sun",
                                    "self": "https://api.pagerduty.com/v3/schedules/PFSSRCH",
                                    "html_url": "https://acme.pagerduty.com/schedules/PFSSRCH"}]
    assert client.get("/schedules/PFSSRCH", params=WEEK).status_code == 404
    plain = client.get("/v3/schedules/PFSSRCH", params=WEEK).json()["schedule"]
    assert plain["type"] == "schedule_v3" and plain["rotations"] and "final_schedule" not in plain
    rendered = client.get("/v3/schedules/PFSSRCH", params={**WEEK, "include[]": "final_schedule"}).json()["schedule"]
    fs = rendered["final_schedule"]
    assert fs["type"] == "final_schedule" and fs["rendered_coverage_percentage"] == 100.0
    shifts = fs["computed_shift_assignments"]
    assert shifts[0]["start_time"] == "2026-11-26T09:00:00Z" and len(shifts) == 8
    members = [s["member"]["user_id"] for s in shifts]
    assert set(members) == {"PUSRHUG", "PUSRROS", "PUSRGIA"} and members[:3] == members[3:6]  # daily rotation
    targets = [t for e in sample.escalation_policies for r in e["escalation_rules"] for t in r["targets"]
               if t["type"] == "schedule_v3_reference"]
    assert [t["id"] for t in targets] == ["PFSSRCH"]


def test_oncalls_window_earliest_orphans_and_direct_users(client):
    now = client.get("/oncalls", params={"limit": 100}).json()["oncalls"]
    assert all(o["start"] is None and o["end"] is None for o in now if o["schedule"] is None)
    assert any(o["schedule"] is None for o in now)
    assert "PSCHORP" not in {(o["schedule"] or {}).get("id") for o in now}  # on no escalation policy
    flex = [o for o in now if (o["schedule"] or {}).get("type") == "schedule_v3_reference"]
    assert [(o["escalation_policy"]["id"], o["escalation_level"]) for o in flex] == [("PEPSRCH", 2)]
    week = client.get("/oncalls", params={"limit": 100, "since": WEEK["since"], "until": WEEK["until"]}).json()["oncalls"]
    assert len(week) > len(now)
    plat = [o for o in week if o["escalation_policy"]["id"] == "PEPPLAT" and o["escalation_level"] == 1]
    assert "PUSRBEN" in {o["user"]["id"] for o in plat} and len(plat) >= 7
    first = client.get("/oncalls", params={"limit": 100, "since": WEEK["since"], "until": WEEK["until"],
                                           "earliest": "true"}).json()["oncalls"]
    keys = [(o["escalation_policy"]["id"], o["escalation_level"], o["user"]["id"]) for o in first]
    assert len(keys) == len(set(keys)) and len(first) < len(week)
    too_long = client.get("/oncalls", params={"since": "2026-01-01T00:00:00Z", "until": "2026-11-01T00:00:00Z"})
    assert too_long.status_code == 400


def test_single_object_endpoint(client):
    r = client.get("/services/PSVCCHK", params={"include[]": "teams"})
    assert r.status_code == 200
    assert r.json()["service"]["teams"][0]["type"] == "team"
    assert client.get("/services/PNOPE00").status_code == 404


# ------------------------------------------------------------------------------------------ incidents
def test_incidents_default_window_is_last_month(client, sample):
    body = client.get("/incidents", params={"limit": 100, "total": "true"}).json()
    month_ago = NOW.replace(month=10)
    expected = [i for i in sample.incidents if month_ago <= parse_time(i["created_at"]) < NOW]
    assert body["total"] == len(expected) > 0
    everything = client.get("/incidents", params={"limit": 100, "date_range": "all", "total": "true"}).json()
    assert everything["total"] == len(sample.incidents)


def test_incidents_since_until_inclusive_exclusive_and_sorting(client, sample):
    created = sorted(i["created_at"] for i in sample.incidents)
    a, b = created[5], created[9]
    got = client.get("/incidents", params={"since": a, "until": b, "limit": 100}).json()["incidents"]
    assert [i["created_at"] for i in got] == created[5:9]  # since inclusive, until exclusive

    desc = client.get("/incidents", params={"date_range": "all", "sort_by": "created_at:desc", "limit": 100}).json()
    stamps = [i["created_at"] for i in desc["incidents"]]
    assert stamps == sorted(stamps, reverse=True)
    # date_range=all ignores since/until
    allr = client.get("/incidents", params={"date_range": "all", "since": a, "until": b, "total": "true"}).json()
    assert allr["total"] == len(sample.incidents)


def test_incidents_filters(client, sample):
    params = {"date_range": "all", "limit": 100, "statuses[]": ["triggered", "acknowledged"], "urgencies[]": "high"}
    got = client.get("/incidents", params=params).json()["incidents"]
    want = [i["id"] for i in sample.incidents if i["status"] != "resolved" and i["urgency"] == "high"]
    assert sorted(i["id"] for i in got) == sorted(want) and want
    by_service = client.get("/incidents", params={"date_range": "all", "service_ids[]": "PSVCLGB"}).json()["incidents"]
    assert by_service and {i["service"]["id"] for i in by_service} == {"PSVCLGB"}


def test_incidents_six_month_rule(client):
    ok = client.get("/incidents", params={"since": "2026-05-26T09:00:00Z", "until": "2026-11-26T09:00:00Z"})
    assert ok.status_code == 200
    r = client.get("/incidents", params={"since": "2026-05-26T08:59:59Z", "until": "2026-11-26T09:00:00Z"})
    assert r.status_code == 400
    assert r.json()["error"]["code"] == 2001
    bad = client.get("/incidents", params={"since": "yesterday"})
    assert bad.status_code == 400


# ------------------------------------------------------------------------------------------ other endpoints
def test_standards_and_scores(client, sample):
    std = client.get("/standards").json()["standards"]
    assert {s["type"] for s in std} == {
        "has_technical_service_description",
        "minimum_escalation_policy_rule_depth",
        "minimum_outbound_integrations",
    }
    r = client.get("/standards/scores/technical_services", params={"ids": "PSVCFFL,PSVCCHK"})
    res = {x["resource_id"]: x for x in r.json()["resources"]}
    assert res["PSVCCHK"]["score"] == {"passing": 3, "total": 3}
    assert res["PSVCFFL"]["score"]["passing"] < 3
    too_many = ",".join(s["id"] for s in sample.services) * 4
    assert len(too_many.split(",")) > 100
    assert client.get("/standards/scores/technical_services", params={"ids": too_many}).status_code == 400


def test_service_dependencies_and_misc(client):
    rel = client.get("/service_dependencies/business_services/PBSCHKO").json()["relationships"]
    assert {r["supporting_service"]["id"] for r in rel} == {"PSVCCHK", "PSVCPGW", "PSVCCRT", "PSVCPAY", "PSVCORD",
                                                           "PSVCFRD", "PSVCINV", "PSVCSHP"}
    assert all(r["dependent_service"]["type"] == "business_service_reference" for r in rel)
    assert client.get("/service_dependencies/business_services/PBSPRTL").json() == {"relationships": []}
    tech = client.get("/service_dependencies/technical_services/PSVCSRA").json()["relationships"]
    assert tech and tech[0]["dependent_service"]["id"] == "PBSSRCH"
    assert client.get("/service_dependencies/business_services/PNOPE00").status_code == 404
    assert "teams" in client.get("/abilities").json()["abilities"]
    for path, key in (("/addons", "addons"), ("/extensions", "extensions"), ("/oncalls", "oncalls"),
                      ("/teams", "teams"), ("/business_services", "business_services")):
        body = client.get(path).json()
        assert body[key] and body["more"] in (True, False)


# ------------------------------------------------------------------------------------------ auth
def test_auth_tokens_and_forbidden_scope(sample):
    with serve(sample, tokens={"good": None, "me": "PUSRAVA", "noscope": None}, forbidden_tokens={"noscope"}) as srv:
        with httpx.Client(base_url=srv.url, headers=ACCEPT) as c:
            r = c.get("/services")
            assert r.status_code == 401
            assert r.json() == {"error": {"message": "Authentication failed", "code": 2006}}
            assert c.get("/services", headers={"Authorization": "Token token=bad"}).status_code == 401
            assert c.get("/services", headers={"Authorization": "Token token=good"}).status_code == 200
            assert c.get("/services", headers={"Authorization": "Bearer good"}).status_code == 200
            noscope = {"Authorization": "Token token=noscope"}
            assert c.get("/services", headers=noscope).status_code == 200
            forbidden = c.get("/standards", headers=noscope)
            assert forbidden.status_code == 403 and forbidden.json()["error"]["code"] == 2010
            assert c.get("/standards/scores/technical_services?ids=PSVCCHK", headers=noscope).status_code == 403
            # /users/me needs a user-level key
            assert c.get("/users/me", headers={"Authorization": "Token token=good"}).status_code == 400
            me = c.get("/users/me", headers={"Authorization": "Token token=me"})
            assert me.status_code == 200 and me.json()["user"]["id"] == "PUSRAVA"


def test_forbidden_tokens_per_path_mapping(sample):
    with serve(sample, forbidden_tokens={"t": ["/incidents"]}) as srv:
        with httpx.Client(base_url=srv.url) as c:
            h = {"Authorization": "Token token=t"}
            assert c.get("/incidents", headers=h).status_code == 403
            assert c.get("/standards", headers=h).status_code == 200
            assert c.get("/incidents").status_code == 200  # other tokens / none are fine


# ------------------------------------------------------------------------------------------ rate limits
def test_ratelimit_headers_and_429(sample):
    with serve(sample, faults=FaultConfig(rate_limit=3, window_seconds=60)) as srv:
        with httpx.Client(base_url=srv.url) as c:
            remaining = []
            for _ in range(3):
                r = c.get("/teams")
                assert r.status_code == 200
                assert r.headers["ratelimit-limit"] == "3"
                remaining.append(int(r.headers["ratelimit-remaining"]))
                assert 0 < int(r.headers["ratelimit-reset"]) <= 60
            assert remaining == [2, 1, 0]
            r = c.get("/teams")
            assert r.status_code == 429
            assert r.json()["error"]["code"] == 2020
            assert r.headers["ratelimit-remaining"] == "0" and "ratelimit-reset" in r.headers
        assert srv.stats.rate_limited == 1


def test_rate_limit_window_resets(sample):
    with serve(sample, faults=FaultConfig(rate_limit=1, window_seconds=0.3)) as srv:
        with httpx.Client(base_url=srv.url) as c:
            assert c.get("/teams").status_code == 200
            assert c.get("/teams").status_code == 429
            time.sleep(0.35)
            assert c.get("/teams").status_code == 200


@pytest.mark.parametrize("with_reset", [True, False])
def test_random_429s(sample, with_reset):
    faults = FaultConfig(rate_429_probability=1.0, rate_429_reset_header=with_reset, paths=["/users"])
    with serve(sample, faults=faults) as srv:
        with httpx.Client(base_url=srv.url) as c:
            r = c.get("/users")
            assert r.status_code == 429
            assert ("ratelimit-reset" in r.headers) is with_reset
            assert c.get("/teams").status_code == 200  # path filter
        assert srv.stats.rate_limited == 1 and srv.stats.faults["429"] == 1


# ------------------------------------------------------------------------------------------ faults
def test_burst_5xx_then_recovers(sample):
    with serve(sample, faults=FaultConfig(burst_5xx=2)) as srv:
        with httpx.Client(base_url=srv.url) as c:
            assert [c.get("/services").status_code for _ in range(3)] == [503, 503, 200]
            srv.inject_burst(1)
            assert c.get("/services").status_code == 503
        assert srv.stats.faults_served == 3


def test_p_5xx_is_deterministic_with_seed(sample):
    def run() -> list[int]:
        with serve(sample, faults=FaultConfig(p_5xx=0.5, seed=42)) as srv:
            with httpx.Client(base_url=srv.url) as c:
                return [c.get("/teams").status_code for _ in range(20)]

    first, second = run(), run()
    assert first == second
    assert set(first) - {200} <= {500, 502, 503} and set(first) - {200} and 200 in first


def test_truncated_body(sample):
    with serve(sample, faults=FaultConfig(p_truncated=1.0)) as srv:
        r = httpx.get(f"{srv.url}/services")
        assert r.status_code == 200
        with pytest.raises(json.JSONDecodeError):
            json.loads(r.content)


def test_timeout_fault(sample):
    with serve(sample, faults=FaultConfig(p_timeout=1.0, timeout_sleep=2.0, paths=["/incidents"])) as srv:
        with pytest.raises(httpx.ReadTimeout):
            httpx.get(f"{srv.url}/incidents", timeout=0.3)
        assert httpx.get(f"{srv.url}/teams", timeout=1).status_code == 200


def test_null_items_and_always_more(sample):
    with serve(sample, faults=FaultConfig(null_items=["services"], always_more=True, paths=["/services"])) as srv:
        with httpx.Client(base_url=srv.url) as c:
            first = c.get("/services", params={"limit": 5}).json()
            assert first["services"][0] is None and all(first["services"][1:])
            later = c.get("/services", params={"limit": 5, "offset": 10000 - 5}).json()
            assert later["more"] is True
            assert later["services"][1:] == first["services"][1:]  # offset ignored
            assert c.get("/teams").json()["more"] is False


def test_latency_and_concurrency(sample):
    with serve(sample, faults=FaultConfig(latency_ms=50)) as srv:
        statuses: list[int] = []
        lock = threading.Lock()

        def worker() -> None:
            with httpx.Client(base_url=srv.url) as c:
                for _ in range(5):
                    code = c.get("/services", params={"limit": 100}).status_code
                    with lock:
                        statuses.append(code)

        threads = [threading.Thread(target=worker) for _ in range(16)]
        start = time.monotonic()
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        elapsed = time.monotonic() - start
        assert statuses == [200] * 80
        assert srv.stats.requests == 80
        assert srv.stats.by_path["/services"] == 80
        assert srv.stats.max_in_flight > 1
        assert elapsed >= 0.25  # 5 sequential requests with 50 ms latency each


def test_latency_is_the_response_time(sample):
    """`latency_ms` is when a response goes out after its request arrived: the time the simulator
    takes to prepare it is part of it (not added), and what it takes beyond is counted as late."""
    slow = FaultConfig(latency_ms=300, p_timeout=1.0, timeout_sleep=0.6, paths=["/teams"])  # prepared in 0.6 s
    with serve(sample, faults=slow) as srv, httpx.Client(base_url=srv.url) as c:
        t0 = time.monotonic()
        assert c.get("/services").status_code == 200
        quick = time.monotonic() - t0
        assert 0.3 <= quick < 0.55  # the latency, not the latency plus the time to prepare it
        assert srv.stats.late_seconds < 0.25
        t0 = time.monotonic()
        assert c.get("/teams").status_code == 200
        took = time.monotonic() - t0
        assert 0.6 <= took < 0.85  # ready after 0.6 s: sent then (0.9 s if the latency were added)
        stats = srv.stats.as_dict()
    assert stats["service_seconds"] >= 0.6 and stats["late_seconds"] >= 0.25


# ------------------------------------------------------------------------------------------ sample account
def test_sample_account_ids_and_sizes(sample):
    counts = sample.counts()
    assert 25 <= counts["services"] <= 35 and counts["escalation_policies"] >= 8
    assert counts["schedules"] >= 6 and counts["users"] >= 15 and counts["teams"] >= 5
    assert counts["business_services"] >= 3 and counts["incidents"] >= 50
    for name in ("services", "escalation_policies", "schedules", "users", "teams", "business_services", "incidents"):
        ids = [o["id"] for o in getattr(sample, name)]
        assert len(ids) == len(set(ids))
        assert all(ID_RE.match(i) for i in ids), name
    assert sample_account(now=NOW).to_dict() == sample.to_dict()  # deterministic


def test_sample_account_has_every_problem(sample):
    svc = {s["id"]: s for s in sample.services}
    ep = {e["id"]: e for e in sample.escalation_policies}
    sched = {s["id"]: s for s in sample.schedules}
    user = {u["id"]: u for u in sample.users}
    kebab = re.compile(r"^[a-z0-9]+(-[a-z0-9]+)*$")

    bad_names = {s["id"] for s in sample.services if not kebab.match(s["name"])}
    assert bad_names == {"PSVCPAY", "PSVCLGB"}  # SVC-001
    assert {s["id"] for s in sample.services if s["escalation_policy"] is None} == {"PSVCNTR"}  # SVC-002
    assert {s["id"] for s in sample.services if s["teams"] == []} == {"PSVCIMG"}  # SVC-003
    assert {s["id"] for s in sample.services if not s.get("description")} == {"PSVCFFL"}  # SVC-004
    assert all("updated_at" not in s for s in sample.services)  # the API has none
    stale_status = {
        s["id"] for s in sample.services if s["status"] in ("disabled", "maintenance") and ago(s["created_at"]).days > 30
    }
    assert stale_status == {"PSVCORP", "PSVCBEX"}  # SVC-005
    assert {s["id"] for s in sample.services if s["integrations"] == []} == {"PSVCEML"}  # SVC-006

    def quiet(s):
        ts = s["last_incident_timestamp"]
        return ago(ts).days > 90 if ts else ago(s["created_at"]).days > 90

    assert {s["id"] for s in sample.services if quiet(s)} == {"PSVCLAR", "PSVCFAX", "PSVCLGB"}  # SVC-007
    assert svc["PSVCFAX"]["last_incident_timestamp"] is None

    # escalation policies (services hold a reference to theirs; targets are references)
    assert [e["id"] for e in sample.escalation_policies if len(e["escalation_rules"]) == 1] == ["PEPSNGL"]
    assert [e["id"] for e in sample.escalation_policies if any(not r["targets"] for r in e["escalation_rules"])] == [
        "PEPEMPT"
    ]
    no_contact = {u["id"] for u in sample.users if not u["contact_methods"]}
    assert no_contact == {"PUSRNOC"}
    targeting = {
        e["id"] for e in sample.escalation_policies for r in e["escalation_rules"] for t in r["targets"] if t["id"] in no_contact
    }
    assert targeting == {"PEPNOCM"}  # EP-003
    solo = [
        e["id"]
        for e in sample.escalation_policies
        if len({t["id"] for r in e["escalation_rules"] for t in r["targets"]}) == 1
        and all(t["type"] == "user_reference" for r in e["escalation_rules"] for t in r["targets"])
        and len(e["escalation_rules"]) > 1
    ]
    assert solo == ["PEPSOLO"]  # EP-004
    assert all(s["escalation_policy"] is None or s["escalation_policy"]["type"] == "escalation_policy_reference"
               for s in sample.services)
    loops0_high = {
        s["escalation_policy"]["id"]
        for s in sample.services
        if s["escalation_policy"]
        and ep[s["escalation_policy"]["id"]]["num_loops"] == 0
        and s["incident_urgency_rule"]["urgency"] in ("high", "severity_based")  # dynamic counts as high
    }
    assert loops0_high == {"PEPNOLP"}  # EP-005
    assert ep["PEPSOLO"]["num_loops"] is None  # the API can return null
    assert {u["id"]: u["role"] for u in sample.users if u["role"] in ("observer", "read_only_user")} == \
        {"PUSROBS": "observer", "PUSRRDO": "read_only_user"}
    targeted_users = {t["id"] for e in sample.escalation_policies for r in e["escalation_rules"] for t in r["targets"]}
    assert not targeted_users & {"PUSROBS", "PUSRRDO"}  # never on call
    # a service's teams follow its escalation policy's team (PSVCNTR has no escalation policy at all)
    assert all([t["id"] for t in s["teams"]] == [t["id"] for t in ep[s["escalation_policy"]["id"]]["teams"]]
               for s in sample.services if s["escalation_policy"])
    assert ep["PEPNOLP"]["services"][0]["id"] == "PSVCFRD"

    # schedules
    def layer_users(s):
        current = [layer for layer in s["schedule_layers"] if not layer["end"] or ago(layer["end"]) < timedelta(0)]
        return {e["user"]["id"] for layer in current for e in layer["users"]}

    assert [s["id"] for s in sample.schedules if len(layer_users(s)) == 1] == ["PSCHDAT"]  # SCH-001
    assert [layer["end"] is not None for layer in sched["PSCHDAT"]["schedule_layers"]] == [True, False]
    week = Window(NOW, NOW + timedelta(days=7), overflow=True)
    coverage = {s["id"]: render_schedule(s, week)["final_schedule"]["rendered_coverage_percentage"] for s in sample.schedules}
    # restricted: Payments Business Hours alone on its level (SCH-002), the follow-the-sun pair of
    # Mobile (together 100%), Data's day and night pair (EP-008), the rotation that starts in 2 days
    assert {sid: pct for sid, pct in coverage.items() if pct < 100} == {
        "PSCHGAP": 62.5, "PSCHMO1": 50.0, "PSCHMO2": 50.0, "PSCHDEU": 50.0, "PSCHDNT": 33.33,
        "PSCHNEW": coverage["PSCHNEW"]}
    assert coverage["PSCHNEW"] < 100
    targeted = {t["id"] for e in sample.escalation_policies for r in e["escalation_rules"] for t in r["targets"]}
    assert set(sched) - targeted == {"PSCHORP"}  # SCH-003
    assert sched["PSCHORP"]["escalation_policies"] == []

    # users / teams / business services
    no_high = {u["id"] for u in sample.users if not any(n["urgency"] == "high" for n in u["notification_rules"])}
    assert no_high == {"PUSRLEO", "PUSRNOC"}  # USR-001
    assert user["PUSRLEO"]["contact_methods"]
    member_teams = {t["id"] for u in sample.users for t in u["teams"]}
    assert {t["id"] for t in sample.teams} - member_teams == {"PTMGHST"}  # TEAM-001
    supported = {d["dependent_service"]["id"] for d in sample.service_dependencies}
    assert {b["id"] for b in sample.business_services} - supported == {"PBSPRTL"}  # BS-001

    # incidents: INC-001
    open_high = [i for i in sample.incidents if i["status"] != "resolved" and i["urgency"] == "high"]
    triggered_30m = [i["id"] for i in open_high if i["status"] == "triggered" and ago(i["created_at"]) > timedelta(minutes=30)]
    open_24h = [i["id"] for i in open_high if ago(i["created_at"]) > timedelta(hours=24)]
    assert triggered_30m == ["PINCTRG"] and open_24h == ["PINCOLD"]
    old_open = [i["id"] for i in sample.incidents if i["status"] != "resolved" and ago(i["created_at"]).days > 90]
    assert old_open == ["PINCANC"]
    assert any(i["status"] == "resolved" for i in sample.incidents)

    # service standards
    scores = {s["resource_id"]: s for s in sample.standards_scores}
    assert set(scores) == set(svc)

    def failing(std_type):
        return {rid for rid, s in scores.items() for r in s["standards"] if r["type"] == std_type and not r["pass"]}

    assert failing("has_technical_service_description") == {"PSVCFFL"}
    # no EP (PSVCNTR) and an EP whose 2nd level is empty (PSVCCRN) fail the depth standard too
    assert failing("minimum_escalation_policy_rule_depth") == {"PSVCLAU", "PSVCSID", "PSVCNTR", "PSVCCRN"}
    assert {"PSVCORP", "PSVCFAX", "PSVCSID"} <= failing("minimum_outbound_integrations")
    assert "PSVCCHK" not in failing("minimum_outbound_integrations")
    assert len(sample.standards) == 3
    # healthy objects dominate
    healthy = [s for s in sample.services if kebab.match(s["name"]) and s["escalation_policy"] and s["teams"]
               and s["description"] and s["integrations"] and s["status"] == "active" and not quiet(s)]
    assert len(healthy) >= 15


def test_sample_account_problems_are_relative_to_now():
    later = NOW + timedelta(days=400)
    acct = sample_account(now=later)
    inc = {i["id"]: i for i in acct.incidents}
    assert later - parse_time(inc["PINCTRG"]["created_at"]) == timedelta(hours=2)
    assert acct.generated_at == "2027-12-31T09:00:00Z"


# ------------------------------------------------------------------------------------------ generator
def test_generator_is_deterministic_and_realistic():
    kw = dict(services=300, escalation_policies=40, schedules=25, users=120, teams=15, incidents=3000, business_services=6)
    a = generate_account(**kw, seed=7, now=NOW)
    b = generate_account(**kw, seed=7, now=NOW)
    c = generate_account(**kw, seed=8, now=NOW)
    assert json.dumps(a.to_dict()) == json.dumps(b.to_dict())
    assert json.dumps(a.to_dict()) != json.dumps(c.to_dict())
    counts = a.counts()
    for name, n in kw.items():
        assert counts[name] == n
    assert all(ID_RE.match(o["id"]) for name in kw for o in getattr(a, name))
    ages = [ago(i["created_at"]) for i in a.incidents]
    assert max(ages) <= timedelta(days=120) and max(ages) > timedelta(days=100)
    assert any(i["status"] != "resolved" and ago(i["created_at"]).days > 90 for i in a.incidents)
    assert {i["status"] for i in a.incidents} == {"triggered", "acknowledged", "resolved"}
    svc = a.services[0]
    for key in ("escalation_policy", "teams", "integrations", "incident_urgency_rule", "support_hours",
                "alert_grouping_parameters", "status", "created_at", "last_incident_timestamp"):
        assert key in svc
    assert not any("updated_at" in s for s in a.services)
    assert a.escalation_policies[0]["escalation_rules"][0]["targets"]
    week = Window(NOW, NOW + timedelta(days=7), overflow=True)
    rendered = [render_schedule(s, week)["final_schedule"] for s in a.schedules]
    assert rendered[0]["rendered_schedule_entries"]
    assert sum(1 for r in rendered if r["rendered_coverage_percentage"] < 100) >= 1
    assert any(layer["end"] for s in a.schedules for layer in s["schedule_layers"])  # ended layers kept
    assert any(s["overrides"] for s in a.schedules)
    assert {e["num_loops"] for e in a.escalation_policies} >= {0, None}
    roles = {u["role"] for u in a.users}
    assert {"user", "admin", "observer", "read_only_user"} <= roles
    pageable = {u["id"] for u in a.users if u["role"] not in ("observer", "read_only_user", "read_only_limited_user")}
    targets = {t["id"] for e in a.escalation_policies for r in e["escalation_rules"] for t in r["targets"]}
    users = {u["id"] for u in a.users}
    assert targets & users <= pageable
    assert len(a.flexible_schedules) == 1  # 25 schedules: one flexible
    assert any(t["type"] == "schedule_v3_reference" for e in a.escalation_policies
               for r in e["escalation_rules"] for t in r["targets"])
    # some problems exist in a generated account too
    assert any(s["escalation_policy"] is None for s in a.services)
    assert any(len(e["escalation_rules"]) == 1 for e in a.escalation_policies)
    # last_incident_timestamp agrees with incidents
    last = {}
    for i in a.incidents:
        last[i["service"]["id"]] = max(last.get(i["service"]["id"], ""), i["created_at"])
    assert all(s["last_incident_timestamp"] == last.get(s["id"]) for s in a.services)


def test_generator_large_account_sanity():
    # the full 10k/50k size is exercised by the benchmark; keep the test suite quick
    a = generate_account(services=2000, escalation_policies=200, schedules=100, users=400, teams=40,
                         incidents=10000, business_services=10, seed=1, now=NOW)
    assert a.counts()["incidents"] == 10000
    srv = SimulatorServer(a, now=NOW)
    with srv, httpx.Client(base_url=srv.url) as c:
        total, offset = 0, 0
        while True:
            body = c.get("/incidents", params={"date_range": "all", "limit": 100, "offset": offset}).json()
            total += len(body["incidents"])
            if not body["more"] or offset + 200 > 10000:
                break
            offset += 100
        assert total == 10000
        assert c.get("/incidents", params={"date_range": "all", "limit": 100, "offset": 10000}).status_code == 400


def test_account_round_trips_through_dict(sample):
    again = Account.from_dict(json.loads(json.dumps(sample.to_dict())))
    assert again.counts() == sample.counts()
    with serve(again, now=NOW) as srv:
        body = httpx.get(f"{srv.url}/services", params={"limit": 3}).json()
        assert [s["id"] for s in body["services"]] == [s["id"] for s in sample.services[:3]]


def test_main_runs_standalone():
    proc = subprocess.Popen(
        [sys.executable, "-m", "pdguard.simulator", "--port", "0", "--services", "20", "--latency-ms", "1"],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        line = proc.stdout.readline()
        m = re.search(r"(http://127\.0\.0\.1:\d+)", line)
        assert m, line
        body = httpx.get(f"{m.group(1)}/services", params={"total": "true"}, timeout=5).json()
        assert body["total"] == 20
    finally:
        proc.terminate()
        proc.wait(timeout=10)
