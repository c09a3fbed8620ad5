"""Image links in provider answers, end to end: only the provider's own hosts are downloaded from,
within `limits.max_upstream_bytes` and `timeouts.fetch_s`, and a refusal fails over or says why.

The upstream is a small aiohttp server in the test playing OpenAI-compatible providers whose answers
link to images in ways the sandbox emulators never do (a foreign host, a huge or stalling file); a
gateway outside sandbox mode is pointed at it, one provider per behaviour (`/{behaviour}/v1`).
"""

from __future__ import annotations

import asyncio
import base64
import threading
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
import yaml
from aiohttp import web

from harness import Server, start_server
from imaging import decode, png

MAX_UPSTREAM_BYTES = 200_000
FETCH_S = 0.3
IMAGE = png(64, 64)
FOREIGN = "https://images.example.net/a.png"


class Upstream:
    """`POST /{behaviour}/v1/images/generations` answers per behaviour; `GET /files/*` serves images."""

    def __init__(self) -> None:
        self.loop = asyncio.new_event_loop()
        self.bodies: list[tuple[str, dict[str, Any]]] = []  # (behaviour, request body) per generation
        self.base = ""
        self._runner: web.AppRunner | None = None

    def start(self) -> None:
        ready = threading.Event()
        threading.Thread(target=self._serve, args=(ready,), daemon=True).start()
        assert ready.wait(10), "the fake upstream did not start"

    def stop(self) -> None:
        if self._runner is not None:
            asyncio.run_coroutine_threadsafe(self._runner.cleanup(), self.loop).result(10)
        self.loop.call_soon_threadsafe(self.loop.stop)

    def _serve(self, ready: threading.Event) -> None:
        asyncio.set_event_loop(self.loop)
        app = web.Application()
        app.router.add_post("/{behaviour}/v1/images/generations", self.generate)
        app.router.add_get("/files/image.png", self.image)
        app.router.add_get("/files/big.png", self.big)
        app.router.add_get("/files/big-chunked.png", self.big_chunked)
        app.router.add_get("/files/stalling.png", self.stalling)
        self._runner = web.AppRunner(app)
        self.loop.run_until_complete(self._runner.setup())
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        self.loop.run_until_complete(site.start())
        port = self._runner.addresses[0][1]
        self.base = f"http://127.0.0.1:{port}"
        ready.set()
        self.loop.run_forever()

    async def generate(self, request: web.Request) -> web.Response:
        behaviour = request.match_info["behaviour"]
        body = await request.json()
        self.bodies.append((behaviour, body))
        links = {
            "foreign": FOREIGN,
            "big": f"{self.base}/files/big.png",
            "big-chunked": f"{self.base}/files/big-chunked.png",
            "stalling": f"{self.base}/files/stalling.png",
            "cdn": f"http://127.0.0.2:{request.url.port}/files/image.png",  # a listed media host
        }
        if behaviour in links:
            item = {"url": links[behaviour]}
        elif body.get("response_format") == "url":  # behaviour "plain": as asked
            item = {"url": f"{self.base}/files/image.png"}
        else:
            item = {"b64_json": base64.b64encode(IMAGE).decode()}
        return web.json_response({"created": 1, "data": [item]})

    async def image(self, request: web.Request) -> web.Response:
        return web.Response(body=IMAGE, content_type="image/png")

    async def big(self, request: web.Request) -> web.Response:
        return web.Response(body=IMAGE + bytes(MAX_UPSTREAM_BYTES), content_type="image/png")

    async def big_chunked(self, request: web.Request) -> web.StreamResponse:
        response = web.StreamResponse(headers={"Content-Type": "image/png"})
        response.enable_chunked_encoding()  # no Content-Length: the size shows only while reading
        await response.prepare(request)
        await response.write(IMAGE)
        for _ in range(MAX_UPSTREAM_BYTES // 16_384 + 2):
            await response.write(bytes(16_384))
        await response.write_eof()
        return response

    async def stalling(self, request: web.Request) -> web.StreamResponse:
        response = web.StreamResponse(headers={"Content-Type": "image/png", "Content-Length": "100000"})
        await response.prepare(request)
        await response.write(IMAGE[:100])  # the headers and a first piece, then nothing for a while
        await asyncio.sleep(2)
        return response


@pytest.fixture(scope="module")
def upstream() -> Iterator[Upstream]:
    running = Upstream()
    running.start()
    yield running
    running.stop()


def _custom(upstream: Upstream, behaviour: str, row: dict[str, Any]) -> dict[str, Any]:
    return {
        "kind": "openai_compatible",
        "base_url": f"{upstream.base}/{behaviour}/v1",
        "models": [{"model_id": "probe-1", "price": {"per": "image", "usd": 0.01}, **row}],
    }


@pytest.fixture(scope="module")
def gateway_out(upstream: Upstream, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    """A gateway outside sandbox mode whose providers are the fake upstream's behaviours."""
    data = tmp_path_factory.mktemp("media-fetch")
    probe = {"id": "probe", "modes": ["generate"], "sizes": ["1024x1024"], "default_size": "1024x1024"}
    providers = {
        "openai": {"api_key": "sk-test", "base_url": f"{upstream.base}/foreign/v1"},  # a built-in adapter
        "backup": _custom(upstream, "plain", {"id": "dall-e-2", "model_id": "dall-e-2"}),
        "big": _custom(upstream, "big", probe),
        "chunked": _custom(upstream, "big-chunked", {"id": "probe"}),
        "stalling": _custom(upstream, "stalling", {"id": "probe"}),
        "listed": _custom(upstream, "cdn", {"id": "probe", "media_hosts": ["127.0.0.2"]}),
        "unlisted": _custom(upstream, "cdn", {"id": "probe"}),
        "linked": _custom(upstream, "plain", {"id": "probe", "response_format": "url"}),
    }
    path = data / "config.yaml"
    path.write_text(yaml.safe_dump({"providers": providers}))
    env = {
        "MEDIAROUTER_SANDBOX": "false",
        "MEDIAROUTER_CONFIG": str(path),
        "MEDIAROUTER_LIMITS_MAX_UPSTREAM_BYTES": str(MAX_UPSTREAM_BYTES),
        "MEDIAROUTER_TIMEOUTS_FETCH_S": str(FETCH_S),
    }
    handle, server, thread = start_server(data, env)
    yield handle
    server.should_exit = True
    thread.join(timeout=10)


def _generate(gateway: Server, model: str, **fields: Any) -> httpx.Response:
    with gateway.client() as client:
        return client.post(
            "/v1/images/generations",
            json={"model": model, "prompt": "a link", "response_format": "b64_json", **fields},
        )


def test_a_foreign_image_host_is_refused_and_the_next_provider_serves(gateway_out: Server) -> None:
    r = _generate(gateway_out, "dall-e-2", size="256x256", provider={"order": ["openai", "backup"]})
    assert r.status_code == 200, r.text
    first, second = r.json()["metadata"]["attempts"]
    assert (first["provider"], first["status"], first["error_code"]) == ("openai", "failed", "MALFORMED")
    assert first["message"] == (
        "refusing to download an image from images.example.net: not one of openai's media hosts (127.0.0.1)"
    )
    assert (second["provider"], second["status"]) == ("backup", "success")
    assert decode(r.json()["data"][0]).size == (64, 64)


def test_a_foreign_image_host_is_a_502_that_says_why(gateway_out: Server) -> None:
    r = _generate(gateway_out, "openai/dall-e-2", size="256x256")
    err = r.json()["error"]
    assert (r.status_code, err["code"]) == (502, "UPSTREAM_ERROR"), r.text
    assert "refusing to download an image from images.example.net" in err["message"]
    assert "not one of openai's media hosts" in err["message"]


@pytest.mark.parametrize("provider", ["big", "chunked"])  # with Content-Length, and without
def test_an_oversized_download_is_refused(gateway_out: Server, provider: str) -> None:
    r = _generate(gateway_out, f"{provider}/probe")
    err = r.json()["error"]
    assert (r.status_code, err["code"]) == (502, "UPSTREAM_ERROR"), r.text
    (attempt,) = err["attempts"]
    assert attempt["error_code"] == "MALFORMED"
    assert "exceeds the limit" in attempt["message"] and str(MAX_UPSTREAM_BYTES) in attempt["message"]


def test_a_stalling_download_times_out_at_fetch_s(gateway_out: Server) -> None:
    r = _generate(gateway_out, "stalling/probe")
    err = r.json()["error"]
    assert (r.status_code, err["code"]) == (504, "UPSTREAM_ERROR"), r.text
    (attempt,) = err["attempts"]
    assert attempt["error_code"] == "TIMEOUT" and f"{FETCH_S:.1f} s" in attempt["message"]
    assert attempt["latency_ms"] < 1000  # timeouts.fetch_s ended it, not the 1.5 s attempt deadline


def test_a_listed_media_host_is_downloaded_from_through_the_ssrf_guard(gateway_out: Server) -> None:
    unlisted = _generate(gateway_out, "unlisted/probe").json()["error"]["attempts"][0]["message"]
    assert unlisted.startswith("refusing to download an image from 127.0.0.2: not one of unlisted's")
    # listed, the host passes the allow-list; the SSRF guard still keeps a CDN off local addresses
    listed = _generate(gateway_out, "listed/probe").json()["error"]["attempts"][0]["message"]
    assert "private or local address" in listed


def test_response_format_url_is_sent_and_the_link_downloaded(upstream: Upstream, gateway_out: Server) -> None:
    r = _generate(gateway_out, "linked/probe")
    assert r.status_code == 200, r.text
    assert decode(r.json()["data"][0]).size == (64, 64)
    sent = [
        body for behaviour, body in upstream.bodies if behaviour == "plain" and body["model"] == "probe-1"
    ]
    assert [body["response_format"] for body in sent] == ["url"]
