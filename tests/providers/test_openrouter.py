"""OpenRouter: the image adapter (chat completions with image output) and the chat relay's pure helpers."""

from __future__ import annotations

import base64
from typing import Any

import orjson
import pytest

from mediarouter.catalog.models import ModelSpec, Offering, Price
from mediarouter.errors import GatewayError
from mediarouter.providers.base import Call, Done, UpstreamError, UpstreamResponse
from mediarouter.providers.openrouter import OpenRouterAdapter, data_url_image
from mediarouter.providers.openrouter_chat import (
    StreamScan,
    build_chat_body,
    build_chat_request,
    chat_cost,
    parse_chat_response,
)
from mediarouter.schemas.images import ImageRequest, InputImage

BASE = "https://openrouter.ai/api/v1"
ADAPTER = OpenRouterAdapter()
PNG = b"\x89PNG\r\n\x1a\nfake"
PNG_B64 = base64.b64encode(PNG).decode()


def make_call(
    aspect: str | None = "16:9",
    resolution: str | None = "1K",
    images: int = 0,
    options: dict[str, Any] | None = None,
) -> Call:
    inputs = [InputImage(PNG, "image/png", 64, 64) for _ in range(images)]
    request = ImageRequest(
        mode="edit" if images else "generate", model="m", prompt="a lighthouse", images=inputs
    )
    offering = Offering(
        "openrouter", "google/gemini-2.5-flash-image", Price("token", 0, 0.3, 30.0), options=options or {}
    )
    model = ModelSpec("gemini-2.5-flash-image", "Nano Banana", "google", ("generate", "edit"), (offering,))
    return Call(request, model, offering, BASE, "sk-or-test", "1344x768", None, aspect, resolution)


def answer(body: Any, status: int = 200, headers: dict[str, str] | None = None) -> UpstreamResponse:
    raw = body if isinstance(body, bytes) else orjson.dumps(body)
    return UpstreamResponse(status, headers or {}, raw)


def completion(
    message: dict[str, Any], finish: str = "stop", usage: dict[str, Any] | None = None
) -> dict[str, Any]:
    return {
        "id": "gen-1",
        "model": "google/gemini-2.5-flash-image",
        "choices": [{"index": 0, "finish_reason": finish, "message": {"role": "assistant", **message}}],
        "usage": usage or {"prompt_tokens": 6, "completion_tokens": 1299, "total_tokens": 1305},
    }


# --- the image adapter


def test_generation_asks_for_image_output_with_image_config() -> None:
    request = ADAPTER.build(make_call())
    assert (request.method, request.url) == ("POST", f"{BASE}/chat/completions")
    assert request.headers == {"Authorization": "Bearer sk-or-test"}
    assert request.json == {
        "model": "google/gemini-2.5-flash-image",
        "messages": [{"role": "user", "content": "a lighthouse"}],
        "modalities": ["image", "text"],
        "image_config": {"aspect_ratio": "16:9", "image_size": "1K"},
    }


@pytest.mark.parametrize(
    ("aspect", "resolution", "options", "config", "modalities"),
    [
        (None, None, {}, None, ["image", "text"]),
        ("auto", "2K", {}, {"image_size": "2K"}, ["image", "text"]),
        ("1:1", None, {"modalities": ["image"]}, {"aspect_ratio": "1:1"}, ["image"]),
    ],
)
def test_image_config_and_modalities(
    aspect: str | None, resolution: str | None, options: dict[str, Any], config: Any, modalities: list[str]
) -> None:
    body = ADAPTER.build(make_call(aspect, resolution, options=options)).json
    assert body.get("image_config") == config and body["modalities"] == modalities


def test_edit_sends_input_images_as_image_url_parts() -> None:
    content = ADAPTER.build(make_call(images=2)).json["messages"][0]["content"]
    part = {"type": "image_url", "image_url": {"url": f"data:image/png;base64,{PNG_B64}"}}
    assert content == [{"type": "text", "text": "a lighthouse"}, part, part]


