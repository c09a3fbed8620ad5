"""Client-compatibility fixtures: LiteLLM imported once per session, one LiteLLM proxy per session.

LiteLLM is a test-only dependency (scripts/install-litellm.sh): the newest release lives in .venv and is
imported in-process; every tested release has its own .venv-litellm-<version> that runs the proxy, and
the older one runs the LiteLLM tests here in a subprocess (test_client_litellm_versions.py).
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from importlib import metadata
from pathlib import Path
from types import ModuleType
from typing import Any

import httpx
import pytest

os.environ.setdefault("LITELLM_LOCAL_MODEL_COST_MAP", "True")  # never fetch the price map

ROOT = Path(__file__).resolve().parents[2]
TEXT_MODEL = "google/gemini-3-flash-preview"  # served by the OpenRouter emulator in sandbox mode
PROXY_MASTER_KEY = "sk-proxy-test-master"
PROXY_START_S = 120


def litellm_version() -> str | None:
    try:
        return metadata.version("litellm")
    except metadata.PackageNotFoundError:
        return None


def proxy_venv(version: str) -> Path:
    return ROOT / f".venv-litellm-{version}"


@pytest.fixture(scope="session")
def litellm() -> ModuleType:
    """LiteLLM, imported once per session (10-14 s); its debug banners off."""
    if litellm_version() is None:
        pytest.fail("LiteLLM is not installed: run scripts/install-litellm.sh (make test does)")
    import litellm as module

    module.suppress_debug_info = True
    return module


@pytest.fixture(scope="session")
def registered(litellm: ModuleType) -> ModuleType:
    """LiteLLM with `mediarouter/` and `lumenfall/` registered."""
    import mediarouter.litellm

    mediarouter.litellm.register()
    return litellm


def request_id(response: Any) -> str:
    """The gateway's request id from a LiteLLM response (its response headers are kept as hidden params)."""
    hidden = getattr(response, "_hidden_params", None) or {}
    headers = hidden.get("headers") or {}
    extra = hidden.get("additional_headers") or {}
    rid = headers.get("x-mediarouter-request-id") or extra.get("llm_provider-x-mediarouter-request-id")
    assert rid, f"no x-mediarouter-request-id in {sorted(headers) + sorted(extra)}"
    return str(rid)


def logged(admin: httpx.Client, rid: str) -> dict[str, Any]:
    """The request log entry (written a few milliseconds after the answer)."""
    for _ in range(100):
        r = admin.get(f"/v1/requests/{rid}")
        if r.status_code == 200:
            return r.json()  # type: ignore[no-any-return]
        time.sleep(0.02)
    raise AssertionError(f"request {rid} never reached the log")


def latest(admin: httpx.Client) -> dict[str, Any]:
    """The newest log entry (each worker has its own gateway and runs its tests one at a time)."""
    time.sleep(0.05)
    return admin.get("/v1/requests", params={"limit": 1}).json()["data"][0]  # type: ignore[no-any-return]


@dataclass
class Proxy:
    url: str
    key: str
    version: str
    config: Path
    log: Path


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def proxy_config(gateway_v1: str) -> str:
    """The LiteLLM proxy config: the guide's own example (docs/clients.md), pointed at the test gateway."""
    from docs_examples import proxy_config_block

    return proxy_config_block().replace("http://127.0.0.1:8080/v1", gateway_v1)


@pytest.fixture(scope="session")
def proxy(gateway: Any, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Proxy]:
    """One LiteLLM proxy process per session, of the same version as the LiteLLM imported here."""
    version = litellm_version()
    if version is None:
        pytest.fail("LiteLLM is not installed: run scripts/install-litellm.sh (make test does)")
    executable = proxy_venv(version) / "bin" / "litellm"
    if not executable.exists():
        pytest.fail(f"{executable} is missing: run scripts/install-litellm.sh (make test does)")
    workdir = tmp_path_factory.mktemp("litellm-proxy")
    config = workdir / "litellm_config.yaml"
    config.write_text(proxy_config(f"{gateway.url}/v1"))
    port = _free_port()
    env = {
        **os.environ,
        "LITELLM_MASTER_KEY": PROXY_MASTER_KEY,
        "LITELLM_LOCAL_MODEL_COST_MAP": "True",
        "MEDIAROUTER_API_KEY": gateway.user_key,
        "PYTHONPATH": str(ROOT / "src"),
    }
    env.pop("DATABASE_URL", None)
    log = workdir / "proxy.log"
    with log.open("wb") as out:
        process = subprocess.Popen(
            [str(executable), "--config", str(config), "--host", "127.0.0.1", "--port", str(port)],
            cwd=workdir,
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    url = f"http://127.0.0.1:{port}"
    try:
        _wait_ready(process, url, log)
        yield Proxy(url, PROXY_MASTER_KEY, version, config, log)
    finally:
        process.terminate()
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=5)


def _wait_ready(process: subprocess.Popen[bytes], url: str, log: Path) -> None:
    deadline = time.monotonic() + PROXY_START_S
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"LiteLLM proxy exited with {process.returncode}:\n{log.read_text()[-3000:]}")
        try:
            if httpx.get(f"{url}/health/liveliness", timeout=1).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.25)
    raise RuntimeError(f"LiteLLM proxy not ready after {PROXY_START_S} s:\n{log.read_text()[-3000:]}")


def pytest_report_header(config: pytest.Config) -> str:
    return f"litellm: {litellm_version() or 'not installed'} (python {sys.version.split()[0]})"
