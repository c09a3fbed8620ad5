"""The lean upstream client (providers/http1.py) through `Transport.send`, against real local servers:
framing, keep-alive, the pool's bound, failures in the words the router sees, multipart and TLS."""

from __future__ import annotations

import asyncio
import datetime
import gzip
import ssl
import zlib
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import pytest
from aiohttp import web
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from mediarouter.providers.base import FormPart, UpstreamError, UpstreamRequest
from mediarouter.providers.transport import Transport

Handler = Callable[[asyncio.StreamReader, asyncio.StreamWriter], Awaitable[None]]


@asynccontextmanager
async def raw_server(handler: Handler) -> AsyncIterator[tuple[str, list[int]]]:
    """A server that writes whatever bytes `handler` writes; yields its URL and a connection count."""
    connections: list[int] = []

    async def on_connect(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        connections.append(1)
        try:
            await handler(reader, writer)
        finally:
            writer.close()

    server = await asyncio.start_server(on_connect, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    async with server:
        yield f"http://127.0.0.1:{port}", connections


async def read_request(reader: asyncio.StreamReader) -> tuple[bytes, bytes]:
    head = await reader.readuntil(b"\r\n\r\n")
    length = 0
    for line in head.split(b"\r\n"):
        if line.lower().startswith(b"content-length:"):
            length = int(line.split(b":")[1])
    return head, await reader.readexactly(length)


def keep_alive(answers: list[bytes]) -> Handler:
    """Answer every request on the connection with the next of `answers` (then the last again)."""

    async def handler(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        i = 0
        while True:
            try:
                await read_request(reader)
            except (asyncio.IncompleteReadError, ConnectionError):
                return
            writer.write(answers[min(i, len(answers) - 1)])
            await writer.drain()
            i += 1

    return handler


def run(coro: Awaitable[Any]) -> Any:
    return asyncio.run(coro)  # type: ignore[arg-type]


def gets(handler: Handler, count: int, pause_s: float = 0.0) -> tuple[list[bytes], int]:
    """`count` GETs one after the other through one Transport: the bodies, and how many connections
    the server saw (`pause_s` between requests lets a close reach the client)."""

    async def go() -> tuple[list[bytes], int]:
        async with raw_server(handler) as (url, connections):
            transport = Transport(10, 5, 1_000_000)
            bodies = []
            for _ in range(count):
                response = await transport.send("p", UpstreamRequest("GET", f"{url}/"), 5)
                assert response.status in (200, 204)
                bodies.append(response.body)
                await asyncio.sleep(pause_s)
            await transport.close()
            return bodies, len(connections)

    return run(go())


OK = b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 2\r\n\r\n{}"


def test_sequential_requests_reuse_one_connection_and_send_what_was_asked() -> None:
    seen: list[tuple[bytes, bytes]] = []

    async def handler(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        while True:
            try:
                seen.append(await read_request(reader))
            except asyncio.IncompleteReadError:
                return
            writer.write(OK)

    async def go() -> list[int]:
        async with raw_server(handler) as (url, connections):
            transport = Transport(10, 5, 1_000_000)
            for i in range(5):
                request = UpstreamRequest(
                    "POST", f"{url}/v1/x?a=1", {"Authorization": "Bearer k"}, json={"i": i}
                )
                response = await transport.send("p", request, 5)
                assert response.status == 200 and response.json() == {}
                assert response.headers["content-type"] == "application/json"
            await transport.close()
            return connections

    assert len(run(go())) == 1
    head, body = seen[0]
    assert head.startswith(b"POST /v1/x?a=1 HTTP/1.1\r\n")
    assert b"\r\nHost: 127.0.0.1:" in head and b"\r\nAuthorization: Bearer k\r\n" in head
    assert b"\r\nContent-Type: application/json\r\n" in head and b"\r\nUser-Agent: mediarouter\r\n" in head
    assert b"Accept-Encoding: gzip, deflate" in head and body == b'{"i":0}'


@pytest.mark.parametrize(
    ("answer", "expected"),
    [
        (
            b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n4\r\ndefg\r\n0\r\n\r\n",
            b"abcdefg",
        ),
        (
            b"HTTP/1.1 200 OK\r\nContent-Encoding: gzip\r\nContent-Length: %d\r\n\r\n"
            % len(gzip.compress(b"zz" * 500))
            + gzip.compress(b"zz" * 500),
            b"zz" * 500,
        ),  # fmt: skip
        (
            b"HTTP/1.1 200 OK\r\nContent-Encoding: deflate\r\nContent-Length: %d\r\n\r\n"
            % len(zlib.compress(b"d" * 900))
            + zlib.compress(b"d" * 900),
            b"d" * 900,
        ),  # fmt: skip
        (b"HTTP/1.1 100 Continue\r\n\r\n" + OK, b"{}"),
        (b"HTTP/1.1 204 No Content\r\n\r\n", b""),
    ],
    ids=["chunked", "gzip", "deflate", "interim-100", "no-content"],
)
def test_bodies_however_they_are_framed(answer: bytes, expected: bytes) -> None:
    bodies, connections = gets(keep_alive([answer]), 3)
    assert bodies == [expected] * 3 and connections == 1  # each framing leaves the connection reusable


def test_a_large_declared_body_arriving_in_pieces_is_read_whole_and_the_connection_reused() -> None:
    """Bodies of 64 KB and more are read straight into their buffer; the parser must then be ready
    for the next answer on the same connection."""
    image = bytes(range(256)) * 1200  # ~300 KB

    async def handler(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        while True:
            try:
                await read_request(reader)
            except asyncio.IncompleteReadError:
                return
            answer = b"HTTP/1.1 200 OK\r\nContent-Length: %d\r\n\r\n" % len(image) + image
            for start in range(0, len(answer), 70_000):  # headers with a first piece, then the rest
                writer.write(answer[start : start + 70_000])
                await writer.drain()
                await asyncio.sleep(0.005)

    bodies, connections = gets(handler, 3)
    assert bodies == [image] * 3 and all(type(b) is bytes for b in bodies) and connections == 1


def test_a_large_declared_body_cut_off_is_a_dropped_connection() -> None:
    async def handler(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await read_request(reader)
        writer.write(b"HTTP/1.1 200 OK\r\nContent-Length: 500000\r\n\r\n" + b"x" * 100_000)
        await writer.drain()
        await asyncio.sleep(0.05)
        writer.write(b"x" * 100_000)
        await writer.drain()

    exc = _failure(handler)
    assert (exc.failure, exc.message) == (
        "transport",
        "the connection dropped while the response was being read",
    )


def test_a_body_that_runs_to_the_close_is_read_whole_and_the_connection_not_reused() -> None:
    async def handler(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await read_request(reader)
        writer.write(b"HTTP/1.1 200 OK\r\n\r\n" + b"y" * 70_000)
        await writer.drain()

    bodies, connections = gets(handler, 2)
    assert bodies == [b"y" * 70_000] * 2 and connections == 2


def _failure(handler: Handler, timeout_s: float = 5) -> UpstreamError:
    async def go() -> UpstreamError:
        async with raw_server(handler) as (url, _):
            transport = Transport(10, 5, 1_000_000)
            try:
                await transport.send("p", UpstreamRequest("POST", f"{url}/", json={}), timeout_s)
            except UpstreamError as exc:
                return exc
            finally:
                await transport.close()
            raise AssertionError("no failure")

    return run(go())


def test_a_connection_closed_before_the_answer() -> None:
    async def handler(reader: asyncio.StreamReader, _: asyncio.StreamWriter) -> None:
        await read_request(reader)

    exc = _failure(handler)
    assert (exc.failure, exc.message) == ("transport", "the connection was closed before a response arrived")


def test_a_connection_dropped_mid_body() -> None:
    async def handler(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await read_request(reader)
        writer.write(b"HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\nonly part")
        await writer.drain()

    exc = _failure(handler)
    assert (exc.failure, exc.message) == (
        "transport",
        "the connection dropped while the response was being read",
    )


def test_bytes_that_are_not_http() -> None:
    async def handler(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await read_request(reader)
        writer.write(b"SSH-2.0-OpenSSH_9.2\r\n\r\n")
        await writer.drain()
        await asyncio.sleep(1)

    exc = _failure(handler)
    assert exc.failure == "transport" and "not valid HTTP/1.1" in exc.message


def test_a_silent_server_times_out_and_the_next_request_gets_a_fresh_connection() -> None:
    calls: list[int] = []

    async def handler(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await read_request(reader)
        calls.append(1)
        if len(calls) == 1:
            await asyncio.sleep(2)  # never answers in time
            return
        writer.write(OK)
        await writer.drain()

    async def go() -> tuple[UpstreamError, int, list[int]]:
        async with raw_server(handler) as (url, connections):
            transport = Transport(10, 5, 1_000_000)
            with pytest.raises(UpstreamError) as caught:
                await transport.send("p", UpstreamRequest("GET", f"{url}/"), 0.2)
            status = (await transport.send("p", UpstreamRequest("GET", f"{url}/"), 5)).status
            await transport.close()
            return caught.value, status, connections

    exc, status, connections = run(go())
    assert exc.failure == "timeout" and "no answer within 0.2 s" in exc.message
    assert status == 200 and len(connections) == 2


def test_a_refused_connection() -> None:
    async def go() -> UpstreamError:
        server = await asyncio.start_server(lambda r, w: None, "127.0.0.1", 0)
        port = server.sockets[0].getsockname()[1]
        server.close()
        await server.wait_closed()
        transport = Transport(10, 5, 1_000_000)
        with pytest.raises(UpstreamError) as caught:
            await transport.send("p", UpstreamRequest("GET", f"http://127.0.0.1:{port}/"), 5)
        await transport.close()
        return caught.value

    exc = run(go())
    assert exc.failure == "transport" and exc.message.startswith("connection failed: ")


def test_an_idle_connection_the_server_closed_is_not_used_again() -> None:
    async def handler(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await read_request(reader)
        writer.write(OK)
        await writer.drain()  # then the server closes the kept-alive connection

    bodies, connections = gets(handler, 3, pause_s=0.05)  # the close reaches the client in between
    assert bodies == [b"{}"] * 3 and connections == 3


def test_the_pool_never_opens_more_than_its_bound() -> None:
    in_flight: list[int] = [0, 0]  # now, peak

    async def handler(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        while True:
            try:
                await read_request(reader)
            except asyncio.IncompleteReadError:
                return
            in_flight[0] += 1
            in_flight[1] = max(in_flight)
            await asyncio.sleep(0.02)
            in_flight[0] -= 1
            writer.write(OK)

    async def go() -> list[int]:
        async with raw_server(handler) as (url, connections):
            transport = Transport(2, 5, 1_000_000)
            answers = await asyncio.gather(
                *[transport.send("p", UpstreamRequest("GET", f"{url}/"), 5) for _ in range(8)]
            )
            assert [a.status for a in answers] == [200] * 8
            await transport.close()
            return connections

    assert len(run(go())) == 2 and in_flight[1] == 2


def test_a_header_with_a_line_break_is_refused_without_showing_its_value() -> None:
    async def go() -> UpstreamError:
        async with raw_server(keep_alive([OK])) as (url, _):
            transport = Transport(10, 5, 1_000_000)
            request = UpstreamRequest("GET", f"{url}/", {"Authorization": "Bearer sk-secret\r\nX-Evil: 1"})
            with pytest.raises(UpstreamError) as caught:
                await transport.send("p", request, 5)
            await transport.close()
            return caught.value

    exc = run(go())
    assert exc.failure == "transport" and "line break" in exc.message and "sk-secret" not in exc.message


def test_a_multipart_form_arrives_as_sent() -> None:
    received: dict[str, Any] = {}

    async def upload(request: web.Request) -> web.Response:
        form = await request.post()
        image = form["image"]
        assert isinstance(image, web.FileField)
        received.update(
            prompt=form["prompt"], image=image.file.read(), filename=image.filename, type=image.content_type
        )
        return web.json_response({"ok": True})

    async def go() -> int:
        app = web.Application()
        app.router.add_post("/edits", upload)
        runner = web.AppRunner(app)
        await runner.setup()
        site = web.TCPSite(runner, "127.0.0.1", 0)
        await site.start()
        port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
        transport = Transport(10, 5, 1_000_000)
        form = [
            FormPart("prompt", 'a "quoted" prompt'),
            FormPart("image", b"\x89PNG" + bytes(range(256)) * 400, "in.png", "image/png"),
        ]
        response = await transport.send(
            "p", UpstreamRequest("POST", f"http://127.0.0.1:{port}/edits", form=form), 5
        )
        await transport.close()
        await runner.cleanup()
        return response.status

    assert run(go()) == 200
    assert received == {
        "prompt": 'a "quoted" prompt',
        "image": b"\x89PNG" + bytes(range(256)) * 400,
        "filename": "in.png",
        "type": "image/png",
    }


def _certificate(directory: Path) -> tuple[Path, Path]:
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "localhost")])
    now = datetime.datetime.now(datetime.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(days=1))
        .add_extension(x509.SubjectAlternativeName([x509.DNSName("localhost")]), critical=False)
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    cert_path, key_path = directory / "cert.pem", directory / "key.pem"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        )
    )
    return cert_path, key_path


@pytest.mark.parametrize("trusted", [True, False])
def test_https_verifies_the_server(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, trusted: bool) -> None:
    cert, key = _certificate(tmp_path)
    if trusted:
        monkeypatch.setenv("SSL_CERT_FILE", str(cert))  # the system trust store, as OpenSSL reads it
    else:
        monkeypatch.setenv("SSL_CERT_FILE", str(tmp_path / "none.pem"))
        monkeypatch.setenv("SSL_CERT_DIR", str(tmp_path))
    server_tls = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    server_tls.load_cert_chain(cert, key)

    async def go() -> Any:
        server = await asyncio.start_server(keep_alive([OK]), "127.0.0.1", 0, ssl=server_tls)
        port = server.sockets[0].getsockname()[1]
        transport = Transport(10, 5, 1_000_000)
        try:
            return await transport.send("p", UpstreamRequest("GET", f"https://localhost:{port}/"), 5)
        except UpstreamError as exc:
            return exc
        finally:
            await transport.close()
            server.close()

    result = run(go())
    if trusted:
        assert result.status == 200 and result.body == b"{}"
    else:
        assert result.failure == "transport" and "TLS handshake failed" in result.message


def test_a_content_type_the_adapter_set_in_any_case_is_not_doubled() -> None:
    seen: list[bytes] = []

    async def handler(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        seen.append((await read_request(reader))[0])
        writer.write(OK)
        await writer.drain()

    async def go() -> None:
        async with raw_server(handler) as (url, _):
            transport = Transport(10, 5, 1_000_000)
            request = UpstreamRequest(
                "POST", f"{url}/", {"content-type": "application/json; charset=utf-8"}, json={}
            )
            await transport.send("p", request, 5)
            await transport.close()

    run(go())
    assert seen[0].lower().count(b"content-type:") == 1 and b"charset=utf-8" in seen[0]
