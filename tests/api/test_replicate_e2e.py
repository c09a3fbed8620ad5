"""Replicate through the gateway in sandbox mode: forced `replicate/<model>` requests, faults, jobs."""

from __future__ import annotations

import uuid

import httpx
import openai
import pytest

from imaging import decode, png

SLUG = "replicate"


def _fault(faults: httpx.Client, **fields: object) -> None:
    faults.post("/sandbox/_faults", json={"provider": SLUG, **fields}).raise_for_status()


def _meta(result: object) -> dict[str, object]:
    return (getattr(result, "model_extra", None) or {})["metadata"]


@pytest.mark.parametrize(
    ("model", "size", "expected"),
    [
        ("flux.1-schnell", "1344x768", (1344, 768)),  # pixel sizes -> the closest aspect_ratio enum
        ("gemini-2.5-flash-image", "16:9", (1360, 768)),  # aspect-ratio model
        ("gemini-3-pro-image-preview", "2048x2048", (2048, 2048)),  # aspect_ratio + resolution "2K"
        ("seedream-4", "1024x1024", (1024, 1024)),  # size: custom, width, height
    ],
)
def test_generate_mapped_size(sdk: openai.OpenAI, model: str, size: str, expected: tuple[int, int]) -> None:
    result = sdk.images.generate(
        model=f"{SLUG}/{model}", prompt="a red bicycle", size=size, response_format="b64_json"
    )
    assert decode(result.data[0]).size == expected
    meta = _meta(result)
    assert meta["provider"] == SLUG and [a["status"] for a in meta["attempts"]] == ["success"]


def test_generate_several_outputs_in_one_prediction(sdk: openai.OpenAI, faults: httpx.Client) -> None:
    prompt = f"two boats {uuid.uuid4().hex}"  # finds this request's predictions in the shared emulator
    result = sdk.images.generate(
        model=f"{SLUG}/flux.1-schnell", prompt=prompt, n=2, size="1024x1024", output_format="jpeg"
    )
    images = [decode(d) for d in result.data]
    assert [im.size for im in images] == [(1024, 1024)] * 2 and {im.format for im in images} == {"JPEG"}
    # The emulator's own prediction list: under load the adapter polls, which adds requests, not predictions.
    listing = faults.get(
        "/sandbox/replicate/v1/predictions", headers={"Authorization": "Bearer sk-sandbox"}
    ).json()
    mine = [p["input"] for p in listing["results"] if p["input"].get("prompt") == prompt]
    assert mine == [{"prompt": prompt, "aspect_ratio": "1:1", "num_outputs": 2, "output_format": "jpg"}]


@pytest.mark.parametrize("model", ["flux.1-kontext-pro", "gemini-2.5-flash-image", "flux.2-pro"])
def test_edit(sdk: openai.OpenAI, model: str) -> None:
    result = sdk.images.edit(
        model=f"{SLUG}/{model}",
        image=("in.png", png(96, 64), "image/png"),
        prompt="add a hat",
        response_format="b64_json",
    )
    assert decode(result.data[0]).size[0] > 0


def test_upscale(sdk: openai.OpenAI) -> None:
    result = sdk.images.edit(
        model=f"{SLUG}/real-esrgan",
        image=("in.png", png(48, 32), "image/png"),
        prompt="upscale",
        response_format="b64_json",
        extra_body={"scale_factor": 4},
    )
    assert decode(result.data[0]).size == (192, 128)


@pytest.mark.parametrize(
    ("fault", "status", "code"),
    [
        ({"mode": "error", "status": 500}, 502, "UPSTREAM_ERROR"),
        ({"mode": "error", "status": 422}, 400, "UPSTREAM_ERROR"),
        ({"mode": "error", "status": 401}, 502, "UPSTREAM_ERROR"),
        ({"mode": "error", "status": 402}, 502, "UPSTREAM_ERROR"),
        ({"mode": "error", "status": 429}, 429, "UPSTREAM_ERROR"),
        ({"mode": "timeout"}, 504, "UPSTREAM_ERROR"),
        ({"mode": "reset"}, 502, "UPSTREAM_ERROR"),
        ({"mode": "malformed"}, 502, "UPSTREAM_ERROR"),
        ({"mode": "empty"}, 502, "UPSTREAM_ERROR"),
        ({"mode": "content_policy"}, 400, "CONTENT_POLICY_VIOLATION"),
        ({"mode": "job_failed"}, 502, "UPSTREAM_ERROR"),
    ],
)
def test_fault_modes(
    admin: httpx.Client, faults: httpx.Client, fault: dict[str, object], status: int, code: str
) -> None:
    _fault(faults, **fault)
    r = admin.post("/v1/images/generations", json={"model": f"{SLUG}/flux.1-schnell", "prompt": "p"})
    assert (r.status_code, r.json()["error"]["code"]) == (status, code), r.text
    attempt = r.json()["error"]["attempts"][-1]
    assert attempt["provider"] == SLUG and "sk-sandbox" not in r.text


def test_job_failed_says_why(admin: httpx.Client, faults: httpx.Client) -> None:
    _fault(faults, mode="job_failed")
    r = admin.post("/v1/images/generations", json={"model": f"{SLUG}/flux.1-schnell", "prompt": "p"})
    assert r.json()["error"]["attempts"][-1]["error_code"] == "JOB_FAILED"
    assert "failed" in r.json()["error"]["message"]


def test_stuck_prediction_times_out_and_is_cancelled(admin: httpx.Client, faults: httpx.Client) -> None:
    _fault(faults, mode="job_stuck")
    r = admin.post("/v1/images/generations", json={"model": f"{SLUG}/flux.1-schnell", "prompt": "stuck"})
    assert r.status_code == 504 and r.json()["error"]["attempts"][-1]["error_code"] == "TIMEOUT"
    listing = admin.get(
        "/sandbox/replicate/v1/predictions", headers={"Authorization": "Bearer sk-sandbox"}
    ).json()
    stuck = [p for p in listing["results"] if p["input"].get("prompt") == "stuck"]
    assert stuck and stuck[0]["status"] == "canceled"  # the driver cancelled it on the way out


def test_slow_answers_arrive_late_but_whole(admin: httpx.Client, faults: httpx.Client) -> None:
    """`slow` delays the answer (every request of the prediction (create, polls) waits) and changes nothing else."""
    _fault(faults, mode="slow", latency_ms=200)
    body = {"model": f"{SLUG}/flux.1-schnell", "prompt": "a slow boat", "response_format": "b64_json"}
    r = admin.post("/v1/images/generations", json=body)
    assert r.status_code == 200, r.text
    assert decode(r.json()["data"][0]).size[0] > 0
    (attempt,) = r.json()["metadata"]["attempts"]
    assert attempt["status"] == "success" and attempt["latency_ms"] >= 200
