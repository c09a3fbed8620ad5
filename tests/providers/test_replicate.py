"""Replicate adapter: each catalog dialect's input, the prediction lifecycle, error mapping."""

from __future__ import annotations

import base64
from typing import Any

import orjson
import pytest

from mediarouter.catalog.models import load_catalog
from mediarouter.params.requests import resolve_params
from mediarouter.providers.base import Call, Done, Poll, UpstreamError, UpstreamResponse
from mediarouter.providers.replicate import ReplicateAdapter
from mediarouter.schemas.images import ImageRequest, InputImage

BASE = "https://api.replicate.com/v1"
ADAPTER = ReplicateAdapter()
CATALOG = load_catalog()
PNG = b"\x89PNG\r\n\x1a\nfake"
URI = f"data:image/png;base64,{base64.b64encode(PNG).decode()}"


def make_call(
    model: str,
    size: str | None = None,
    images: int = 0,
    n: int = 1,
    output_format: str | None = None,
    extra: dict[str, Any] | None = None,
    options: dict[str, Any] | None = None,
    time_left_s: float | None = None,
    state: dict[str, Any] | None = None,
    scale_factor: int | None = None,
) -> Call:
    """A call as the router makes it: the catalog row, and the size chosen by `resolve_params`."""
    spec = CATALOG.get(model)
    assert spec is not None
    offering = spec.offering("replicate")
    assert offering is not None
    request = ImageRequest(
        mode="edit" if images else "generate",
        model=model,
        prompt="a red fox",
        n=n,
        size=size,
        output_format=output_format,
        images=[InputImage(PNG, "image/png", 64, 64) for _ in range(images)],
        extra=extra or {},
    )
    if scale_factor is not None:
        request.scale_factor = scale_factor
    params = resolve_params(request, spec)
    return Call(
        request,
        spec,
        offering,
        BASE,
        "r8_test",
        params.size,
        params.quality,
        params.aspect_ratio,
        params.resolution,
        options=options or {},
        state=state or {},
        time_left_s=time_left_s,
    )


def answer(body: Any, status: int = 201, headers: dict[str, str] | None = None) -> UpstreamResponse:
    raw = body if isinstance(body, bytes) else orjson.dumps(body)
    return UpstreamResponse(status, headers or {"content-type": "application/json"}, raw)


def prediction(status: str, **fields: Any) -> dict[str, Any]:
    urls = {"get": f"{BASE}/predictions/p1", "cancel": f"{BASE}/predictions/p1/cancel"}
    return {"id": "p1", "status": status, "urls": urls, "input": {"output_format": "png"}, **fields}


def failure_of(call: Call, response: UpstreamResponse) -> UpstreamError:
    with pytest.raises(UpstreamError) as caught:
        ADAPTER.parse(call, response)
    return caught.value


@pytest.mark.parametrize(
    ("call", "expected"),
    [
        (  # pixel sizes become the closest aspect_ratio; n goes in one prediction
            make_call("flux.1-schnell", "1344x768", n=2),
            {"prompt": "a red fox", "aspect_ratio": "16:9", "num_outputs": 2, "output_format": "png"},
        ),
        (
            make_call("flux1.1-pro", "1024x1024"),
            {"prompt": "a red fox", "aspect_ratio": "1:1", "output_format": "png"},
        ),
        (
            make_call("gemini-3-pro-image-preview", "2048x2048"),
            {"prompt": "a red fox", "aspect_ratio": "1:1", "resolution": "2K", "output_format": "png"},
        ),
        (
            make_call("gemini-2.5-flash-image", "16:9", output_format="jpeg"),
            {"prompt": "a red fox", "aspect_ratio": "16:9", "output_format": "jpg"},
        ),
        (
            make_call("seedream-4", "1024x1024", output_format="webp"),
            {"prompt": "a red fox", "size": "custom", "width": 1024, "height": 1024, "output_format": "webp"},
        ),
        (  # a format Replicate cannot write is asked as PNG (the gateway converts)
            make_call(
                "flux.1-dev",
                "1024x1024",
                output_format="gif",
                extra={"seed": 7, "negative_prompt": "x", "lora": "y"},
            ),
            {
                "prompt": "a red fox",
                "aspect_ratio": "1:1",
                "num_outputs": 1,
                "output_format": "png",
                "seed": 7,
                "negative_prompt": "x",
            },
        ),
        (
            make_call("flux.1-kontext-pro", images=1),
            {"prompt": "a red fox", "aspect_ratio": "1:1", "input_image": URI, "output_format": "png"},
        ),
        (
            make_call("gemini-2.5-flash-image", images=2),
            {"prompt": "a red fox", "aspect_ratio": "1:1", "image_input": [URI, URI], "output_format": "png"},
        ),
        (
            make_call("flux.2-pro", "auto", images=2),
            {
                "prompt": "a red fox",
                "aspect_ratio": "match_input_image",
                "input_images": [URI, URI],
                "output_format": "png",
            },
        ),
        (
            make_call("qwen-image-edit", images=1),
            {"prompt": "a red fox", "aspect_ratio": "1:1", "image": URI, "output_format": "png"},
        ),
        (
            make_call("real-esrgan", images=1, scale_factor=4),
            {"prompt": "a red fox", "image": URI, "scale": 4},
        ),
        (
            make_call("clarity-upscaler", images=1, scale_factor=2),
            {"prompt": "a red fox", "image": URI, "scale_factor": 2},
        ),
    ],
)
def test_build_input(call: Call, expected: dict[str, Any]) -> None:
    request = ADAPTER.build(call)
    assert (request.method, request.url) == ("POST", f"{BASE}/models/{call.offering.model_id}/predictions")
    assert request.json == {"input": expected}
    assert request.headers["Authorization"] == "Bearer r8_test"