def test_images_are_kept_as_base64_text() -> None:
    images = [{"type": "image_url", "image_url": {"url": f"data:image/png;base64,{PNG_B64}"}, "index": 0}]
    result = ADAPTER.parse(make_call(), answer(completion({"content": "Here it is", "images": images})))
    assert isinstance(result, Done)
    image = result.output.images[0]
    assert (image.b64, image.mime, image.data, image.url) == (PNG_B64, "image/png", None, None)
    assert result.output.usage == {"prompt_tokens": 6, "completion_tokens": 1299, "total_tokens": 1305}


@pytest.mark.parametrize(
    ("url", "b64", "mime", "plain"),
    [
        ("data:image/webp;base64,AAAA", "AAAA", "image/webp", None),
        ("https://cdn.example.com/a.png", None, None, "https://cdn.example.com/a.png"),
    ],
)
def test_data_urls(url: str, b64: str | None, mime: str | None, plain: str | None) -> None:
    image = data_url_image(url)
    assert (image.b64, image.mime, image.url) == (b64, mime, plain)


def test_a_data_url_that_is_not_base64_is_malformed() -> None:
    with pytest.raises(UpstreamError) as caught:
        data_url_image("data:image/png,rawbytes")
    assert caught.value.failure == "malformed"


@pytest.mark.parametrize(
    ("status", "error", "failure"),
    [
        (400, {"code": 400, "message": "bad"}, "invalid_request"),
        (401, {"code": 401, "message": "User not found."}, "auth"),
        (402, {"code": 402, "message": "Insufficient credits"}, "quota"),
        (
            403,
            {"code": 403, "message": "flagged", "metadata": {"reasons": ["violence"], "flagged_input": "x"}},
            "content_policy",
        ),
        (403, {"code": 403, "message": "Forbidden"}, "quota"),
        (404, {"code": 404, "message": "No endpoints found"}, "not_found"),
        (408, {"code": 408, "message": "timeout"}, "timeout"),
        (429, {"code": 429, "message": "slow down"}, "rate_limited"),
        (502, {"code": 502, "message": "Provider returned error"}, "server"),
        (503, {"code": 503, "message": "No instances"}, "server"),
        (500, {"message": "no code"}, "server"),
        (200, {"code": 502, "message": "failed after the stream began"}, "server"),
        (200, {"code": 403, "message": "flagged", "metadata": {"reasons": ["hate"]}}, "content_policy"),
    ],
)
def test_error_table(status: int, error: dict[str, Any], failure: str) -> None:
    with pytest.raises(UpstreamError) as caught:
        ADAPTER.parse(make_call(), answer({"error": error}, status, {"retry-after": "3"}))
    assert caught.value.failure == failure
    if failure == "content_policy":
        assert error["metadata"]["reasons"][0] in caught.value.message
    if status == 429:
        assert caught.value.retry_after == 3.0


@pytest.mark.parametrize(
    ("body", "failure"),
    [
        (completion({"content": "I can only describe it."}), "no_image"),
        (completion({"content": "No."}, finish="content_filter"), "content_policy"),
        ({"id": "gen-1", "choices": []}, "malformed"),
        ({"id": "gen-1", "choices": [{"index": 0}]}, "malformed"),
        (b"<html>", "malformed"),
    ],
)
def test_answers_without_an_image(body: Any, failure: str) -> None:
    with pytest.raises(UpstreamError) as caught:
        ADAPTER.parse(make_call(), answer(body))
    assert caught.value.failure == failure


def test_an_error_page_that_is_not_json_falls_back_to_the_status() -> None:
    with pytest.raises(UpstreamError) as caught:
        ADAPTER.parse(make_call(), answer(b"<html>Bad gateway</html>", 502))
    assert (caught.value.failure, caught.value.status) == ("server", 502)


# --- the chat relay


