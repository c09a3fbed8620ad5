"""OpenRouter as an image provider through the gateway in sandbox mode: forced `openrouter/<model>` requests."""

from __future__ import annotations

import httpx
import openai
import pytest

from imaging import decode, png

SLUG = "openrouter"


def _fault(faults: httpx.Client, **fields: object) -> None:
    faults.post("/sandbox/_faults", json={"provider": SLUG, **fields}).raise_for_status()


@pytest.mark.parametrize(
    ("model", "size", "expected"),
    [
        ("gemini-2.5-flash-image", "16:9", (1344, 768)),
        ("gemini-2.5-flash-image", "1024x1536", (832, 1248)),  # pixels -> the closest ratio, 2:3
        ("gemini-3-pro-image-preview", "2048x2048", (2048, 2048)),  # 1:1 at the 2K tier
    ],
)
def test_generate_mapped_size(sdk: openai.OpenAI, model: str, size: str, expected: tuple[int, int]) -> None:
    raw = sdk.images.with_raw_response.generate(
        model=f"{SLUG}/{model}", prompt="a glass greenhouse", size=size, response_format="b64_json"
    )
    result = raw.parse()
    image = decode(result.data[0])
    assert (image.size, image.format) == (expected, "PNG")
    meta = (result.model_extra or {})["metadata"]
    assert meta["provider"] == SLUG and meta["executed_model"] == f"{SLUG}/google/{model}"
    assert meta["cost"] > 0 and float(raw.headers["x-mediarouter-cost"]) == pytest.approx(meta["cost"])
    assert result.usage is not None and (result.usage.model_extra or {})["completion_tokens"] > 1000


def test_the_cost_follows_the_token_price(admin: httpx.Client) -> None:
    body = {
        "model": f"{SLUG}/gemini-2.5-flash-image",
        "prompt": "one two three",
        "response_format": "b64_json",
    }
    result = admin.post("/v1/images/generations", json=body).json()
    usage = result["usage"]
    expected = (usage["prompt_tokens"] * 0.3 + usage["completion_tokens"] * 30.0) / 1_000_000
    assert result["metadata"]["cost"] == pytest.approx(expected, abs=1e-6)


def test_edit(sdk: openai.OpenAI) -> None:
    result = sdk.images.edit(
        model=f"{SLUG}/gemini-2.5-flash-image",
        image=("in.png", png(96, 64), "image/png"),
        prompt="make it night",
        size="1024x1024",
        response_format="b64_json",
    )
    assert decode(result.data[0]).size == (1024, 1024)


def test_url_output_is_stored_by_the_gateway(sdk: openai.OpenAI) -> None:
    result = sdk.images.generate(model=f"{SLUG}/gemini-2.5-flash-image", prompt="a tram", size="1:1")
    assert result.data[0].url and "/v1/media/" in result.data[0].url
    assert decode(result.data[0]).size == (1024, 1024)


@pytest.mark.parametrize(
    ("fault", "status", "code"),
    [
        ({"mode": "error", "status": 400}, 400, "UPSTREAM_ERROR"),
        ({"mode": "error", "status": 401}, 502, "UPSTREAM_ERROR"),
        ({"mode": "error", "status": 402}, 502, "UPSTREAM_ERROR"),
        ({"mode": "error", "status": 403}, 502, "UPSTREAM_ERROR"),
        ({"mode": "error", "status": 429}, 429, "UPSTREAM_ERROR"),
        ({"mode": "error", "status": 500}, 502, "UPSTREAM_ERROR"),
        ({"mode": "error", "status": 502}, 502, "UPSTREAM_ERROR"),
        ({"mode": "error", "status": 503}, 502, "UPSTREAM_ERROR"),
        ({"mode": "timeout"}, 504, "UPSTREAM_ERROR"),
        ({"mode": "reset"}, 502, "UPSTREAM_ERROR"),
        ({"mode": "malformed"}, 502, "UPSTREAM_ERROR"),
        ({"mode": "empty"}, 502, "UPSTREAM_ERROR"),
        ({"mode": "content_policy"}, 400, "CONTENT_POLICY_VIOLATION"),
    ],
)
def test_faults(
    admin: httpx.Client, faults: httpx.Client, fault: dict[str, object], status: int, code: str
) -> None:
    _fault(faults, **fault)
    body = {"model": f"{SLUG}/gemini-2.5-flash-image", "prompt": "p", "response_format": "b64_json"}
    r = admin.post("/v1/images/generations", json=body)
    err = r.json()["error"]
    assert (r.status_code, err["code"]) == (status, code), r.text
    assert err["attempts"][-1]["provider"] == SLUG and "sk-sandbox" not in r.text
    if fault["mode"] == "content_policy":
        assert "violence" in err["message"]
    if fault["mode"] == "empty":
        assert err["attempts"][-1]["error_code"] == "NO_IMAGE"


def test_slow_answers_arrive_late_but_whole(admin: httpx.Client, faults: httpx.Client) -> None:
    """`slow` delays the answer (one chat completion with image output) and changes nothing else."""
    _fault(faults, mode="slow", latency_ms=200)
    body = {"model": f"{SLUG}/gemini-2.5-flash-image", "prompt": "a slow boat", "response_format": "b64_json"}
    r = admin.post("/v1/images/generations", json=body)
    assert r.status_code == 200, r.text
    assert decode(r.json()["data"][0]).size[0] > 0
    (attempt,) = r.json()["metadata"]["attempts"]
    assert attempt["status"] == "success" and attempt["latency_ms"] >= 200