def test_one_image_field_refuses_several_images() -> None:
    with pytest.raises(UpstreamError) as caught:
        ADAPTER.build(make_call("qwen-image-edit", images=2))
    assert caught.value.failure == "invalid_request" and "one input image" in caught.value.message


@pytest.mark.parametrize(
    ("time_left_s", "options", "prefer"),
    [
        (None, {}, "wait=60"),
        (180.0, {}, "wait=60"),
        (1.5, {}, "wait=1"),  # the server answers before the attempt deadline
        (1.2, {}, None),  # too little time to wait at all: poll instead
        (180.0, {"wait_s": 5}, "wait=5"),
        (180.0, {"wait_s": 0}, None),
    ],
)
def test_prefer_wait(time_left_s: float | None, options: dict[str, Any], prefer: str | None) -> None:
    request = ADAPTER.build(make_call("flux.1-schnell", time_left_s=time_left_s, options=options))
    assert request.headers.get("Prefer") == prefer


@pytest.mark.parametrize(
    ("output", "expected"),
    [
        (["https://replicate.delivery/xezq/a/out-0.png", "https://replicate.delivery/xezq/b/out-1.png"], 2),
        ("https://replicate.delivery/xezq/a/out-0.webp", 1),
    ],
)
def test_succeeded_prediction_gives_urls(output: Any, expected: int) -> None:
    result = ADAPTER.parse(make_call("flux.1-schnell"), answer(prediction("succeeded", output=output)))
    assert isinstance(result, Done)
    assert [img.url for img in result.output.images] == (output if isinstance(output, list) else [output])
    assert len(result.output.images) == expected and result.output.output_format == "png"


def test_data_uri_output_is_kept_as_base64() -> None:
    result = ADAPTER.parse(make_call("flux.1-schnell"), answer(prediction("succeeded", output=[URI])))
    assert isinstance(result, Done)
    image = result.output.images[0]
    assert (image.b64, image.mime, image.url) == (base64.b64encode(PNG).decode(), "image/png", None)


@pytest.mark.parametrize("status", ["starting", "processing"])
def test_running_prediction_is_polled_at_its_urls(status: str) -> None:
    result = ADAPTER.parse(make_call("flux.1-schnell"), answer(prediction(status)))
    assert isinstance(result, Poll)
    assert (result.request.method, result.request.url) == ("GET", f"{BASE}/predictions/p1")
    assert result.request.headers == {"Authorization": "Bearer r8_test"}
    assert result.state == {"prediction_id": "p1", "cancel_url": f"{BASE}/predictions/p1/cancel"}


def test_job_urls_on_another_host_are_not_followed_with_the_key() -> None:
    body = prediction("starting", urls={"get": "https://evil.example/p1", "cancel": "https://evil.example/c"})
    result = ADAPTER.parse(make_call("flux.1-schnell"), answer(body))
    assert isinstance(result, Poll) and result.request.url == f"{BASE}/predictions/p1"
    assert result.state["cancel_url"] == f"{BASE}/predictions/p1/cancel"


def test_cancel_uses_the_remembered_url() -> None:
    assert ADAPTER.cancel(make_call("flux.1-schnell")) is None
    request = ADAPTER.cancel(
        make_call("flux.1-schnell", state={"cancel_url": f"{BASE}/predictions/p1/cancel"})
    )
    assert request is not None and (request.method, request.url) == ("POST", f"{BASE}/predictions/p1/cancel")


@pytest.mark.parametrize(
    ("body", "failure"),
    [
        (
            prediction(
                "failed",
                error="The input or output was flagged as sensitive. Please try again with different inputs. (E005)",
            ),
            "content_policy",
        ),
        (
            prediction(
                "failed", error="NSFW content detected. Try running it again, or try a different prompt."
            ),
            "content_policy",
        ),
        (prediction("failed", error="CUDA out of memory"), "job_failed"),
        (prediction("canceled"), "job_failed"),
        (prediction("succeeded", output=None), "no_image"),
        (prediction("succeeded", output=[]), "no_image"),
        (prediction("queued"), "malformed"),
        ({"status": "succeeded"}, "malformed"),
        (b"<html>oops</html>", "malformed"),
    ],
)
def test_job_outcomes(body: Any, failure: str) -> None:
    assert failure_of(make_call("flux.1-schnell"), answer(body, 200)).failure == failure


@pytest.mark.parametrize(
    ("status", "headers", "failure", "retry_after"),
    [
        (400, {}, "invalid_request", None),
        (401, {}, "auth", None),
        (402, {}, "quota", None),
        (403, {}, "quota", None),
        (404, {}, "not_found", None),
        (422, {}, "invalid_request", None),
        (429, {"retry-after": "7"}, "rate_limited", 7.0),
        (500, {}, "server", None),
        (503, {}, "overloaded", None),
    ],
)
def test_problem_details(
    status: int, headers: dict[str, str], failure: str, retry_after: float | None
) -> None:
    body = {"title": "Some title", "detail": f"detail {status}", "status": status}
    error = failure_of(make_call("flux.1-schnell"), answer(body, status, headers))
    assert (error.failure, error.status, error.retry_after) == (failure, status, retry_after)
    assert (error.message, error.provider_code) == (f"detail {status}", "Some title")


def test_error_without_a_json_body() -> None:
    error = failure_of(make_call("flux.1-schnell"), answer(b"Bad Gateway", 502))
    assert (error.failure, error.message) == ("server", "HTTP 502")
