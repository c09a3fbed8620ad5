"""Runware adapter: the imageInference task, pixel rules, sync and async delivery, the error table."""

from __future__ import annotations

import base64
import uuid
from typing import Any

import orjson
import pytest

from mediarouter.catalog.models import ModelSpec, Offering, Price
from mediarouter.providers.base import Call, Done, Poll, UpstreamError, UpstreamResponse
from mediarouter.providers.runware import RunwareAdapter, classify_code, resolve_dimensions
from mediarouter.schemas.images import ImageRequest, InputImage

BASE = "https://api.runware.ai/v1"
ADAPTER = RunwareAdapter()
PNG = b"\x89PNG\r\n\x1a\nfake"
B64 = base64.b64encode(PNG).decode()
KONTEXT_SIZES = {"16:9": "1392x752", "1:1": "1024x1024"}


def make_call(
    model_id: str = "runware:101@1",
    size: str | None = "1024x1024",
    options: dict[str, Any] | None = None,
    n: int = 1,
    images: int = 0,
    mask: bool = False,
    output_format: str | None = None,
    extra: dict[str, Any] | None = None,
    aspect_ratio: str | None = None,
    provider_options: dict[str, Any] | None = None,
) -> Call:
    inputs = [InputImage(PNG, "image/png", 900 + i, 600) for i in range(images)]
    request = ImageRequest(
        mode="edit" if images else "generate",
        model=model_id,
        prompt="a red fox",
        n=n,
        output_format=output_format,
        images=inputs,
        mask=InputImage(PNG, "image/png", 900, 600) if mask else None,
        extra=extra or {},
    )
    offering = Offering("runware", model_id, Price("image", 0.004), options=options or {})
    model = ModelSpec(
        model_id, model_id, "bfl", ("generate", "edit"), (offering,), default_size="1024x1024",
        output_formats=("jpeg", "png", "webp"),
    )  # fmt: skip
    return Call(
        request,
        model,
        offering,
        BASE,
        "rw-test",
        size,
        aspect_ratio=aspect_ratio,
        options=provider_options or {},
    )


def answer(body: Any, status: int = 200, headers: dict[str, str] | None = None) -> UpstreamResponse:
    raw = body if isinstance(body, bytes) else orjson.dumps(body)
    return UpstreamResponse(status, headers or {}, raw)


def built(call: Call) -> dict[str, Any]:
    request = ADAPTER.build(call)
    assert (request.method, request.url, request.headers) == (
        "POST",
        BASE,
        {"Authorization": "Bearer rw-test"},
    )
    assert isinstance(request.json, list) and len(request.json) == 1
    task: dict[str, Any] = request.json[0]
    return task


def failure_of(call: Call, response: UpstreamResponse) -> UpstreamError:
    with pytest.raises(UpstreamError) as caught:
        ADAPTER.parse(call, response)
    return caught.value


def test_generation_task() -> None:
    call = make_call(
        n=2, extra={"seed": 9, "negative_prompt": "blurry", "steps": 28, "guidance_scale": 3.5, "x": 1}
    )
    task = built(call)
    assert uuid.UUID(task.pop("taskUUID")).version == 4
    assert task == {
        "taskType": "imageInference",
        "model": "runware:101@1",
        "positivePrompt": "a red fox",
        "width": 1024,
        "height": 1024,
        "numberResults": 2,
        "outputType": "base64Data",
        "outputFormat": "JPG",
        "includeCost": True,
        "safety": {"checkContent": True},
        "deliveryMethod": "sync",
        "seed": 9,
        "negativePrompt": "blurry",
        "steps": 28,
        "CFGScale": 3.5,
    }
    again = built(call)["taskUUID"]
    assert call.state["task_uuid"] == again and again != built(make_call())["taskUUID"]  # fresh per attempt


@pytest.mark.parametrize(
    ("size", "options", "aspect", "expected"),
    [
        ("1360x768", {"size_multiple": 64, "size_range": [512, 2048]}, None, (1344, 768)),
        ("4096x4096", {"size_multiple": 64, "size_range": [512, 2048]}, None, (2048, 2048)),
        ("300x300", {"size_multiple": 64, "size_range": [512, 2048]}, None, (512, 512)),
        ("1365x768", {"size_multiple": 16}, None, (1360, 768)),
        ("2560x1440", {}, None, (2560, 1440)),
        ("1360x768", {"aspect_sizes": KONTEXT_SIZES}, "16:9", (1392, 752)),
        ("1536x640", {"aspect_sizes": KONTEXT_SIZES}, "21:9", (1536, 640)),  # not in the table: as mapped
        (None, {}, None, (1024, 1024)),  # the model's default size
    ],
)
def test_pixel_rules(
    size: str | None, options: dict[str, Any], aspect: str | None, expected: tuple[int, int]
) -> None:
    assert resolve_dimensions(make_call(size=size, options=options, aspect_ratio=aspect)) == expected


