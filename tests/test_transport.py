"""The scanner's HTTP/1.1 transport (pdguard.pdapi.transport) against small local servers that
answer exactly what each test needs: body framings, keep-alive and a server that drops an idle
connection, malformed answers, the request line, TLS (verified) and proxies (absolute form for
http, a CONNECT tunnel for https), and a whole scan of the simulator through a proxy."""

from __future__ import annotations

import asyncio
import datetime as dt
import gzip
import ipaddress
import ssl
from collections.abc import Awaitable, Callable
from pathlib import Path

import pytest

from pdguard.errors import ScanError
from pdguard.pdapi.client import PagerDutyClient
from pdguard.pdapi.transport import Pool, ProtocolError, Proxy


def run(main: Awaitable[None]) -> None:
    """Run a test's coroutine; a hang fails it instead of the whole suite."""
    async def bounded() -> None:
        await asyncio.wait_for(main, 20)

    asyncio.run(bounded())


Handler = Callable[[bytes, asyncio.StreamReader, asyncio.StreamWriter, int], Awaitable[bool]]


async def read_head(reader: asyncio.StreamReader) -> bytes | None:
    try:
        return await reader.readuntil(b"\r\n\r\n")
    except (asyncio.IncompleteReadError, ConnectionError):
        return None


class Server:
    """A raw HTTP server: `handler(request head, reader, writer, n-th request on the connection)`
    answers; returning False closes the connection."""

    def __init__(self, handler: Handler, ssl_context: ssl.SSLContext | None = None) -> None:
        self.handler = handler
        self.ssl = ssl_context
        self.connections = 0
        self.lines: list[str] = []  # request lines, in order
        self.heads: list[bytes] = []

    async def __aenter__(self) -> Server:
        self._srv = await asyncio.start_server(self._serve, "127.0.0.1", 0, ssl=self.ssl)
        self.port = self._srv.sockets[0].getsockname()[1]
        return self

    async def __aexit__(self, *exc: object) -> None:
        self._srv.close()

    @property
    def url(self) -> str:
        return f"{'https' if self.ssl else 'http'}://127.0.0.1:{self.port}"

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.connections += 1
        n = 0
        try:
            while (head := await read_head(reader)) is not None:
                self.heads.append(head)
                self.lines.append(head.split(b"\r\n", 1)[0].decode("latin-1"))
                if not await self.handler(head, reader, writer, n):
                    break
                await writer.drain()
                n += 1
        finally:
            writer.close()


def ok(body: bytes, *extra: str) -> bytes:
    head = ["HTTP/1.1 200 OK", f"Content-Length: {len(body)}", *extra]
    return ("\r\n".join(head) + "\r\n\r\n").encode() + body


async def echo(head: bytes, reader: asyncio.StreamReader, w: asyncio.StreamWriter, n: int) -> bool:
    w.write(ok(head.split(b"\r\n", 1)[0]))
    return True


