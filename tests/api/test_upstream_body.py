"""What the upstream really receives: client bookkeeping (LiteLLM's `extra_headers`, `drop_params`...)
never leaves the gateway, and on chat completions the `provider` object reaches OpenRouter untouched.

A non-sandbox gateway whose openai and openrouter base URLs point at a local aiohttp server that
records every body it gets.
"""

from __future__ import annotations

import asyncio
import base64
import threading
from collections.abc import Iterator
from typing import Any

import pytest
import yaml
from aiohttp import web

from harness import Server, start_server
from imaging import png

PNG = base64.b64encode(png(32, 32)).decode()


class Recorder:
    """An upstream on a free port in its own thread; `bodies` holds (path, JSON body) in arrival order."""

    def __init__(self) -> None:
        self.bodies: list[tuple[str, dict[str, Any]]] = []
        self.url = ""
        self._loop = asyncio.new_event_loop()
        self._ready = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    async def _images(self, request: web.Request) -> web.Response:
        self.bodies.append((request.path, await request.json()))
        return web.json_response({"created": 1, "data": [{"b64_json": PNG}]})

    async def _chat(self, request: web.Request) -> web.Response:
        self.bodies.append((request.path, await request.json()))
        return web.json_response({
            "id": "gen-1", "object": "chat.completion", "created": 1, "model": "openai/gpt-5.4",
            "choices": [{"index": 0, "finish_reason": "stop",
                         "message": {"role": "assistant", "content": "hi"}}],
            "usage": {"prompt_tokens": 3, "completion_tokens": 1, "total_tokens": 4},
        })  # fmt: skip

    def _run(self) -> None:
        asyncio.set_event_loop(self._loop)
        app = web.Application()
        app.router.add_post("/v1/images/generations", self._images)
        app.router.add_post("/v1/chat/completions", self._chat)
        runner = web.AppRunner(app)
        self._loop.run_until_complete(runner.setup())
        site = web.TCPSite(runner, "127.0.0.1", 0)
        self._loop.run_until_complete(site.start())
        port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
        self.url = f"http://127.0.0.1:{port}/v1"
        self._ready.set()
        self._loop.run_forever()
        self._loop.run_until_complete(runner.cleanup())

    def start(self) -> None:
        self._thread.start()
        assert self._ready.wait(5)

    def stop(self) -> None:
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(timeout=5)


@pytest.fixture(scope="module")
def recorder() -> Iterator[Recorder]:
    rec = Recorder()
    rec.start()
    yield rec
    rec.stop()


@pytest.fixture(scope="module")
def gateway_to_recorder(recorder: Recorder, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    data = tmp_path_factory.mktemp("recorded")
    providers = {slug: {"api_key": "sk-x", "base_url": recorder.url} for slug in ("openai", "openrouter")}
    path = data / "config.yaml"
    path.write_text(yaml.safe_dump({"providers": providers}))
    handle, server, thread = start_server(
        data, {"MEDIAROUTER_SANDBOX": "false", "MEDIAROUTER_CONFIG": str(path)}
    )
    yield handle
    server.should_exit = True
    thread.join(timeout=10)


BOOKKEEPING = {
    "extra_headers": {"X-Trace": "1"},
    "drop_params": True,
    "extra_body": {"a": 1},
    "api_base": "http://elsewhere",
    "api_key": "sk-client",
    "metadata": {"litellm": "yes"},
}


def test_client_bookkeeping_is_never_forwarded(gateway_to_recorder: Server, recorder: Recorder) -> None:
    recorder.bodies.clear()
    body = {
        "model": "openai/dall-e-2",
        "prompt": "keep it clean",
        "size": "256x256",
        "user": "u-1",
        **BOOKKEEPING,
    }
    with gateway_to_recorder.client() as c:
        r = c.post("/v1/images/generations", json={**body, "response_format": "b64_json"})
    assert r.status_code == 200, r.text
    ((path, sent),) = recorder.bodies
    assert path == "/v1/images/generations"
    assert sent["prompt"] == "keep it clean" and sent["model"] == "dall-e-2"
    assert sent["user"] == "u-1"  # a field the provider takes is forwarded beside them
    assert not set(BOOKKEEPING) & set(sent), sent


def test_chat_passes_the_provider_object_to_openrouter_untouched(
    gateway_to_recorder: Server, recorder: Recorder
) -> None:
    recorder.bodies.clear()
    provider = {"order": ["anthropic", "openai"], "allow_fallbacks": False, "sort": "price",
                "only": ["openai"], "ignore": ["azure"], "max_price": {"prompt": 1}}  # fmt: skip
    body = {
        "model": "openai/gpt-5.4",
        "messages": [{"role": "user", "content": "hi"}],
        "provider": provider,
        "transforms": ["middle-out"],  # an OpenRouter field the gateway does not know: passed through
        **BOOKKEEPING,
        "extra_body": {"reasoning": {"effort": "low"}},  # merged in, as LiteLLM means it
    }
    with gateway_to_recorder.client() as c:
        r = c.post("/v1/chat/completions", json=body)
    assert r.status_code == 200, r.text
    ((path, sent),) = recorder.bodies
    assert path == "/v1/chat/completions"
    assert sent["provider"] == provider and sent["model"] == "openai/gpt-5.4"
    assert sent["transforms"] == ["middle-out"] and sent["reasoning"] == {"effort": "low"}
    assert not set(BOOKKEEPING) & set(sent), sent
