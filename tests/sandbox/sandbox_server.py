"""A sandbox server on a free port (uvicorn in a thread), and plain-HTTP calls to it."""

from __future__ import annotations

import json
import socket
import threading
import time
import urllib.error
import urllib.request
from dataclasses import dataclass
from typing import Any

import uvicorn
from starlette.applications import Starlette

from mediarouter.settings import EmulatorSettings

TEST_SETTINGS = EmulatorSettings(image_cache=32, hang_s=5.0, url_ttl_s=60)


@dataclass
class RunningServer:
    base_url: str  # http://127.0.0.1:<port>
    server: uvicorn.Server
    thread: threading.Thread

    @property
    def openai_base(self) -> str:
        return f"{self.base_url}/sandbox/openai/v1"

    def call(self, method: str, path: str, body: Any = None, key: str | None = None) -> tuple[int, Any]:
        """A plain HTTP call (stdlib, no SDK); returns (status, decoded JSON body)."""
        data = json.dumps(body).encode() if body is not None else None
        headers = {"content-type": "application/json"}
        if key:
            headers["authorization"] = f"Bearer {key}"
        request = urllib.request.Request(self.base_url + path, data=data, method=method, headers=headers)
        try:
            with urllib.request.urlopen(request, timeout=10) as response:
                return response.status, json.loads(response.read() or b"null")
        except urllib.error.HTTPError as exc:
            return exc.code, json.loads(exc.read() or b"null")

    def set_fault(self, **fault: Any) -> None:
        status, body = self.call("POST", "/sandbox/_faults", fault)
        assert status == 200, body

    def stop(self) -> None:
        self.server.should_exit = True
        self.thread.join(timeout=10)


def start_server(app: Starlette) -> RunningServer:
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    config = uvicorn.Config(app, log_level="critical", lifespan="off", timeout_graceful_shutdown=1)
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not server.started:
        if time.monotonic() > deadline or not thread.is_alive():
            raise RuntimeError("the sandbox server did not start")
        time.sleep(0.01)
    return RunningServer(f"http://127.0.0.1:{port}", server, thread)
