"""xAI through the gateway in sandbox mode: aspect/resolution mapping, JSON edits, every fault mode."""

from __future__ import annotations

import httpx
import openai
import pytest

from imaging import decode, png

SLUG = "xai"


def _fault(faults: httpx.Client, **fields: object) -> None:
    faults.post("/sandbox/_faults", json={"provider": SLUG, **fields}).raise_for_status()


@pytest.mark.parametrize(
    ("model", "size", "expected"),
    [
        ("grok-imagine-image", "16:9", (1360, 768)),  # aspect_ratio 16:9, resolution 1k
        ("grok-imagine-image", "2048x2048", (2048, 2048)),  # aspect_ratio 1:1, resolution 2k
        ("grok-imagine-image", "1080x1920", (768, 1360)),  # the closest ratio, 9:16
        ("grok-2-image", "1024x1024", (1024, 768)),  # one size, never sent
    ],
)
def test_generate_mapped_size(sdk: openai.OpenAI, model: str, size: str, expected: tuple[int, int]) -> None:
    result = sdk.images.generate(
        model=f"{SLUG}/{model}", prompt="a red bicycle", size=size, response_format="b64_json"
    )
    image = decode(result.data[0])
    assert (image.size, image.format) == (expected, "JPEG")
    meta = (result.model_extra or {})["metadata"]
    assert meta["provider"] == SLUG and [a["status"] for a in meta["attempts"]] == ["success"]


def test_several_images_and_url_output(sdk: openai.OpenAI, faults: httpx.Client) -> None:
    result = sdk.images.generate(model=f"{SLUG}/grok-imagine-image", prompt="three cats", n=3, size="1:1")
    assert [decode(d).size for d in result.data] == [(1024, 1024)] * 3
    assert faults.get("/sandbox/_faults").json()["requests"][SLUG] == 1


def test_png_is_converted_from_jpeg(sdk: openai.OpenAI) -> None:
    result = sdk.images.generate(
        model=f"{SLUG}/grok-imagine-image",
        prompt="p",
        size="1:1",
        output_format="png",
        response_format="b64_json",
    )
    assert decode(result.data[0]).format == "PNG"


@pytest.mark.parametrize(
    ("images", "size", "expected"),
    [
        (1, None, (1248, 832)),  # keeps the source's 3:2 shape
        (3, "16:9", (1360, 768)),  # several sources, a shape asked for
    ],
)
def test_edit(sdk: openai.OpenAI, images: int, size: str | None, expected: tuple[int, int]) -> None:
    sources = [(f"in{i}.png", png(96, 64), "image/png") for i in range(images)]
    result = sdk.images.edit(
        model=f"{SLUG}/grok-imagine-image", image=sources, prompt="add a hat", response_format="b64_json",  # type: ignore[arg-type]
        **({"size": size} if size else {}),
    )  # fmt: skip
    assert decode(result.data[0]).size == expected


@pytest.mark.parametrize(
    ("fault", "status", "code"),
    [
        ({"mode": "error", "status": 500}, 502, "UPSTREAM_ERROR"),
        ({"mode": "error", "status": 400}, 400, "UPSTREAM_ERROR"),
        ({"mode": "error", "status": 401}, 502, "UPSTREAM_ERROR"),
        ({"mode": "error", "status": 403}, 502, "UPSTREAM_ERROR"),
        ({"mode": "error", "status": 429}, 429, "UPSTREAM_ERROR"),
        ({"mode": "timeout"}, 504, "UPSTREAM_ERROR"),
        ({"mode": "reset"}, 502, "UPSTREAM_ERROR"),
        ({"mode": "malformed"}, 502, "UPSTREAM_ERROR"),
        ({"mode": "empty"}, 502, "UPSTREAM_ERROR"),  # 200 with no image: no_image, the next provider may try
        ({"mode": "content_policy"}, 400, "CONTENT_POLICY_VIOLATION"),
    ],
)
def test_fault_modes(
    admin: httpx.Client, faults: httpx.Client, fault: dict[str, object], status: int, code: str
) -> None:
    _fault(faults, **fault)
    r = admin.post(
        "/v1/images/generations", json={"model": f"{SLUG}/grok-imagine-image", "prompt": "p", "size": "1:1"}
    )
    assert (r.status_code, r.json()["error"]["code"]) == (status, code), r.text
    attempt = r.json()["error"]["attempts"][-1]
    assert attempt["provider"] == SLUG and "sk-sandbox" not in r.text


def test_moderation_message_reaches_the_caller(admin: httpx.Client, faults: httpx.Client) -> None:
    _fault(faults, mode="content_policy")
    r = admin.post("/v1/images/generations", json={"model": f"{SLUG}/grok-imagine-image", "prompt": "p"})
    assert "Content violates usage guidelines" in r.json()["error"]["message"]


def test_job_modes_are_refused_for_a_synchronous_provider(faults: httpx.Client) -> None:
    r = faults.post("/sandbox/_faults", json={"provider": SLUG, "mode": "job_stuck"})
    assert r.status_code == 400


def test_slow_answers_arrive_late_but_whole(admin: httpx.Client, faults: httpx.Client) -> None:
    """`slow` delays the answer (one request, one wait) and changes nothing else."""
    _fault(faults, mode="slow", latency_ms=200)
    body = {"model": f"{SLUG}/grok-imagine-image", "prompt": "a slow boat", "response_format": "b64_json"}
    r = admin.post("/v1/images/generations", json=body)
    assert r.status_code == 200, r.text
    assert decode(r.json()["data"][0]).size[0] > 0
    (attempt,) = r.json()["metadata"]["attempts"]
    assert attempt["status"] == "success" and attempt["latency_ms"] >= 200
