"""The test gateway: a sandbox-mode mediarouter served by real uvicorn on a free port, in a thread."""

from __future__ import annotations

import os
import re
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx
import uvicorn

from mediarouter.app import create_app
from mediarouter.cli.serve import _socket
from mediarouter.settings import load_settings

ADMIN_KEY = "test-admin-key"

# Sub-second timeouts everywhere so failure tests stay fast.
FAST_ENV = {
    "MEDIAROUTER_TIMEOUTS_ATTEMPT_S": "1.5",
    "MEDIAROUTER_TIMEOUTS_JOB_S": "1.5",
    "MEDIAROUTER_TIMEOUTS_REQUEST_S": "4",
    "MEDIAROUTER_TIMEOUTS_CONNECT_S": "1",
    "MEDIAROUTER_TIMEOUTS_POLL_INTERVAL_S": "0.02",
    "MEDIAROUTER_TIMEOUTS_POLL_MAX_INTERVAL_S": "0.05",
    "MEDIAROUTER_TIMEOUTS_FETCH_S": "2",
    "MEDIAROUTER_LOG_FLUSH_INTERVAL_S": "0.01",
    "MEDIAROUTER_EMULATOR_HANG_S": "5",
    "MEDIAROUTER_LIMITS_MAX_IMAGE_BYTES": "1000000",
    "MEDIAROUTER_LIMITS_MAX_BODY_BYTES": "3000000",
}


@dataclass
class Server:
    url: str
    admin_key: str
    user_key: str
    data_dir: Path
    app: object

    def client(self, key: str | None = None) -> httpx.Client:
        return httpx.Client(
            base_url=self.url, headers={"Authorization": f"Bearer {key or self.admin_key}"}, timeout=30
        )


def start_server(
    data_dir: Path, extra_env: dict[str, str] | None = None
) -> tuple[Server, uvicorn.Server, threading.Thread]:
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith("MEDIAROUTER_")},
        "MEDIAROUTER_DATA_DIR": str(data_dir),
        "MEDIAROUTER_SANDBOX": "1",
        "MEDIAROUTER_ADMIN_KEY": ADMIN_KEY,
        **FAST_ENV,
        **(extra_env or {}),
    }
    settings = load_settings(None, env)
    sock = _socket("127.0.0.1", 0)
    settings.server.port = sock.getsockname()[1]
    app = create_app(settings)
    server = uvicorn.Server(
        uvicorn.Config(app, loop="uvloop", http="httptools", log_level="warning", lifespan="on")
    )
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not server.started:
        if time.monotonic() > deadline or not thread.is_alive():
            raise RuntimeError("gateway did not start")
        time.sleep(0.01)
    url = f"http://127.0.0.1:{settings.server.port}"
    created = httpx.post(
        f"{url}/v1/keys", json={"name": "test user"}, headers={"Authorization": f"Bearer {ADMIN_KEY}"}
    )
    created.raise_for_status()
    return Server(url, ADMIN_KEY, created.json()["key"], data_dir, app), server, thread


@contextmanager
def standalone_sandbox() -> Iterator[str]:
    """`mediarouter sandbox` in its own process (no admin key: its fault endpoints are open), as a
    user runs it for a gateway configured outside sandbox mode; yields its `.../sandbox` base URL."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("MEDIAROUTER_")}
    proc = subprocess.Popen(
        [sys.executable, "-m", "mediarouter", "sandbox", "--port", "0"],
        env=env,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert proc.stdout is not None
        base = re.search(r"(http://\S+)/sandbox", proc.stdout.readline()).group(1)  # type: ignore[union-attr]
        for _ in range(100):
            try:
                httpx.get(f"{base}/health")
                break
            except httpx.HTTPError:
                time.sleep(0.05)
        yield f"{base}/sandbox"
    finally:
        proc.terminate()
        proc.wait(timeout=20)
