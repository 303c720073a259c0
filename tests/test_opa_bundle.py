"""`pdguard policy bundle`: what goes into the OPA bundle, its revision, and signatures real OPA checks.

The bundle is read back as OPA reads it: `opa inspect`, `opa run --server --bundle` and, for signed
bundles, `opa run --verification-key`, which must accept pdguard's signature and refuse a bundle
changed after signing. Policies are taken from the library as it is (never assumed by name), so
these tests hold whatever the built-in policies become.
"""

from __future__ import annotations

import io
import json
import subprocess
import tarfile
from pathlib import Path

import httpx
import pytest
import yaml
from conftest import OpaServer, free_port, require_opa, run_pdguard

from pdguard.config import Config
from pdguard.engine.base import entry_module
from pdguard.engine.bundle import bundle_roots, config_data, file_digest, policy_revision
from pdguard.engine.loader import builtin_policy_dir, load_policies
from pdguard.engine.metadata import parse_module
from pdguard.evaluate import enabled_policies
from pdguard.snapshot import SCHEMA_VERSION

SECRET = "hs256-Secret-NEVER-SHOWN-4711"


def members(path: Path) -> dict[str, bytes]:
    with tarfile.open(path) as tar:
        return {m.name: tar.extractfile(m).read() for m in tar.getmembers()}  # type: ignore[union-attr]


def build(tmp_path: Path, *args: str, config: dict | None = None, name: str = "bundle.tar.gz") -> Path:
    cfg_args: list[str] = []
    if config is not None:
        (tmp_path / "pdguard.yaml").write_text(yaml.safe_dump(config))
        cfg_args = ["--config", str(tmp_path / "pdguard.yaml")]
    out = tmp_path / name
    r = run_pdguard(*cfg_args, "policy", "bundle", "-o", str(out), *args, cwd=tmp_path)
    assert r.returncode == 0, r.stderr
    return out


@pytest.fixture(scope="module")
def rsa_keys(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import rsa

    d = tmp_path_factory.mktemp("keys")
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    (d / "private.pem").write_bytes(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                                      serialization.NoEncryption()))
    (d / "public.pem").write_bytes(key.public_key().public_bytes(serialization.Encoding.PEM,
                                                                 serialization.PublicFormat.SubjectPublicKeyInfo))
    return d / "private.pem", d / "public.pem"


# -- contents (no OPA needed) -----------------------------------------------------------------


def test_bundle_holds_policies_entry_module_and_config(tmp_path: Path) -> None:
    out = build(tmp_path)
    files = members(out)
    ps = load_policies([], builtin=True)
    targets = enabled_policies(ps, Config())
    manifest = json.loads(files[".manifest"])
    assert json.loads(files["data.json"]) == {"pdguard": {"config": Config().policy_settings()}}
    assert files["pdguard_entry.rego"].decode() == entry_module(targets)
    library = {str(p.relative_to(builtin_policy_dir()).as_posix()): p.read_bytes()
               for p in builtin_policy_dir().rglob("*.rego")}
    policies = {f"policies/{k}": v for k, v in library.items() if not k.endswith("_test.rego")}
    assert {k: v for k, v in files.items() if k.startswith("policies/")} == policies  # texts as they are, no tests
    assert set(files) == {".manifest", "data.json", "pdguard_entry.rego", *policies}
    assert manifest["revision"] == policy_revision(ps.sources, entry_module(targets), config_data(Config().policy_settings()))
    assert manifest["roots"] == ["pdguard", "pdguard_entry"]
    assert manifest["rego_version"] == 1
    assert manifest["metadata"]["pdguard"]["policies"] == sorted(m.info.id for m in targets if m.info)
    assert build(tmp_path, name="again.tar.gz").read_bytes() == out.read_bytes()  # reproducible


