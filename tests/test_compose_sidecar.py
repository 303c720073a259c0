"""docker-compose.yml, run without Docker: its own command lines against a real OPA and the simulator.

There is no Docker daemon here, so the test plays compose's part: it reads docker-compose.yml, maps
each container path to the checkout (bind mounts) or a temporary directory (named volumes) and the
sidecar's address to a free loopback port, interpolates `${VAR...}` like compose, then runs
- the `bundle` job's command with the pdguard image's entrypoint (`pdguard`, from the Dockerfile),
- the `opa` service's command with the real `opa` binary (the image's entrypoint), until its own
  health check URL answers,
- the `pdguard` service's command with `--once` (one watch tick) and `--api-url` of the simulator.
Whatever the compose file says is what runs, so it cannot drift from what is tested.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
import yaml
from conftest import REPO, OpaServer, free_port, require_opa

from pdguard.config import Config

API_KEY = "pd-compose-KEY-NEVER-SHOWN"
OPA_TOKEN = "opa-compose-TOKEN-NEVER-SHOWN"


def interpolate(value: str, env: dict[str, str]) -> str:
    """Compose's ${VAR}, ${VAR:-default}, ${VAR-default}, ${VAR:?error}, ${VAR?error} and $$."""
    def one(m: re.Match[str]) -> str:
        if m.group(0) == "$$":
            return "$"
        name, op, arg = m.group("name"), m.group("op") or "", m.group("arg") or ""
        val = env.get(name)
        unset = val is None or (op.startswith(":") and not val)  # `:` also treats empty as unset
        if op.endswith("-"):
            return arg if unset else val  # type: ignore[return-value]
        if op.endswith("?"):
            if unset:
                raise AssertionError(f"compose would refuse to start: {name}: {arg}")
            return val  # type: ignore[return-value]
        return val or ""
    return re.sub(r"\$\$|\$\{(?P<name>\w+)(?:(?P<op>:?[-?])(?P<arg>[^}]*))?\}", one, value)


class Compose:
    def __init__(self, tmp: Path, env: dict[str, str]) -> None:
        self.doc = yaml.safe_load((REPO / "docker-compose.yml").read_text())
        self.services = self.doc["services"]
        self.tmp, self.env = tmp, env
        self.ports: dict[str, int] = {}  # service -> loopback port standing for its container port

    def mounts(self, service: str) -> dict[str, Path]:
        out: dict[str, Path] = {}
        for spec in self.services[service].get("volumes", []):
            source, target = spec.split(":")[:2]
            if source.startswith((".", "/")):
                out[target] = (REPO / source).resolve()
            else:
                assert source in self.doc.get("volumes", {}), f"undeclared volume {source}"
                out[target] = self.tmp / "volumes" / source
                out[target].mkdir(parents=True, exist_ok=True)
        return out

    def map_args(self, service: str, args: list[str]) -> list[str]:
        mounts = self.mounts(service)
        mapped = []
        for arg in (interpolate(str(a), self.env) for a in args):
            for target in sorted(mounts, key=len, reverse=True):
                arg = re.sub(rf"(?<![\w.-]){re.escape(target)}(?=/|$)", str(mounts[target]), arg)
            mapped.append(self.map_network(service, arg))
        return mapped

    def map_network(self, service: str, value: str) -> str:
        """`opa:8181` (from another service), `0.0.0.0:8181` / `127.0.0.1:8181` (inside its own) -> 127.0.0.1:<port>."""
        for name, port in self.ports.items():
            container_port = self.services[name]["ports"][0].rsplit(":", 1)[1]
            hosts = [name] + (["0.0.0.0", "127.0.0.1", "localhost"] if name == service else [])
            for host in hosts:
                value = value.replace(f"{host}:{container_port}", f"127.0.0.1:{port}")
        return value

    def environment(self, service: str) -> dict[str, str]:
        base = {k: v for k, v in os.environ.items() if not k.startswith(("PAGERDUTY_", "PDGUARD_"))}
        own = self.services[service].get("environment", {})
        return {**base, **{k: self.map_network(service, interpolate(str(v), self.env)) for k, v in own.items()}}


def image_entrypoint() -> list[str]:
    """The pdguard image's ENTRYPOINT from the Dockerfile (a JSON array)."""
    line = next(ln for ln in (REPO / "Dockerfile").read_text().splitlines() if ln.startswith("ENTRYPOINT"))
    return json.loads(line.removeprefix("ENTRYPOINT"))


