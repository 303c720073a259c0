"""One CLI grammar on every subcommand: --format KIND[=FILE], -o, --snapshot reads / --save-snapshot
writes, global options after the subcommand, -v / -vv, old spellings with a deprecation note, and
every file output written safely (a symlink written through, a device never replaced)."""

from __future__ import annotations

import json
import os
import stat
from pathlib import Path

import pytest
from conftest import run_pdguard as pdguard

from pdguard.simulator import sample_account, serve

TOKEN = "pd-grammar-T0KEN-424242"


@pytest.fixture(scope="module")
def work(tmp_path_factory: pytest.TempPathFactory) -> dict:
    """A snapshot of the sample account and a store with two scans of it."""
    from pdguard.findings import Report
    from pdguard.inventory.store import Store
    from pdguard.scanner import ScanOptions, scan
    from pdguard.snapshot import dump_document

    tmp = tmp_path_factory.mktemp("grammar")
    with serve(sample_account(), tokens={TOKEN}) as server:
        doc = scan(ScanOptions(api_key=TOKEN, api_url=server.url)).document
    snap = tmp / "snapshot.json"
    snap.write_bytes(dump_document(doc))
    store = f"sqlite:///{tmp / 'inv.sqlite'}"
    s = Store(store)
    s.save_scan(doc, Report())
    doc["services"] = doc["services"][1:]
    doc["meta"]["scanned_at"] = "2026-11-27T09:00:00Z"
    s.save_scan(doc, Report())
    s.close()
    return {"snap": str(snap), "store": store, "service": doc["services"][0]["id"]}


def _commands(w: dict) -> dict[str, tuple[list[str], list[str]]]:
    """command -> (argv before the format options, formats it accepts)."""
    return {
        "check": (["check", "--snapshot", w["snap"]], ["table", "json", "sarif", "junit", "markdown", "html"]),
        "diff": (["diff", "--store", w["store"]], ["text", "json"]),
        "inventory list": (["inventory", "list", "--store", w["store"]], ["table", "json"]),
        "inventory scans": (["inventory", "scans", "--store", w["store"]], ["table", "json"]),
        "inventory show": (["inventory", "show", w["service"], "--store", w["store"]], ["table", "json"]),
        "policy list": (["policy", "list"], ["table", "json"]),
    }


@pytest.mark.parametrize("name", ["check", "diff", "inventory list", "inventory scans", "inventory show", "policy list"])
def test_format_file_and_output_on_every_subcommand(work: dict, tmp_path: Path, name: str) -> None:
    argv, kinds = _commands(work)[name]
    ok = (0, 1) if name == "check" else (0,)
    json_file = tmp_path / "out.json"
    r = pdguard(*argv, "--format", f"json={json_file}", "--format", kinds[0])
    assert r.returncode in ok, r.stderr
    json.loads(json_file.read_text())
    assert r.stdout.strip()  # the human format went to stdout
    r = pdguard(*argv, "--format", "json", "-o", str(tmp_path / "o.json"))
    assert r.returncode in ok, r.stderr
    assert json.loads((tmp_path / "o.json").read_text()) and not r.stdout.strip()
    r = pdguard(*argv, "--format", "json")
    json.loads(r.stdout)
    bad = pdguard(*argv, "--format", "pdf")
    assert bad.returncode == 2 and "unknown output format 'pdf'" in bad.stderr and len(bad.stderr.splitlines()) == 1
    two = pdguard(*argv, "--format", kinds[0], "--format", "json")
    assert two.returncode == 2 and "only one --format can go to standard output" in two.stderr


