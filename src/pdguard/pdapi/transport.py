"""A small HTTP/1.1 GET client on asyncio protocols: the scanner's transport.

Why not httpx/httpcore: a scan is hundreds to thousands of GETs on a few keep-alive connections,
and the time between one response and the next request on the freed connection is the scan's
loss. httpcore goes through several anyio checkpoints (yields to the event loop) before it
writes a request, so the body just received is decoded first and the connection idles meanwhile,
and its layers (anyio streams, h11, the pool's bookkeeping) cost about half the scanner's CPU.
Here a request is written in the same step as :meth:`Pool.get` is called (on a connection
already open), and a response is parsed in ``data_received`` with a few byte searches.

What it does: keep-alive connections (at most ``max_connections``, idle ones reused most recent
first); ``Content-Length``, ``chunked`` and read-until-close bodies; interim 1xx responses
skipped; TLS with the given context (certificate and host name verified); HTTP(S)_PROXY: a plain
``http://`` target through the proxy in absolute form, an ``https://`` one through a ``CONNECT``
tunnel (the proxy may itself be ``https://``), ``user:password@`` as Basic proxy credentials.
A request on a reused connection that the server had closed meanwhile (before any byte of the
response) is sent again once on a new connection; GETs are idempotent. Bodies are returned as
sent (the caller inflates gzip). Timeouts are the caller's (cancel the call): a cancelled
request's connection is closed, never reused.
"""

from __future__ import annotations

import asyncio
import base64
import ssl
import zlib
from dataclasses import dataclass
from http import HTTPStatus
from typing import Any
from urllib.parse import quote, unquote, urlsplit

MAX_HEAD = 64 * 1024  # status line and headers of one response
_PATH_SAFE = "/:@!$&'()*+,;=-._~%"  # kept as they are in a request path; anything else is %-escaped


class ProtocolError(ConnectionError):
    """The server's answer is not HTTP/1.x the client can read (or the connection broke mid-response)."""


class _Stale(ConnectionError):
    """A reused connection was closed by the server before any byte of the response arrived."""


@dataclass
class Response:
    status_code: int
    headers: dict[str, str]  # lower-case names; the last of repeated headers
    content: bytes

    @property
    def reason_phrase(self) -> str:
        try:
            return HTTPStatus(self.status_code).phrase
        except ValueError:
            return f"HTTP {self.status_code}"

    def body(self) -> bytes:
        """The body, gunzipped/inflated when the server compressed it (raises zlib.error if broken)."""
        if self.headers.get("content-encoding", "identity").lower() in ("gzip", "deflate", "x-gzip"):
            return zlib.decompress(self.content, 47)  # 32 + 15: a gzip or zlib header, detected
        return self.content


@dataclass(frozen=True)
class Proxy:
    scheme: str  # http or https
    host: str
    port: int
    auth: str | None  # the Proxy-Authorization header value

    @classmethod
    def parse(cls, url: str) -> Proxy:
        if "://" not in url:
            url = f"http://{url}"
        parts = urlsplit(url)
        scheme = parts.scheme.lower()
        if scheme not in ("http", "https") or not parts.hostname:
            raise ValueError(f"proxy {scheme}:// is not supported (use an http:// or https:// proxy)")
        auth = None
        if parts.username is not None:
            cred = f"{unquote(parts.username)}:{unquote(parts.password or '')}".encode()
            auth = "Basic " + base64.b64encode(cred).decode("ascii")
        return cls(scheme, parts.hostname, parts.port or (443 if scheme == "https" else 80), auth)


