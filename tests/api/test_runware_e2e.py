"""Runware through the gateway in sandbox mode: sizes, edits, sync and async delivery, every fault mode."""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator

import httpx
import openai
import pytest

from imaging import decode, png

SLUG = "runware"


def _fault(faults: httpx.Client, **fields: object) -> None:
    faults.post("/sandbox/_faults", json={"provider": SLUG, **fields}).raise_for_status()


def _meta(result: object) -> dict[str, object]:
    return (getattr(result, "model_extra", None) or {})["metadata"]


@pytest.fixture
def async_delivery(gateway: object, monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """The provider option `delivery: async` on the running gateway, for this test only."""
    providers = gateway.app.state.gw.router.providers  # type: ignore[attr-defined]
    runtime = providers[SLUG]
    monkeypatch.setitem(
        providers, SLUG, dataclasses.replace(runtime, options={**runtime.options, "delivery": "async"})
    )
    yield


@pytest.mark.parametrize(
    ("model", "size", "expected"),
    [
        ("flux.1-dev", "1344x768", (1344, 768)),
        ("hidream-i1-full", "1360x768", (1344, 768)),  # snapped to multiples of 64
        ("flux.1-kontext-pro", "16:9", (1392, 752)),  # Kontext's own size for the ratio
        ("flux.2-pro", "1365x768", (1360, 768)),  # multiples of 16
    ],
)
def test_generate_mapped_size(sdk: openai.OpenAI, model: str, size: str, expected: tuple[int, int]) -> None:
    result = sdk.images.generate(
        model=f"{SLUG}/{model}", prompt="a red bicycle", size=size, response_format="b64_json"
    )
    assert decode(result.data[0]).size == expected
    assert result.size == f"{expected[0]}x{expected[1]}"  # what was actually sent
    meta = _meta(result)
    assert meta["provider"] == SLUG and [a["status"] for a in meta["attempts"]] == ["success"]


def test_several_images_in_one_task(sdk: openai.OpenAI, faults: httpx.Client) -> None:
    result = sdk.images.generate(
        model=f"{SLUG}/flux.1-schnell", prompt="two boats", n=2, size="512x512", output_format="webp",
        response_format="b64_json",
    )  # fmt: skip
    assert [(decode(d).size, decode(d).format) for d in result.data] == [((512, 512), "WEBP")] * 2
    assert faults.get("/sandbox/_faults").json()["requests"][SLUG] == 1


@pytest.mark.parametrize(
    ("model", "images", "size", "expected"),
    [
        ("flux.1-kontext-pro", 1, "1:1", (1024, 1024)),
        ("flux.2-dev", 2, "1024x1024", (1024, 1024)),
        ("seedream-4", 3, "2048x2048", (2048, 2048)),
    ],
)
def test_edit(sdk: openai.OpenAI, model: str, images: int, size: str, expected: tuple[int, int]) -> None:
    sources = [(f"in{i}.png", png(64, 48), "image/png") for i in range(images)]
    result = sdk.images.edit(
        model=f"{SLUG}/{model}",
        image=sources,
        prompt="add a hat",
        size=size,
        response_format="url",  # type: ignore[arg-type]
    )
    assert decode(result.data[0]).size == expected


@pytest.mark.parametrize(
    ("fault", "status", "code"),
    [
        ({"mode": "error", "status": 500}, 502, "UPSTREAM_ERROR"),
        ({"mode": "error", "status": 400}, 400, "UPSTREAM_ERROR"),
        ({"mode": "error", "status": 401}, 502, "UPSTREAM_ERROR"),
        ({"mode": "error", "status": 402}, 502, "UPSTREAM_ERROR"),
        ({"mode": "error", "status": 429}, 429, "UPSTREAM_ERROR"),
        ({"mode": "timeout"}, 504, "UPSTREAM_ERROR"),
        ({"mode": "reset"}, 502, "UPSTREAM_ERROR"),
        ({"mode": "malformed"}, 502, "UPSTREAM_ERROR"),
        ({"mode": "empty"}, 502, "UPSTREAM_ERROR"),
        ({"mode": "content_policy"}, 400, "CONTENT_POLICY_VIOLATION"),  # results flagged NSFWContent
        ({"mode": "job_failed"}, 502, "UPSTREAM_ERROR"),
        ({"mode": "job_stuck"}, 504, "UPSTREAM_ERROR"),  # a sync task that never answers
    ],
)
def test_fault_modes(
    admin: httpx.Client, faults: httpx.Client, fault: dict[str, object], status: int, code: str
) -> None:
    _fault(faults, **fault)
    r = admin.post(
        "/v1/images/generations",
        json={"model": f"{SLUG}/flux.1-schnell", "prompt": "a pier", "size": "512x512"},
    )
    assert (r.status_code, r.json()["error"]["code"]) == (status, code), r.text
    attempt = r.json()["error"]["attempts"][-1]
    assert attempt["provider"] == SLUG and "sk-sandbox" not in r.text


@pytest.mark.usefixtures("async_delivery")
def test_async_delivery_completes(sdk: openai.OpenAI, faults: httpx.Client) -> None:
    result = sdk.images.generate(
        model=f"{SLUG}/flux.1-dev", prompt="a pier", n=2, size="1024x1024", response_format="b64_json"
    )
    assert [decode(d).size for d in result.data] == [(1024, 1024)] * 2
    assert faults.get("/sandbox/_faults").json()["requests"][SLUG] >= 3  # the task, then getResponse polls


@pytest.mark.usefixtures("async_delivery")
@pytest.mark.parametrize(
    ("mode", "status", "error_code"), [("job_failed", 502, "JOB_FAILED"), ("job_stuck", 504, "TIMEOUT")]
)
def test_async_job_faults(
    admin: httpx.Client, faults: httpx.Client, mode: str, status: int, error_code: str
) -> None:
    _fault(faults, mode=mode)
    r = admin.post(
        "/v1/images/generations",
        json={"model": f"{SLUG}/flux.1-schnell", "prompt": "a pier", "size": "512x512"},
    )
    assert r.status_code == status and r.json()["error"]["attempts"][-1]["error_code"] == error_code, r.text


def test_slow_answers_arrive_late_but_whole(admin: httpx.Client, faults: httpx.Client) -> None:
    """`slow` delays the answer (one task array, one wait) and changes nothing else."""
    _fault(faults, mode="slow", latency_ms=200)
    body = {"model": f"{SLUG}/flux.1-schnell", "prompt": "a slow boat", "response_format": "b64_json"}
    r = admin.post("/v1/images/generations", json=body)
    assert r.status_code == 200, r.text
    assert decode(r.json()["data"][0]).size[0] > 0
    (attempt,) = r.json()["metadata"]["attempts"]
    assert attempt["status"] == "success" and attempt["latency_ms"] >= 200
