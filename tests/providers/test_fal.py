"""fal adapter: each catalog dialect's input, the queue protocol and its quirk, outputs, error mapping."""

from __future__ import annotations

import base64
from typing import Any

import orjson
import pytest

from mediarouter.catalog.models import load_catalog
from mediarouter.params.requests import resolve_params
from mediarouter.providers.base import Call, Done, Poll, UpstreamError, UpstreamResponse
from mediarouter.providers.fal import FalAdapter, app_path
from mediarouter.schemas.images import ImageRequest, InputImage

QUEUE = "https://queue.fal.run"
ADAPTER = FalAdapter()
CATALOG = load_catalog()
PNG = b"\x89PNG\r\n\x1a\nfake"
URI = f"data:image/png;base64,{base64.b64encode(PNG).decode()}"
JOB = f"{QUEUE}/fal-ai/flux/requests/r1"


def make_call(
    model: str,
    size: str | None = None,
    images: int = 0,
    n: int = 1,
    output_format: str | None = None,
    extra: dict[str, Any] | None = None,
    options: dict[str, Any] | None = None,
    state: dict[str, Any] | None = None,
    scale_factor: int | None = None,
) -> Call:
    """A call as the router makes it: the catalog row, and the size chosen by `resolve_params`."""
    spec = CATALOG.get(model)
    assert spec is not None
    offering = spec.offering("fal")
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
        QUEUE,
        "fal-test",
        params.size,
        params.quality,
        params.aspect_ratio,
        params.resolution,
        options=options or {},
        state=state or {},
    )


def answer(body: Any, status: int = 200, headers: dict[str, str] | None = None) -> UpstreamResponse:
    raw = body if isinstance(body, bytes) else orjson.dumps(body)
    return UpstreamResponse(status, headers or {"content-type": "application/json"}, raw)


def failure_of(call: Call, response: UpstreamResponse) -> UpstreamError:
    with pytest.raises(UpstreamError) as caught:
        ADAPTER.parse(call, response)
    return caught.value


POLLING = {
    "fal_step": "status",
    "status_url": f"{JOB}/status",
    "response_url": JOB,
    "cancel_url": f"{JOB}/cancel",
}
RESULT = {"fal_step": "result"}
IMAGE = {"url": "https://v3.fal.media/files/a.png", "width": 8, "height": 8, "content_type": "image/png"}


@pytest.mark.parametrize(
    ("call", "endpoint", "expected"),
    [
        (
            make_call("flux.1-schnell", "512x512", n=2),
            "fal-ai/flux/schnell",
            {"prompt": "a red fox", "image_size": "square", "num_images": 2, "output_format": "png"},
        ),
        (
            make_call("flux.1-schnell", "1344x768", output_format="jpeg", extra={"seed": 3, "lora": "x"}),
            "fal-ai/flux/schnell",
            {
                "prompt": "a red fox",
                "image_size": {"width": 1344, "height": 768},
                "num_images": 1,
                "output_format": "jpeg",
                "seed": 3,
            },
        ),
        (  # a format fal cannot write is asked as PNG (the gateway converts)
            make_call(
                "flux.1-dev", "1024x1024", output_format="webp", extra={"enable_safety_checker": False}
            ),
            "fal-ai/flux/dev",
            {
                "prompt": "a red fox",
                "image_size": "square_hd",
                "num_images": 1,
                "output_format": "png",
                "enable_safety_checker": False,
            },
        ),
        (
            make_call("gemini-2.5-flash-image", "16:9"),
            "fal-ai/nano-banana",
            {"prompt": "a red fox", "aspect_ratio": "16:9", "num_images": 1, "output_format": "png"},
        ),
        (
            make_call("gemini-3-pro-image-preview", "4096x4096"),
            "fal-ai/nano-banana-pro",
            {
                "prompt": "a red fox",
                "aspect_ratio": "1:1",
                "resolution": "4K",
                "num_images": 1,
                "output_format": "png",
            },
        ),
        (
            make_call("flux.1-kontext-pro", "16:9"),
            "fal-ai/flux-pro/kontext/text-to-image",
            {"prompt": "a red fox", "aspect_ratio": "16:9", "num_images": 1, "output_format": "png"},
        ),
        (  # edits go to the edit endpoint
            make_call("flux.1-kontext-pro", images=1),
            "fal-ai/flux-pro/kontext",
            {
                "prompt": "a red fox",
                "aspect_ratio": "1:1",
                "image_url": URI,
                "num_images": 1,
                "output_format": "png",
            },
        ),
        (
            make_call("flux.2-pro", "1024x1024", images=2),
            "fal-ai/flux-2-pro/edit",
            {
                "prompt": "a red fox",
                "image_size": "square_hd",
                "image_urls": [URI, URI],
                "num_images": 1,
                "output_format": "png",
            },
        ),
        (
            make_call("seedream-4", "2048x2048", images=1),
            "fal-ai/bytedance/seedream/v4/edit",
            {
                "prompt": "a red fox",
                "image_size": {"width": 2048, "height": 2048},
                "image_urls": [URI],
                "num_images": 1,
                "output_format": "png",
            },
        ),
        (
            make_call("real-esrgan", images=1, scale_factor=2),
            "fal-ai/esrgan",
            {"prompt": "a red fox", "image_url": URI, "scale": 2},
        ),
        (
            make_call("clarity-upscaler", images=1, scale_factor=4),
            "fal-ai/clarity-upscaler",
            {"prompt": "a red fox", "image_url": URI, "upscale_factor": 4},
        ),
    ],
)
def test_build_input(call: Call, endpoint: str, expected: dict[str, Any]) -> None:
    request = ADAPTER.build(call)
    assert (request.method, request.url) == ("POST", f"{QUEUE}/{endpoint}")
    assert request.json == expected
    assert request.headers == {"Authorization": "Key fal-test"}


