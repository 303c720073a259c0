"""A read-only OPA sidecar: `check --engine opa --opa-preloaded` against `opa run --server --bundle`.

The sidecar runs as docker-compose runs it: pdguard's bundle, the repository's `opa/system` bundle
(authorization policy + decision-log mask) and `opa/config.yaml` (decision logs on), with
`--authentication=token --authorization=basic`. pdguard must get the embedded engine's findings
through the one query the authorization policy allows, record the bundle revision and the
decision_id that OPA's decision log shows, and fail (exit 2, with the fix) when the server has no
bundle or another revision. Everything runs against the real `opa`; nothing fakes its answers.
"""

from __future__ import annotations

import json
from pathlib import Path

import httpx
import pytest
from conftest import REPO, OpaServer, require_opa, run_pdguard, scan_account

from pdguard.snapshot import dump_document

TOKEN = "opa-Tok3n-NEVER-SHOWN-1234"


@pytest.fixture(scope="module")
def workdir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    require_opa()
    from pdguard.simulator import generate_account, sample_account

    d = tmp_path_factory.mktemp("sidecar")
    (d / "sample.json").write_bytes(dump_document(scan_account(sample_account())))
    generated = generate_account(services=120, escalation_policies=20, schedules=12, users=50, teams=8,
                                 incidents=300, business_services=4, seed=11)
    (d / "generated.json").write_bytes(dump_document(scan_account(generated)))
    r = run_pdguard("policy", "bundle", "-o", str(d / "pdguard-bundle.tar.gz"), cwd=d)
    assert r.returncode == 0, r.stderr
    return d


def bundle_revision(bundle: Path) -> str:
    import tarfile

    with tarfile.open(bundle) as tar:
        return json.loads(tar.extractfile(".manifest").read())["revision"]  # type: ignore[union-attr]


def sidecar(workdir: Path, bundle: Path | None = None, token: str = TOKEN) -> OpaServer:
    """OPA as the compose sidecar runs it (read-only authorization, decision logs on the console)."""
    return OpaServer(["--config-file", str(REPO / "opa" / "config.yaml"), "--authentication=token",
                      "--authorization=basic", "--bundle", str(bundle or workdir / "pdguard-bundle.tar.gz"),
                      str(REPO / "opa" / "system")],
                     env={"PDGUARD_OPA_TOKEN": token}, log_path=workdir / "opa.log")


@pytest.fixture(scope="module")
def opa(workdir: Path):
    with sidecar(workdir) as server:
        yield server


def check(workdir: Path, snapshot: str, *args: str, out: str = "report") -> tuple[int, str, dict]:
    report = workdir / f"{out}.json"
    report.unlink(missing_ok=True)
    r = run_pdguard("check", "--snapshot", str(workdir / snapshot), "--fail-on", "none", "--format",
                    f"json={report}", "--format", f"sarif={workdir / out}.sarif", *args, cwd=workdir)
    return r.returncode, r.stdout + r.stderr, json.loads(report.read_text()) if report.exists() else {}


@pytest.mark.parametrize("snapshot", ["sample.json", "generated.json"])
def test_read_only_sidecar_gives_the_embedded_findings(workdir: Path, opa: OpaServer, snapshot: str) -> None:
    code, output, report = check(workdir, snapshot, "--engine", "opa", "--opa-url", opa.url, "--opa-preloaded",
                                 "--opa-token", TOKEN, out="opa")
    assert code == 0, output
    code, output, embedded = check(workdir, snapshot, out="embedded")
    assert code == 0, output

    def key(f: dict) -> tuple:
        return f["fingerprint"], f["policy_id"], f["resource"]["type"], f["resource"]["id"], f["msg"]

    assert embedded["findings"], "the account must produce findings for this comparison to mean something"
    assert [key(f) for f in report["findings"]] == [key(f) for f in embedded["findings"]]
    assert report["summary"] == embedded["summary"]

    revision = bundle_revision(workdir / "pdguard-bundle.tar.gz")
    evaluation = report["meta"]["evaluation"]
    assert evaluation["engine"] == "opa" and evaluation["bundle_revision"] == revision
    assert evaluation["policy_revision"] == revision == embedded["meta"]["evaluation"]["policy_revision"]
    assert evaluation["bundle"].endswith("pdguard-bundle.tar.gz")
    sarif = json.loads((workdir / "opa.sarif").read_text())
    assert sarif["runs"][0]["properties"]["evaluation"] == evaluation
    assert TOKEN not in output + json.dumps(report) + json.dumps(sarif)

    # The decision_id leads to OPA's decision log entry: same revision, same findings, snapshot masked.
    logged = [json.loads(line) for line in opa.log().splitlines()
              if line.startswith("{") and '"Decision Log"' in line]
    entry = next(e for e in logged if e.get("decision_id") == evaluation["decision_id"])
    assert entry["path"] == "pdguard_entry/result"
    assert revision in [b["revision"] for b in entry["bundles"].values()]
    assert set(entry["input"]) == {"meta"} and entry["input"]["meta"]["scanned_at"] == report["meta"]["scanned_at"]
    denies = sum(len(r.get("deny") or []) + len(r.get("warn") or []) for r in entry["result"]["results"].values())
    assert denies == len(report["findings"]) + len(report["waived"])


