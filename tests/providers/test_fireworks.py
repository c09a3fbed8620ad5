"""Fireworks adapter: FLUX.1 sync requests (raw image or JSON answers), the Kontext job, error shapes."""

from __future__ import annotations

import base64
from typing import Any

import orjson
import pytest

from mediarouter.catalog.models import ModelSpec, Offering, Price
from mediarouter.providers.base import Call, Done, Poll, UpstreamError, UpstreamResponse
from mediarouter.providers.fireworks import FireworksAdapter
from mediarouter.schemas.images import ImageRequest, InputImage

BASE = "https://api.fireworks.ai/inference/v1"
MODELS = f"{BASE}/workflows/accounts/fireworks/models"
ADAPTER = FireworksAdapter()
PNG = b"\x89PNG\r\n\x1a\nfake"
JPEG = b"\xff\xd8\xff\xe0fake"


def make_call(
    model_id: str = "flux-1-schnell-fp8",
    api: str | None = "text_to_image",
    aspect_ratio: str | None = "16:9",
    output_format: str | None = None,
    images: int = 0,
    extra: dict[str, Any] | None = None,
    state: dict[str, Any] | None = None,
) -> Call:
    request = ImageRequest(
        mode="edit" if images else "generate",
        model=model_id,
        prompt="a red fox",
        output_format=output_format,
        images=[InputImage(PNG, "image/png", 64, 64) for _ in range(images)],
        extra=extra or {},
    )
    offering = Offering("fireworks", model_id, Price("image", 0.04), options={"api": api} if api else {})
    model = ModelSpec(
        model_id, model_id, "bfl", ("generate", "edit"), (offering,), output_formats=("jpeg", "png")
    )
    return Call(
        request, model, offering, BASE, "fw-test", "1360x768", aspect_ratio=aspect_ratio, state=state or {}
    )


def answer(body: Any, status: int = 200, headers: dict[str, str] | None = None) -> UpstreamResponse:
    raw = body if isinstance(body, bytes) else orjson.dumps(body)
    return UpstreamResponse(status, headers or {"content-type": "application/json"}, raw)


def failure_of(call: Call, response: UpstreamResponse) -> UpstreamError:
    with pytest.raises(UpstreamError) as caught:
        ADAPTER.parse(call, response)
    return caught.value


def test_option_accept_json_asks_for_base64_in_the_wanted_format() -> None:
    call = make_call(output_format="png")
    call.options["accept"] = "json"
    request = ADAPTER.build(call)
    assert (request.headers["Accept"], request.headers["Json-Return-Image-Accept"]) == (
        "application/json",
        "image/png",
    )
    encoded = base64.b64encode(PNG).decode()
    done = ADAPTER.parse(call, answer({"id": "1", "base64": [encoded], "finishReason": "SUCCESS", "seed": 7}))
    assert isinstance(done, Done) and done.output.output_format == "png"
    assert [(i.b64, i.mime) for i in done.output.images] == [(encoded, "image/png")]


def test_an_unknown_accept_option_is_reported() -> None:
    call = make_call()
    call.options["accept"] = "xml"
    with pytest.raises(UpstreamError) as caught:
        ADAPTER.build(call)
    assert caught.value.failure == "invalid_request" and "accept" in caught.value.message


def test_flux_request_asks_for_the_raw_image() -> None:
    call = make_call(extra={"seed": 7, "guidance_scale": 3.5, "steps": 4, "lora": "x"})
    request = ADAPTER.build(call)
    assert (request.method, request.url) == ("POST", f"{MODELS}/flux-1-schnell-fp8/text_to_image")
    assert request.headers == {"Authorization": "Bearer fw-test", "Accept": "image/jpeg"}
    assert request.json == {
        "prompt": "a red fox",
        "aspect_ratio": "16:9",
        "seed": 7,
        "guidance_scale": 3.5,
        "num_inference_steps": 4,
    }


@pytest.mark.parametrize(
    ("wanted", "accept"),
    [(None, "image/jpeg"), ("jpeg", "image/jpeg"), ("png", "image/png"), ("webp", "image/png")],
)
def test_accept_follows_the_output_format(wanted: str | None, accept: str) -> None:
    assert ADAPTER.build(make_call(output_format=wanted)).headers["Accept"] == accept


def test_full_model_path_and_api_from_the_model_name() -> None:
    call = make_call("accounts/fireworks/models/flux-1-dev-fp8", api=None, aspect_ratio=None)
    request = ADAPTER.build(call)
    assert request.url == f"{MODELS}/flux-1-dev-fp8/text_to_image"
    assert request.json == {"prompt": "a red fox"}


def test_raw_image_answer() -> None:
    response = answer(JPEG, headers={"content-type": "image/jpeg", "finish-reason": "SUCCESS"})
    result = ADAPTER.parse(make_call(), response)
    assert isinstance(result, Done)
    assert (result.output.images[0].data, result.output.images[0].mime) == (JPEG, "image/jpeg")
    assert result.output.output_format == "jpeg"


def test_image_without_an_image_content_type_is_sniffed() -> None:
    result = ADAPTER.parse(make_call(), answer(PNG, headers={"content-type": "application/octet-stream"}))
    assert isinstance(result, Done) and result.output.images[0].mime == "image/png"