@pytest.mark.parametrize("values, output, fragment", [
    (["json="], None, "--format json=: the file name is missing"),
    (["json", "table"], "out.txt", "-o/--output applies to exactly one --format given without '=FILE'"),
    (["json=a.json"], "out.txt", "-o/--output applies to exactly one"),
    (["table", "json=-"], None, "only one --format can go to standard output"),
    (["PDF"], None, "unknown output format 'pdf'"),
])
def test_format_grammar_errors(values: list[str], output: str | None, fragment: str) -> None:
    from pdguard.cligrammar import parse_formats
    from pdguard.errors import ConfigError
    from pdguard.output import FORMATS

    with pytest.raises(ConfigError) as err:
        parse_formats(values, output, kinds=FORMATS)
    assert fragment in str(err.value)
    specs = parse_formats(["sarif=r.sarif", "JSON"], "r.json", kinds=FORMATS)  # -o: the one without =FILE
    assert [(s.name, s.path) for s in specs] == [("sarif", "r.sarif"), ("json", "r.json")]


@pytest.mark.parametrize("old, new_args", [
    (["diff", "--json"], ["diff", "--format", "json"]),
    (["inventory", "list", "--json"], ["inventory", "list", "--format", "json"]),
    (["inventory", "scans", "--json"], ["inventory", "scans", "--format", "json"]),
])
def test_deprecated_json_flag_still_works(work: dict, old: list[str], new_args: list[str]) -> None:
    r = pdguard(*old, "--store", work["store"])
    n = pdguard(*new_args, "--store", work["store"])
    assert r.returncode == n.returncode == 0, r.stderr
    assert json.loads(r.stdout) == json.loads(n.stdout)
    assert "pdguard: note: --json is deprecated; use --format json" in r.stderr
    assert "deprecated" not in n.stderr


def test_policy_list_json_alias_overrides_and_custom_policies(tmp_path: Path) -> None:
    cfg = tmp_path / "pdguard.yaml"
    cfg.write_text("policies:\n  PDG-SVC-002: {severity: low}\n  PDG-EP-001: {enabled: false}\n")
    (tmp_path / "mine").mkdir()
    (tmp_path / "mine" / "p.rego").write_text(
        "# METADATA\n# title: My custom rule\n# custom:\n#   id: ACME-001\n#   severity: critical\n"
        "package pdguard.acme.mine\n\ndeny contains f if { false; f := {} }\n")
    r = pdguard("policy", "list", "--config", str(cfg), "--policy", str(tmp_path / "mine"), "--json")
    assert r.returncode == 0, r.stderr
    assert "--json is deprecated" in r.stderr
    rows = {p["id"]: p for p in json.loads(r.stdout)}
    assert rows["PDG-SVC-002"]["severity"] == "low" and rows["PDG-SVC-002"]["default_severity"] == "high"
    assert rows["PDG-EP-001"]["enabled"] is False
    assert rows["ACME-001"]["severity"] == "critical" and rows["ACME-001"]["builtin"] is False
    table = pdguard("policy", "list", "--policy", str(tmp_path / "mine"), "--config", str(cfg)).stdout
    assert "PDG-SVC-002" in table and "low*" in table and "severity overridden" in table
    assert "ACME-001" in table and "My custom rule" in table
    only = pdguard("policy", "list", "--no-builtin", "--policy", str(tmp_path / "mine"), "--format", "json")
    assert [p["id"] for p in json.loads(only.stdout)] == ["ACME-001"]


def test_global_options_after_the_subcommand(work: dict, tmp_path: Path) -> None:
    cfg = tmp_path / "pdguard.yaml"
    cfg.write_text("fail_on: none\n")
    before = pdguard("--config", str(cfg), "check", "--snapshot", work["snap"], "--format", "json")
    after = pdguard("check", "--snapshot", work["snap"], "--format", "json", "--config", str(cfg))
    assert before.returncode == after.returncode == 0
    assert json.loads(before.stdout)["summary"] == json.loads(after.stdout)["summary"]
    # -v after `policy test` (and before it) lists every test; without it only failures and totals.
    quiet = pdguard("policy", "test")
    loud = pdguard("policy", "test", "-v")
    loud2 = pdguard("-v", "policy", "test")
    assert quiet.returncode == loud.returncode == 0
    assert ": PASS" not in quiet.stdout and ": PASS" in loud.stdout and loud.stdout == loud2.stdout