def test_one_image_field_refuses_several_images() -> None:
    with pytest.raises(UpstreamError) as caught:
        ADAPTER.build(make_call("qwen-image-edit", images=2))
    assert caught.value.failure == "invalid_request"


@pytest.mark.parametrize(
    ("options", "url"),
    [
        ({"mode": "sync"}, "https://fal.run/fal-ai/flux/schnell"),
        (
            {"mode": "sync", "run_url": "http://127.0.0.1:9/sandbox/fal/run"},
            "http://127.0.0.1:9/sandbox/fal/run/fal-ai/flux/schnell",
        ),
        ({"mode": "queue"}, f"{QUEUE}/fal-ai/flux/schnell"),
    ],
)
def test_mode_picks_the_host(options: dict[str, Any], url: str) -> None:
    assert ADAPTER.build(make_call("flux.1-schnell", "1024x1024", options=options)).url == url


@pytest.mark.parametrize(
    ("endpoint", "app"),
    [
        ("fal-ai/flux/dev", "fal-ai/flux"),
        ("fal-ai/esrgan", "fal-ai/esrgan"),
        ("workflows/me/app/run", "workflows/me/app"),
    ],
)
def test_app_path(endpoint: str, app: str) -> None:
    assert app_path(endpoint) == app


def test_submit_answer_is_polled_at_its_status_url() -> None:
    body = {
        "request_id": "r1",
        "status_url": f"{JOB}/status",
        "response_url": JOB,
        "cancel_url": f"{JOB}/cancel",
    }
    result = ADAPTER.parse(make_call("flux.1-schnell"), answer(body))
    assert isinstance(result, Poll)
    assert (result.request.method, result.request.url) == ("GET", f"{JOB}/status")
    assert result.state == {**POLLING, "request_id": "r1"}


@pytest.mark.parametrize(
    "given", [{}, {"status_url": "https://evil.example/s", "response_url": "https://evil.example/r"}]
)
def test_job_urls_are_built_on_owner_and_app_only(given: dict[str, str]) -> None:
    """Without usable URLs in the answer, `fal-ai/flux/schnell` jobs live under `fal-ai/flux/requests/`."""
    result = ADAPTER.parse(make_call("flux.1-schnell"), answer({"request_id": "r1", **given}))
    assert isinstance(result, Poll) and result.request.url == f"{JOB}/status"
    assert (result.state["response_url"], result.state["cancel_url"]) == (JOB, f"{JOB}/cancel")


@pytest.mark.parametrize("status", ["IN_QUEUE", "IN_PROGRESS"])
def test_running_request_is_polled_again(status: str) -> None:
    result = ADAPTER.parse(
        make_call("flux.1-schnell", state=POLLING), answer({"status": status, "logs": None}, 202)
    )
    assert isinstance(result, Poll) and result.request.url == f"{JOB}/status" and result.state == {}


def test_completed_request_reads_the_result_at_once() -> None:
    result = ADAPTER.parse(
        make_call("flux.1-schnell", state=POLLING), answer({"status": "COMPLETED", "logs": None})
    )
    assert isinstance(result, Poll)
    assert (result.request.method, result.request.url, result.after_s) == ("GET", JOB, 0.0)
    assert result.state == RESULT


