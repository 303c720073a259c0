"""The scanner over real HTTP against the PagerDuty simulator."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from pdguard.errors import AuthError, ScanError
from pdguard.pdapi.client import PagerDutyClient
from pdguard.scanner import ScanOptions, scan
from pdguard.simulator import FaultConfig, generate_account, sample_account, serve
from pdguard.snapshot import Snapshot

NOW = datetime(2026, 11, 26, 9, 0, tzinfo=UTC)
TOKEN = "u+sEcReT-token-12345"


def cols(account) -> dict:
    c = account.collections
    return c() if callable(c) else c


@pytest.fixture(scope="module")
def account():
    return generate_account(services=230, escalation_policies=30, schedules=20, users=120, teams=12,
                            incidents=900, business_services=4, seed=7, now=NOW)


def opts(server, **kw) -> ScanOptions:
    base = dict(api_key=TOKEN, api_url=server.url, now=NOW, backoff_base=0.01, timeout=5.0)
    base.update(kw)
    return ScanOptions(**base)


def expected_incident_ids(account, lookback_days: int = 90) -> set[str]:
    since = NOW - timedelta(days=lookback_days)
    out = set()
    for i in cols(account)["incidents"]:
        created = datetime.fromisoformat(i["created_at"].replace("Z", "+00:00"))
        if i["status"] != "resolved" or since <= created < NOW:
            out.add(i["id"])
    return out


def test_full_account_round_trip(account) -> None:
    c = cols(account)
    with serve(account, tokens={TOKEN}, now=NOW) as server:
        result = scan(opts(server))
    doc = result.document
    for key in ("services", "escalation_policies", "schedules", "teams", "users", "business_services",
                "addons", "extensions", "oncalls", "standards"):
        assert sorted(o["id"] if "id" in o else json.dumps(o, sort_keys=True) for o in doc[key]) == sorted(
            o["id"] if "id" in o else json.dumps(o, sort_keys=True) for o in c[key]), key
    # Expanded via include[]: the fields policies need are full objects, equal to the account's.
    svc = {s["id"]: s for s in c["services"]}
    for s in doc["services"]:
        want = svc[s["id"]]
        assert (s.get("escalation_policy") or {}).get("id") == (want.get("escalation_policy") or {}).get("id")
        assert [t["id"] for t in s["teams"]] == [t["id"] for t in want["teams"]]
        assert [i["id"] for i in s["integrations"]] == [i["id"] for i in want["integrations"]]
        for key in ("name", "description", "status", "incident_urgency_rule", "support_hours", "created_at",
                    "alert_grouping_parameters", "last_incident_timestamp"):
            assert s.get(key) == want.get(key), (s["id"], key)
    eps = {e["id"]: e for e in c["escalation_policies"]}
    for e in doc["escalation_policies"]:
        assert e["num_loops"] == eps[e["id"]]["num_loops"]
        assert [[t["id"] for t in r["targets"]] for r in e["escalation_rules"]] == \
               [[t["id"] for t in r["targets"]] for r in eps[e["id"]]["escalation_rules"]]
    users = {u["id"]: u for u in c["users"]}
    for u in doc["users"]:
        assert len(u["contact_methods"]) == len(users[u["id"]]["contact_methods"])
        assert all("urgency" in r for r in u["notification_rules"])
    for s in doc["schedules"]:
        assert "schedule_layers" in s and "final_schedule" in s
    # Team members derived from users' teams, no per-team request.
    members = {t["id"]: {m["user"]["id"] for m in t["members"]} for t in doc["teams"]}
    for u in c["users"]:
        for t in u.get("teams", []):
            assert u["id"] in members[t["id"]]
    assert not any(p.startswith("/teams/") for p in server.stats.by_path)
    # Incidents: the 90-day window plus every unresolved one, each exactly once.
    ids = [i["id"] for i in doc["incidents"]]
    assert len(ids) == len(set(ids))
    assert set(ids) == expected_incident_ids(account)
    assert {s["resource_id"] for s in doc["standards_scores"]} == {s["id"] for s in c["services"]}
    rels = {r["id"] for r in doc["service_dependencies"]}
    assert rels == {r["id"] for r in c["service_dependencies"]
                    if (r.get("dependent_service") or {}).get("type", "").startswith("business_service")
                    or (r.get("supporting_service") or {}).get("type", "").startswith("business_service")}
    meta = doc["meta"]
    assert meta["complete"] and meta["warnings"] == []
    assert meta["account_subdomain"] == "acme"
    assert meta["counts"]["services"] == 230
    Snapshot.model_validate(doc)  # the whole document fits its published schema


def test_request_count_is_the_minimum(account) -> None:
    c = cols(account)
    with serve(account, tokens={TOKEN}, now=NOW) as server:
        result = scan(opts(server))
    def pages(n: int) -> int:
        return max(1, -(-n // 100))
    unresolved = sum(1 for i in c["incidents"] if i["status"] != "resolved")
    resolved = len(expected_incident_ids(account)) - unresolved
    minimum = (sum(pages(len(c[k])) for k in ("services", "escalation_policies", "schedules", "users", "teams",
                                               "business_services", "addons", "extensions", "oncalls"))
               + pages(unresolved) + pages(resolved) + len(c["business_services"]) + 1 + pages(len(c["services"])))
    assert result.requests == server.stats.requests == minimum


def test_more_than_10000_incidents_collected_exactly_once() -> None:
    big = generate_account(services=20, escalation_policies=5, schedules=3, users=10, teams=2, incidents=16_000,
                           business_services=1, seed=3, now=NOW)
    want = expected_incident_ids(big)
    resolved_in_window = sum(1 for i in cols(big)["incidents"] if i["status"] == "resolved"
                             and i["id"] in want)
    assert resolved_in_window > 10_000  # the window must hit the API's offset cap
    with serve(big, tokens={TOKEN}, now=NOW) as server:
        doc = scan(opts(server, concurrency=16)).document
        by_status = dict(server.stats.by_status)
    ids = [i["id"] for i in doc["incidents"]]
    assert len(ids) == len(set(ids)) == len(want)
    assert set(ids) == want
    assert "400" not in by_status  # never asked past the cap
    assert doc["meta"]["complete"]


def test_429_storm_and_5xx_bursts_lose_nothing(account) -> None:
    with serve(account, tokens={TOKEN}, now=NOW) as clean:
        baseline = scan(opts(clean)).document
    faults = FaultConfig(rate_limit=40, window_seconds=0.3, rate_429_probability=0.15, rate_429_reset_header=False,
                         p_5xx=0.1, burst_5xx=4, seed=11)
    with serve(account, tokens={TOKEN}, now=NOW, faults=faults) as server:
        doc = scan(opts(server, concurrency=8, retry_budget=500)).document
        stats = server.stats.as_dict()
    assert stats["rate_limited"] > 0 and stats["faults_served"] > 0
    for key in ("services", "escalation_policies", "schedules", "incidents", "users", "teams", "oncalls",
                "standards_scores", "service_dependencies"):
        assert sorted(json.dumps(o, sort_keys=True) for o in doc[key]) == \
               sorted(json.dumps(o, sort_keys=True) for o in baseline[key]), key


def test_timeouts_and_truncated_bodies_are_retried(account) -> None:
    faults = FaultConfig(p_timeout=0.05, timeout_sleep=1.5, p_truncated=0.1, seed=5)
    with serve(account, tokens={TOKEN}, now=NOW, faults=faults) as server:
        doc = scan(opts(server, timeout=0.5, retry_budget=500)).document
        assert server.stats.faults_served > 0
    assert len(doc["services"]) == 230 and doc["meta"]["complete"]


def test_persistent_truncation_is_a_clear_error(account) -> None:
    faults = FaultConfig(p_truncated=1.0, paths=["/escalation_policies"])
    with serve(account, tokens={TOKEN}, now=NOW, faults=faults) as server, \
            pytest.raises(ScanError, match="escalation_policies: malformed JSON"):
        scan(opts(server, max_retries=2))


def test_null_item_is_a_recorded_warning(account) -> None:
    with serve(account, tokens={TOKEN}, now=NOW, faults=FaultConfig(null_items=["services"])) as server:
        doc = scan(opts(server)).document
    assert any("services: skipped an item that is null" in w for w in doc["meta"]["warnings"])
    assert doc["meta"]["complete"] is False
    assert all(isinstance(s, dict) for s in doc["services"])


def test_server_that_always_says_more_terminates(account) -> None:
    faults = FaultConfig(always_more=True, paths=["/teams"])
    with serve(account, tokens={TOKEN}, now=NOW, faults=faults) as server:
        doc = scan(opts(server)).document
        team_requests = server.stats.by_path["/teams"]
    assert team_requests == 1  # 12 teams: the total fits one page, `more: true` is not followed
    assert len(doc["teams"]) == 12 and doc["meta"]["complete"]
    assert any(w.startswith("teams: the server still answered more=true") for w in doc["meta"]["warnings"])


def test_401_and_403_name_collection_and_scope(account) -> None:
    with serve(account, tokens={TOKEN}, now=NOW) as server:
        with pytest.raises(AuthError, match=r"authentication failed \(401\)") as err:
            scan(opts(server, api_key="wrong"))
        assert "scope" not in str(err.value) and "did not accept the API key" in str(err.value)  # a wrong key is not a scope issue
    with serve(account, tokens={TOKEN}, forbidden_tokens={TOKEN}, now=NOW) as server:
        # standards is optional: skipped with a warning naming the scope and --exclude (incomplete)
        doc = scan(opts(server)).document
        assert doc["meta"]["complete"] is False and doc["meta"]["collections_status"]["standards"]["status"] == "forbidden"
        assert any(re.search(r"standards: skipped: access denied \(403\).*standards\.read.*--exclude standards", w)
                   for w in doc["meta"]["warnings"])
        doc = scan(opts(server, collections=tuple(c for c in ScanOptions.collections if c != "standards"))).document
        assert doc["standards"] == [] and len(doc["services"]) == 230 and doc["meta"]["complete"]
    with serve(account, tokens={TOKEN}, forbidden_tokens={TOKEN: ["/services"]}, now=NOW) as server:
        with pytest.raises(AuthError, match=r"services: access denied \(403\).*services\.read"):
            scan(opts(server))


def test_auth_header_forms_and_regions() -> None:
    assert PagerDutyClient("k1")._auth == "Token token=k1"
    assert PagerDutyClient("k2", auth_type="bearer")._auth == "Bearer k2"
    assert PagerDutyClient("k", region="eu").base_url == "https://api.eu.pagerduty.com"
    assert PagerDutyClient("k").base_url == "https://api.pagerduty.com"
    assert "k1" not in repr(PagerDutyClient("k1"))
    with pytest.raises(ScanError):
        PagerDutyClient("k", region="mars")


# --- the CLI: exit codes, one-line errors, the token never shown, atomic snapshot ---------------

def pdguard(*args: str, env: dict | None = None) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "pdguard", *args], capture_output=True, text=True,
                          env={**os.environ, **(env or {})}, timeout=120)


def test_cli_scan_401_exit_2_one_line(tmp_path: Path) -> None:
    with serve(sample_account(), tokens={TOKEN}) as server:
        r = pdguard("scan", "--api-url", server.url, "-o", str(tmp_path / "s.json"), env={"PAGERDUTY_API_KEY": "bad-key"})
    assert r.returncode == 2
    lines = r.stderr.strip().splitlines()
    assert len(lines) == 1 and "401" in lines[0] and "Traceback" not in r.stderr
    assert not (tmp_path / "s.json").exists()


def test_cli_token_never_in_output_or_snapshot(tmp_path: Path) -> None:
    out = tmp_path / "snap.json"
    faults = FaultConfig(p_5xx=0.2, rate_429_probability=0.1, seed=2)
    with serve(sample_account(), tokens={TOKEN}, faults=faults) as server:
        r = pdguard("-vv", "scan", "--api-url", server.url, "-o", str(out), env={"PAGERDUTY_API_KEY": TOKEN})
        bad = pdguard("-vv", "scan", "--api-url", server.url, "-o", str(tmp_path / "x.json"),
                      env={"PAGERDUTY_API_KEY": TOKEN + "x"})
        flag = pdguard("scan", "--api-url", server.url, "--api-key", TOKEN, "-o", "-", env={"PAGERDUTY_API_KEY": ""})
    assert r.returncode == 0, r.stderr
    assert bad.returncode == 2 and flag.returncode == 0
    for text in (r.stdout, r.stderr, bad.stdout, bad.stderr, flag.stdout, flag.stderr, out.read_text()):
        assert TOKEN not in text
        assert "u+sEcReT" not in text


def test_cli_failed_scan_keeps_previous_snapshot(tmp_path: Path) -> None:
    out = tmp_path / "snapshot.json"
    with serve(sample_account(), tokens={TOKEN}) as server:
        ok = pdguard("scan", "--quiet", "--api-url", server.url, "-o", str(out), env={"PAGERDUTY_API_KEY": TOKEN})
        assert ok.returncode == 0, ok.stderr
        before = out.read_bytes()
        faults = FaultConfig(p_5xx=1.0, paths=["/incidents"])
    with serve(sample_account(), tokens={TOKEN}, faults=faults) as broken:
        r = pdguard("scan", "--quiet", "--api-url", broken.url, "-o", str(out), "--timeout", "2",
                    env={"PAGERDUTY_API_KEY": TOKEN})
    assert r.returncode == 2 and "incidents" in r.stderr and "Traceback" not in r.stderr
    assert out.read_bytes() == before
    assert [p.name for p in tmp_path.iterdir()] == ["snapshot.json"]  # no temp file left behind


def test_cli_schema_validates_a_scanned_snapshot(tmp_path: Path) -> None:
    import jsonschema

    r = pdguard("schema")
    assert r.returncode == 0
    schema = json.loads(r.stdout)
    with serve(sample_account(), tokens={TOKEN}) as server:
        doc = scan(ScanOptions(api_key=TOKEN, api_url=server.url)).document
    jsonschema.Draft202012Validator(schema).validate(doc)
    assert schema["properties"]["schema_version"]["default"] == doc["schema_version"]


def test_cli_bad_arguments_are_one_line(tmp_path: Path) -> None:
    r = pdguard("scan", "--incidents-since", "yesterday-ish", env={"PAGERDUTY_API_KEY": TOKEN})
    assert r.returncode == 2 and "ISO 8601" in r.stderr and "Traceback" not in r.stderr
    r = pdguard("scan", env={"PAGERDUTY_API_KEY": "", "PAGERDUTY_OAUTH_TOKEN": ""})
    assert r.returncode == 2 and "PAGERDUTY_API_KEY" in r.stderr


def test_lookback_longer_than_six_months_is_split_into_windows(account) -> None:
    with serve(account, tokens={TOKEN}, now=NOW) as server:
        doc = scan(opts(server, lookback_days=400)).document
        statuses = dict(server.stats.by_status)
    assert "400" not in statuses  # every since/until span stayed within the API's 6 months
    assert {i["id"] for i in doc["incidents"]} == expected_incident_ids(account, 400)
    assert doc["meta"]["incidents_since"] == "2025-10-22T09:00:00Z"
