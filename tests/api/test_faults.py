"""Emulator faults seen through the gateway: routed and forced requests get the documented errors."""

from __future__ import annotations

import httpx
import openai
import pytest

from harness import Server

ROUTED = "gpt-image-1-mini"
FORCED = "openai/gpt-image-1-mini"


def _fault(faults: httpx.Client, **fields: object) -> None:
    faults.post("/sandbox/_faults", json={"provider": "openai", **fields}).raise_for_status()


def _post(admin: httpx.Client, model: str) -> httpx.Response:
    return admin.post(
        "/v1/images/generations", json={"model": model, "prompt": "p", "response_format": "b64_json"}
    )


@pytest.mark.parametrize(
    ("fault", "routed", "forced"),
    [
        ({"mode": "error", "status": 500}, (502, "ALL_PROVIDERS_EXHAUSTED"), (502, "UPSTREAM_ERROR")),
        ({"mode": "error", "status": 503}, (502, "ALL_PROVIDERS_EXHAUSTED"), (502, "UPSTREAM_ERROR")),
        ({"mode": "error", "status": 400}, (400, "UPSTREAM_ERROR"), (400, "UPSTREAM_ERROR")),
        ({"mode": "error", "status": 401}, (502, "ALL_PROVIDERS_EXHAUSTED"), (502, "UPSTREAM_ERROR")),
        ({"mode": "error", "status": 403}, (502, "ALL_PROVIDERS_EXHAUSTED"), (502, "UPSTREAM_ERROR")),
        ({"mode": "error", "status": 429}, (502, "ALL_PROVIDERS_EXHAUSTED"), (429, "UPSTREAM_ERROR")),
        ({"mode": "timeout"}, (502, "ALL_PROVIDERS_EXHAUSTED"), (504, "UPSTREAM_ERROR")),
        ({"mode": "reset"}, (502, "ALL_PROVIDERS_EXHAUSTED"), (502, "UPSTREAM_ERROR")),
        ({"mode": "malformed"}, (502, "ALL_PROVIDERS_EXHAUSTED"), (502, "UPSTREAM_ERROR")),
        ({"mode": "empty"}, (502, "ALL_PROVIDERS_EXHAUSTED"), (502, "UPSTREAM_ERROR")),
        ({"mode": "content_policy"}, (400, "CONTENT_POLICY_VIOLATION"), (400, "CONTENT_POLICY_VIOLATION")),
    ],
)
def test_fault_modes(
    admin: httpx.Client,
    faults: httpx.Client,
    fault: dict[str, object],
    routed: tuple[int, str],
    forced: tuple[int, str],
) -> None:
    _fault(faults, **fault)
    for model, (status, code) in ((ROUTED, routed), (FORCED, forced)):
        r = _post(admin, model)
        assert (r.status_code, r.json()["error"]["code"]) == (status, code), (model, r.text)
        err = r.json()["error"]
        assert "openai" in err["message"]
        assert err["attempts"] and err["attempts"][-1]["provider"] == "openai"
        assert r.headers["x-mediarouter-request-id"] == err["request_id"]
        assert "sk-sandbox" not in r.text
        # Only a forced provider's rate limit is worth a client retry; everything else is terminal.
        assert r.headers["x-should-retry"] == ("true" if status == 429 else "false"), model


def test_slow_mode_still_answers(admin: httpx.Client, faults: httpx.Client) -> None:
    _fault(faults, mode="slow", latency_ms=300)
    r = _post(admin, ROUTED)
    assert r.status_code == 200
    assert r.json()["metadata"]["attempts"][0]["latency_ms"] >= 300


def test_count_limits_the_fault(admin: httpx.Client, faults: httpx.Client) -> None:
    _fault(faults, mode="error", status=500, count=1)
    assert _post(admin, FORCED).status_code == 502
    assert _post(admin, FORCED).status_code == 200


def test_terminal_errors_are_not_retried_by_the_sdk(gateway: Server, faults: httpx.Client) -> None:
    _fault(faults, mode="error", status=500)
    client = openai.OpenAI(base_url=f"{gateway.url}/v1", api_key=gateway.admin_key, max_retries=2)
    with pytest.raises(openai.APIStatusError) as info:
        client.images.generate(model=FORCED, prompt="p")
    assert info.value.status_code == 502
    counts = faults.get("/sandbox/_faults").json()["requests"]
    assert counts.get("openai") == 1  # x-should-retry: false kept the SDK from retrying
