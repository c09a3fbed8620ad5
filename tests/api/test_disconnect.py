"""A client that goes away cancels its in-flight attempts; the request is logged as cancelled."""

from __future__ import annotations

import time

import httpx
import pytest

from harness import Server


def _wait_for_row(admin: httpx.Client, status: str, model: str) -> dict[str, object]:
    """The newest row for `model` exactly as typed: `?model=` matches the catalog model, so another
    test's `fal/flux.1-schnell` row in the same worker's gateway would match `replicate/...` too."""
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline:
        params = {"status": status, "model": model, "limit": 50}
        rows = admin.get("/v1/requests", params=params).json()["data"]
        typed = [row for row in rows if row["model"] == model]
        if typed:
            return typed[0]  # type: ignore[no-any-return]
        time.sleep(0.05)
    raise AssertionError(f"no {status} request logged")


def test_disconnect_cancels_and_is_logged(gateway: Server, admin: httpx.Client, faults: httpx.Client) -> None:
    faults.post("/sandbox/_faults", json={"provider": "replicate", "mode": "job_stuck"}).raise_for_status()
    body = {"model": "replicate/flux.1-schnell", "prompt": "leave early", "response_format": "b64_json"}
    with pytest.raises(httpx.TimeoutException):
        # Prefer: wait holds the submit for about a second here; leave while the job is being polled
        httpx.post(f"{gateway.url}/v1/images/generations", json=body, headers=admin.headers, timeout=1.3)
    row = _wait_for_row(admin, "cancelled", "replicate/flux.1-schnell")
    assert row["error_code"] == "CANCELLED" and row["model"] == "replicate/flux.1-schnell"
    assert [a["status"] for a in row["attempts"]] == ["cancelled"]  # type: ignore[union-attr]
    # the upstream prediction was cancelled too: the emulator lists it as canceled
    time.sleep(0.2)
    listed = httpx.get(
        f"{gateway.url}/sandbox/replicate/v1/predictions", headers={"Authorization": "Bearer x"}
    ).json()
    assert any(p["status"] == "canceled" and p["input"]["prompt"] == "leave early" for p in listed["results"])


def test_public_base_url_honours_forwarded_headers(admin: httpx.Client) -> None:
    body = {"model": "dall-e-2", "prompt": "x", "size": "256x256", "response_format": "url"}
    r = admin.post(
        "/v1/images/generations",
        json=body,
        headers={"X-Forwarded-Proto": "https", "X-Forwarded-Host": "img.example.com"},
    )
    assert r.json()["data"][0]["url"].startswith("https://img.example.com/v1/media/")


def test_disconnect_during_a_synchronous_call_cancels_and_is_logged(
    gateway: Server, admin: httpx.Client, faults: httpx.Client
) -> None:
    faults.post(
        "/sandbox/_faults", json={"provider": "openai", "mode": "slow", "latency_ms": 1200}
    ).raise_for_status()
    body = {"model": "openai/dall-e-2", "prompt": "leave a sync call", "size": "256x256"}
    with pytest.raises(httpx.TimeoutException):
        httpx.post(f"{gateway.url}/v1/images/generations", json=body, headers=admin.headers, timeout=0.4)
    row = _wait_for_row(admin, "cancelled", "openai/dall-e-2")
    assert row["error_code"] == "CANCELLED" and row["model"] == "openai/dall-e-2"
    assert [(a["provider"], a["status"]) for a in row["attempts"]] == [("openai", "cancelled")]  # type: ignore[union-attr]
    assert row["cost"] == 0
    assert faults.get("/sandbox/_faults").json()["requests"] == {"openai": 1}