async def framings(head: bytes, reader: asyncio.StreamReader, w: asyncio.StreamWriter, n: int) -> bool:
    path = head.split(b" ")[1]
    if path == b"/length":
        data = ok(b'{"a":1}', "ratelimit-remaining: 5")
        for i in range(0, len(data), 3):  # in pieces: the parser waits for the rest
            w.write(data[i:i + 3])
            await w.drain()
            await asyncio.sleep(0.001)
    elif path == b"/chunked":
        w.write(b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
                b"4;ext=1\r\n{\"a\"\r\n3\r\n:2}\r\n0\r\nX-Trailer: t\r\n\r\n")
    elif path == b"/gzip":
        w.write(ok(gzip.compress(b'{"a":3}'), "Content-Encoding: gzip"))
    elif path == b"/interim":
        w.write(b"HTTP/1.1 100 Continue\r\n\r\n" + ok(b'{"a":4}'))
    elif path == b"/close":  # no length: the body ends with the connection
        w.write(b"HTTP/1.1 200 OK\r\nConnection: close\r\n\r\n{\"a\":5}")
        return False
    elif path == b"/empty":
        w.write(b"HTTP/1.1 204 No Content\r\n\r\n")
    elif path == b"/bye":  # says it will close, but keeps reading: the client must not send more here
        w.write(ok(b'{"a":6}', "Connection: close"))
    elif path == b"/extra":  # bytes after the body: what follows on this connection cannot be trusted
        w.write(ok(b'{"a":7}') + b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\n{}")
    return True


def test_body_framings_and_keep_alive() -> None:
    async def main() -> None:
        async with Server(framings) as srv:
            pool = Pool(srv.url, {"Accept": "x"}, max_connections=1)
            got = {p: await pool.get(p) for p in ("/length", "/chunked", "/gzip", "/interim", "/empty")}
            assert srv.connections == 1  # one keep-alive connection for all five
            assert got["/length"].content == b'{"a":1}' and got["/length"].headers["ratelimit-remaining"] == "5"
            assert got["/chunked"].content == b'{"a":2}'
            assert got["/gzip"].body() == b'{"a":3}' and got["/gzip"].content != b'{"a":3}'
            assert (got["/interim"].status_code, got["/interim"].content) == (200, b'{"a":4}')
            assert (got["/empty"].status_code, got["/empty"].content) == (204, b"")
            assert (await pool.get("/close")).content == b'{"a":5}'
            assert (await pool.get("/length")).content == b'{"a":1}'
            assert srv.connections == 2  # the closed one was not reused
            assert (await pool.get("/bye")).content == b'{"a":6}'
            assert (await pool.get("/extra")).content == b'{"a":7}'
            assert (await pool.get("/length")).content == b'{"a":1}'
            assert srv.connections == 4  # neither after "Connection: close" nor after stray bytes
            await pool.aclose()

    run(main())


def test_a_connection_the_server_dropped_while_idle_is_replaced_once() -> None:
    async def once_per_connection(head: bytes, reader: asyncio.StreamReader, w: asyncio.StreamWriter, n: int) -> bool:
        if n:  # a keep-alive timeout on the server's side: the next request is not answered
            return False
        w.write(ok(b"{}"))
        return True

    async def main() -> None:
        async with Server(once_per_connection) as srv:
            pool = Pool(srv.url, {}, max_connections=1)
            for _ in range(3):
                assert (await pool.get("/x")).status_code == 200
            # each reuse met a dropped connection and was sent again once, on a new one
            assert srv.connections == 3
            assert len(srv.lines) == 5
            await pool.aclose()

    run(main())


@pytest.mark.parametrize("answer, what", [
    (b"HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nabc", "in the middle of a response"),
    (b"SSH-2.0-OpenSSH\r\n\r\n", "not an HTTP/1.x response"),
    (b"HTTP/1.1 200 OK\r\nContent-Length: -3\r\n\r\n", "invalid Content-Length"),
    (b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n", "invalid chunk size"),
    (b"HTTP/1.1 200 OK\r\nno colon here\r\n\r\n", "malformed header line"),
])
def test_a_broken_answer_is_a_protocol_error(answer: bytes, what: str) -> None:
    async def broken(head: bytes, reader: asyncio.StreamReader, w: asyncio.StreamWriter, n: int) -> bool:
        w.write(answer)
        return False

    async def main() -> None:
        async with Server(broken) as srv:
            pool = Pool(srv.url, {}, max_connections=1)
            with pytest.raises(ProtocolError, match=what):
                await pool.get("/x")
            await pool.aclose()

    run(main())


def test_the_client_retries_a_broken_answer_then_names_it() -> None:
    async def broken(head: bytes, reader: asyncio.StreamReader, w: asyncio.StreamWriter, n: int) -> bool:
        w.write(b"HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nabc")
        return False

    async def main() -> None:
        async with Server(broken) as srv:
            async with PagerDutyClient("k", api_url=srv.url, max_retries=2, backoff_base=0.001) as client:
                with pytest.raises(ScanError, match=r"services: connection error \(ProtocolError\) at /services, 2 "):
                    await client.get("/services", collection="services")
            assert srv.connections == 3

    run(main())


def test_the_request_line_cannot_be_split() -> None:
    async def main() -> None:
        async with Server(echo) as srv:
            pool = Pool(srv.url + "/base path", {"Authorization": "Token token=k"}, max_connections=1)
            await pool.get("/schedules/P1 HTTP/1.1\r\nX-Injected: 1\r\n\r\n?#", "a=1&b=%20")
            line = srv.lines[-1]
            assert line == ("GET /base%20path/schedules/P1%20HTTP/1.1%0D%0AX-Injected:%201%0D%0A%0D%0A%3F%23?a=1&b=%20 "
                            "HTTP/1.1")
            assert b"X-Injected" not in srv.heads[-1].split(b"\r\n", 1)[1]
            assert b"Host: 127.0.0.1:" in srv.heads[-1] and b"Authorization: Token token=k" in srv.heads[-1]
            with pytest.raises(ValueError, match="line break"):
                Pool(srv.url, {"X": "a\r\nB: c"}, max_connections=1)
            await pool.aclose()

    run(main())


# -- TLS and proxies ---------------------------------------------------------------------------


@pytest.fixture(scope="module")
def certs(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """A CA and a certificate for 127.0.0.1/localhost it signed."""
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    out = tmp_path_factory.mktemp("certs")
    now = dt.datetime.now(dt.UTC)

    def name(cn: str) -> x509.Name:
        return x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, cn)])

    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca = (x509.CertificateBuilder().subject_name(name("pdguard test CA")).issuer_name(name("pdguard test CA"))
          .public_key(ca_key.public_key()).serial_number(1).not_valid_before(now - dt.timedelta(days=1))
          .not_valid_after(now + dt.timedelta(days=2))
          .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
          .add_extension(x509.KeyUsage(digital_signature=True, content_commitment=False, key_encipherment=False,
                                       data_encipherment=False, key_agreement=False, key_cert_sign=True,
                                       crl_sign=True, encipher_only=False, decipher_only=False), critical=True)
          .add_extension(x509.SubjectKeyIdentifier.from_public_key(ca_key.public_key()), critical=False)
          .sign(ca_key, hashes.SHA256()))
    key = ec.generate_private_key(ec.SECP256R1())
    leaf = (x509.CertificateBuilder().subject_name(name("localhost")).issuer_name(ca.subject)
            .public_key(key.public_key()).serial_number(2).not_valid_before(now - dt.timedelta(days=1))
            .not_valid_after(now + dt.timedelta(days=2))
            .add_extension(x509.SubjectAlternativeName([x509.DNSName("localhost"),
                                                        x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]),
                           critical=False)
            .add_extension(x509.ExtendedKeyUsage([x509.oid.ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
            .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_key.public_key()), critical=False)
            .sign(ca_key, hashes.SHA256()))
    pem = serialization.Encoding.PEM
    (out / "ca.pem").write_bytes(ca.public_bytes(pem))
    (out / "leaf.pem").write_bytes(leaf.public_bytes(pem) + key.private_bytes(
        pem, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()))
    return {"ca": out / "ca.pem", "leaf": out / "leaf.pem"}


def server_tls(certs: dict[str, Path]) -> ssl.SSLContext:
    ctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    ctx.load_cert_chain(certs["leaf"])
    return ctx


class TunnelProxy:
    """A forward proxy: CONNECT opens a tunnel; an absolute-form request is relayed to its host.
    Both are plain byte pipes once the target is known. Records each first line."""

    def __init__(self, ssl_context: ssl.SSLContext | None = None) -> None:
        self.lines: list[str] = []
        self.auth: list[str | None] = []
        self.ssl = ssl_context

    async def __aenter__(self) -> TunnelProxy:
        self._srv = await asyncio.start_server(self._serve, "127.0.0.1", 0, ssl=self.ssl)
        self.port = self._srv.sockets[0].getsockname()[1]
        return self

    async def __aexit__(self, *exc: object) -> None:
        self._srv.close()

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        head = await read_head(reader)
        if head is None:
            writer.close()
            return
        line = head.split(b"\r\n", 1)[0].decode()
        self.lines.append(line)
        auth = [h.split(b":", 1)[1].strip().decode() for h in head.split(b"\r\n")
                if h.lower().startswith(b"proxy-authorization:")]
        self.auth.append(auth[0] if auth else None)
        method, target, _ = line.split(" ")
        if method == "CONNECT":
            host, port = target.rsplit(":", 1)
            first = b""
            writer.write(b"HTTP/1.1 200 Connection established\r\n\r\n")
        else:  # http://host:port/path: relayed as it is (the simulator reads absolute-form targets)
            host, port = target.split("/")[2].rsplit(":", 1)
            first = head
        up_r, up_w = await asyncio.open_connection(host, int(port))
        up_w.write(first)

        async def pipe(r: asyncio.StreamReader, w: asyncio.StreamWriter) -> None:
            try:
                while data := await r.read(65536):
                    w.write(data)
                    await w.drain()
            except (ConnectionError, OSError):
                pass
            finally:
                w.close()

        await asyncio.gather(pipe(reader, up_w), pipe(up_r, writer))


def test_tls_is_verified(certs: dict[str, Path]) -> None:
    async def main() -> None:
        async with Server(echo, server_tls(certs)) as srv:
            trusted = Pool(srv.url, {}, max_connections=1, ssl_context=ssl.create_default_context(cafile=certs["ca"]))
            assert (await trusted.get("/x")).content == b"GET /x HTTP/1.1"
            await trusted.aclose()
            stranger = Pool(srv.url, {}, max_connections=1, ssl_context=ssl.create_default_context())
            with pytest.raises(ssl.SSLCertVerificationError):
                await stranger.get("/x")
            await stranger.aclose()

    run(main())


@pytest.mark.parametrize("proxy_tls", [False, True], ids=["http-proxy", "https-proxy"])
def test_https_through_a_connect_tunnel(certs: dict[str, Path], proxy_tls: bool) -> None:
    async def main() -> None:
        tls = ssl.create_default_context(cafile=certs["ca"])
        async with Server(echo, server_tls(certs)) as srv, \
                TunnelProxy(server_tls(certs) if proxy_tls else None) as proxy:
            scheme = "https" if proxy_tls else "http"
            pool = Pool(f"https://localhost:{srv.port}", {}, max_connections=2, ssl_context=tls,
                        proxy=Proxy.parse(f"{scheme}://u%40x:p%3A1@127.0.0.1:{proxy.port}"))
            assert (await pool.get("/a")).content == b"GET /a HTTP/1.1"  # origin form inside the tunnel
            assert (await pool.get("/b")).content == b"GET /b HTTP/1.1"
            assert proxy.lines == [f"CONNECT localhost:{srv.port} HTTP/1.1"]  # one tunnel, kept alive
            assert proxy.auth == ["Basic dUB4OnA6MQ=="]  # u@x:p:1
            await pool.aclose()

    run(main())


def test_the_whole_client_over_tls_with_ssl_cert_file(certs: dict[str, Path], monkeypatch: pytest.MonkeyPatch) -> None:
    async def api(head: bytes, reader: asyncio.StreamReader, w: asyncio.StreamWriter, n: int) -> bool:
        w.write(ok(b'{"standards": []}', "Content-Type: application/json"))
        return True

    async def main() -> None:
        async with Server(api, server_tls(certs)) as srv:
            async with PagerDutyClient("k", api_url=f"https://localhost:{srv.port}") as client:
                assert await client.get("/standards", collection="standards") == {"standards": []}

    for var in ("HTTPS_PROXY", "https_proxy", "ALL_PROXY", "all_proxy"):
        monkeypatch.delenv(var, raising=False)
    monkeypatch.setenv("SSL_CERT_FILE", str(certs["ca"]))  # trusted the way httpx would (trust_env)
    run(main())


def test_a_scan_through_an_http_proxy_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    from pdguard.scanner import ScanOptions, scan
    from pdguard.simulator import sample_account, serve

    async def run_proxy(started: asyncio.Future[TunnelProxy], stop: asyncio.Event) -> None:
        async with TunnelProxy() as proxy:
            started.set_result(proxy)
            await stop.wait()

    import threading

    loop = asyncio.new_event_loop()
    started: asyncio.Future[TunnelProxy] = loop.create_future()
    stop = asyncio.Event()
    thread = threading.Thread(target=loop.run_until_complete, args=(run_proxy(started, stop),), daemon=True)
    thread.start()
    try:
        proxy = asyncio.run_coroutine_threadsafe(asyncio.wait_for(asyncio.shield(started), 5), loop).result(10)
        monkeypatch.setenv("HTTP_PROXY", f"http://127.0.0.1:{proxy.port}")
        monkeypatch.delenv("NO_PROXY", raising=False)
        monkeypatch.delenv("no_proxy", raising=False)
        with serve(sample_account(), tokens={"k"}) as server:
            result = scan(ScanOptions(api_key="k", api_url=server.url, concurrency=3))
            assert result.meta["complete"] is True
            assert server.stats.requests == result.requests
        assert 1 <= len(proxy.lines) <= 3  # one relayed connection per slot, kept alive
        assert all(line.startswith(f"GET {server.url}/") for line in proxy.lines)  # absolute form
        monkeypatch.setenv("NO_PROXY", "127.0.0.1")
        with serve(sample_account(), tokens={"k"}) as server:
            scan(ScanOptions(api_key="k", api_url=server.url, concurrency=3))
        assert len(proxy.lines) <= 3  # bypassed
    finally:
        loop.call_soon_threadsafe(stop.set)
        thread.join(5)