class _Connection(asyncio.Protocol):
    """One keep-alive connection: one request at a time, its response parsed as bytes arrive."""

    def __init__(self) -> None:
        self.transport: asyncio.Transport | None = None
        self.closed = False
        self.reusable = False
        self._waiter: asyncio.Future[Response] | None = None
        self._buf = bytearray()
        self._got = False  # any byte of the current response
        self._head: tuple[int, dict[str, str], bool] | None = None  # status, headers, keep-alive
        self._length: int | None = None  # Content-Length; None: chunked or until close
        self._chunked = False
        self._chunks: list[bytes] = []
        self._pos = 0  # chunked: where the next chunk-size line starts in _buf
        self.connect_reply: asyncio.Future[int] | None = None  # the status of a CONNECT

    # -- asyncio.Protocol --------------------------------------------------------------------

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport  # type: ignore[assignment]

    def data_received(self, data: bytes) -> None:
        if self._waiter is None or self._waiter.done():
            self.closed = True  # bytes nobody asked for: the connection cannot be trusted
            if self.transport is not None:
                self.transport.abort()
            return
        self._got = True
        self._buf += data
        try:
            self._parse()
        except ProtocolError as exc:
            self._fail(exc)

    def eof_received(self) -> bool:
        return False  # close our side too; connection_lost follows

    def connection_lost(self, exc: Exception | None) -> None:
        self.closed = True
        waiter = self._waiter
        if waiter is None or waiter.done():
            return
        if self._head is not None and self._length is None and not self._chunked:
            status, headers, _ = self._head  # a body delimited by the end of the connection
            self._done(Response(status, headers, bytes(self._buf)), keep=False)
        elif not self._got:
            waiter.set_exception(_Stale("the server closed the connection before answering"))
        else:
            waiter.set_exception(ProtocolError("the server closed the connection in the middle of a response"))

    # -- requests ----------------------------------------------------------------------------

    def send(self, request: bytes) -> asyncio.Future[Response]:
        """Write the request now; the future gets the response."""
        assert self.transport is not None
        loop = asyncio.get_running_loop()
        self._waiter = loop.create_future()
        self._buf.clear()
        self._got = False
        self._head = None
        self._length = None
        self._chunked = False
        self._chunks = []
        self._pos = 0
        self.reusable = False
        self.transport.write(request)
        return self._waiter

    def close(self) -> None:
        self.closed = True
        if self.transport is not None:
            self.transport.abort()

    def _fail(self, exc: Exception) -> None:
        if self._waiter is not None and not self._waiter.done():
            self._waiter.set_exception(exc)
        self.close()

    def _done(self, response: Response, keep: bool) -> None:
        self.reusable = keep and not self.closed
        assert self._waiter is not None
        if not self._waiter.done():
            self._waiter.set_result(response)

    def _parse(self) -> None:
        buf = self._buf
        while self._head is None:
            end = buf.find(b"\r\n\r\n")
            if end < 0:
                if len(buf) > MAX_HEAD:
                    raise ProtocolError("response headers too large")
                return
            head = bytes(buf[:end]).decode("latin-1")
            del buf[:end + 4]
            status, headers, version = _parse_head(head)
            if 100 <= status < 200:
                continue  # interim (100 Continue, 103 Early Hints): the real response follows
            keep = version == "HTTP/1.1" and "close" not in headers.get("connection", "").lower()
            self._head = (status, headers, keep)
            if self.connect_reply is not None:  # CONNECT: no body; what follows is the tunnel
                self.reusable = False
                if not self.connect_reply.done():
                    self.connect_reply.set_result(status)
                return
            if "chunked" in headers.get("transfer-encoding", "").lower():
                self._chunked = True
            elif "content-length" in headers:
                raw = headers["content-length"].strip()
                if not raw.isdigit():
                    raise ProtocolError(f"invalid Content-Length {raw[:20]!r}")
                self._length = int(raw)
            elif status in (204, 304):
                self._length = 0
        status, headers, keep = self._head
        if self._chunked:
            self._parse_chunks(status, headers, keep)
        elif self._length is not None and len(buf) >= self._length:
            if len(buf) > self._length:
                keep = False  # bytes past the body: the next response could not be trusted
            self._done(Response(status, headers, bytes(buf[:self._length])), keep)

    def _parse_chunks(self, status: int, headers: dict[str, str], keep: bool) -> None:
        buf = self._buf
        while True:
            eol = buf.find(b"\r\n", self._pos)
            if eol < 0:
                return
            line = bytes(buf[self._pos:eol]).split(b";", 1)[0].strip()
            try:
                size = int(line, 16)
            except ValueError:
                raise ProtocolError(f"invalid chunk size {line[:20]!r}") from None
            if size < 0:
                raise ProtocolError("invalid chunk size")
            if size == 0:
                rest = buf.find(b"\r\n", eol + 2)  # trailers end with an empty line
                if rest < 0:
                    return
                if rest != eol + 2:
                    end = buf.find(b"\r\n\r\n", eol)
                    if end < 0:
                        return
                    rest = end + 2
                if len(buf) > rest + 2:
                    keep = False
                self._done(Response(status, headers, b"".join(self._chunks)), keep)
                return
            start = eol + 2
            if len(buf) < start + size + 2:
                return
            if buf[start + size:start + size + 2] != b"\r\n":
                raise ProtocolError("chunk not followed by CRLF")
            self._chunks.append(bytes(buf[start:start + size]))
            self._pos = start + size + 2
            if self._pos > 1 << 16:  # keep the buffer short
                del buf[:self._pos]
                self._pos = 0


