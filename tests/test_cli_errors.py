"""Every rough edge of issue 12: one line on stderr, the documented exit code, never "internal error"."""

from __future__ import annotations

import json
import os
import stat
import subprocess
import time
from pathlib import Path

import pytest
from conftest import run_pdguard as pdguard
from conftest import scan_account

from pdguard.simulator import sample_account, serve

TOKEN = "pd-err-T0KEN-0123456789"


def one_line(r: subprocess.CompletedProcess, code: int, *fragments: str) -> None:
    assert r.returncode == code, (r.returncode, r.stdout[-500:], r.stderr)
    lines = r.stderr.strip().splitlines()
    assert len(lines) == 1, r.stderr
    assert "internal error" not in r.stderr and "Traceback" not in r.stderr
    for f in fragments:
        assert f in lines[0], (f, lines[0])


@pytest.fixture(scope="module")
def snapshot(tmp_path_factory: pytest.TempPathFactory) -> Path:
    from pdguard.snapshot import dump_document

    path = tmp_path_factory.mktemp("err") / "snapshot.json"
    path.write_bytes(dump_document(scan_account(sample_account())))
    return path


def test_impossible_waiver_date(snapshot: Path, tmp_path: Path) -> None:
    cfg = tmp_path / "pdguard.yaml"
    cfg.write_text("waivers:\n  - {policy: PDG-EP-001, reason: x, expires: 2027-02-30}\n")
    one_line(pdguard("check", "--config", str(cfg), "--snapshot", str(snapshot)), 2, "pdguard.yaml",
             "day is out of range")


def test_binary_config(snapshot: Path, tmp_path: Path) -> None:
    cfg = tmp_path / "pdguard.yaml"
    cfg.write_bytes(bytes(range(256)) * 4)
    one_line(pdguard("--config", str(cfg), "check", "--snapshot", str(snapshot)), 2, "pdguard.yaml")


@pytest.mark.parametrize("content", [
    '{"findings": [{"fingerprint": ["x"]}]}',
    '{"findings": [], "waived": 5}',
    '{"findings": [1, 2]}',
    '{"findings": {}}',
    "[]",
])
def test_malformed_baseline(snapshot: Path, tmp_path: Path, content: str) -> None:
    base = tmp_path / "baseline.json"
    base.write_text(content)
    one_line(pdguard("check", "--snapshot", str(snapshot), "--baseline", str(base)), 3, str(base))


def test_malformed_baseline_fails_before_the_scan(tmp_path: Path) -> None:
    """A bad --baseline is exit 3 before a scan that may take minutes (one account or several)."""
    base = tmp_path / "baseline.json"
    base.write_text("[]")
    cfg = tmp_path / "pdguard.yaml"
    with serve(sample_account(), tokens={TOKEN}) as server:
        r = pdguard("check", "--api-url", server.url, "--quiet", "--baseline", str(base),
                    env={"PAGERDUTY_API_KEY": TOKEN})
        one_line(r, 3, str(base))
        cfg.write_text(f"accounts:\n  - {{name: a, api_url: '{server.url}'}}\n  - {{name: b, api_url: '{server.url}'}}\n")
        r = pdguard("--config", str(cfg), "check", "--quiet", "--baseline", str(base),
                    env={"PAGERDUTY_API_KEY_A": TOKEN, "PAGERDUTY_API_KEY_B": TOKEN})
        one_line(r, 3, str(base))
        assert server.stats.requests == 0


@pytest.mark.parametrize("args", [
    ["inventory", "list", "--scan", "99999999999999999999"],
    ["inventory", "show", "PX", "--scan", "99999999999999999999"],
    ["diff", "99999999999999999999"],
    ["inventory", "scans", "--limit", "99999999999999999999"],
])
def test_huge_scan_ids(tmp_path: Path, args: list[str]) -> None:
    one_line(pdguard(*args, "--store", f"sqlite:///{tmp_path / 's.db'}"), 2, "range")


