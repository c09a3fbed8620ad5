"""Shared fixtures: one sandbox-mode gateway per test worker (see harness.py)."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import openai
import pytest

from harness import Server, start_server


@pytest.fixture(scope="session")
def gateway(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    handle, server, thread = start_server(tmp_path_factory.mktemp("gateway"))
    yield handle
    server.should_exit = True
    thread.join(timeout=10)


@pytest.fixture
def faults(gateway: Server) -> Iterator[httpx.Client]:
    """A client for /sandbox/_faults; every fault is cleared after the test."""
    client = gateway.client()
    client.delete("/sandbox/_faults").raise_for_status()
    yield client
    client.delete("/sandbox/_faults")
    client.close()


@pytest.fixture
def sdk(gateway: Server) -> openai.OpenAI:
    """The official OpenAI SDK pointed at the gateway (no retries, so each call is one request)."""
    return openai.OpenAI(base_url=f"{gateway.url}/v1", api_key=gateway.admin_key, max_retries=0, timeout=30)


@pytest.fixture
def admin(gateway: Server) -> Iterator[httpx.Client]:
    with gateway.client() as client:
        yield client


@pytest.fixture
def user(gateway: Server) -> Iterator[httpx.Client]:
    with gateway.client(gateway.user_key) as client:
        yield client
