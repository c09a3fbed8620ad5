"""SSRF: URLs from callers or providers never reach private, local or metadata addresses."""

from __future__ import annotations

import asyncio
import base64
from typing import Any

import aiohttp
import httpx
import pytest
from aiohttp import web

from mediarouter.errors import GatewayError
from mediarouter.security import ssrf

from imaging import png


@pytest.mark.parametrize(
    "url",
    [
        "http://127.0.0.1/x.png",
        "http://[::1]/x.png",
        "http://10.0.0.5/x.png",
        "http://192.168.1.1/x.png",
        "http://169.254.169.254/latest/meta-data",
        "http://[::ffff:127.0.0.1]/x",
        "http://100.64.0.1/x",
        "http://0.0.0.0/x",
        "http://localhost:8080/x",
        "http://metadata.google.internal/computeMetadata/v1/",
        "file:///etc/passwd",
        "gopher://example.com/",
        "http://user:pw@example.com/x.png",
    ],
)
def test_blocked_before_any_lookup(url: str) -> None:
    with pytest.raises(GatewayError) as info:
        ssrf.check_url(url, "image")
    assert info.value.code == "INVALID_REQUEST" and info.value.param == "image"


def test_public_urls_pass_the_static_check() -> None:
    ssrf.check_url("https://cdn.example.com/a.png", "image")
    ssrf.check_url("http://93.184.216.34/a.png", "image")


def test_resolver_drops_private_answers() -> None:
    class Inner:
        def __init__(self, hosts: list[str]) -> None:
            self.hosts = hosts

        async def resolve(self, host: str, port: int = 0, family: Any = 0) -> list[dict[str, Any]]:
            return [
                {"hostname": host, "host": h, "port": port, "family": 2, "proto": 0, "flags": 0}
                for h in self.hosts
            ]

    async def scenario() -> None:
        resolver = ssrf.SafeResolver()
        resolver._inner = Inner(["10.1.2.3", "127.0.0.1"])  # type: ignore[assignment]
        with pytest.raises(OSError, match="private or local"):
            await resolver.resolve("rebinding.example", 80)
        resolver._inner = Inner(["10.1.2.3", "93.184.216.34"])  # type: ignore[assignment]
        assert [r["host"] for r in await resolver.resolve("mixed.example", 80)] == ["93.184.216.34"]

    asyncio.run(scenario())


def test_every_redirect_hop_is_checked(monkeypatch: pytest.MonkeyPatch) -> None:
    async def scenario() -> None:
        async def secret(_: web.Request) -> web.Response:
            return web.Response(body=b"internal secret")

        async def bounce(request: web.Request) -> web.Response:
            raise web.HTTPFound(f"http://127.0.0.1:{request.url.port}/secret")

        app = web.Application()
        app.router.add_get("/secret", secret)
        app.router.add_get("/bounce", bounce)
        runner = web.AppRunner(app)
        await runner.setup()
        site = web.TCPSite(runner, "127.0.0.1", 0)
        await site.start()
        port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
        first = f"http://127.0.0.1:{port}/bounce"
        real_check = ssrf.check_url
        monkeypatch.setattr(
            ssrf, "check_url", lambda url, param: None if url == first else real_check(url, param)
        )
        async with aiohttp.ClientSession() as session:
            with pytest.raises(GatewayError, match="private or local"):
                await ssrf.fetch_untrusted(session, first, 1000, 5)
        await runner.cleanup()

    asyncio.run(scenario())


def test_json_edit_with_a_local_url_is_refused(admin: httpx.Client, gateway: Any) -> None:
    body = {"model": "gpt-image-1-mini", "prompt": "x", "image": f"{gateway.url}/health"}
    r = admin.post("/v1/images/edits", json=body)
    assert r.status_code == 400 and r.json()["error"]["param"] == "image"
    data_uri = "data:image/png;base64," + base64.b64encode(png()).decode()
    ok = admin.post("/v1/images/edits", json={**body, "image": data_uri, "response_format": "b64_json"})
    assert ok.status_code == 200, ok.text
