"""Shared fixtures: a tiny snapshot, policy dirs, and a real OPA server when one is reachable."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
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


def tiny_snapshot(*, not_collected: tuple[str, ...] = (), **collections: list) -> dict:
    """A schema 2.0 snapshot holding `collections`; every collection collected except `not_collected`."""
    from pdguard.snapshot import COLLECTIONS, SCHEMA_VERSION

    listed = [k for k in COLLECTIONS if k != "standards_scores" and k not in not_collected]
    doc = {
        "schema_version": SCHEMA_VERSION,
        "meta": {"scanned_at": "2026-11-26T09:00:00Z", "region": "us", "account_subdomain": "acme",
                 "pdguard_version": "0.2.0", "counts": {}, "warnings": [], "complete": True,
                 "collections": listed},
    }
    for key in COLLECTIONS:
        doc[key] = collections.get(key, [])
    return doc


def run_pdguard(*args: str, cwd: Path | None = None, env: dict[str, str] | None = None,
                timeout: float = 300) -> subprocess.CompletedProcess:
    """The `pdguard` CLI in a child process, without the caller's PagerDuty/pdguard variables."""
    base = {k: v for k, v in os.environ.items() if not k.startswith(("PAGERDUTY_", "PDGUARD_"))}
    return subprocess.run([sys.executable, "-m", "pdguard", *args], capture_output=True, text=True,
                          env={**base, **(env or {})}, cwd=cwd, timeout=timeout)


def scan_account(account: object) -> dict:
    """Scan an account over HTTP through the simulator, like `pdguard demo` (every service's
    dependencies read: scan.service_dependencies: all)."""
    from pdguard.scanner import ScanOptions, scan
    from pdguard.simulator import serve

    with serve(account, tokens={"test-token"}) as server:
        return scan(ScanOptions(api_key="test-token", api_url=server.url, service_dependencies="all")).document


def opa_binary() -> str | None:
    """A real OPA: `opa` on PATH, else ../shared/tools/opa beside the checkout (what CI puts on PATH)."""
    found = shutil.which("opa")
    if found:
        return found
    local = REPO.parent / "shared" / "tools" / "opa"
    return str(local) if local.is_file() and os.access(local, os.X_OK) else None


def require_opa() -> str:
    """The OPA binary, or skip saying why (fail instead where PDGUARD_REQUIRE_OPA is set: CI)."""
    binary = opa_binary()
    if binary is None:
        why = "no `opa` on PATH nor at ../shared/tools/opa"
        if os.environ.get("PDGUARD_REQUIRE_OPA"):
            pytest.fail(f"{why}, but PDGUARD_REQUIRE_OPA is set: CI must run the OPA tests")
        pytest.skip(f"OPA not tested: {why} (OPA cannot be installed on this machine; these tests run wherever it can)")
    return binary


class OpaServer:
    """A real `opa` process, healthy before use, stopped on exit; its console (decision logs
    included) is kept in `log_path`. `OpaServer(["--bundle", f])` runs `opa run --server
    --addr=127.0.0.1:<free port> --bundle f`; `command=` gives the whole argv after the binary
    (then `port` must be the one it listens on)."""

    def __init__(self, args: list[str] | None = None, *, command: list[str] | None = None, port: int | None = None,
                 env: dict[str, str] | None = None, log_path: Path | None = None) -> None:
        self.binary = require_opa()
        self.port = port or free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.command = command or ["run", "--server", f"--addr=127.0.0.1:{self.port}", *(args or [])]
        self.env = env
        self.log_path = log_path
        self._own_log = log_path is None  # a temporary file, removed on exit
        self.proc: subprocess.Popen | None = None

    def __enter__(self) -> OpaServer:
        import tempfile

        if self.log_path is None:
            fd, name = tempfile.mkstemp(prefix="opa-", suffix=".log")
            os.close(fd)
            self.log_path = Path(name)
        with open(self.log_path, "wb") as log:
            self.proc = subprocess.Popen([self.binary, *self.command], stdout=log, stderr=subprocess.STDOUT,
                                         env=self.env)
        try:
            self.wait_healthy()
        except BaseException:
            self.__exit__()
            raise
        return self

    def wait_healthy(self, timeout: float = 20) -> None:
        import httpx

        assert self.proc is not None
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"opa exited with {self.proc.returncode}: {self.log()[-600:]}")
            try:
                if httpx.get(f"{self.url}/health", timeout=1).status_code == 200:
                    return
            except httpx.HTTPError:
                pass
            time.sleep(0.1)
        raise RuntimeError(f"`opa run --server` never became healthy: {self.log()[-600:]}")

    def log(self) -> str:
        assert self.log_path is not None
        return self.log_path.read_text(errors="replace")

    def __exit__(self, *exc: object) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(timeout=5)
        if self._own_log and self.log_path is not None:
            self.log_path.unlink(missing_ok=True)


@pytest.fixture(scope="session")
def opa_url() -> Iterator[str]:
    """A real OPA server: PDGUARD_TEST_OPA_URL, or OPA (PATH or ../shared/tools) started here. Never a fake."""
    env = os.environ.get("PDGUARD_TEST_OPA_URL")
    if env:
        yield env
        return
    with OpaServer(["--log-level=error"]) as server:
        yield server.url


@pytest.fixture()
def pg_schema() -> Iterator[tuple[str, str, object]]:
    """A fresh Postgres schema of its own per test (search_path in the URL), dropped afterwards:
    `(name, store URL, admin engine)`. Skips without PDGUARD_TEST_POSTGRES_URL. Tests never use the
    server's public schema, which other checkouts may share."""
    import uuid

    import sqlalchemy as sa

    url = os.environ.get("PDGUARD_TEST_POSTGRES_URL")
    if not url:
        pytest.skip("PDGUARD_TEST_POSTGRES_URL is not set (no Postgres)")
    name = f"t_{uuid.uuid4().hex[:12]}"
    admin = sa.create_engine(url.replace("postgresql://", "postgresql+psycopg://", 1))
    with admin.begin() as conn:
        conn.exec_driver_sql(f"CREATE SCHEMA {name}")
    sep = "&" if "?" in url else "?"
    try:
        yield name, f"{url}{sep}options=-csearch_path%3D{name}", admin
    finally:
        with admin.begin() as conn:
            conn.exec_driver_sql(f"DROP SCHEMA {name} CASCADE")
        admin.dispose()