@pytest.mark.parametrize(
    ("response", "failure"),
    [
        (
            answer(JPEG, headers={"content-type": "image/jpeg", "finish-reason": "CONTENT_FILTERED"}),
            "content_policy",
        ),
        (answer(b"", headers={"content-type": "image/png"}), "no_image"),
        (answer({"base64": [], "finishReason": "CONTENT_FILTERED"}), "content_policy"),
        (answer({"base64": [], "finishReason": "SUCCESS"}), "no_image"),
        (answer({"id": "x"}), "malformed"),
        (answer(b"<html>", headers={"content-type": "text/html"}), "malformed"),
    ],
)
def test_sync_answers_without_an_image(response: UpstreamResponse, failure: str) -> None:
    assert failure_of(make_call(), response).failure == failure


def test_json_answer_strips_data_uri_prefixes() -> None:
    encoded = base64.b64encode(PNG).decode()
    body = {"id": "1", "base64": [f"data:image/png;base64,{encoded}", encoded], "finishReason": "SUCCESS"}
    result = ADAPTER.parse(make_call(), answer(body))
    assert isinstance(result, Done) and [i.b64 for i in result.output.images] == [encoded, encoded]


def test_kontext_generate_submits_a_job() -> None:
    request = ADAPTER.build(
        make_call("flux-kontext-pro", "kontext", "4:3", extra={"seed": 3, "safety_tolerance": 2})
    )
    assert (request.url, request.headers["Accept"]) == (f"{MODELS}/flux-kontext-pro", "application/json")
    assert request.json == {
        "prompt": "a red fox",
        "aspect_ratio": "4:3",
        "output_format": "jpeg",
        "seed": 3,
        "safety_tolerance": 2,
    }


def test_kontext_edit_sends_the_source_as_a_data_uri() -> None:
    request = ADAPTER.build(make_call("flux-kontext-max", "kontext", None, output_format="png", images=1))
    assert request.json == {
        "prompt": "a red fox",
        "output_format": "png",
        "input_image": "data:image/png;base64," + base64.b64encode(PNG).decode(),
    }


def test_kontext_submit_answer_starts_polling() -> None:
    result = ADAPTER.parse(make_call("flux-kontext-pro", "kontext"), answer({"request_id": "job-1"}))
    assert isinstance(result, Poll) and result.state == {"request_id": "job-1"}
    assert (result.request.url, result.request.json) == (
        f"{MODELS}/flux-kontext-pro/get_result",
        {"id": "job-1"},
    )


def test_kontext_submit_without_a_request_id_is_malformed() -> None:
    assert failure_of(make_call("flux-kontext-pro", "kontext"), answer({"ok": True})).failure == "malformed"


@pytest.mark.parametrize("status", ["Pending", "Queued", "Processing", "Something new"])
def test_kontext_running_states_poll_again(status: str) -> None:
    call = make_call("flux-kontext-pro", "kontext", state={"request_id": "job-1"})
    result = ADAPTER.parse(call, answer({"id": "job-1", "status": status, "result": None}))
    assert isinstance(result, Poll) and result.request.json == {"id": "job-1"}


def test_kontext_ready_returns_the_sample_url() -> None:
    call = make_call("flux-kontext-pro", "kontext", state={"request_id": "job-1"})
    url = "https://delivery-eu1.bfl.ai/results/ab/sample.jpeg?se=x"
    result = ADAPTER.parse(call, answer({"id": "job-1", "status": "Ready", "result": {"sample": url}}))
    assert isinstance(result, Done) and result.output.images[0].url == url
    assert result.output.images[0].mime == "image/jpeg"


@pytest.mark.parametrize(
    ("body", "failure"),
    [
        ({"status": "Request Moderated", "details": {"Moderation Reasons": ["x"]}}, "content_policy"),
        ({"status": "Content Moderated"}, "content_policy"),
        ({"status": "Error", "details": "boom"}, "job_failed"),
        ({"status": "Failed"}, "job_failed"),
        ({"status": "Task not found"}, "not_found"),
        ({"status": "Ready", "result": {}}, "no_image"),
        ({"status": "Ready", "result": None}, "no_image"),
        ({"result": {"sample": "x"}}, "malformed"),
    ],
)
def test_kontext_terminal_failures(body: dict[str, Any], failure: str) -> None:
    call = make_call("flux-kontext-pro", "kontext", state={"request_id": "job-1"})
    assert failure_of(call, answer(body)).failure == failure


@pytest.mark.parametrize(
    ("status", "body", "failure", "message"),
    [
        (
            400,
            {"error": {"type": "invalid_request_error", "message": "bad ratio"}},
            "invalid_request",
            "bad ratio",
        ),
        (401, {"error": {"message": "The API key you provided is invalid."}}, "auth", "The API key"),
        (402, {"error": {"message": "Account suspended"}}, "quota", "suspended"),
        (404, {"error": {"code": "NOT_FOUND", "message": "Model not found"}}, "not_found", "Model not found"),
        (
            429,
            {"fault": {"faultstring": "Rate limit", "detail": {"errorcode": "x.Quota"}}},
            "rate_limited",
            "Rate",
        ),
        (
            400,
            {"detail": [{"loc": ["body", "prompt"], "msg": "field required"}]},
            "invalid_request",
            "field req",
        ),
        (422, {"detail": "prompt too long"}, "invalid_request", "prompt too long"),
        (500, b"upstream connect error", "server", "upstream connect"),
        (503, {"error": "overloaded", "code": "unavailable"}, "overloaded", "overloaded"),
    ],
)
def test_error_table(status: int, body: Any, failure: str, message: str) -> None:
    error = failure_of(
        make_call(), answer(body, status, {"content-type": "application/json", "retry-after": "2"})
    )
    assert (error.failure, error.status, error.retry_after) == (failure, status, 2.0)
    assert message in error.message


def test_no_cancel_endpoint() -> None:
    assert ADAPTER.cancel(make_call("flux-kontext-pro", "kontext", state={"request_id": "x"})) is None