def test_auto_size_edit_follows_the_source() -> None:
    call = make_call(size="auto", images=1, options={"size_multiple": 16})
    assert resolve_dimensions(call) == (896, 608)


def test_output_size_reports_what_was_sent() -> None:
    call = make_call(size="1360x768", options={"size_multiple": 64})
    ADAPTER.build(call)
    result = ADAPTER.parse(
        call, answer({"data": [{"taskUUID": call.state["task_uuid"], "imageBase64Data": B64}]})
    )
    assert isinstance(result, Done) and result.output.size == "1344x768"


@pytest.mark.parametrize(
    ("wanted", "sent"), [(None, "JPG"), ("png", "PNG"), ("webp", "WEBP"), ("gif", "PNG")]
)
def test_output_format(wanted: str | None, sent: str) -> None:
    assert built(make_call(output_format=wanted))["outputFormat"] == sent


def test_output_quality_from_compression() -> None:
    call = make_call(output_format="jpeg")
    call.request.output_compression = 80
    assert built(call)["outputQuality"] == 80


@pytest.mark.parametrize(
    ("images", "options", "fields"),
    [
        (1, {}, {"seedImage"}),
        (1, {"image_field": "referenceImages"}, {"inputs"}),
        (3, {}, {"inputs"}),
    ],
)
def test_edit_sources(images: int, options: dict[str, Any], fields: set[str]) -> None:
    task = built(make_call(images=images, options=options))
    uri = f"data:image/png;base64,{B64}"
    assert fields <= set(task) and not ({"seedImage", "inputs"} - fields) & set(task)
    if "inputs" in fields:
        assert task["inputs"] == {"referenceImages": [uri] * images}
    else:
        assert task["seedImage"] == uri


def test_mask_is_sent_with_the_seed_image() -> None:
    task = built(make_call(images=1, mask=True))
    assert task["maskImage"] == task["seedImage"] == f"data:image/png;base64,{B64}"


def test_sync_results_in_every_output_type() -> None:
    call = make_call(n=3)
    ADAPTER.build(call)
    own = call.state["task_uuid"]
    data = [
        {
            "taskType": "imageInference",
            "taskUUID": own,
            "imageBase64Data": B64,
            "NSFWContent": False,
            "cost": 0.004,
        },
        {"taskType": "imageInference", "taskUUID": own, "imageDataURI": f"data:image/webp;base64,{B64}"},
        {"taskType": "imageInference", "taskUUID": own, "imageURL": "https://im.runware.ai/image/ws/x.jpg"},
        {"taskType": "imageInference", "taskUUID": str(uuid.uuid4()), "imageBase64Data": "other task"},
    ]
    result = ADAPTER.parse(call, answer({"data": data}))
    assert isinstance(result, Done)
    images = result.output.images
    assert [(i.b64, i.url, i.mime) for i in images] == [
        (B64, None, "image/jpeg"),
        (B64, None, "image/webp"),
        (None, "https://im.runware.ai/image/ws/x.jpg", "image/jpeg"),
    ]
    assert result.output.output_format == "jpeg" and "im.runware.ai" in ADAPTER.media_hosts


def test_nsfw_results_are_dropped() -> None:
    call = make_call(n=2)
    ADAPTER.build(call)
    own = call.state["task_uuid"]
    flagged = {"taskUUID": own, "imageBase64Data": B64, "NSFWContent": True}
    clean = {"taskUUID": own, "imageBase64Data": B64, "NSFWContent": False}
    result = ADAPTER.parse(call, answer({"data": [flagged, clean]}))
    assert isinstance(result, Done) and len(result.output.images) == 1
    assert failure_of(call, answer({"data": [flagged, flagged]})).failure == "content_policy"


@pytest.mark.parametrize(
    ("body", "failure"),
    [
        ({"data": []}, "no_image"),
        ({"data": [{"taskType": "imageInference"}]}, "no_image"),
        ({"data": "x"}, "malformed"),
        ([1, 2], "malformed"),
        ({"data": [], "errors": [{"code": "timeoutProvider", "message": "slow"}]}, "timeout"),
        ({"errors": [{"code": "somethingNew", "message": "?"}]}, "job_failed"),
    ],
)
def test_sync_answers_without_images(body: Any, failure: str) -> None:
    call = make_call()
    ADAPTER.build(call)
    assert failure_of(call, answer(body)).failure == failure