def test_verbosity_levels_and_no_token(tmp_path: Path) -> None:
    with serve(sample_account(), tokens={TOKEN}) as server:
        v = pdguard("scan", "-v", "--api-url", server.url, "-q", "-o", str(tmp_path / "a.json"), env={"PAGERDUTY_API_KEY": TOKEN})
        vv = pdguard("scan", "--api-url", server.url, "-q", "-vv", "-o", str(tmp_path / "b.json"),
                     env={"PAGERDUTY_API_KEY": TOKEN})
    assert v.returncode == vv.returncode == 0, (v.stderr, vv.stderr)
    assert "HTTP Request" not in v.stderr  # -v: retries and waits only
    requests = [ln for ln in vv.stderr.splitlines() if "HTTP Request: GET" in ln]
    assert len(requests) >= 10  # -vv: every request
    assert TOKEN not in v.stderr + vv.stderr


def test_demo_grammar_and_deprecated_spellings(tmp_path: Path) -> None:
    r = pdguard("demo", "--format", "html=demo.html", "--format", "json=demo.json", "--save-snapshot", "snap.json",
                cwd=tmp_path)
    assert r.returncode == 1, r.stderr
    assert (tmp_path / "demo.html").read_text().startswith("<!doctype html>")
    assert json.loads((tmp_path / "demo.json").read_text())["findings"]
    assert (tmp_path / "pdguard-demo.sarif").exists()  # the default SARIF file when no sarif format is given
    assert json.loads((tmp_path / "snap.json").read_text())["meta"]["complete"] is True
    old = pdguard("demo", "--sarif", "old.sarif", "--snapshot", "old-snap.json", cwd=tmp_path)
    assert old.returncode == 1
    assert json.loads((tmp_path / "old.sarif").read_text())["version"] == "2.1.0"
    assert (tmp_path / "old-snap.json").exists()
    assert "demo --sarif FILE is deprecated; use --format sarif=old.sarif" in old.stderr
    assert "--save-snapshot FILE (--snapshot always reads)" in old.stderr


def test_check_with_every_format_in_files_prints_a_summary(work: dict, tmp_path: Path) -> None:
    r = pdguard("check", "--snapshot", work["snap"], "--format", f"json={tmp_path}/r.json",
                "--format", f"markdown={tmp_path}/r.md")
    assert r.returncode == 1 and r.stdout == ""
    line = r.stderr.strip().splitlines()[-1]
    assert line.startswith("pdguard: ") and "findings (" in line and "failing (>= high)" in line and "r.json" in line


def _targets(tmp_path: Path) -> tuple[Path, Path, Path]:
    real = tmp_path / "real"
    real.mkdir()
    (real / "target.out").write_text("stale")
    link = tmp_path / "link.out"
    link.symlink_to(real / "target.out")
    dev = tmp_path / "null"
    try:
        os.mknod(dev, stat.S_IFCHR | 0o666, os.makedev(1, 3))
    except OSError as exc:
        pytest.skip(f"cannot create a device node ({exc.strerror}): needs root")
    os.chmod(dev, 0o666)  # like /dev/null (mknod applied the umask)
    return real / "target.out", link, dev


@pytest.mark.parametrize("cmd", ["scan", "check", "codify", "demo", "policy doc", "policy bundle", "schema",
                                 "inventory list"])