@pytest.mark.parametrize("content, fragment", [
    ("[1, 2]", "holds an array, not a JSON object"),
    ('"text"', "holds a string"),
    ("42", "holds a number"),
    ('{"hello": 1}', "is not a pdguard snapshot"),
    ("", "is empty"),
])
def test_snapshots_that_are_not_snapshots_exit_3_and_name_the_file(tmp_path: Path, content: str, fragment: str) -> None:
    path = tmp_path / "thing.json"
    path.write_text(content)
    one_line(pdguard("check", "--snapshot", str(path)), 3, str(path), fragment)


def test_api_url_without_scheme_fails_at_once(tmp_path: Path) -> None:
    start = time.monotonic()
    r = pdguard("scan", "--api-url", "127.0.0.1:8080", "-o", str(tmp_path / "s.json"), env={"PAGERDUTY_API_KEY": "k"})
    one_line(r, 2, "--api-url", "needs an http:// or https:// scheme")
    assert time.monotonic() - start < 10  # it used to retry for 21 s


def test_wrong_key_does_not_talk_about_scopes(tmp_path: Path) -> None:
    with serve(sample_account(), tokens={TOKEN}) as server:
        r = pdguard("check", "--api-url", server.url, "-q", env={"PAGERDUTY_API_KEY": "wrong"})
    one_line(r, 2, "401", "did not accept the API key")
    assert "scope" not in r.stderr


def test_full_disk_and_unwritable_outputs(snapshot: Path, tmp_path: Path) -> None:
    full = tmp_path / "full"
    try:
        os.mknod(full, stat.S_IFCHR | 0o666, os.makedev(1, 7))  # like /dev/full: every write is ENOSPC
    except OSError as exc:
        pytest.skip(f"cannot create a device node ({exc.strerror}): needs root")
    one_line(pdguard("check", "--snapshot", str(snapshot), "--format", f"json={full}"), 2,
             "cannot write json report", "no space left on device")
    one_line(pdguard("check", "--snapshot", str(snapshot), "--format", f"sarif={tmp_path}"), 2, "is a directory")
    one_line(pdguard("policy", "doc", "-o", str(full)), 2, "no space left on device")


def test_api_key_and_oauth_token_precedence(tmp_path: Path) -> None:
    """Documented order: --api-key > PAGERDUTY_OAUTH_TOKEN > PAGERDUTY_API_KEY > scan.api_key."""
    from pdguard.config import Config, ScanSettings
    from pdguard.pipeline import resolve_api_key

    env = {"PAGERDUTY_API_KEY": "the-api-key", "PAGERDUTY_OAUTH_TOKEN": "the-oauth-token"}
    old = {k: os.environ.get(k) for k in env}
    os.environ.update(env)
    try:
        cfg = Config(scan=ScanSettings(api_key="from-file"))
        assert resolve_api_key(cfg, "flag", False) == ("flag", "token")
        assert resolve_api_key(cfg, None, False) == ("the-oauth-token", "bearer")
        del os.environ["PAGERDUTY_OAUTH_TOKEN"]
        assert resolve_api_key(cfg, None, False) == ("the-api-key", "token")
        del os.environ["PAGERDUTY_API_KEY"]
        assert resolve_api_key(cfg, None, True) == ("from-file", "bearer")
    finally:
        for k, v in old.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v
    # Through the CLI and the simulator: with both set, the OAuth token is the one sent.
    with serve(sample_account(), tokens={"the-oauth-token"}) as server:
        r = pdguard("scan", "--api-url", server.url, "-q", "-o", str(tmp_path / "s.json"), env=env)
    assert r.returncode == 0, r.stderr
    assert json.loads((tmp_path / "s.json").read_text())["meta"]["complete"] is True


