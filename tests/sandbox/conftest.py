"""Fixtures: one real sandbox server per test worker, shared by the tests that ask for it."""

from __future__ import annotations

from collections.abc import Iterator

import openai
import pytest
from sandbox_server import TEST_SETTINGS, RunningServer, start_server

from mediarouter.sandbox.app import build_standalone_app


@pytest.fixture(scope="session")
def sandbox() -> Iterator[RunningServer]:
    running = start_server(build_standalone_app(TEST_SETTINGS, admin_key=None))
    yield running
    running.stop()


@pytest.fixture(autouse=True)
def clear_faults(request: pytest.FixtureRequest) -> None:
    """Each test that uses the server starts with no faults, no counts and the default seed."""
    if "sandbox" in request.fixturenames:
        server: RunningServer = request.getfixturevalue("sandbox")
        assert server.call("DELETE", "/sandbox/_faults")[0] == 200
        assert server.call("POST", "/sandbox/_faults", {"seed": 0})[0] == 200


@pytest.fixture(scope="session")
def client(sandbox: RunningServer) -> Iterator[openai.OpenAI]:
    with openai.OpenAI(base_url=sandbox.openai_base, api_key="sk-test", max_retries=0, timeout=10) as sdk:
        yield sdk
