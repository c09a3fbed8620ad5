"""xAI adapter: what is (never) sent for each model, JSON edits, both error shapes, moderation."""

from __future__ import annotations

import base64
from typing import Any

import orjson
import pytest

from mediarouter.catalog.models import ModelSpec, Offering, Price
from mediarouter.providers.base import Call, Done, UpstreamError, UpstreamResponse
from mediarouter.providers.xai import XAIAdapter
from mediarouter.schemas.images import ImageRequest, InputImage

BASE = "https://api.x.ai/v1"
ADAPTER = XAIAdapter()
PNG = b"\x89PNG\r\n\x1a\nfake"
URI = "data:image/png;base64," + base64.b64encode(PNG).decode()


def make_call(
    model_id: str = "grok-imagine-image",
    aspect_ratio: str | None = "16:9",
    resolution: str | None = "1K",
    images: int = 0,
    n: int = 1,
    request_fields: dict[str, Any] | None = None,
    params: dict[str, tuple[str, ...]] | None = None,
    quality: str | None = None,
) -> Call:
    request = ImageRequest(
        mode="edit" if images else "generate",
        model=model_id,
        prompt="a red fox",
        n=n,
        images=[InputImage(PNG, "image/png", 64, 64) for _ in range(images)],
        **(request_fields or {}),
    )
    offering = Offering("xai", model_id, Price("image", 0.02))
    model = ModelSpec(model_id, model_id, "xai", ("generate", "edit"), (offering,), params=params or {})
    size = "1360x768" if aspect_ratio else "1024x768"
    return Call(request, model, offering, BASE, "xai-test", size, quality, aspect_ratio, resolution)


def answer(body: Any, status: int = 200, headers: dict[str, str] | None = None) -> UpstreamResponse:
    raw = body if isinstance(body, bytes) else orjson.dumps(body)
    return UpstreamResponse(status, headers or {}, raw)


def failure_of(response: UpstreamResponse) -> UpstreamError:
    with pytest.raises(UpstreamError) as caught:
        ADAPTER.parse(make_call(), response)
    return caught.value


def test_grok_imagine_generation_sends_aspect_and_lower_case_resolution() -> None:
    call = make_call(
        n=3, request_fields={"size": "1920x1080", "style": "vivid", "quality": "high", "user": "u1"}
    )
    request = ADAPTER.build(call)
    assert (request.method, request.url) == ("POST", f"{BASE}/images/generations")
    assert request.headers == {"Authorization": "Bearer xai-test"}
    assert request.json == {
        "model": "grok-imagine-image",
        "prompt": "a red fox",
        "n": 3,
        "response_format": "b64_json",
        "aspect_ratio": "16:9",
        "resolution": "1k",
        "user": "u1",
    }


def test_grok_2_gets_no_shape_at_all() -> None:
    request = ADAPTER.build(make_call("grok-2-image-1212", aspect_ratio=None, resolution=None))
    assert request.json == {
        "model": "grok-2-image-1212",
        "prompt": "a red fox",
        "n": 1,
        "response_format": "b64_json",
    }


@pytest.mark.parametrize(("params", "sent"), [({"quality": ("low", "medium")}, "low"), ({}, None)])
def test_quality_only_where_the_catalog_lists_it(
    params: dict[str, tuple[str, ...]], sent: str | None
) -> None:
    call = make_call("grok-imagine-image-2.0", params=params, quality="low" if params else None)
    assert ADAPTER.build(call).json.get("quality") == sent


def test_edit_is_json_with_an_image_url_object() -> None:
    request = ADAPTER.build(make_call(images=1))
    assert request.url == f"{BASE}/images/edits" and request.form is None
    assert request.json["image"] == {"url": URI, "type": "image_url"}
    assert "aspect_ratio" not in request.json and "resolution" not in request.json  # keeps the source's shape


def test_edit_with_several_sources_and_an_asked_shape() -> None:
    request = ADAPTER.build(make_call(images=3, request_fields={"aspect_ratio": "16:9"}))
    assert request.json["images"] == [{"url": URI, "type": "image_url"}] * 3 and "image" not in request.json
    assert (request.json["aspect_ratio"], request.json["resolution"]) == ("16:9", "1k")


def test_parse_base64_and_url_items() -> None:
    encoded = base64.b64encode(PNG).decode()
    body = {
        "data": [
            {"b64_json": f"data:image/jpeg;base64,{encoded}", "revised_prompt": "a red fox, detailed"},
            {"url": "https://imgen.x.ai/xai-imgen/xai-tmp-imgen-1.jpeg", "revised_prompt": ""},
            {"something": "else"},
        ]
    }
    result = ADAPTER.parse(make_call(), answer(body))
    assert isinstance(result, Done)
    images = result.output.images
    assert [(i.b64, i.url, i.revised_prompt) for i in images] == [
        (encoded, None, "a red fox, detailed"),
        (None, "https://imgen.x.ai/xai-imgen/xai-tmp-imgen-1.jpeg", None),
    ]
    assert result.output.output_format == "jpeg" and ADAPTER.media_hosts == ("imgen.x.ai",)


@pytest.mark.parametrize(
    ("body", "failure"),
    [
        ({"data": []}, "no_image"),
        ({"data": [{}]}, "no_image"),
        ({"images": []}, "malformed"),
        (b"<html>", "malformed"),
    ],
)
def test_success_without_images(body: Any, failure: str) -> None:
    assert failure_of(answer(body)).failure == failure


MODERATED = (
    "Content violates usage guidelines. Team: t, API key ID: k, Model: grok-imagine-image, "
    "Failed check: SAFETY_CHECK_TYPE_BIO"
)


@pytest.mark.parametrize(
    ("status", "body", "failure", "code"),
    [
        (400, {"code": "400", "error": "Argument not supported: size"}, "invalid_request", "400"),
        (403, {"code": "The caller does not have permission", "error": MODERATED}, "content_policy", None),
        (400, {"code": "Client specified an invalid argument", "error": "Content violates usage guidelines."}, "content_policy", None),
        (400, {"code": "x", "error": "Incorrect API key provided: xa***. You can obtain..."}, "auth", "x"),
        (403, {"code": "x", "error": "Your team has reached its monthly spending limit."}, "quota", "x"),
        (404, {"code": "Some requested entity was not found", "error": "The model x does not exist"}, "not_found", None),
        (429, {"error": {"message": "Too many requests", "type": "rate_limit_exceeded"}}, "rate_limited", None),
        (401, {"error": {"message": "bad key", "code": "invalid_api_key"}}, "auth", "invalid_api_key"),
        (500, b"internal error", "server", None),
    ],
)  # fmt: skip
def test_error_table(status: int, body: Any, failure: str, code: str | None) -> None:
    error = failure_of(answer(body, status, {"retry-after": "3"}))
    assert (error.failure, error.status, error.retry_after) == (failure, status, 3.0)
    if code is not None:
        assert error.provider_code == code
    assert error.message


def test_no_cancel() -> None:
    assert ADAPTER.cancel(make_call()) is None