def test_chat_body_is_passed_through_minus_bookkeeping() -> None:
    body = {
        "model": "google/gemini-3-flash-preview",
        "messages": [{"role": "user", "content": "hi"}],
        "provider": {"order": ["google-vertex"], "allow_fallbacks": False},
        "temperature": 0.2,
        "extra_headers": {"x": "y"},
        "drop_params": True,
        "extra_body": {"reasoning": {"effort": "low"}},
    }
    assert build_chat_body(body) == {
        "model": "google/gemini-3-flash-preview",
        "messages": [{"role": "user", "content": "hi"}],
        "provider": {"order": ["google-vertex"], "allow_fallbacks": False},
        "temperature": 0.2,
        "reasoning": {"effort": "low"},
    }


@pytest.mark.parametrize(
    ("body", "param"),
    [
        ({"messages": [{"role": "user", "content": "hi"}]}, "model"),
        ({"model": " ", "messages": [{"role": "user", "content": "hi"}]}, "model"),
        ({"model": "openai/gpt-5.4"}, "messages"),
        ({"model": "openai/gpt-5.4", "messages": []}, "messages"),
    ],
)
def test_chat_body_needs_model_and_messages(body: dict[str, Any], param: str) -> None:
    with pytest.raises(GatewayError) as caught:
        build_chat_body(body)
    assert (caught.value.code, caught.value.param) == ("INVALID_REQUEST", param)


def test_chat_request_asks_for_sse_when_streaming() -> None:
    body = {"model": "openai/gpt-5.4", "messages": [], "stream": True}
    request = build_chat_request(body, BASE, "sk-or")
    assert request.url == f"{BASE}/chat/completions" and request.json is body
    assert request.headers == {"Authorization": "Bearer sk-or", "Accept": "text/event-stream"}
    assert "Accept" not in build_chat_request({**body, "stream": False}, BASE, "sk-or").headers


def test_chat_response_and_its_errors() -> None:
    ok = {"id": "gen-1", "choices": [{"message": {"content": "hello"}}]}
    assert parse_chat_response(answer(ok)) == ok
    for body, status, failure in (
        ({"error": {"code": 400, "message": "bad model"}}, 400, "invalid_request"),
        ({"error": {"code": 502, "message": "late failure"}}, 200, "server"),
        ({"id": "gen-1"}, 200, "malformed"),
    ):
        with pytest.raises(UpstreamError) as caught:
            parse_chat_response(answer(body, status))
        assert caught.value.failure == failure


@pytest.mark.parametrize(
    ("usage", "price", "expected"),
    [
        ({"prompt_tokens": 10, "completion_tokens": 20, "cost": 0.00042}, None, 0.00042),
        ({"prompt_tokens": 1_000_000, "completion_tokens": 1_000_000}, Price("token", 0, 1.0, 2.0), 3.0),
        ({"prompt_tokens": 10, "completion_tokens": 20}, None, None),
        (None, Price("token", 0, 1.0, 2.0), None),
    ],
)
def test_chat_cost(usage: dict[str, Any] | None, price: Price | None, expected: float | None) -> None:
    assert chat_cost(usage, price) == expected


def test_stream_scan_finds_model_usage_and_errors_across_chunk_boundaries() -> None:
    events = (
        b": OPENROUTER PROCESSING\n\n"
        b'data: {"id":"g","model":"openai/gpt-5.4","choices":[{"delta":{"content":"Hi"}}]}\n\n'
        b'data: {"id":"g","choices":[{"delta":{"content":" there"}}]}\n\n'
        b'data: {"id":"g","choices":[],"usage":{"prompt_tokens":3,"completion_tokens":2,"cost":0.001}}\r\n\r\n'
        b"data: [DONE]\n\n"
    )
    scan = StreamScan()
    for i in range(0, len(events), 7):  # split mid-line on purpose
        scan.feed(events[i : i + 7])
    assert scan.model == "openai/gpt-5.4" and scan.done and scan.events == 3
    assert scan.usage == {"prompt_tokens": 3, "completion_tokens": 2, "cost": 0.001}
    assert scan.error is None
    scan.feed(b'data: {"error":{"code":502,"message":"gone"},"choices":[]}\n\n')
    assert scan.error == {"code": 502, "message": "gone"}
