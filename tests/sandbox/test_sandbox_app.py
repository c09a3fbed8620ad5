"""The sandbox app itself: the fault endpoints, admin protection, mounting and health."""

from __future__ import annotations

import urllib.request
from collections.abc import Iterator
from typing import Any

import openai
import pytest
from sandbox_server import TEST_SETTINGS, RunningServer, start_server
from starlette.applications import Starlette
from starlette.routing import Mount

from mediarouter.sandbox.app import EMULATORS, build_standalone_app

ADMIN_KEY = "sandbox-admin"


@pytest.fixture(scope="module")
def guarded() -> Iterator[RunningServer]:
    """A standalone sandbox with an admin key, mounted below `/deep` to check URLs behind a prefix."""
    app = Starlette(routes=[Mount("/deep", app=build_standalone_app(TEST_SETTINGS, ADMIN_KEY))])
    running = start_server(app)
    yield running
    running.stop()


def test_every_builtin_emulator_is_registered() -> None:
    assert "openai" in EMULATORS


def test_health(sandbox: RunningServer) -> None:
    assert sandbox.call("GET", "/health") == (200, {"status": "ok", "emulators": sorted(EMULATORS)})


def test_post_adds_and_replaces_with_defaults(sandbox: RunningServer) -> None:
    status, snapshot = sandbox.call("POST", "/sandbox/_faults", {"provider": "openai", "mode": "error"})
    assert status == 200
    expected: dict[str, Any] = {
        "provider": "openai",
        "model": None,
        "mode": "error",
        "status": None,
        "rate": 1.0,
        "count": None,
        "latency_ms": 0,
        "message": None,
    }
    assert snapshot == {"faults": [expected], "requests": {}}
    sandbox.call("POST", "/sandbox/_faults", {"provider": "openai", "mode": "slow", "latency_ms": 5})
    assert [f["mode"] for f in sandbox.call("GET", "/sandbox/_faults")[1]["faults"]] == ["slow"]


@pytest.mark.parametrize(
    ("body", "param"),
    [
        ({"provider": "nope", "mode": "error"}, "provider"),
        ({"provider": "openai", "mode": "nope"}, "mode"),
        ({"provider": "openai", "mode": "error", "rate": 2}, "rate"),
        ({"provider": "openai", "mode": "error", "count": -1}, "count"),
        ({"provider": "openai", "mode": "slow", "latency_ms": -1}, "latency_ms"),
        ({"provider": "openai", "mode": "error", "seed": "x"}, "seed"),
        ([1, 2], None),
    ],
)
def test_post_rejects_bad_faults_in_the_gateway_error_shape(
    sandbox: RunningServer, body: Any, param: str | None
) -> None:
    status, answer = sandbox.call("POST", "/sandbox/_faults", body)
    assert status == 400
    assert answer["error"]["code"] == "INVALID_REQUEST"
    assert answer["error"]["type"] == "invalid_request_error"
    assert answer["error"]["param"] == param
    assert sandbox.call("GET", "/sandbox/_faults")[1]["faults"] == []


def test_seed_alone_only_reseeds(sandbox: RunningServer) -> None:
    assert sandbox.call("POST", "/sandbox/_faults", {"seed": 42}) == (200, {"faults": [], "requests": {}})


def test_unknown_sandbox_path_and_method(sandbox: RunningServer) -> None:
    status, body = sandbox.call("GET", "/sandbox/nobody/v1/models")
    assert status == 404 and body["error"]["code"] == "NOT_FOUND"
    assert sandbox.call("PUT", "/sandbox/_faults", {})[0] == 405


def test_admin_key_guards_the_fault_endpoints(guarded: RunningServer) -> None:
    status, body = guarded.call("GET", "/deep/sandbox/_faults")
    assert status == 401 and body["error"]["code"] == "AUTHENTICATION_FAILED"
    assert guarded.call("DELETE", "/deep/sandbox/_faults", key="wrong")[0] == 401
    assert (
        guarded.call("POST", "/deep/sandbox/_faults", {"provider": "openai", "mode": "empty"}, key=ADMIN_KEY)[
            0
        ]
        == 200
    )
    assert guarded.call("GET", "/deep/sandbox/_faults", key=ADMIN_KEY)[1]["faults"][0]["mode"] == "empty"
    assert guarded.call("DELETE", "/deep/sandbox/_faults", key=ADMIN_KEY)[0] == 200


def test_file_urls_carry_the_mount_prefix(guarded: RunningServer) -> None:
    with openai.OpenAI(
        base_url=f"{guarded.base_url}/deep/sandbox/openai/v1", api_key="sk-any", max_retries=0
    ) as sdk:
        result = sdk.images.generate(model="dall-e-2", prompt="a boat", size="256x256")
    url = result.data[0].url  # type: ignore[index]
    assert url and url.startswith(f"{guarded.base_url}/deep/sandbox/openai/files/img-")
    with urllib.request.urlopen(url, timeout=5) as response:
        assert response.status == 200 and response.read().startswith(b"\x89PNG")