@pytest.mark.parametrize("args, fragment", [
    (["check", "--eval-timeout", "99999999999d"], "--eval-timeout"),
    (["inventory", "prune", "--older-than", "99999999999d", "--dry-run"], "--older-than"),
    (["watch", "--once", "--interval", "99999999999d"], "interval"),
    (["watch", "--once", "--notify-max-age", "99999999999d"], "--notify-max-age"),
    (["scan", "--max-duration", "99999999999d"], "--max-duration"),
])
def test_durations_beyond_100_years_are_usage_errors(snapshot: Path, tmp_path: Path, args: list[str],
                                                     fragment: str) -> None:
    """A duration too long for datetime/time_t/poll() used to be "internal error: OverflowError"."""
    extra = ["--snapshot", str(snapshot), "-o", os.devnull] if args[0] == "check" else []
    if args[0] in ("inventory", "watch"):
        extra = ["--store", f"sqlite:///{tmp_path / 's.db'}"]
    if args[0] == "scan":
        extra = ["-o", str(tmp_path / "s.json")]
    r = pdguard(*args, *extra, env={"PAGERDUTY_API_KEY": "k"})
    one_line(r, 2, fragment, "at most 100 years")


def test_an_eval_timeout_of_weeks_is_honoured_not_a_crash(snapshot: Path) -> None:
    """One select() call cannot wait more than ~24.8 days (poll() takes int milliseconds): a
    30-day --eval-timeout used to be "internal error: OverflowError: timeout is too large"."""
    r = pdguard("check", "--snapshot", str(snapshot), "--eval-timeout", "30d", "--format", f"json={os.devnull}")
    assert r.returncode == 1, r.stderr
    assert "internal error" not in r.stderr and "Traceback" not in r.stderr


@pytest.mark.parametrize("value", ["-1", "0", "nan", "inf"])
def test_bad_opa_timeout_is_a_usage_error(snapshot: Path, value: str) -> None:
    """--opa-timeout -1/nan used to reach httpx ("internal error: ValueError"); 0 was silently 60."""
    r = pdguard("check", "--snapshot", str(snapshot), "--engine", "opa", "--opa-url", "http://127.0.0.1:9",
                "--opa-timeout", value)
    one_line(r, 2, "--opa-timeout must be a positive number of seconds")


def test_bad_opa_timeout_in_the_config_names_the_key(snapshot: Path, tmp_path: Path) -> None:
    cfg = tmp_path / "pdguard.yaml"
    cfg.write_text("opa: {timeout: -3}\n")
    one_line(pdguard("check", "--config", str(cfg), "--snapshot", str(snapshot)), 2, "opa.timeout")


@pytest.mark.parametrize("make_args, fragment", [
    (lambda s, d: ["check", "--snapshot", str(s), "--format", f"json={s}"], "would overwrite the input --snapshot"),
    (lambda s, d: ["check", "--snapshot", str(s), "-o", str(s)], "would overwrite the input --snapshot"),
    (lambda s, d: ["check", "--snapshot", str(s), "--format", f"json={d / 'link.json'}"],
     "would overwrite the input --snapshot"),
    (lambda s, d: ["explain", "--policy", "PDG-EP-001", "--resource", "PEPSNGL", "--snapshot", str(s),
                   "--format", f"json={s}"], "would overwrite the input --snapshot"),
    (lambda s, d: ["policy", "eval", "1", "--snapshot", str(s), "--format", f"json={s}"],
     "would overwrite the input --snapshot"),
    (lambda s, d: ["codify", "--snapshot", str(s), "-o", str(s)], "would overwrite the input --snapshot"),
])
def test_an_output_never_overwrites_the_input_snapshot(snapshot: Path, tmp_path: Path, make_args, fragment: str) -> None:
    """`check --snapshot s.json --format json=s.json` used to replace the snapshot with the report."""
    s = tmp_path / "s.json"
    s.write_bytes(snapshot.read_bytes())
    (tmp_path / "link.json").symlink_to(s)
    one_line(pdguard(*make_args(s, tmp_path)), 2, fragment)
    assert s.read_bytes() == snapshot.read_bytes()