def _parse_head(head: str) -> tuple[int, dict[str, str], str]:
    lines = head.split("\r\n")
    parts = lines[0].split(" ", 2)
    if len(parts) < 2 or not parts[0].startswith("HTTP/1.") or not (len(parts[1]) == 3 and parts[1].isdigit()):
        raise ProtocolError(f"not an HTTP/1.x response: {lines[0][:40]!r}")
    headers: dict[str, str] = {}
    for line in lines[1:]:
        name, sep, value = line.partition(":")
        if not sep or not name or name != name.strip():
            raise ProtocolError(f"malformed header line {line[:40]!r}")
        headers[name.lower()] = value.strip()
    return int(parts[1]), headers, parts[0]


class Pool:
    """GET requests to one origin over a pool of keep-alive connections (see the module docstring)."""

    def __init__(self, base_url: str, headers: dict[str, str], *, max_connections: int,
                 ssl_context: ssl.SSLContext | None = None, proxy: Proxy | None = None) -> None:
        url = urlsplit(base_url)
        self._tls = url.scheme == "https"
        if url.scheme not in ("http", "https") or not url.hostname:
            raise ValueError(f"not an http(s) URL: {url.scheme}://")
        self._host = url.hostname
        self._port = url.port or (443 if self._tls else 80)
        self._origin = f"{url.scheme}://{url.netloc.rsplit('@', 1)[-1]}"
        self._path = quote(url.path.rstrip("/"), safe=_PATH_SAFE)
        self._ssl = ssl_context
        if self._tls and self._ssl is None:
            self._ssl = ssl.create_default_context()
        self._proxy = proxy
        self._absolute = proxy is not None and not self._tls  # http:// through a proxy: absolute-form targets
        lines = [f"Host: {url.netloc.rsplit('@', 1)[-1]}", *(f"{k}: {v}" for k, v in headers.items())]
        if self._absolute and proxy is not None and proxy.auth:
            lines.append(f"Proxy-Authorization: {proxy.auth}")
        for line in lines:
            if "\r" in line or "\n" in line:
                raise ValueError("a header holds a line break")
        self._head = ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1")
        self._idle: list[_Connection] = []
        self._open: set[_Connection] = set()
        self._slots = asyncio.Semaphore(max_connections)

    def url(self, path: str, query: str) -> str:
        """The URL of a request (for logs): the origin, the base path, `path`, `?query`."""
        return f"{self._origin}{self._path}{quote(path, safe=_PATH_SAFE)}" + (f"?{query}" if query else "")

    async def get(self, path: str, query: str = "") -> Response:
        target = f"{self._path}{quote(path, safe=_PATH_SAFE)}" + (f"?{query}" if query else "")
        if self._absolute:
            target = self._origin + target
        request = b"GET " + target.encode("ascii") + b" HTTP/1.1\r\n" + self._head
        await self._slots.acquire()  # no yield while a connection is free
        conn: _Connection | None = None
        try:
            conn = self._take_idle()
            if conn is None:
                conn = await self._connect()
                return await self._exchange(conn, request)
            try:
                return await self._exchange(conn, request)
            except _Stale:  # closed by the server while idle: once more, on a new connection
                conn = await self._connect()
                return await self._exchange(conn, request)
        except BaseException:
            if conn is not None:
                self._discard(conn)
            raise
        finally:
            self._slots.release()

    async def _exchange(self, conn: _Connection, request: bytes) -> Response:
        response = await conn.send(request)
        if conn.reusable and not conn.closed:
            self._idle.append(conn)
        else:
            self._discard(conn)
        return response

    def _take_idle(self) -> _Connection | None:
        while self._idle:
            conn = self._idle.pop()
            if not conn.closed and conn.transport is not None and not conn.transport.is_closing():
                return conn
            self._discard(conn)
        return None

    def _discard(self, conn: _Connection) -> None:
        conn.close()
        self._open.discard(conn)
        if conn in self._idle:
            self._idle.remove(conn)

    async def _connect(self) -> _Connection:
        loop = asyncio.get_running_loop()
        proxy = self._proxy
        if proxy is None:
            _, conn = await loop.create_connection(
                _Connection, self._host, self._port, ssl=self._ssl,
                server_hostname=self._host if self._tls else None)
        else:
            proxy_tls = (self._ssl or ssl.create_default_context()) if proxy.scheme == "https" else None
            _, conn = await loop.create_connection(
                _Connection, proxy.host, proxy.port, ssl=proxy_tls,
                server_hostname=proxy.host if proxy_tls is not None else None)
            if self._tls:
                try:
                    await self._tunnel(conn)
                except BaseException:
                    conn.close()
                    raise
        self._open.add(conn)
        return conn

    async def _tunnel(self, conn: _Connection) -> None:
        """CONNECT through the proxy, then TLS with the API host inside the tunnel."""
        assert self._proxy is not None and conn.transport is not None and self._ssl is not None
        loop = asyncio.get_running_loop()
        authority = f"{self._host}:{self._port}"
        lines = [f"CONNECT {authority} HTTP/1.1", f"Host: {authority}"]
        if self._proxy.auth:
            lines.append(f"Proxy-Authorization: {self._proxy.auth}")
        conn.connect_reply = loop.create_future()
        waiter = conn.send(("\r\n".join(lines) + "\r\n\r\n").encode("latin-1"))
        waiter.add_done_callback(lambda f: f.cancelled() or f.exception())  # never left unretrieved
        status = await _first_of(conn.connect_reply, waiter)
        if status != 200:
            raise ProxyError(f"the proxy refused the tunnel (HTTP {status})")
        conn.connect_reply = None
        conn._waiter = None
        tls = await loop.start_tls(conn.transport, conn, self._ssl, server_hostname=self._host)
        if tls is None:
            raise ProxyError("TLS through the proxy's tunnel failed")
        conn.transport = tls  # type: ignore[assignment]

    async def aclose(self) -> None:
        for conn in [*self._open, *self._idle]:
            conn.close()
        self._open.clear()
        self._idle.clear()


class ProxyError(ConnectionError):
    """The proxy did not open a tunnel to the API."""


async def _first_of(reply: asyncio.Future[int], waiter: asyncio.Future[Any]) -> int:
    """The CONNECT's status, or the error that ended the connection before it came."""
    done, _ = await asyncio.wait({reply, waiter}, return_when=asyncio.FIRST_COMPLETED)
    if reply.done():
        return reply.result()
    exc = waiter.exception()
    raise exc if exc is not None else ProxyError("the proxy answered CONNECT with a body")
