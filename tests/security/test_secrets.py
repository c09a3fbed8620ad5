"""Provider secrets never reach an output: a faulty run against every provider, searched for every key.

The gateway runs outside sandbox mode with each provider pointed at the emulators of a second,
standalone sandbox, each with its own distinctive secret (Vertex: a service-account JSON whose token
endpoint is the sandbox's). Faults of several modes are injected, and every output is searched: the
response bodies and headers, the request log, /metrics, /v1/providers and the gateway's own log at
DEBUG. The emulators mask keys the way the real providers do, so one extra upstream (`leaky`) answers
401 with the key echoed verbatim, which the gateway must redact.
"""

from __future__ import annotations

import json
import logging
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import httpx
import pytest
import yaml

from mediarouter.providers.google.sandbox_account import SANDBOX_PRIVATE_KEY, sandbox_service_account
from mediarouter.providers.registry import PROVIDERS

from harness import Server, standalone_sandbox, start_server

# One model each provider serves, forced with `<provider>/<model>`.
MODELS = {
    "openai": "gpt-image-1.5",
    "gemini": "gemini-3-pro-image-preview",
    "vertex": "gemini-3-pro-image-preview",
    "replicate": "flux.2-max",
    "fal": "flux.2-max",
    "fireworks": "flux.1-schnell-fp8",
    "runware": "flux.2-pro",
    "xai": "grok-imagine-image",
    "alibaba": "qwen-image",
    "openrouter": "gemini-3-pro-image-preview",
}
SECRETS = {slug: f"{slug}-SECRET-{i:02d}-q7Zr9XkP2mW4" for i, slug in enumerate(MODELS) if slug != "vertex"}
LEAKY_SECRET = "sk-leaky-SECRET-verbatim-8Hn3Jt6Y"
PRIVATE_KEY_ID = "vertexSECRETkeyid0123456789abcdef"
# The service account's private key (published for the sandbox, but a private key all the same).
PRIVATE_KEY_LINES = [line for line in SANDBOX_PRIVATE_KEY.splitlines() if line and "PRIVATE KEY" not in line]
FAULTS = [
    {"mode": "error", "status": 401},
    {"mode": "error", "status": 403},
    {"mode": "error", "status": 500},
    {"mode": "malformed"},
    {"mode": "reset"},
    {"mode": "content_policy"},
]


def _all_secrets() -> list[str]:
    return [*SECRETS.values(), LEAKY_SECRET, PRIVATE_KEY_ID, *PRIVATE_KEY_LINES]


@pytest.fixture(scope="module")
def sandbox() -> Iterator[str]:
    """A standalone sandbox (no admin key: its fault endpoints are open) playing every provider."""
    with standalone_sandbox() as base:
        yield base


class _Leaky(BaseHTTPRequestHandler):
    """An upstream that echoes the key it was sent in its 401, as some real APIs do."""

    def do_POST(self) -> None:  # noqa: N802 (http.server's name)
        self.rfile.read(int(self.headers.get("Content-Length") or 0))
        key = self.headers.get("Authorization", "").removeprefix("Bearer ")
        body = json.dumps(
            {
                "error": {
                    "message": f"Incorrect API key provided: {key}",
                    "type": "invalid_request_error",
                    "code": "invalid_api_key",
                }
            }
        ).encode()
        self.send_response(401)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture(scope="module")
def leaky() -> Iterator[str]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Leaky)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}/v1"
    server.shutdown()