def test_authorization_allows_only_health_and_the_query(opa: OpaServer) -> None:
    auth = {"Authorization": f"Bearer {TOKEN}"}
    assert httpx.get(f"{opa.url}/health").status_code == 200
    assert httpx.post(f"{opa.url}/v1/data/pdguard_entry/result", json={"input": {}}, headers=auth).status_code == 200
    refused = [
        httpx.post(f"{opa.url}/v1/data/pdguard_entry/result", json={"input": {}}),  # no token
        httpx.post(f"{opa.url}/v1/data/pdguard_entry/result", json={"input": {}}, headers={"Authorization": "Bearer x"}),
        httpx.put(f"{opa.url}/v1/policies/evil", content="package evil\n", headers=auth),
        httpx.put(f"{opa.url}/v1/data/pdguard/config", json={}, headers=auth),
        httpx.patch(f"{opa.url}/v1/data/pdguard/config", json=[], headers=auth),
        httpx.delete(f"{opa.url}/v1/data/pdguard", headers=auth),
        httpx.get(f"{opa.url}/v1/data/pdguard/config", headers=auth),
        httpx.post(f"{opa.url}/v1/data/system/bundles", json={}, headers=auth),
        httpx.get(f"{opa.url}/v1/policies", headers=auth),
        httpx.get(f"{opa.url}/v1/config", headers=auth),
    ]
    assert [r.status_code for r in refused] == [401] * len(refused)


def test_without_the_token_exit_2_naming_the_flag(workdir: Path, opa: OpaServer) -> None:
    code, output, _ = check(workdir, "sample.json", "--engine", "opa", "--opa-url", opa.url, "--opa-preloaded")
    assert code == 2 and "refused" in output and "--opa-token" in output and "Traceback" not in output


def test_uploading_to_a_read_only_sidecar_fails_closed(workdir: Path, opa: OpaServer) -> None:
    code, output, report = check(workdir, "sample.json", "--engine", "opa", "--opa-url", opa.url,
                                 "--opa-token", TOKEN)
    assert code == 2 and not report and "Traceback" not in output
    assert TOKEN not in output


def test_server_without_a_bundle_exit_2_with_the_fix(workdir: Path) -> None:
    with OpaServer([]) as plain:
        code, output, report = check(workdir, "sample.json", "--engine", "opa", "--opa-url", plain.url,
                                     "--opa-preloaded")
        assert code == 2 and not report
        assert "no pdguard bundle" in output and "pdguard policy bundle -o" in output
        assert "opa run --server --bundle" in output
        # A server someone uploaded the entry module to is not a bundle either.
        code, output, _ = check(workdir, "sample.json", "--engine", "opa", "--opa-url", plain.url)
        assert code == 0, output
        code, output, report = check(workdir, "sample.json", "--engine", "opa", "--opa-url", plain.url,
                                     "--opa-preloaded")
        assert code == 2 and not report and "not loaded from a bundle" in output


def test_bundle_with_the_revision_but_no_entry_module_exit_2(workdir: Path, tmp_path: Path) -> None:
    """An (unsigned) bundle edited after the fact: right manifest, entry module gone. Fail closed."""
    import tarfile

    broken = tmp_path / "broken.tar.gz"
    with tarfile.open(workdir / "pdguard-bundle.tar.gz") as tin, tarfile.open(broken, "w:gz") as tout:
        for m in tin.getmembers():
            if m.name != "pdguard_entry.rego":
                tout.addfile(m, tin.extractfile(m))
    with OpaServer(["--bundle", str(broken)]) as server:
        code, output, report = check(workdir, "sample.json", "--engine", "opa", "--opa-url", server.url,
                                     "--opa-preloaded")
    assert code == 2 and not report and "undefined result" in output


def test_server_with_another_revision_exit_2_naming_both(workdir: Path, tmp_path: Path) -> None:
    (tmp_path / "pdguard.yaml").write_text("settings:\n  min_escalation_levels: 4\n")
    other = tmp_path / "other.tar.gz"
    r = run_pdguard("--config", str(tmp_path / "pdguard.yaml"), "policy", "bundle", "-o", str(other), cwd=tmp_path)
    assert r.returncode == 0, r.stderr
    with sidecar(workdir, other) as server:
        code, output, report = check(workdir, "sample.json", "--engine", "opa", "--opa-url", server.url,
                                     "--opa-preloaded", "--opa-token", TOKEN)
        assert code == 2 and not report
        assert bundle_revision(other) in output and bundle_revision(workdir / "pdguard-bundle.tar.gz") in output
        # With the same pdguard.yaml the revisions agree.
        r = run_pdguard("--config", str(tmp_path / "pdguard.yaml"), "check", "--snapshot", str(workdir / "sample.json"),
                        "--engine", "opa", "--opa-url", server.url, "--opa-preloaded", "--opa-token", TOKEN,
                        "--fail-on", "none", cwd=tmp_path)
        assert r.returncode == 0, r.stderr


def test_policy_test_on_opa(opa_url: str) -> None:
    from pdguard.engine.loader import load_policies

    n = sum(len(m.tests) for m in load_policies([], builtin=True, tests=True).tests)
    r = run_pdguard("policy", "test", "--engine", "opa", "--opa-url", opa_url)
    assert r.returncode == 0, r.stdout + r.stderr
    assert f"PASS: {n}/{n}" in r.stdout and n > 0
