"""A local webhook receiver over real HTTP, for the notification tests: it can be down (HTTP 500 or
a chosen status), records every body it accepted, and every request it saw."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


class Receiver:
    def __init__(self) -> None:
        self.status = 200  # what POSTs get now (>= 300: "down")
        self.fail_next = 0  # answer this many next POSTs with `fail_status` first
        self.fail_status = 500
        self.retry_after: str | None = None
        self.accepted: list[dict[str, Any]] = []  # bodies answered 2xx
        self.requests: list[tuple[str, int]] = []  # (path, status answered)
        self.url = ""
        self.lock = threading.Lock()

    def down(self, status: int = 500) -> None:
        self.status = status

    def up(self) -> None:
        self.status = 200

    def fingerprints(self) -> list[str]:
        return [f["fingerprint"] for body in self.accepted for f in body.get("new_findings", [])]


@contextmanager
def receiver() -> Iterator[Receiver]:
    rec = Receiver()

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:  # noqa: N802
            n = int(self.headers.get("Content-Length") or 0)
            body = json.loads(self.rfile.read(n) or b"{}")
            with rec.lock:
                if rec.fail_next > 0:
                    rec.fail_next -= 1
                    status = rec.fail_status
                else:
                    status = rec.status
                rec.requests.append((self.path, status))
                if status < 300:
                    rec.accepted.append(body)
            self.send_response(status)
            if status >= 300 and rec.retry_after is not None:
                self.send_header("Retry-After", rec.retry_after)
            self.send_header("Content-Length", "2")
            self.end_headers()
            self.wfile.write(b"ok")

        def log_message(self, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    rec.url = f"http://127.0.0.1:{server.server_port}"
    t = threading.Thread(target=server.serve_forever, daemon=True)
    t.start()
    try:
        yield rec
    finally:
        server.shutdown()
        server.server_close()