def test_compose_file_runs_as_written(tmp_path: Path) -> None:
    require_opa()
    from pdguard.inventory.store import Store
    from pdguard.simulator import sample_account, serve

    compose = Compose(tmp_path, {"PAGERDUTY_API_KEY": API_KEY, "PDGUARD_OPA_TOKEN": OPA_TOKEN})
    services = compose.services
    assert image_entrypoint() == ["pdguard"]
    assert services["opa"]["image"].startswith("openpolicyagent/opa:1.9.0")  # the version CI's opa is
    assert services["opa"]["depends_on"]["bundle"]["condition"] == "service_completed_successfully"
    assert services["pdguard"]["depends_on"]["opa"]["condition"] == "service_healthy"
    assert "--opa-preloaded" in services["pdguard"]["command"]
    assert all(v.endswith(":ro") for v in services["opa"]["volumes"]), "the sidecar only reads its files"
    with pytest.raises(AssertionError, match="PAGERDUTY_API_KEY"):
        Compose(tmp_path, {}).environment("pdguard")  # `docker compose up` without a key refuses to start

    # 1. The bundle job, as the pdguard image runs it (cwd: an empty /app: no pdguard.yaml there).
    app = tmp_path / "app"
    app.mkdir()
    cmd = compose.map_args("bundle", services["bundle"]["command"])
    r = subprocess.run([sys.executable, "-m", "pdguard", *cmd], cwd=app, env=compose.environment("bundle"),
                       capture_output=True, text=True, timeout=120)
    assert r.returncode == 0, r.stderr
    revision = re.search(r"revision (\w+)", r.stderr).group(1)  # type: ignore[union-attr]

    # 2. The sidecar: its own command; ready when its own health check URL answers.
    port = free_port()
    compose.ports["opa"] = port
    opa_cmd = compose.map_args("opa", services["opa"]["command"])
    health = compose.map_args("opa", services["opa"]["healthcheck"]["test"])[-1]
    assert health == f"http://127.0.0.1:{port}/health"
    with OpaServer(command=opa_cmd, port=port, env=compose.environment("opa"), log_path=tmp_path / "opa.log") as opa, \
            serve(sample_account(), tokens={API_KEY}) as pd:
        # 3. The pdguard service: its command, one tick, against the simulator.
        cmd = compose.map_args("pdguard", services["pdguard"]["command"]) + ["--once", "--api-url", pd.url]
        r = subprocess.run([sys.executable, "-m", "pdguard", *cmd], cwd=app, env=compose.environment("pdguard"),
                           capture_output=True, text=True, timeout=300)
        log = opa.log()
    output = r.stdout + r.stderr
    assert r.returncode == 1, output  # the sample account has high-severity findings: the gate fails
    assert "scan 1:" in output and API_KEY not in output and OPA_TOKEN not in output + log

    # The store holds what the sidecar found: what the embedded engine finds with the same command.
    assert "--engine=opa" in cmd
    embedded_store = f"sqlite:///{tmp_path / 'embedded.sqlite'}"
    embedded_cmd = ["--engine=embedded" if a == "--engine=opa" else
                    f"--store={embedded_store}" if a.startswith("--store=") else a for a in cmd]
    with serve(sample_account(), tokens={API_KEY}) as pd:
        embedded_cmd[embedded_cmd.index("--api-url") + 1] = pd.url
        e = subprocess.run([sys.executable, "-m", "pdguard", *embedded_cmd], cwd=app,
                           env=compose.environment("pdguard"), capture_output=True, text=True, timeout=300)
    assert e.returncode == 1, e.stderr

    def stored(url: str) -> list[tuple[str, str, str, str]]:  # two scans: ages in `details` may differ
        store = Store(url, config=Config())
        try:
            return sorted((f["policy_id"], f["kind"], f["resource"]["type"], f["resource"]["id"])
                          for f in store.findings(1))
        finally:
            store.close()

    store_url = next(a.split("=", 1)[1] for a in cmd if a.startswith("--store="))
    assert stored(store_url) and stored(store_url) == stored(embedded_store)
    # One decision, logged with the bundle revision pdguard checked, the snapshot masked out.
    decisions = [json.loads(ln) for ln in log.splitlines() if ln.startswith("{") and '"Decision Log"' in ln]
    assert len(decisions) == 1 and decisions[0]["path"] == "pdguard_entry/result"
    assert revision in [b["revision"] for b in decisions[0]["bundles"].values()]
    assert set(decisions[0]["input"]) == {"meta"}
