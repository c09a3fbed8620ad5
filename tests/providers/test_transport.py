"""The upstream transport against a tiny local aiohttp server: the response-size bound holds."""

from __future__ import annotations

import asyncio
import gzip
from collections.abc import AsyncIterator, Awaitable, Callable

import pytest
from aiohttp import web

from mediarouter.providers.base import UpstreamError, UpstreamRequest
from mediarouter.providers.transport import Transport

LIMIT = 1_000_000
BOMB = gzip.compress(b"\0" * 50_000_000)  # ~50 KB on the wire, 50 MB inflated


async def _bomb(_: web.Request) -> web.Response:
    return web.Response(body=BOMB, headers={"Content-Encoding": "gzip"})


async def _small_gzip(_: web.Request) -> web.Response:
    return web.Response(body=gzip.compress(b"{}" * 1000), headers={"Content-Encoding": "gzip"})


async def _big(_: web.Request) -> web.Response:
    return web.Response(body=b"x" * (LIMIT + 1))


async def _stream(request: web.Request) -> web.StreamResponse:
    resp = web.StreamResponse()  # no Content-Length: chunked
    await resp.prepare(request)
    for _ in range(20):
        await resp.write(b"x" * 100_000)
    return resp


ROUTES: dict[str, Callable[[web.Request], Awaitable[web.StreamResponse]]] = {
    "/bomb": _bomb,
    "/small-gzip": _small_gzip,
    "/big": _big,
    "/stream": _stream,
}


async def _serve() -> AsyncIterator[str]:
    app = web.Application()
    for path, handler in ROUTES.items():
        app.router.add_get(path, handler)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        await runner.cleanup()


async def _get(path: str) -> bytes:
    transport = Transport(10, 5, LIMIT)
    try:
        async for base in _serve():
            response = await transport.send("p", UpstreamRequest("GET", f"{base}{path}"), 10)
            return response.body
        raise AssertionError("unreachable")
    finally:
        await transport.close()


@pytest.mark.parametrize("path", ["/bomb", "/big", "/stream"])
def test_a_body_past_the_limit_is_refused_however_it_is_sent(path: str) -> None:
    """Compressed to 50 KB with a matching Content-Length, declared too large, or chunked."""
    with pytest.raises(UpstreamError) as caught:
        asyncio.run(_get(path))
    assert caught.value.failure == "malformed" and "exceeds the limit" in caught.value.message


def test_a_compressed_body_within_the_limit_is_inflated() -> None:
    assert asyncio.run(_get("/small-gzip")) == b"{}" * 1000