def test_two_outputs_on_one_file_are_refused(snapshot: Path, tmp_path: Path) -> None:
    """`--format json=r --format sarif=r` used to write the JSON report, then silently replace it."""
    r = tmp_path / "r"
    one_line(pdguard("check", "--snapshot", str(snapshot), "--format", f"json={r}", "--format", f"sarif={r}"), 2,
             f"--format sarif={r} would overwrite --format json={r}")
    assert not r.exists()
    saved = tmp_path / "d.json"
    one_line(pdguard("demo", "--save-snapshot", str(saved), "--format", f"json={saved}", cwd=tmp_path), 2,
             "would overwrite --save-snapshot")
    # devices are not files: /dev/null twice is fine
    ok = pdguard("check", "--snapshot", str(snapshot), "--format", f"json={os.devnull}", "--format",
                 f"sarif={os.devnull}")
    assert ok.returncode == 1, ok.stderr


@pytest.mark.parametrize("command", [["check"], ["policy", "eval", "1"]])
def test_a_snapshot_that_is_a_directory_or_a_device_says_so(tmp_path: Path, command: list[str]) -> None:
    """`--snapshot DIR` and `--snapshot /dev/null` used to say "snapshot file not found"."""
    one_line(pdguard(*command, "--snapshot", str(tmp_path)), 3, str(tmp_path), "is a directory")
    one_line(pdguard(*command, "--snapshot", os.devnull), 3, os.devnull, "is not a regular file")
    one_line(pdguard(*command, "--snapshot", str(tmp_path / "nope.json")), 3, "snapshot file not found")


@pytest.mark.parametrize("command", [["check"], ["codify"], ["explain", "--policy", "PDG-EP-001", "--resource", "X"]])
def test_a_json_report_given_as_snapshot_is_named_as_a_report(snapshot: Path, tmp_path: Path,
                                                               command: list[str]) -> None:
    """A report has schema_version 1.0 (its own schema): it was refused as a snapshot 'written by
    pdguard 0.1' with the advice to rescan."""
    report = tmp_path / "report.json"
    assert pdguard("check", "--snapshot", str(snapshot), "--format", f"json={report}").returncode == 1
    r = pdguard(*command, "--snapshot", str(report))
    one_line(r, 3, str(report), "is a pdguard report", "not a snapshot")
    assert "pdguard 0.1" not in r.stderr


@pytest.mark.parametrize(("args", "snapshot_hint"), [
    (("scan", "-o", "x.json"), False), (("watch", "--once"), False), (("check",), True),
])
def test_no_api_key_suggests_only_what_the_command_takes(tmp_path, args: tuple[str, ...], snapshot_hint: bool) -> None:
    """Without a key: one line, exit 2; `--snapshot FILE` is suggested only by commands that take it
    (scan and watch have none)."""
    extra = ("--store", f"sqlite:///{tmp_path / 'store.db'}") if args[0] == "watch" else ()
    r = pdguard(*args, *extra, cwd=tmp_path)
    assert r.returncode == 2 and "Traceback" not in r.stderr
    line = r.stderr.strip()
    assert line.startswith("pdguard: error: no PagerDuty API key: set PAGERDUTY_API_KEY") and "\n" not in line
    assert ("--snapshot FILE" in line) is snapshot_hint


def test_a_watch_interval_under_one_second_is_refused(tmp_path: Path) -> None:
    """`watch --interval 1ms` scanned in a tight loop: under 1s is a usage error (1s itself is what
    the watch tests use)."""
    r = pdguard("watch", "--interval", "999ms", "--store", f"sqlite:///{tmp_path / 's.db'}",
                env={"PAGERDUTY_API_KEY": "k"})
    one_line(r, 2, "--interval", "at least 1s between ticks, got 999ms")
    assert not (tmp_path / "s.db").exists()
