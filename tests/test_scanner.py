"""The scanner over real HTTP against the PagerDuty simulator."""

from __future__ import annotations

import copy
import json
import os
import re
import subprocess
import sys
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from pdguard.errors import AuthError, ScanError
from pdguard.pdapi.client import PagerDutyClient
from pdguard.scanner import ALL_COLLECTIONS, ScanOptions, scan
from pdguard.simulator import FaultConfig, generate_account, sample_account, serve
from pdguard.simulator.account import minimum_scan_requests
from pdguard.simulator.render import compute_oncalls
from pdguard.snapshot import Snapshot, dump_document

NOW = datetime(2026, 11, 26, 9, 0, tzinfo=UTC)
TOKEN = "u+sEcReT-token-12345"


def cols(account) -> dict:
    c = account.collections
    return c() if callable(c) else c


@pytest.fixture(scope="module")
def account():
    return generate_account(services=230, escalation_policies=30, schedules=40, users=120, teams=12,
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


def strip_links(value):
    """The same without `self`/`html_url` at any depth (in place)."""
    if isinstance(value, dict):
        value.pop("self", None)
        value.pop("html_url", None)
        for v in value.values():
            strip_links(v)
    elif isinstance(value, list):
        for v in value:
            strip_links(v)
    return value


def _as_written(obj: dict) -> dict:
    """An account object as the snapshot holds it (no `self`/`html_url` links)."""
    return strip_links(copy.deepcopy(obj))


def test_full_account_round_trip(account) -> None:
    c = cols(account)
    with serve(account, tokens={TOKEN}, now=NOW) as server:
        result = scan(opts(server))
    doc = result.document
    assert doc["schema_version"] == "2.1"
    # on-calls: every shift over the schedule window (the next 7 days), not only the current ones
    c = {**c, "oncalls": compute_oncalls(account, NOW, NOW + timedelta(days=7))}
    for key in ("services", "escalation_policies", "schedules", "flexible_schedules", "teams", "users",
                "business_services", "addons", "extensions", "oncalls", "standards"):
        assert sorted(o["id"] if "id" in o else json.dumps(o, sort_keys=True) for o in doc[key]) == sorted(
            o["id"] if "id" in o else json.dumps(_as_written(o), sort_keys=True) for o in c[key]), key
    # Each object once, links as references: no embedded copy of an object that has its own collection.
    svc = {s["id"]: s for s in c["services"]}
    for s in doc["services"]:
        want = svc[s["id"]]
        assert s["escalation_policy"] is None or set(s["escalation_policy"]) == {"id", "type", "summary"}
        assert (s.get("escalation_policy") or {}).get("id") == (want.get("escalation_policy") or {}).get("id")
        assert all(t["type"] == "team_reference" and set(t) == {"id", "type", "summary"} for t in s["teams"])
        # include[]: integrations and auto-pause parameters, which no list endpoint returns
        assert s["integrations"] == [_as_written(i) for i in want["integrations"]]
        assert s["auto_pause_notifications_parameters"] == want["auto_pause_notifications_parameters"]
        assert "updated_at" not in s and "self" not in s and "html_url" not in s
        for key in ("name", "description", "status", "incident_urgency_rule", "support_hours", "created_at",
                    "alert_grouping_parameters", "last_incident_timestamp", "summary", "type"):
            assert s.get(key) == want.get(key), (s["id"], key)
    eps = {e["id"]: e for e in c["escalation_policies"]}
    for e in doc["escalation_policies"]:
        assert e["num_loops"] == eps[e["id"]]["num_loops"]
        assert [[(t["id"], t["type"]) for t in r["targets"]] for r in e["escalation_rules"]] == \
               [[(t["id"], t["type"]) for t in r["targets"]] for r in eps[e["id"]]["escalation_rules"]]
        assert all(set(t) == {"id", "type", "summary"} for r in e["escalation_rules"] for t in r["targets"])
    assert any(t["type"] == "schedule_v3_reference" for e in doc["escalation_policies"]
               for r in e["escalation_rules"] for t in r["targets"])
    users = {u["id"]: u for u in c["users"]}
    for u in doc["users"]:
        assert u["contact_methods"] == [_as_written(m) for m in users[u["id"]]["contact_methods"]]
        assert all("urgency" in r for r in u["notification_rules"])
        assert all(t["type"] == "team_reference" for t in u["teams"])
    # Classic schedules as the list renders them with include[]=schedule_layers (never a final
    # schedule); who is on call when is /oncalls over [scanned_at, +7 days): whole shifts.
    window = {"since": "2026-11-26T09:00:00Z", "until": "2026-12-03T09:00:00Z"}
    assert doc["meta"]["schedule_window"] == doc["meta"]["oncall_window"] == window
    sch = {s["id"]: s for s in c["schedules"]}
    for s in doc["schedules"]:
        assert "final_schedule" not in s and "overrides_subschedule" not in s and "overrides" not in s
        assert s["schedule_layers"] == _as_written(sch[s["id"]]["schedule_layers"])
    shifts = [o for o in doc["oncalls"] if (o["schedule"] or {}).get("type") == "schedule_reference"]
    assert any(o["start"] < window["since"] for o in shifts)  # whole shifts, not cut at the window
    assert any(o["start"] > "2026-12-01" for o in shifts)  # the whole window, not only now
    assert {o["schedule"]["id"] for o in shifts} == {
        t["id"] for e in c["escalation_policies"] for r in e["escalation_rules"] for t in r["targets"]
        if t["type"] == "schedule_reference"}  # every schedule an escalation level targets
    assert any(layer["end"] and layer["end"] < "2026-11-26" for s in doc["schedules"] for layer in s["schedule_layers"])
    for f in doc["flexible_schedules"]:
        assert f["type"] == "schedule_v3" and f["final_schedule"]["computed_shift_assignments"]
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
    assert all(set(row) == {"id", "type", "active", "pass"} for s in doc["standards_scores"] for row in s["standards"])
    assert b'"self"' not in dump_document(doc) and b'"html_url"' not in dump_document(doc)  # links: no object keeps them
    rels = {r["id"] for r in doc["service_dependencies"]}
    assert rels == {r["id"] for r in c["service_dependencies"]
                    if (r.get("dependent_service") or {}).get("type", "").startswith("business_service")
                    or (r.get("supporting_service") or {}).get("type", "").startswith("business_service")}
    meta = doc["meta"]
    assert meta["complete"] and meta["warnings"] == []
    assert meta["account_subdomain"] == "acme" and meta["web_url"] == "https://acme.pagerduty.com"
    assert meta["counts"]["services"] == 230
    assert meta["collections"] == sorted(ALL_COLLECTIONS)
    Snapshot.model_validate(doc)  # the whole document fits its published schema


def test_request_count_is_the_minimum(account) -> None:
    with serve(account, tokens={TOKEN}, now=NOW) as server:
        result = scan(opts(server))
    minimum = minimum_scan_requests(account, NOW, 90)
    assert result.by_collection == minimum
    assert result.requests == server.stats.requests == sum(minimum.values())
    # no request per classic schedule: layers come with the list, shifts with /oncalls
    assert not any(p.startswith("/schedules/") for p in server.stats.by_path)
    assert sum(1 for p in server.stats.by_path if p.startswith("/v3/schedules/")) == len(cols(account)["flexible_schedules"])


def test_streamed_snapshot_equals_the_in_memory_document(account, tmp_path: Path) -> None:
    """`scan(output=FILE)` writes pages as they arrive; the file is byte for byte the document a
    scan in memory builds (same order), apart from the scan's own duration."""
    out = tmp_path / "snap.json"
    with serve(account, tokens={TOKEN}, now=NOW) as server:
        in_memory = scan(opts(server)).document
        streamed = scan(opts(server, concurrency=3), output=out)
    assert streamed.path == out and streamed._document is None  # nothing held in memory
    on_disk = json.loads(out.read_bytes())
    for d in (in_memory, on_disk):
        d["meta"].pop("duration_seconds")
    assert dump_document(on_disk) == dump_document(in_memory)
    assert [p.name for p in tmp_path.iterdir()] == ["snap.json"]  # spool files removed


def test_a_failed_streamed_scan_leaves_the_previous_snapshot(account, tmp_path: Path) -> None:
    out = tmp_path / "snap.json"
    out.write_text("previous")
    faults = FaultConfig(p_5xx=1.0, paths=["/users"])
    with serve(account, tokens={TOKEN}, now=NOW, faults=faults) as server, pytest.raises(ScanError):
        scan(opts(server, max_retries=1), output=out)
    assert out.read_text() == "previous"
    assert [p.name for p in tmp_path.iterdir()] == ["snap.json"]


def test_unresolvable_reference_is_a_named_warning(account) -> None:
    """An escalation target the snapshot does not hold (a schedule deleted between the lists, a
    flexible schedule the key cannot read) is named in meta.warnings; the scan is incomplete."""
    c = cols(account)
    gone = next(t["id"] for e in c["escalation_policies"] for r in e["escalation_rules"] for t in r["targets"]
                if t["type"] == "schedule_reference")
    flex = c["flexible_schedules"][0]["id"]
    trimmed = replace(account, schedules=[s for s in c["schedules"] if s["id"] != gone],
                      flexible_schedules=c["flexible_schedules"][1:])
    with serve(trimmed, tokens={TOKEN}, now=NOW) as server:
        doc = scan(opts(server)).document
    meta = doc["meta"]
    assert meta["complete"] is False
    assert any(f"targets schedule {gone} (schedule_reference), which is not in the snapshot" in w
               for w in meta["warnings"]), meta["warnings"]
    assert any(f"targets flexible schedule {flex} (schedule_v3_reference)" in w for w in meta["warnings"])
    # the escalation policies themselves are all there, their references as the API gave them
    assert len(doc["escalation_policies"]) == len(c["escalation_policies"])
    with serve(trimmed, tokens={TOKEN}, now=NOW) as server:
        excluded = scan(opts(server, collections=tuple(x for x in ScanOptions.collections
                                                       if x not in ("schedules", "flexible_schedules")))).document
    assert excluded["meta"]["complete"] is True  # not collected on purpose: nothing to resolve against
    assert "schedules" not in excluded["meta"]["collections"]


def test_a_service_whose_escalation_policy_is_not_in_the_snapshot_is_a_named_warning(account) -> None:
    c = cols(account)
    svc = next(s for s in c["services"] if isinstance(s.get("escalation_policy"), dict))
    ep = svc["escalation_policy"]["id"]
    trimmed = replace(account, escalation_policies=[e for e in c["escalation_policies"] if e["id"] != ep])
    with serve(trimmed, tokens={TOKEN}, now=NOW) as server:
        doc = scan(opts(server)).document
    meta = doc["meta"]
    assert f"services: {svc['id']} uses escalation policy {ep}, which is not in the snapshot" in meta["warnings"]
    assert meta["complete"] is False and meta["collections_status"]["services"]["status"] == "incomplete"


@pytest.mark.parametrize("n", [20, 21])
def test_unresolved_references_past_twenty_are_counted(account, n: int) -> None:
    """Twenty unresolved references are named one by one; from the twenty-first on they are counted
    in one more warning, so meta.warnings still says how many there are."""
    services = copy.deepcopy(cols(account)["services"])
    for svc in services[:n]:
        svc["escalation_policy"] = {"id": f"PGONE{svc['id']}", "type": "escalation_policy_reference"}
    with serve(replace(account, services=services), tokens={TOKEN}, now=NOW) as server:
        doc = scan(opts(server, collections=("services", "escalation_policies"))).document
    warnings = doc["meta"]["warnings"]
    assert len([w for w in warnings if "uses escalation policy PGONE" in w]) == 20
    more = [w for w in warnings if w.endswith("more references the snapshot cannot resolve")]
    assert more == ([] if n == 20 else ["escalation_policies: 1 more references the snapshot cannot resolve"])
    assert doc["meta"]["complete"] is False


def test_schedule_deleted_between_list_and_render_is_a_warning(account) -> None:
    with serve(account, tokens={TOKEN}, now=NOW) as server:
        victim = cols(account)["flexible_schedules"][0]["id"]
        server.cols["flexible_schedules"].by_id.pop(victim)  # listed, then gone: GET /v3/schedules/{id} is 404
        doc = scan(opts(server)).document
    assert victim not in {s["id"] for s in doc["flexible_schedules"]}
    assert any(f"flexible_schedules: {victim} was listed but GET /v3/schedules/{victim} answered 404" in w
               for w in doc["meta"]["warnings"])
    assert doc["meta"]["complete"] is False


def test_more_than_10000_incidents_collected_exactly_once() -> None:
    big = generate_account(services=20, escalation_policies=5, schedules=3, users=10, teams=2, incidents=16_000,
                           business_services=1, seed=3, now=NOW)
    want = expected_incident_ids(big)
    window = sorted((i for i in cols(big)["incidents"] if i["status"] == "resolved" and i["id"] in want),
                    key=lambda i: i["created_at"])
    assert len(window) > 10_000  # the window must hit the API's offset cap
    for inc in window[9_900:10_050]:  # 150 incidents share the second where the cap falls
        inc["created_at"] = window[9_999]["created_at"]
    with serve(big, tokens={TOKEN}, now=NOW) as server:
        result = scan(opts(server, concurrency=16))
        by_status = dict(server.stats.by_status)
    doc = result.document
    ids = [i["id"] for i in doc["incidents"]]
    assert len(ids) == len(set(ids)) == len(want)
    assert set(ids) == want
    assert set(by_status) == {200}  # never asked past the cap
    assert doc["meta"]["complete"]
    # full pages only: each part past the cap re-reads just the second it starts at
    assert result.by_collection["incidents"] == minimum_scan_requests(big, NOW)["incidents"]


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
    assert "sEcReT-k3" not in repr(ScanOptions(api_key="sEcReT-k3")) and "api_key" not in repr(ScanOptions("k"))
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


@pytest.mark.parametrize("since", ["0001-01-01", "0999-12-31", "1969-12-31T23:59:59Z", "1970-01-01T00:30:00+01:00",
                                   "0001-01-01T00:00:00+14:00", "9999-12-31T23:59:59-14:00"])
def test_incidents_since_out_of_range_is_one_line_before_any_request(tmp_path: Path, since: str) -> None:
    """0001-01-01 sent a `since` the API rejects (year 1 formatted '1-01-01') from ~4,000 window tasks
    at once, and the abort left "coroutine ... was never awaited" RuntimeWarnings; an offset at the
    ends of the calendar was an internal OverflowError. Now: one line, exit 2, no request made."""
    with serve(sample_account(), tokens={TOKEN}) as server:
        r = pdguard("scan", "--api-url", server.url, "-q", "--incidents-since", since, "-o", str(tmp_path / "s.json"),
                    env={"PAGERDUTY_API_KEY": TOKEN, "PYTHONDEVMODE": "1", "PYTHONWARNINGS": "error::RuntimeWarning"})
        requests = server.stats.requests
    lines = r.stderr.strip().splitlines()
    assert r.returncode == 2, r.stderr[-2000:]
    assert len(lines) == 1 and "Traceback" not in r.stderr and "RuntimeWarning" not in r.stderr, r.stderr[-2000:]
    assert f"--incidents-since: '{since}' is out of range" in lines[0] and "1970-01-01" in lines[0], lines[0]
    assert requests == 0 and not (tmp_path / "s.json").exists()


def test_incidents_since_1970_is_the_earliest_and_scans(account) -> None:
    """The earliest accepted start (113 six-month windows up to NOW): a complete scan of every incident;
    the library path refuses what the CLI refuses."""
    from pdguard.errors import ConfigError

    since = datetime(1970, 1, 1, tzinfo=UTC)
    with serve(account, tokens={TOKEN}, now=NOW) as server:
        doc = scan(opts(server, incidents_since=since)).document
        with pytest.raises(ConfigError, match="out of range"):
            scan(opts(server, incidents_since=since - timedelta(seconds=1)))
    assert doc["meta"]["complete"] is True and doc["meta"]["incidents_since"] == "1970-01-01T00:00:00Z"
    assert {i["id"] for i in doc["incidents"]} == expected_incident_ids(account, (NOW - since).days + 1)


def test_lookback_longer_than_six_months_is_split_into_windows(account) -> None:
    with serve(account, tokens={TOKEN}, now=NOW) as server:
        doc = scan(opts(server, lookback_days=400)).document
        statuses = dict(server.stats.by_status)
    assert set(statuses) == {200}  # every since/until span stayed within the API's 6 months
    assert {i["id"] for i in doc["incidents"]} == expected_incident_ids(account, 400)
    assert doc["meta"]["incidents_since"] == "2025-10-22T09:00:00Z"


def test_incident_windows_fit_the_shortest_six_months(account) -> None:
    """The API's 6 months are calendar months: from August 31st they end on February 28th, 181 days
    later. Windows of 180 days fit whatever the start; one a day or two longer is refused there."""
    since = datetime(2025, 8, 31, 9, 0, tzinfo=UTC)
    with serve(account, tokens={TOKEN}, now=NOW) as server:
        doc = scan(opts(server, incidents_since=since)).document
        statuses = dict(server.stats.by_status)
    assert set(statuses) == {200}
    assert doc["meta"]["complete"] is True and doc["meta"]["incidents_since"] == "2025-08-31T09:00:00Z"
    assert {i["id"] for i in doc["incidents"]} == expected_incident_ids(account, (NOW - since).days)


def _busy_rota(escalation_policies: int, turn_seconds: int):
    """An account whose on-calls over the next 7 days pass the API's 10,000-offset cap: every
    schedule layer hands over every `turn_seconds`."""
    big = generate_account(services=20, escalation_policies=escalation_policies, schedules=30, users=40, teams=2,
                           incidents=10, business_services=1, seed=5, now=NOW)
    for s in big.schedules:
        for layer in s.get("schedule_layers") or []:
            layer["rotation_turn_length_seconds"] = turn_seconds
    return big, compute_oncalls(big, NOW, NOW + timedelta(days=7))


def _as_set(entries: list[dict]) -> list[str]:
    return sorted(json.dumps(_as_written(o), sort_keys=True) for o in entries)


def test_oncalls_past_the_offset_cap_are_read_by_escalation_policy_batches() -> None:
    big, want = _busy_rota(250, 7200)
    assert len(want) > 10_000  # the window is past the cap; each batch of 100 policies is not
    with serve(big, tokens={TOKEN}, now=NOW) as server:
        result = scan(opts(server, collections=("escalation_policies", "oncalls")))
        by_status = dict(server.stats.by_status)
    doc = result.document
    assert set(by_status) == {200}  # never asked past the cap
    assert _as_set(doc["oncalls"]) == _as_set(want)  # every shift once
    assert doc["meta"]["complete"] and doc["meta"]["collections_status"]["oncalls"]["status"] == "complete"
    assert result.by_collection["oncalls"] == minimum_scan_requests(big, NOW)["oncalls"]


def test_a_batch_of_policies_still_past_the_cap_is_halved() -> None:
    big, want = _busy_rota(40, 1800)  # 40 policies: one batch, itself past the cap
    assert len(want) > 10_000
    with serve(big, tokens={TOKEN}, now=NOW) as server:
        doc = scan(opts(server, collections=("escalation_policies", "oncalls"))).document
    assert _as_set(doc["oncalls"]) == _as_set(want)
    assert doc["meta"]["complete"]


def test_one_policy_past_the_cap_leaves_oncalls_incomplete() -> None:
    big, _ = _busy_rota(1, 60)  # one policy, a handover every minute
    want = compute_oncalls(big, NOW, NOW + timedelta(days=7))
    assert len(want) > 10_000
    with serve(big, tokens={TOKEN}, now=NOW) as server:
        doc = scan(opts(server, collections=("escalation_policies", "oncalls"))).document
    assert not doc["meta"]["complete"]
    assert doc["meta"]["collections_status"]["oncalls"]["status"] == "incomplete"
    assert any(w.startswith("oncalls: ") and "10,000" in w for w in doc["meta"]["warnings"])


def connect_tcp():  # the qualified name anyio's coroutine has: connect_tcp.<locals>.try_connect
    async def try_connect() -> None:
        return None
    return try_connect()


def test_only_anyios_dropped_connect_coroutine_is_silenced() -> None:
    """A scan aborted while connections open: anyio (>= 4.14) drops the connect coroutine of an
    attempt cancelled before its first step, and Python warns when collecting it - noise after
    the one-line error. That warning, and no other "never awaited", is silenced."""
    import gc
    import warnings

    from pdguard.scanner import silence_dropped_connects

    async def other() -> None:
        return None

    with warnings.catch_warnings(record=True) as seen:
        silence_dropped_connects()  # what every scan does first
        silence_dropped_connects()  # (once: the filter is not added twice)
        assert sum(1 for f in warnings.filters if f[1] is not None and "try_connect" in f[1].pattern) == 1
        warnings.filterwarnings("always", append=True)  # after the scanner's filter: every other warning shows
        for f in (connect_tcp, other):
            coro = f()
            del coro
            gc.collect()
    messages = [str(w.message) for w in seen]
    assert not any("try_connect" in m for m in messages), messages
    assert any("other' was never awaited" in m for m in messages), messages


def test_oncalls_split_by_policies_the_scan_lost_are_incomplete() -> None:
    """Past the cap, on-calls are read by the escalation policies listed: a policy the list lost
    (offsets shifted under the scan) is one whose shifts were never asked for. On-calls must not
    say complete then (nor the snapshot)."""
    big, want = _busy_rota(250, 7200)
    assert len(want) > 10_000
    faults = FaultConfig(vanish={"/escalation_policies": 5})  # page 1 read, its first 5 deleted: 5 skipped
    with serve(big, tokens={TOKEN}, now=NOW, faults=faults) as server:
        doc = scan(opts(server, collections=("escalation_policies", "oncalls"))).document
    status = doc["meta"]["collections_status"]
    assert status["escalation_policies"]["status"] == "incomplete"
    assert len(doc["oncalls"]) < len(want)  # the lost policies' shifts were never read
    assert status["oncalls"]["status"] == "incomplete", status["oncalls"]
    assert any(w.startswith("oncalls: ") for w in doc["meta"]["warnings"]), doc["meta"]["warnings"]
    assert not doc["meta"]["complete"]


def test_oncalls_without_a_total_past_the_cap_are_split_too() -> None:
    """A server that gives no `total` on /oncalls: the split by escalation policies still reads
    every shift, and on-calls are complete (the first query, read to the cap, is not a loss)."""
    big, want = _busy_rota(250, 7200)
    assert len(want) > 10_000
    with serve(big, tokens={TOKEN}, now=NOW, faults=FaultConfig(no_total=("/oncalls",))) as server:
        doc = scan(opts(server, collections=("escalation_policies", "oncalls"))).document
    assert _as_set(doc["oncalls"]) == _as_set(want)
    assert doc["meta"]["collections_status"]["oncalls"]["status"] == "complete", doc["meta"]["warnings"]
    assert doc["meta"]["complete"]
