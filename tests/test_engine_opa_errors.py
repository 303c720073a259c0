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


class _Recorder(BaseHTTPRequestHandler):
    """Answers every query with an empty result and keeps what it was sent (chunked or not)."""

    received: list[tuple[dict[str, str], bytes]] = []

    def log_message(self, *args: object) -> None:
        pass

    def do_GET(self) -> None:  # /health
        self.send_response(200)
        self.send_header("Content-Length", "2")
        self.end_headers()
        self.wfile.write(b"{}")

    def do_POST(self) -> None:
        if self.headers.get("Transfer-Encoding") == "chunked":
            body = b""
            while size := int(self.rfile.readline().strip(), 16):
                body += self.rfile.read(size)
                self.rfile.readline()
            self.rfile.readline()
        else:
            body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
        type(self).received.append((dict(self.headers), body))
        answer = b'{"result": []}'
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(answer)))
        self.end_headers()
        self.wfile.write(answer)


def test_the_snapshot_file_is_streamed_to_opa_not_copied_into_one_body(tmp_path, monkeypatch) -> None:
    """A snapshot file goes to OPA piece by piece (chunked; read 1 MiB at a time): the preloaded
    client never holds the whole snapshot twice (benchmarks/eval.py, full size: the check process
    peaks at 162 MB instead of 209 MB). What OPA receives is exactly {"input": <the file>} on
    /v1/data and /v1/query."""
    from pdguard.engine.base import InputRef

    doc = {"schema_version": "2.0", "services": [{"id": f"P{i:06d}", "name": "x" * 200} for i in range(8000)]}
    snap = tmp_path / "snapshot.json"
    snap.write_text(json.dumps(doc))
    assert snap.stat().st_size > 1 << 20  # more than one piece
    assert [len(c) for c in InputRef(path=snap).chunks()][0] == 1 << 20
    monkeypatch.setattr(_Recorder, "received", [])
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), _Recorder)
    httpd.daemon_threads = True
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    try:
        engine = OpaEngine(f"http://127.0.0.1:{httpd.server_address[1]}", timeout=10, preloaded=True)
        with pytest.raises(EngineError):  # the stand-in is no pdguard bundle; what it got is the point
            engine.evaluate([], [], {}, InputRef(path=snap))
        engine.query([], {}, InputRef(path=snap), "x := 1")
    finally:
        httpd.shutdown()
        httpd.server_close()
    (data_headers, data_body), (query_headers, query_body) = _Recorder.received
    assert data_headers.get("Transfer-Encoding") == "chunked" and query_headers.get("Transfer-Encoding") == "chunked"
    assert json.loads(data_body) == {"input": doc}
    assert json.loads(query_body) == {"query": "x := 1", "input": doc}