class _Capture(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.lines: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.lines.append(self.format(record))


@pytest.fixture(scope="module")
def captured() -> Iterator[_Capture]:
    handler = _Capture()
    handler.setFormatter(logging.Formatter("%(name)s %(levelname)s %(message)s"))
    root = logging.getLogger()
    level = root.level
    root.addHandler(handler)
    root.setLevel(logging.DEBUG)
    yield handler
    root.removeHandler(handler)
    root.setLevel(level)


@pytest.fixture(scope="module")
def gateway_on_emulators(
    sandbox: str, leaky: str, captured: _Capture, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Server]:
    providers: dict[str, object] = {
        slug: {"api_key": key, "base_url": f"{sandbox}/{slug}{PROVIDERS[slug].sandbox_path}"}
        for slug, key in SECRETS.items()
    }
    providers["fal"] = {**providers["fal"], "run_url": f"{sandbox}/fal/run"}  # type: ignore[dict-item]
    account = sandbox_service_account(f"{sandbox}/vertex/token") | {"private_key_id": PRIVATE_KEY_ID}
    providers["vertex"] = {
        "base_url": f"{sandbox}/vertex",
        "project": "sandbox-project",
        "service_account": json.dumps(account),
    }
    providers["leaky"] = {
        "kind": "openai_compatible",
        "base_url": leaky,
        "api_key": LEAKY_SECRET,
        "models": [
            {
                "id": "leaky-img",
                "model_id": "leaky-img",
                "modes": ["generate"],
                "sizes": ["1024x1024"],
                "price": {"per": "image", "usd": 0.001},
            }
        ],
    }
    data = tmp_path_factory.mktemp("secrets")
    (data / "config.yaml").write_text(yaml.safe_dump({"providers": providers}))
    handle, server, thread = start_server(
        data, {"MEDIAROUTER_SANDBOX": "false", "MEDIAROUTER_CONFIG": str(data / "config.yaml")}
    )
    yield handle
    server.should_exit = True
    thread.join(timeout=10)


def _outputs(response: httpx.Response) -> str:
    return response.text + "\n" + "\n".join(f"{k}: {v}" for k, v in response.headers.items())


def test_every_provider_is_reachable_with_its_own_secret(gateway_on_emulators: Server, sandbox: str) -> None:
    httpx.delete(f"{sandbox}/_faults").raise_for_status()
    with gateway_on_emulators.client() as c:
        assert set(c.get("/health").json()["providers"]) >= set(MODELS) | {"leaky"}
        for slug, model in MODELS.items():
            body = {"model": f"{slug}/{model}", "prompt": "a lighthouse", "response_format": "b64_json"}
            r = c.post("/v1/images/generations", json=body)
            assert r.status_code == 200, (slug, r.text)


def test_no_secret_in_any_output_of_a_faulty_run(
    gateway_on_emulators: Server, sandbox: str, captured: _Capture
) -> None:
    outputs: list[str] = []
    with gateway_on_emulators.client() as c:
        for fault in FAULTS:
            httpx.delete(f"{sandbox}/_faults").raise_for_status()
            for slug in MODELS:
                httpx.post(f"{sandbox}/_faults", json={"provider": slug, **fault}).raise_for_status()
            for slug, model in MODELS.items():
                body = {"model": f"{slug}/{model}", "prompt": "a lighthouse", "response_format": "b64_json"}
                r = c.post("/v1/images/generations", json=body)
                assert r.status_code >= 400, (slug, fault, r.text)
                outputs.append(_outputs(r))
            chat = {"model": "openai/gpt-5.4", "messages": [{"role": "user", "content": "hi"}]}
            outputs.append(_outputs(c.post("/v1/chat/completions", json=chat)))
            outputs.append(_outputs(c.post("/v1/chat/completions", json={**chat, "stream": True})))
        httpx.delete(f"{sandbox}/_faults").raise_for_status()
        leak = c.post("/v1/images/generations", json={"model": "leaky/leaky-img", "prompt": "x"})
        assert leak.status_code >= 400 and "Incorrect API key provided" in leak.text, leak.text
        outputs.append(_outputs(leak))
        time.sleep(0.2)  # the log flushes every 10 ms
        outputs.append(c.get("/v1/requests", params={"limit": 100}).text)
        for row in c.get("/v1/requests", params={"limit": 100}).json()["data"]:
            outputs.append(c.get(f"/v1/requests/{row['id']}").text)
        outputs.append(c.get("/metrics").text)
        outputs.append(c.get("/v1/providers").text)
        outputs.append(c.get("/v1/usage").text)
    outputs += captured.lines
    assert captured.lines  # the gateway's log was captured
    text = "\n".join(outputs)
    leaked = [s for s in _all_secrets() if s in text]
    assert not leaked, leaked
    assert "ya29." not in text  # the OAuth token the gateway minted for vertex from the service account


LEAKY_CHAT_SECRET = "sk-or-leaky-SECRET-chat-5Dw2Lq9V"


@pytest.fixture(scope="module")
def chat_on_leaky(
    leaky: str, captured: _Capture, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Server]:
    data = tmp_path_factory.mktemp("leaky-chat")
    config = {"providers": {"openrouter": {"api_key": LEAKY_CHAT_SECRET, "base_url": leaky}}}
    (data / "config.yaml").write_text(yaml.safe_dump(config))
    handle, server, thread = start_server(
        data, {"MEDIAROUTER_SANDBOX": "false", "MEDIAROUTER_CONFIG": str(data / "config.yaml")}
    )
    yield handle
    server.should_exit = True
    thread.join(timeout=10)


@pytest.mark.parametrize("stream", [False, True])
def test_a_chat_upstream_echoing_the_key_is_redacted(
    chat_on_leaky: Server, captured: _Capture, stream: bool
) -> None:
    chat = {"model": "openai/gpt-5.4", "messages": [{"role": "user", "content": "hi"}], "stream": stream}
    with chat_on_leaky.client() as c:
        r = c.post("/v1/chat/completions", json=chat)
        assert r.status_code == 502 and "Incorrect API key provided" in r.text, r.text
        time.sleep(0.2)
        outputs = [_outputs(r), c.get("/v1/requests", params={"limit": 100}).text, c.get("/metrics").text]
    text = "\n".join([*outputs, *captured.lines])
    assert LEAKY_CHAT_SECRET not in text