def test_pdguard_yaml_decides_config_and_entry_module(tmp_path: Path) -> None:
    ps = load_policies([], builtin=True)
    first = enabled_policies(ps, Config())[0]
    assert first.info is not None
    default = json.loads(members(build(tmp_path, name="default.tar.gz"))[".manifest"])["revision"]
    out = build(tmp_path, config={"settings": {"min_escalation_levels": 7},
                                  "policies": {first.info.id: {"enabled": False}}})
    files = members(out)
    assert json.loads(files["data.json"])["pdguard"]["config"]["min_escalation_levels"] == 7
    assert f"data.{first.package}." not in files["pdguard_entry.rego"].decode()
    assert first.info.id not in json.loads(files[".manifest"])["metadata"]["pdguard"]["policies"]
    assert json.loads(files[".manifest"])["revision"] != default


def test_user_policies_and_their_packages_become_roots(tmp_path: Path) -> None:
    user = tmp_path / "mine"
    (user / "lib").mkdir(parents=True)
    (user / "lib" / "helpers.rego").write_text("package acme.lib\n\nsame(a, b) if a == b\n")
    (user / "owner.rego").write_text(
        "# METADATA\n# title: Owner\n# custom:\n#   id: ACME-1\n#   severity: low\npackage acme.rules.owner\n\n"
        "deny contains f if {\n  some s in input.services\n  data.acme.lib.same(s.name, \"x\")\n"
        "  f := {\"msg\": \"x\", \"resource\": {\"type\": \"service\", \"id\": s.id}}\n}\n")
    (user / "owner_test.rego").write_text("package acme.rules.owner_test\n\ntest_x if true\n")
    (user / "inside.rego").write_text("package pdguard.custom.inside\n\nx := 1\n")
    files = members(build(tmp_path, "--policy", str(user)))
    manifest = json.loads(files[".manifest"])
    assert manifest["roots"] == ["acme/lib", "acme/rules/owner", "pdguard", "pdguard_entry"]
    names = [n for n in files if n.endswith(".rego")]
    assert not [n for n in names if n.endswith("_test.rego")] and all(".." not in n for n in names)
    assert sum(n.endswith(("mine/owner.rego", "mine/lib/helpers.rego", "mine/inside.rego")) for n in names) == 3
    assert "data.acme.rules.owner.deny" in files["pdguard_entry.rego"].decode()
    only_user = members(build(tmp_path, "--policy", str(user), "--no-builtin", name="user.tar.gz"))
    # No built-in policy, but the Rego library user policies build on (data.pdguard.lib) is always there.
    assert [n for n in only_user if n.startswith("policies/")] == ["policies/lib/pdguard.rego", "policies/lib/testing.rego"]


def test_roots_cover_without_overlap() -> None:
    mods = [parse_module(f"{p}.rego", f"package {p}\n") for p in ("acme", "acme.rules", 'x.y["a-b"]', "pdguard_entry.y")]
    assert bundle_roots(mods) == ["acme", "pdguard", "pdguard_entry", "x/y/a-b"]


def test_revision_is_the_content_not_the_paths() -> None:
    ps = load_policies([], builtin=True)
    targets = enabled_policies(ps, Config())
    data = config_data(Config().policy_settings())
    rev = policy_revision(ps.sources, entry_module(targets), data)
    moved = [parse_module(f"elsewhere/{i}.rego", m.text) for i, m in enumerate(reversed(ps.sources))]
    assert policy_revision(moved, entry_module(targets), data) == rev
    edited = [parse_module(m.path, m.text + ("\n" if i == 0 else "")) for i, m in enumerate(ps.sources)]
    assert policy_revision(edited, entry_module(targets), data) != rev
    assert policy_revision(ps.sources, entry_module(targets[1:]), data) != rev
    assert policy_revision(ps.sources, entry_module(targets), config_data({"min_escalation_levels": 9})) != rev


