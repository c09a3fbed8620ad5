"""Client-compatibility fixtures: LiteLLM imported once per session, one LiteLLM proxy per session.

LiteLLM is a test-only dependency (scripts/install-litellm.sh): the newest release lives in .venv and is
imported in-process; every tested release has its own .venv-litellm-<version> that runs the proxy, and
the older one runs the LiteLLM tests here in a subprocess (test_client_litellm_proxy.py).
"""

from __future__ import annotations

import os
import socket
import subprocess
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType
from typing import Any

import httpx
import pytest
from clients_support import IN_OTHER_VERSION, OtherRun, Proxy, litellm_version, proxy_venv, start_other_run
from docs_examples import PROXY_KEY, proxy_config_block

from harness import Server, start_server

os.environ.setdefault("LITELLM_LOCAL_MODEL_COST_MAP", "True")  # never fetch the price map

PROXY_MASTER_KEY = PROXY_KEY  # the guide's examples call the proxy with this key
PROXY_START_S = 120


# The clients test what reaches the gateway, not its failover timing: the shared harness's sub-second
# attempt timeout would turn a busy machine (LiteLLM proxies booting beside the tests) into 502s.
RELAXED_TIMEOUTS = {
    "MEDIAROUTER_TIMEOUTS_ATTEMPT_S": "30",
    "MEDIAROUTER_TIMEOUTS_JOB_S": "30",
    "MEDIAROUTER_TIMEOUTS_REQUEST_S": "60",
    "MEDIAROUTER_TIMEOUTS_FETCH_S": "30",
}


@pytest.fixture(scope="session")
def gateway(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    """The sandbox gateway, as everywhere in the tests, with timeouts for a loaded machine."""
    handle, server, thread = start_server(tmp_path_factory.mktemp("gateway"), RELAXED_TIMEOUTS)
    yield handle
    server.should_exit = True
    thread.join(timeout=10)


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


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def proxy_config(gateway_v1: str) -> str:
    """The LiteLLM proxy config: the guide's own example (docs/clients.md), pointed at the test gateway."""
    return proxy_config_block().replace("http://127.0.0.1:8080/v1", gateway_v1)


@dataclass
class ProxyProcess:
    process: subprocess.Popen[bytes]
    url: str
    version: str
    config: Path
    log: Path


@pytest.fixture(scope="session")
def proxy_process(gateway: Any, tmp_path_factory: pytest.TempPathFactory) -> Iterator[ProxyProcess]:
    """The LiteLLM proxy process (of the same version as the LiteLLM imported here), started, not awaited."""
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
    try:
        yield ProxyProcess(process, f"http://127.0.0.1:{port}", version, config, log)
    finally:
        process.terminate()
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=5)


@pytest.fixture(scope="session")
def proxy(proxy_process: ProxyProcess) -> Proxy:
    """One LiteLLM proxy per session, ready (it takes 15-45 s to start)."""
    _wait_ready(proxy_process.process, proxy_process.url, proxy_process.log)
    p = proxy_process
    return Proxy(p.url, PROXY_MASTER_KEY, p.version, p.config, p.log)


@pytest.fixture(scope="session")
def other_versions(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, OtherRun | str]]:
    """Every other tested LiteLLM release running the LiteLLM client tests (test_client_litellm_proxy.py
    collects the results), started, not awaited."""
    from mediarouter.litellm import TESTED_VERSIONS

    others = [] if IN_OTHER_VERSION else [v for v in TESTED_VERSIONS if v != litellm_version()]
    runs = {v: start_other_run(v, tmp_path_factory.mktemp(f"litellm-{v}")) for v in others}
    yield runs
    for run in runs.values():
        if isinstance(run, OtherRun) and run.process.poll() is None:
            run.process.kill()
            run.process.wait(timeout=10)


@pytest.fixture(scope="session", autouse=True)
def start_early(request: pytest.FixtureRequest) -> None:
    """Without xdist, start the slow processes (the proxy, the other releases' runs) with the first
    client test, so they boot while the others run. Under xdist they start with the proxy's module, so
    only the worker that runs it pays."""
    if "PYTEST_XDIST_WORKER" in os.environ:
        return
    nodeids = " ".join(item.nodeid for item in request.session.items)
    if "test_litellm_client_suite" in nodeids:
        request.getfixturevalue("other_versions")
    if "test_client_litellm_proxy.py" in nodeids:
        request.getfixturevalue("proxy_process")


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


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """LiteLLM's import and its pydantic models warn by the dozen; none of it is ours to act on."""
    here = Path(__file__).parent
    for item in items:
        if here in Path(str(item.fspath)).parents:
            item.add_marker(pytest.mark.filterwarnings("ignore::UserWarning:pydantic.*"))
