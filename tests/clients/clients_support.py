"""Helpers shared by the client tests (a uniquely named module: every test folder has a `conftest`)."""

from __future__ import annotations

import os
import subprocess
import time
from dataclasses import dataclass
from importlib import metadata
from pathlib import Path
from typing import Any

import httpx

ROOT = Path(__file__).resolve().parents[2]
TEXT_MODEL = "google/gemini-3-flash-preview"  # served by the OpenRouter emulator in sandbox mode


def litellm_version() -> str | None:
    try:
        return metadata.version("litellm")
    except metadata.PackageNotFoundError:
        return None


def proxy_venv(version: str) -> Path:
    return ROOT / f".venv-litellm-{version}"


# What differs between the tested LiteLLM releases, as observed (the tests assert each side).
OPENAI_ROUTE_REFUSES_RESPONSE_FORMAT = {"1.102.4": False, "1.109.1": True}


def openai_route_refuses_response_format() -> bool:
    """LiteLLM 1.109.1 refuses `response_format`/`style` for `openai/` image generation; 1.102.4 sends them."""
    return OPENAI_ROUTE_REFUSES_RESPONSE_FORMAT.get(litellm_version() or "", True)


# Whether LiteLLM keeps an image answer's response headers (the gateway's X-MediaRouter-*) in
# `_hidden_params`: 1.109.1 in "headers" (as sent) and "additional_headers" (`llm_provider-` prefix);
# 1.102.4 in neither (a chat answer's "additional_headers" are kept by both).
KEEPS_IMAGE_RESPONSE_HEADERS = {"1.102.4": False, "1.109.1": True}


def keeps_image_response_headers() -> bool:
    return KEEPS_IMAGE_RESPONSE_HEADERS.get(litellm_version() or "", True)


def request_id(response: Any) -> str | None:
    """The gateway's request id from a LiteLLM response, where the release keeps it (see
    KEEPS_IMAGE_RESPONSE_HEADERS)."""
    hidden = getattr(response, "_hidden_params", None) or {}
    headers = hidden.get("headers") or {}
    extra = hidden.get("additional_headers") or {}
    rid = headers.get("x-mediarouter-request-id") or extra.get("llm_provider-x-mediarouter-request-id")
    return str(rid) if rid else None


def entry_for(admin: httpx.Client, response: Any) -> dict[str, Any]:
    """The request log entry of the call that produced `response`."""
    rid = request_id(response)
    return logged(admin, rid) if rid else latest(admin)


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


# The other tested LiteLLM releases run these files in their own venv and pytest process.
LITELLM_TESTS = [
    "tests/clients/test_client_litellm_sdk.py",
    "tests/clients/test_client_litellm_provider.py",
    "tests/clients/test_client_litellm_proxy.py",
    "tests/clients/test_client_docs.py",
]
IN_OTHER_VERSION = os.environ.get("MEDIAROUTER_TEST_OTHER_LITELLM") == "1"


@dataclass
class OtherRun:
    output: Path
    process: subprocess.Popen[bytes]


def start_other_run(version: str, workdir: Path) -> OtherRun | str:
    """The LiteLLM client tests under another release: its venv, a pytest of its own; not awaited."""
    python = proxy_venv(version) / "bin" / "python"
    if not python.exists():
        return f"{python} is missing: run scripts/install-litellm.sh (make test does)"
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PYTEST_", "MEDIAROUTER_"))}
    env["MEDIAROUTER_TEST_OTHER_LITELLM"] = "1"
    command = [str(python), "-m", "pytest", *LITELLM_TESTS, "-q", "-p", "no:cacheprovider", "-o", "addopts="]
    output = workdir / "output.txt"
    with output.open("w") as out:
        process = subprocess.Popen(
            [*command, "--basetemp", str(workdir / "run")],
            cwd=ROOT,
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    return OtherRun(output, process)