@pytest.mark.parametrize("args, message", [
    (["--signing-key", "not-a-pem-and-not-a-file"], "must be a PEM"),
    (["--signing-key", "-----BEGIN PRIVATE KEY-----\nnonsense\n-----END PRIVATE KEY-----\n"], "not a readable PEM"),
    (["--signing-key", "", "--signing-alg", "HS256"], "--signing-key is empty"),
    (["--signing-key", "{empty}", "--signing-alg", "HS256"], "secret is empty"),
])
def test_bad_signing_key_is_one_line_exit_2(tmp_path: Path, args: list[str], message: str) -> None:
    (tmp_path / "empty.key").write_text("")
    args = [a.replace("{empty}", str(tmp_path / "empty.key")) for a in args]
    r = run_pdguard("policy", "bundle", "-o", str(tmp_path / "b.tar.gz"), *args, cwd=tmp_path)
    assert r.returncode == 2 and message in r.stderr and "Traceback" not in r.stderr
    assert len(r.stderr.strip().splitlines()) == 1 and not (tmp_path / "b.tar.gz").exists()


# A user policy declaring settings of every JSON kind (METADATA custom.settings: name -> default)
SETTINGS_POLICY = """# METADATA
# title: Reads odd settings
# custom:
#   id: ACME-SET-1
#   severity: low
#   settings: {note: "", ratio: 0.5, tiny: 0.0, big: 1.0, list: []}
package acme.settings_reader

deny contains {"msg": data.pdguard.config.note, "resource": {"type": "x", "id": "y"}} if false
"""


def settings_policy(tmp_path: Path) -> str:
    (tmp_path / "reader.rego").write_text(SETTINGS_POLICY)
    return str(tmp_path / "reader.rego")


def test_settings_without_a_json_form_are_a_config_error(tmp_path: Path) -> None:
    (tmp_path / "pdguard.yaml").write_text("settings:\n  ratio: .nan\n")
    r = run_pdguard("--config", str(tmp_path / "pdguard.yaml"), "policy", "bundle", "-o", str(tmp_path / "b.tar.gz"),
                    "--policy", settings_policy(tmp_path))
    assert r.returncode == 2 and "settings.ratio" in r.stderr and not (tmp_path / "b.tar.gz").exists()


def test_structured_files_are_hashed_in_canonical_form() -> None:
    a = b'{"b": [1.50, {"y": null, "x": true}], "a": "<&>\\u2028\\n\\u0001"}'
    b = b'{"a":"<&>\\u2028\\n\\u0001",\n "b":[1.50,{"x":true,"y":null}]}'
    assert file_digest("data.json", a) == file_digest("data.json", b)
    assert file_digest("data.json", a) != file_digest("data.json", a.replace(b"1.50", b"1.5"))  # numbers as written
    assert file_digest("x.rego", a) != file_digest("x.rego", b)  # other files: byte for byte


# -- real OPA -----------------------------------------------------------------------------------


def test_opa_inspect_shows_the_manifest(tmp_path: Path) -> None:
    opa = require_opa()
    out = build(tmp_path)
    manifest = json.loads(members(out)[".manifest"])
    r = subprocess.run([opa, "inspect", "--format", "json", str(out)], capture_output=True, text=True, timeout=60)
    assert r.returncode == 0, r.stderr
    shown = json.loads(r.stdout)["manifest"]
    assert shown["revision"] == manifest["revision"] and shown["roots"] == manifest["roots"]


def test_opa_run_serves_the_bundle_as_it_is(tmp_path: Path) -> None:
    out = build(tmp_path, config={"settings": {"min_escalation_levels": 5}})
    revision = json.loads(members(out)[".manifest"])["revision"]
    with OpaServer(["--bundle", str(out)]) as opa:
        bundles = httpx.get(f"{opa.url}/v1/data/system/bundles").json()["result"]
        assert [b["manifest"]["revision"] for b in bundles.values()] == [revision]
        config = httpx.get(f"{opa.url}/v1/data/pdguard/config").json()["result"]
        assert config == {**Config().policy_settings(), "min_escalation_levels": 5}
        entry = httpx.post(f"{opa.url}/v1/data/pdguard_entry/result", json={"input": {"schema_version": SCHEMA_VERSION, "meta": {"scanned_at": "2026-11-26T09:00:00Z", "collections": []}}}).json()["result"]
        packages = {m.package for m in enabled_policies(load_policies([], builtin=True), Config())}
        assert set(entry["results"]) == packages