def test_async_delivery_polls_get_response() -> None:
    call = make_call(n=2, provider_options={"delivery": "async"})
    task = built(call)
    own = call.state["task_uuid"]
    assert task["deliveryMethod"] == "async"
    ack = ADAPTER.parse(call, answer({"data": [{"taskType": "imageInference", "taskUUID": own}]}))
    assert isinstance(ack, Poll) and ack.state == {"polling": True}
    assert (ack.request.url, ack.request.json) == (BASE, [{"taskType": "getResponse", "taskUUID": own}])
    call.state.update(ack.state)
    processing = {"taskType": "imageInference", "taskUUID": own, "status": "processing"}
    assert isinstance(ADAPTER.parse(call, answer({"data": [processing, processing]})), Poll)
    done = {"taskType": "imageInference", "taskUUID": own, "status": "success", "imageBase64Data": B64}
    assert isinstance(ADAPTER.parse(call, answer({"data": [done, processing]})), Poll)
    result = ADAPTER.parse(call, answer({"data": [done, dict(done, imageUUID="b")]}))
    assert isinstance(result, Done) and len(result.output.images) == 2


@pytest.mark.parametrize(
    "body",
    [
        {"data": [{"status": "error", "error": {"code": "inferenceError", "message": "worker died"}}]},
        {"errors": [{"code": "inferenceError", "message": "worker died", "status": "error"}]},
    ],
)
def test_async_failed_task(body: dict[str, Any]) -> None:
    call = make_call(provider_options={"delivery": "async"})
    ADAPTER.build(call)
    call.state["polling"] = True
    error = failure_of(call, answer(body))
    assert (error.failure, error.message, error.provider_code) == (
        "job_failed",
        "worker died",
        "inferenceError",
    )


@pytest.mark.parametrize(
    ("code", "failure"),
    [
        ("invalidApiKey", "auth"),
        ("missingApiKey", "auth"),
        ("insufficientCredits", "quota"),
        ("rateLimitExceeded", "rate_limited"),
        ("timeoutProvider", "timeout"),
        ("unknownModel", "not_found"),
        ("contentPolicyViolation", "content_policy"),
        ("invalidWidth", "invalid_request"),
        ("missingPositivePrompt", "invalid_request"),
        ("unsupportedTaskType", "invalid_request"),
        ("providerError", "server"),
        ("internalServerError", "server"),
        ("serviceUnavailable", "overloaded"),
        ("whatever", None),
    ],
)
def test_classify_code(code: str, failure: str | None) -> None:
    assert classify_code(code) == failure


@pytest.mark.parametrize(
    ("status", "body", "failure"),
    [
        (
            400,
            {"errors": [{"code": "invalidWidth", "message": "bad", "parameter": "width"}]},
            "invalid_request",
        ),
        (401, {"errors": [{"code": "invalidApiKey", "message": "Invalid API key"}]}, "auth"),
        (402, {"errors": [{"code": "insufficientCredits", "message": "top up"}]}, "quota"),
        (429, {"errors": [{"code": "rateLimitExceeded", "message": "slow down"}]}, "rate_limited"),
        (400, {"error": {"code": "unknownModel", "message": "no such model"}}, "not_found"),
        (403, {"errors": [{"code": "forbidden", "message": "no"}]}, "quota"),
        (500, b"<html>bad gateway</html>", "server"),
        (504, {"errors": [{"code": "timeoutProvider", "message": "late"}]}, "timeout"),
    ],
)
def test_http_error_table(status: int, body: Any, failure: str) -> None:
    call = make_call()
    ADAPTER.build(call)
    error = failure_of(call, answer(body, status, {"retry-after": "1"}))
    assert (error.failure, error.status, error.retry_after) == (failure, status, 1.0)


@pytest.mark.parametrize(("compression", "applied"), [(80, True), (20, True), (5, False), (100, False)])
def test_compression_outside_runwares_range_is_left_to_the_gateway(compression: int, applied: bool) -> None:
    call = make_call(output_format="jpeg")
    call.request.output_compression = compression
    ADAPTER.build(call)
    result = ADAPTER.parse(
        call, answer({"data": [{"taskUUID": call.state["task_uuid"], "imageBase64Data": B64}]})
    )
    assert isinstance(result, Done) and result.output.compression_applied is applied
