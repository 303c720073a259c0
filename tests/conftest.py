"""Shared fixtures: a tiny snapshot, policy dirs, and a real OPA server when one is reachable."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
SHARED = REPO.parent / "shared" / "reference"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def tiny_snapshot(**collections: list) -> dict:
    doc = {
        "schema_version": "1.0",
        "meta": {"scanned_at": "2026-11-26T09:00:00Z", "region": "us", "account_subdomain": "acme",
                 "pdguard_version": "0.1.0", "counts": {}, "warnings": [], "complete": True},
    }
    for key in ("services", "escalation_policies", "schedules", "incidents", "teams", "users",
                "business_services", "service_dependencies", "addons", "extensions", "oncalls",
                "standards", "standards_scores"):
        doc[key] = collections.get(key, [])
    return doc


@pytest.fixture(scope="session")
def opa_url() -> Iterator[str]:
    """A real OPA server: PDGUARD_TEST_OPA_URL, or `opa` from PATH started here. Never a fake."""
    env = os.environ.get("PDGUARD_TEST_OPA_URL")
    if env:
        yield env
        return
    binary = shutil.which("opa")
    if not binary:
        pytest.skip("OPA engine not tested: no `opa` on PATH and PDGUARD_TEST_OPA_URL is unset "
                    "(OPA cannot be installed on this machine; parity runs wherever it can)")
    port = free_port()
    proc = subprocess.Popen([binary, "run", "--server", f"--addr=127.0.0.1:{port}", "--log-level=error"],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    url = f"http://127.0.0.1:{port}"
    try:
        import httpx

        deadline = time.monotonic() + 15
        while time.monotonic() < deadline:
            try:
                if httpx.get(f"{url}/health", timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                time.sleep(0.1)
        else:
            pytest.fail("started `opa run --server` but it never became healthy")
        yield url
    finally:
        proc.terminate()
        proc.wait(timeout=10)
