"""A real `mediarouter serve` process: graceful shutdown, protected metrics, no leaked secrets."""

from __future__ import annotations

import os
import re
import signal
import sqlite3
import subprocess
import threading
import time
from pathlib import Path

import httpx
from cli_support import CLI


def _serve(tmp_path: Path, **env: str) -> tuple[subprocess.Popen[str], str]:
    full = {k: v for k, v in os.environ.items() if not k.startswith("MEDIAROUTER_")}
    full.update({"MEDIAROUTER_DATA_DIR": str(tmp_path), "MEDIAROUTER_ADMIN_KEY": "admin-k", **env})
    proc = subprocess.Popen(
        CLI + ["serve", "--port", "0", "--sandbox"],
        env=full,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    assert proc.stdout is not None
    url = re.search(r"listening on (http://\S+)", proc.stdout.readline()).group(1)  # type: ignore[union-attr]
    for _ in range(200):
        try:
            httpx.get(f"{url}/health")
            break
        except httpx.HTTPError:
            time.sleep(0.05)
    return proc, url


def test_sigterm_lets_in_flight_requests_finish_and_loses_no_log_row(tmp_path: Path) -> None:
    proc, url = _serve(tmp_path)
    headers = {"Authorization": "Bearer admin-k"}
    httpx.post(
        f"{url}/sandbox/_faults",
        json={"provider": "openai", "mode": "slow", "latency_ms": 1200},
        headers=headers,
    )
    result: dict[str, httpx.Response] = {}

    def slow_request() -> None:
        body = {"model": "dall-e-2", "prompt": "finish me", "size": "256x256", "response_format": "b64_json"}
        result["r"] = httpx.post(f"{url}/v1/images/generations", json=body, headers=headers, timeout=30)

    thread = threading.Thread(target=slow_request)
    thread.start()
    time.sleep(0.4)
    proc.send_signal(signal.SIGTERM)
    thread.join(timeout=30)
    assert proc.wait(timeout=30) in (
        0,
        -signal.SIGTERM,
    )  # uvicorn re-raises the signal after a clean shutdown
    assert result["r"].status_code == 200
    rid = result["r"].json()["id"]
    with sqlite3.connect(tmp_path / "mediarouter.db") as db:
        row = db.execute("SELECT status, cost FROM requests WHERE id = ?", (rid,)).fetchone()
    assert row is not None and row[0] == "completed" and row[1] > 0


def test_metrics_can_be_protected(tmp_path: Path) -> None:
    proc, url = _serve(tmp_path, MEDIAROUTER_SERVER_PROTECT_METRICS="true")
    try:
        assert httpx.get(f"{url}/metrics").status_code == 401
        assert httpx.get(f"{url}/metrics", headers={"Authorization": "Bearer admin-k"}).status_code == 200
    finally:
        proc.terminate()
        proc.wait(timeout=20)


def test_provider_secrets_never_leak(tmp_path: Path) -> None:
    """A faulty run with real-looking credentials pointed at a standalone sandbox: search every output."""
    secret = "sk-live-SUPERSECRET-0123456789abcdef"
    sandbox = subprocess.Popen(
        CLI + ["sandbox", "--port", "0"],
        env={**os.environ, "MEDIAROUTER_DATA_DIR": str(tmp_path / "s")},
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    assert sandbox.stdout is not None
    base = re.search(r"(http://\S+)/sandbox", sandbox.stdout.readline()).group(1)  # type: ignore[union-attr]
    time.sleep(0.5)
    proc, url = _serve(
        tmp_path,
        MEDIAROUTER_SANDBOX="false",
        MEDIAROUTER_PROVIDERS_OPENAI_API_KEY=secret,
        MEDIAROUTER_PROVIDERS_OPENAI_BASE_URL=f"{base}/sandbox/openai/v1",
        MEDIAROUTER_SERVER_ACCESS_LOG="true",
    )
    headers = {"Authorization": "Bearer admin-k"}
    outputs: list[str] = []
    try:
        for mode in ("error", "content_policy", "malformed", "empty"):
            for status in (401, 403, 500) if mode == "error" else (None,):
                fault = {"provider": "openai", "mode": mode, **({"status": status} if status else {})}
                httpx.post(f"{base}/sandbox/_faults", json=fault).raise_for_status()
                for model in ("gpt-image-1-mini", "openai/gpt-image-1-mini"):
                    r = httpx.post(
                        f"{url}/v1/images/generations",
                        json={"model": model, "prompt": "x"},
                        headers=headers,
                        timeout=30,
                    )
                    outputs.append(r.text + str(r.headers))
        httpx.delete(f"{base}/sandbox/_faults")
        ok = httpx.post(
            f"{url}/v1/images/generations",
            json={"model": "gpt-image-1-mini", "prompt": "x"},
            headers=headers,
            timeout=30,
        )
        assert ok.status_code == 200
        outputs.append(ok.text + str(ok.headers))
        outputs.append(httpx.get(f"{url}/v1/requests", params={"limit": 100}, headers=headers).text)
        outputs.append(httpx.get(f"{url}/metrics").text)
        outputs.append(httpx.get(f"{url}/v1/providers", headers=headers).text)
        outputs.append(httpx.get(f"{url}/health").text)
    finally:
        proc.terminate()
        out, err = proc.communicate(timeout=20)
        sandbox.terminate()
        sandbox.communicate(timeout=20)
    outputs += [out, err, (tmp_path / "mediarouter.db").read_bytes().decode(errors="replace")]
    for text in outputs:
        assert secret not in text
        assert "SUPERSECRET" not in text


def test_a_request_cut_off_at_the_shutdown_deadline_gets_an_error_and_a_log_row(tmp_path: Path) -> None:
    proc, url = _serve(tmp_path, MEDIAROUTER_SERVER_GRACEFUL_SHUTDOWN_S="1")
    headers = {"Authorization": "Bearer admin-k"}
    httpx.post(
        f"{url}/sandbox/_faults",
        json={"provider": "openai", "mode": "slow", "latency_ms": 8000},
        headers=headers,
    ).raise_for_status()
    result: dict[str, httpx.Response] = {}

    def slow_request() -> None:
        body = {"model": "dall-e-2", "prompt": "too slow", "size": "256x256", "response_format": "b64_json"}
        result["r"] = httpx.post(f"{url}/v1/images/generations", json=body, headers=headers, timeout=30)

    thread = threading.Thread(target=slow_request)
    thread.start()
    time.sleep(0.4)
    started = time.monotonic()
    proc.send_signal(signal.SIGTERM)
    thread.join(timeout=30)
    assert proc.wait(timeout=30) in (0, -signal.SIGTERM)
    assert time.monotonic() - started < 5  # the deadline (1 s) held; the 8 s upstream was not awaited
    r = result["r"]
    assert r.status_code == 503 and r.headers["x-should-retry"] == "true", r.text
    error = r.json()["error"]
    assert error["code"] == "SHUTTING_DOWN" and error["request_id"] == r.headers["x-mediarouter-request-id"]
    with sqlite3.connect(tmp_path / "mediarouter.db") as db:
        row = db.execute(
            "SELECT status, http_status, error_code, attempts FROM requests WHERE id = ?",
            (error["request_id"],),
        ).fetchone()
    assert row is not None and row[:3] == ("cancelled", 503, "SHUTTING_DOWN")
    assert '"provider":"openai"' in row[3]  # the attempt that was cut off is in the row
