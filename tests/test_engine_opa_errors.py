"""How the OPA engine reports a server that is slow or refuses the token, on both POST routes it
uses (/v1/data for `check`, /v1/query for `policy eval`). A stand-in HTTP server answers: these
tests are about pdguard's error handling, not OPA's answers (parity runs on a real OPA)."""

from __future__ import annotations

import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from pdguard.engine.opa import OpaEngine
from pdguard.errors import EngineError


class _Handler(BaseHTTPRequestHandler):
    mode = "slow"

    def log_message(self, *args: object) -> None:
        pass

    def _answer(self, status: int, doc: object) -> None:
        body = json.dumps(doc).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def do_GET(self) -> None:  # /health
        self._answer(200, {})

    def do_POST(self) -> None:
        self.rfile.read(int(self.headers.get("Content-Length", 0)))
        if self.mode == "slow":
            time.sleep(1.5)
            self._answer(200, {"result": []})
        else:
            self._answer(401, {"code": "unauthorized", "message": "request rejected by administrative policy"})


@pytest.fixture()
def server():
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
    httpd.daemon_threads = True
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    yield httpd
    httpd.shutdown()
    httpd.server_close()


def _engine(httpd: ThreadingHTTPServer) -> OpaEngine:
    return OpaEngine(f"http://127.0.0.1:{httpd.server_address[1]}", token="s3cret-token", timeout=0.5, preloaded=True)


@pytest.mark.parametrize("route", ["data", "query"])
@pytest.mark.parametrize("mode", ["slow", "refused"])
def test_slow_or_refusing_server_is_one_clear_error(server, monkeypatch, route: str, mode: str) -> None:
    monkeypatch.setattr(_Handler, "mode", mode)
    engine = _engine(server)
    with pytest.raises(EngineError) as err:
        if route == "data":
            engine._query("pdguard/entry/result", b"{}")
        else:
            engine.query([], {}, None, "x := 1")
    msg = str(err.value)
    if mode == "slow":
        assert msg == "OPA query timed out after 0.5s (raise --opa-timeout)"
    else:
        assert "(HTTP 401: " in msg and "request rejected by administrative policy" in msg
        assert "check --opa-token / PDGUARD_OPA_TOKEN" in msg
    assert "s3cret-token" not in msg
