"""The Fireworks emulator, spoken to the way the Vercel AI SDK's Fireworks provider does.

There is no official Fireworks image SDK; `@ai-sdk/fireworks` posts JSON to the workflow URL with
only `Content-Type` (no `Accept`), reads the body as the picture, and for Kontext submits, polls
`get_result` until `Ready`, then GETs `result.sample`. These tests make the same calls with httpx.
"""

from __future__ import annotations

import base64
import io
import time
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from PIL import Image
from sandbox_server import RunningServer

from imaging import png

SLUG = "fireworks"


@pytest.fixture
def http(sandbox: RunningServer) -> Iterator[httpx.Client]:
    base = f"{sandbox.base_url}/sandbox/fireworks/inference/v1/workflows/accounts/fireworks/models"
    with httpx.Client(base_url=base, headers={"Authorization": "Bearer fw-test"}, timeout=10) as client:
        yield client


def picture(raw: bytes) -> Image.Image:
    image = Image.open(io.BytesIO(raw))
    image.load()
    return image


def kontext(http: httpx.Client, model: str, body: dict[str, Any], polls: int = 20) -> dict[str, Any]:
    """Submit, then poll like the Vercel provider (it waits 500 ms between polls; 20 ms here)."""
    submitted = http.post(f"/{model}", json=body)
    assert submitted.status_code == 200, submitted.text
    request_id = submitted.json()["request_id"]
    for _ in range(polls):
        result = http.post(f"/{model}/get_result", json={"id": request_id}).json()
        assert result["id"] == request_id
        if result["status"] != "Pending":
            return dict(result)
        time.sleep(0.02)
    return {"status": "Pending"}


@pytest.mark.parametrize(
    ("ratio", "size"),
    [(None, (1344, 768)), ("1:1", (1024, 1024)), ("9:16", (768, 1344)), ("21:9", (1536, 640))],
)
def test_text_to_image_like_the_vercel_provider(
    http: httpx.Client, ratio: str | None, size: tuple[int, int]
) -> None:
    body = {"prompt": "a burrito launched through a tunnel", "seed": 42, "samples": 1}
    if ratio:
        body["aspect_ratio"] = ratio
    r = http.post("/flux-1-dev-fp8/text_to_image", json=body)
    assert r.status_code == 200 and r.headers["content-type"] == "image/jpeg"
    assert (r.headers["finish-reason"], r.headers["seed"]) == ("SUCCESS", "42")
    assert picture(r.content).size == size


def test_accept_png_and_json(http: httpx.Client) -> None:
    r = http.post("/flux-1-schnell-fp8/text_to_image", json={"prompt": "p"}, headers={"Accept": "image/png"})
    assert picture(r.content).format == "PNG"
    r = http.post(
        "/flux-1-schnell-fp8/text_to_image", json={"prompt": "p"}, headers={"Accept": "application/json"}
    )
    body = r.json()
    assert body["finishReason"] == "SUCCESS" and isinstance(body["seed"], int)
    assert picture(base64.b64decode(body["base64"][0])).format == "JPEG"


@pytest.mark.parametrize(
    ("path", "body", "headers", "status", "text"),
    [
        (
            "/flux-1-schnell-fp8/text_to_image",
            {"prompt": "p", "aspect_ratio": "7:3"},
            {},
            400,
            "aspect_ratio",
        ),
        ("/flux-1-schnell-fp8/text_to_image", {"aspect_ratio": "1:1"}, {}, 400, "prompt"),
        ("/flux-1-schnell-fp8/text_to_image", {"prompt": "p", "seed": -1}, {}, 400, "seed"),
        ("/flux-1-schnell-fp8/text_to_image", {"prompt": "p"}, {"Accept": "image/webp"}, 406, "Accept"),
        ("/flux-kontext-pro/text_to_image", {"prompt": "p"}, {}, 404, "not found"),
        ("/flux-1-schnell-fp8/text_to_image", {"prompt": "p"}, {"Authorization": ""}, 401, "Authorization"),
        ("/flux-kontext-pro", {"prompt": "p", "output_format": "webp"}, {}, 400, "output_format"),
        ("/flux-kontext-pro", {"prompt": "p", "input_image": "https://x/y.png"}, {}, 400, "input_image"),
        ("/flux-kontext-pro", {"prompt": "p", "aspect_ratio": "4:1"}, {}, 400, "aspect_ratio"),
    ],
)
def test_validation_errors(
    http: httpx.Client, path: str, body: dict[str, Any], headers: dict[str, str], status: int, text: str
) -> None:
    r = http.post(path, json=body, headers=headers)
    assert r.status_code == status
    error = r.json()["error"]
    assert error["object"] == "error" and text in error["message"]