def opa_refuses(bundle: Path, *verify: str) -> str:
    """Start `opa run --server --bundle` with verification flags; return its error (it must exit)."""
    proc = subprocess.Popen([require_opa(), "run", "--server", f"--addr=127.0.0.1:{free_port()}", "--bundle",
                             str(bundle), *verify], stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        out, _ = proc.communicate(timeout=20)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.communicate()
        pytest.fail(f"OPA accepted {bundle.name} (still serving after 20 s)")
    assert proc.returncode != 0
    return out


def rewrite(src: Path, dst: Path, change: dict[str, bytes | None], add: dict[str, bytes] | None = None) -> Path:
    """A copy of bundle `src` with files changed (None: removed) or added, signatures kept as they were."""
    with tarfile.open(src) as tin, tarfile.open(dst, "w:gz") as tout:
        for m in tin.getmembers():
            data = tin.extractfile(m).read()  # type: ignore[union-attr]
            if m.name in change:
                if change[m.name] is None:
                    continue
                data = change[m.name]  # type: ignore[assignment]
            m.size = len(data)
            tout.addfile(m, io.BytesIO(data))
        for name, data in (add or {}).items():
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tout.addfile(info, io.BytesIO(data))
    return dst


@pytest.mark.parametrize("alg", ["RS256", "HS256"])
def test_signed_bundle_is_verified_and_a_tampered_one_refused(tmp_path: Path, alg: str, rsa_keys) -> None:
    private, public = rsa_keys
    sign_key, verify_key = (str(private), str(public)) if alg == "RS256" else (SECRET, SECRET)
    # Settings with what canonical hashing must get right: HTML characters, line separators,
    # control characters, non-ASCII, backslashes, numbers as written, nesting.
    settings = {"service_name_pattern": "^[a-z0-9<&>]+(-\\d+)*$", "note": "é\u2028\u2029\x01\x7f\t\"q\"",
                "ratio": 1.5, "tiny": 1e-07, "big": 100.0, "list": [1, "two", None, True, {"k": []}]}
    signed = build(tmp_path, "--signing-key", sign_key, "--signing-alg", alg, "--policy", settings_policy(tmp_path),
                   config={"settings": settings})
    files = members(signed)
    assert ".signatures.json" in files
    verify = ["--verification-key", verify_key, "--signing-alg", alg]
    with OpaServer(["--bundle", str(signed), *verify]) as opa:
        assert httpx.get(f"{opa.url}/v1/data/pdguard/config/note").json()["result"] == settings["note"]

    policy = next(n for n in files if n.startswith("policies/"))
    tampered = {
        "policy": ({policy: files[policy].replace(b"deny contains", b"deny_off contains", 1)}, None),
        "config": ({"data.json": files["data.json"].replace(b'"min_escalation_levels":2', b'"min_escalation_levels":9')}, None),
        "manifest": ({".manifest": files[".manifest"].replace(b'"revision":"', b'"revision":"0', 1)}, None),
        "removed": ({policy: None}, None),
        "added": ({}, {"policies/extra.rego": b"package pdguard.extra\n\ndeny contains 1\n"}),
    }
    for what, (change, add) in tampered.items():
        assert change or add
        if what == "config":
            assert b'"min_escalation_levels":2' in files["data.json"]
        bad = rewrite(signed, tmp_path / f"{what}.tar.gz", change, add)
        out = opa_refuses(bad, *verify)
        assert any(s in out for s in ("digest mismatch", "not found in the target bundle",
                                      "not included in bundle signature")), (what, out[-300:])
    wrong = ["--verification-key", "another-secret", "--signing-alg", "HS256"] if alg == "HS256" else verify
    if alg == "HS256":
        assert "signature" in opa_refuses(signed, *wrong)
    unsigned = build(tmp_path, "--policy", settings_policy(tmp_path), name="unsigned.tar.gz")
    assert ".signatures.json" in opa_refuses(unsigned, *verify)
    r = run_pdguard("policy", "bundle", "-o", str(tmp_path / "x.tar.gz"), "--signing-key", sign_key,
                    "--signing-alg", alg, "--policy", settings_policy(tmp_path), cwd=tmp_path)
    assert r.returncode == 0 and SECRET not in r.stdout + r.stderr