def test_every_file_output_writes_through_symlinks_and_never_replaces_devices(work: dict, tmp_path: Path, cmd: str) -> None:
    target, link, dev = _targets(tmp_path)
    with serve(sample_account(), tokens={TOKEN}) as server:
        argv = {
            "scan": ["scan", "--api-url", server.url, "-q", "-o", "{out}"],
            "check": ["check", "--snapshot", work["snap"], "--format", "sarif={out}"],
            "codify": ["codify", "--snapshot", work["snap"], "-o", "{out}"],
            "demo": ["demo", "--format", "sarif={out}"],
            "policy doc": ["policy", "doc", "-o", "{out}"],
            "policy bundle": ["policy", "bundle", "-o", "{out}"],
            "schema": ["schema", "-o", "{out}"],
            "inventory list": ["inventory", "list", "--store", work["store"], "--format", "json={out}"],
        }[cmd]
        for out in (link, dev):
            r = pdguard(*[a.format(out=out) for a in argv], cwd=tmp_path, env={"PAGERDUTY_API_KEY": TOKEN})
            assert r.returncode in (0, 1), (cmd, r.stderr)
    assert link.is_symlink() and target.read_bytes() != b"stale" and len(target.read_bytes()) > 50
    st = dev.lstat()
    assert stat.S_ISCHR(st.st_mode) and os.minor(st.st_rdev) == 3
    assert stat.S_IMODE(st.st_mode) == 0o666, oct(st.st_mode)  # written, never replaced nor chmod-ed


@pytest.mark.parametrize("cmd", ["scan", "check", "check --save-snapshot", "codify", "demo", "policy doc",
                                 "policy bundle", "schema", "inventory list"])
def test_every_file_output_refuses_a_dangling_symlink(work: dict, tmp_path: Path, cmd: str) -> None:
    """An output that is a symlink to nothing: one line, exit 2, and nothing created where it points
    (it used to create the target and its missing directories), before any scan or evaluation."""
    link = tmp_path / "out.file"
    link.symlink_to(tmp_path / "nowhere" / "deeper" / "target.file")
    with serve(sample_account(), tokens={TOKEN}) as server:
        argv = {
            "scan": ["scan", "--api-url", server.url, "-q", "-o", str(link)],
            "check": ["check", "--snapshot", work["snap"], "--format", "table", "--format", f"sarif={link}"],
            "check --save-snapshot": ["check", "--api-url", server.url, "-q", "--save-snapshot", str(link)],
            "codify": ["codify", "--snapshot", work["snap"], "-o", str(link)],
            "demo": ["demo", "--format", f"sarif={link}"],
            "policy doc": ["policy", "doc", "-o", str(link)],
            "policy bundle": ["policy", "bundle", "-o", str(link)],
            "schema": ["schema", "-o", str(link)],
            "inventory list": ["inventory", "list", "--store", work["store"], "--format", f"json={link}"],
        }[cmd]
        r = pdguard(*argv, cwd=tmp_path, env={"PAGERDUTY_API_KEY": TOKEN})
    assert r.returncode == 2, (cmd, r.stdout[-300:], r.stderr)
    lines = r.stderr.strip().splitlines()
    assert len(lines) == 1 and "Traceback" not in r.stderr, r.stderr
    assert "symbolic link to" in lines[0] and "does not exist" in lines[0], lines[0]
    assert r.stdout == "", r.stdout[-300:]  # refused before the table, the scan or the demo ran
    assert link.is_symlink() and not (tmp_path / "nowhere").exists()


def test_a_format_on_stdout_and_in_a_file_is_rendered_once(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                            capsys: pytest.CaptureFixture[str]) -> None:
    from report_fixtures import sample_report

    from pdguard.cligrammar import parse_formats
    from pdguard.output import FORMATS
    from pdguard.output.json import JSONOutput
    from pdguard.pipeline import render_outputs

    calls = []
    real = JSONOutput.render
    monkeypatch.setattr(JSONOutput, "render", lambda self, r, color=False: calls.append(color) or real(self, r))
    specs = parse_formats(("json", f"json={tmp_path}/r.json"), None, kinds=FORMATS)
    assert render_outputs(sample_report(), specs) == [f"{tmp_path}/r.json"]
    assert calls == [False]
    out = capsys.readouterr().out
    assert json.loads(out)["findings"] and out == (tmp_path / "r.json").read_text()