def test_kontext_generation_lifecycle(http: httpx.Client) -> None:
    result = kontext(
        http, "flux-kontext-pro", {"prompt": "a lighthouse", "aspect_ratio": "16:9", "output_format": "png"}
    )
    assert result["status"] == "Ready"
    sample = httpx.get(result["result"]["sample"], timeout=10)
    assert sample.headers["content-type"] == "image/png"
    assert picture(sample.content).size == (1392, 752)


def test_kontext_edit_keeps_the_source_shape(http: httpx.Client) -> None:
    source = "data:image/png;base64," + base64.b64encode(png(120, 90)).decode()
    result = kontext(http, "flux-kontext-max", {"prompt": "add a hat", "input_image": source})
    image = picture(httpx.get(result["result"]["sample"], timeout=10).content)
    assert (image.size, image.format) == ((1184, 880), "JPEG")  # 4:3 like the source


def test_kontext_unknown_id(http: httpx.Client) -> None:
    r = http.post("/flux-kontext-pro/get_result", json={"id": "nope"})
    assert r.json()["status"] == "Task not found"


@pytest.mark.parametrize(
    ("mode", "status"),
    [
        ("job_failed", "Error"),
        ("content_policy", "Request Moderated"),
        ("job_stuck", "Pending"),
        ("empty", "Ready"),
    ],
)
def test_kontext_job_faults(sandbox: RunningServer, http: httpx.Client, mode: str, status: str) -> None:
    sandbox.set_fault(provider=SLUG, model="flux-kontext-pro", mode=mode)
    result = kontext(http, "flux-kontext-pro", {"prompt": "p"}, polls=5)
    assert result["status"] == status
    if mode == "empty":
        assert result["result"] == {}


def test_sync_refusal_and_empty_answers(sandbox: RunningServer, http: httpx.Client) -> None:
    sandbox.set_fault(provider=SLUG, mode="content_policy")
    raw = http.post("/flux-1-schnell-fp8/text_to_image", json={"prompt": "p", "aspect_ratio": "1:1"})
    assert raw.headers["finish-reason"] == "CONTENT_FILTERED" and picture(raw.content).getextrema()[0] == (
        0,
        0,
    )
    as_json = http.post(
        "/flux-1-schnell-fp8/text_to_image", json={"prompt": "p"}, headers={"Accept": "application/json"}
    )
    assert as_json.json()["finishReason"] == "CONTENT_FILTERED"
    sandbox.set_fault(provider=SLUG, mode="empty")
    assert http.post("/flux-1-schnell-fp8/text_to_image", json={"prompt": "p"}).content == b""


@pytest.mark.parametrize("status", [400, 401, 429, 500, 503])
def test_error_fault_bodies(sandbox: RunningServer, http: httpx.Client, status: int) -> None:
    sandbox.set_fault(provider=SLUG, mode="error", status=status)
    r = http.post("/flux-1-schnell-fp8/text_to_image", json={"prompt": "p"})
    assert r.status_code == status and r.json()["error"]["message"]


def test_every_request_is_counted(sandbox: RunningServer, http: httpx.Client) -> None:
    kontext(http, "flux-kontext-pro", {"prompt": "p"})
    http.post("/flux-1-schnell-fp8/text_to_image", json={"prompt": "p"})
    assert sandbox.call("GET", "/sandbox/_faults")[1]["requests"][SLUG] == 4  # submit, 2 polls, 1 sync