@pytest.mark.parametrize(
    ("body", "failure"),
    [
        (
            {"status": "COMPLETED", "error": "Internal error", "error_type": "internal_server_error"},
            "job_failed",
        ),
        (
            {"status": "COMPLETED", "error": "flagged", "error_type": "content_policy_violation"},
            "content_policy",
        ),
        ({"status": "FAILED"}, "job_failed"),
        ([1, 2], "malformed"),
    ],
)
def test_completed_with_an_error(body: Any, failure: str) -> None:
    assert failure_of(make_call("flux.1-schnell", state=POLLING), answer(body)).failure == failure


@pytest.mark.parametrize("options", [{}, {"mode": "sync"}])
def test_output_images(options: dict[str, Any]) -> None:
    state = {} if options else RESULT
    body = {"images": [IMAGE, {**IMAGE, "url": URI}], "has_nsfw_concepts": [False, False], "seed": 1}
    result = ADAPTER.parse(make_call("flux.1-schnell", options=options, state=state), answer(body))
    assert isinstance(result, Done)
    first, second = result.output.images
    assert (first.url, first.mime) == (IMAGE["url"], "image/png")
    assert (second.b64, second.url) == (base64.b64encode(PNG).decode(), None)  # decoded, never fetched
    assert result.output.output_format == "png"


def test_upscaler_output_has_one_image() -> None:
    result = ADAPTER.parse(make_call("real-esrgan", images=1, state=RESULT), answer({"image": IMAGE}))
    assert isinstance(result, Done) and [img.url for img in result.output.images] == [IMAGE["url"]]


def test_flagged_images_are_dropped() -> None:
    body = {
        "images": [IMAGE, {**IMAGE, "url": "https://v3.fal.media/files/black.png"}],
        "has_nsfw_concepts": [False, True],
    }
    result = ADAPTER.parse(make_call("flux.1-schnell", state=RESULT), answer(body))
    assert isinstance(result, Done) and [img.url for img in result.output.images] == [IMAGE["url"]]


@pytest.mark.parametrize(
    ("body", "failure"),
    [
        ({"images": [IMAGE], "has_nsfw_concepts": [True]}, "content_policy"),
        ({"images": [], "has_nsfw_concepts": []}, "no_image"),
        ({"images": [{"width": 1}]}, "no_image"),
        ({"seed": 1}, "malformed"),
    ],
)
def test_output_failures(body: Any, failure: str) -> None:
    assert failure_of(make_call("flux.1-schnell", state=RESULT), answer(body)).failure == failure


POLICY = {
    "detail": [
        {"loc": ["body", "prompt"], "msg": "flagged by a content checker", "type": "content_policy_violation"}
    ]
}
INVALID = {"detail": [{"loc": ["body", "image_size"], "msg": "Input should be square_hd", "type": "enum"}]}


@pytest.mark.parametrize(
    ("status", "body", "headers", "failure", "message", "code"),
    [
        (422, POLICY, {}, "content_policy", "flagged by a content checker", "content_policy_violation"),
        (422, INVALID, {}, "invalid_request", "Input should be square_hd", "enum"),
        (422, INVALID, {"x-fal-retryable": "true"}, "server", "Input should be square_hd", "enum"),
        (400, {"detail": "Bad request"}, {}, "invalid_request", "Bad request", None),
        (401, {"detail": "Authentication is required"}, {}, "auth", "Authentication is required", None),
        (403, {"detail": "Locked"}, {}, "quota", "Locked", None),
        (404, {"detail": "Application not found"}, {}, "not_found", "Application not found", None),
        (
            500,
            {"detail": "boom", "error_type": "internal_server_error"},
            {},
            "server",
            "boom",
            "internal_server_error",
        ),
        (
            400,
            {"detail": "nope"},
            {"x-fal-error-type": "content_policy_violation"},
            "content_policy",
            "nope",
            "content_policy_violation",
        ),
        (502, b"<html>nginx</html>", {}, "server", "HTTP 502", None),
    ],
)
def test_errors(
    status: int, body: Any, headers: dict[str, str], failure: str, message: str, code: str | None
) -> None:
    error = failure_of(make_call("flux.1-schnell"), answer(body, status, headers))
    assert (error.failure, error.status, error.message, error.provider_code) == (
        failure,
        status,
        message,
        code,
    )


def test_throttling_carries_retry_after() -> None:
    error = failure_of(
        make_call("flux.1-schnell"), answer({"detail": "slow down"}, 429, {"retry-after": "3"})
    )
    assert (error.failure, error.retry_after) == ("rate_limited", 3.0)


def test_cancel_only_once_submitted() -> None:
    assert ADAPTER.cancel(make_call("flux.1-schnell")) is None
    request = ADAPTER.cancel(make_call("flux.1-schnell", state=POLLING))
    assert request is not None and (request.method, request.url) == ("PUT", f"{JOB}/cancel")
