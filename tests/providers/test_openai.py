"""OpenAI adapter: which fields are sent for which model, multipart edits, and the error table."""

from __future__ import annotations

from typing import Any

import orjson
import pytest

from mediarouter.catalog.models import ModelSpec, Offering, Price
from mediarouter.providers.base import Call, Done, UpstreamError, UpstreamResponse
from mediarouter.providers.openai import OpenAIAdapter
from mediarouter.schemas.images import ImageRequest, InputImage

BASE = "https://api.openai.com/v1"
ADAPTER = OpenAIAdapter()
PNG = b"\x89PNG\r\n\x1a\nfake"
GPT_PARAMS = {
    "quality": ("low", "medium", "high", "auto"),
    "background": ("transparent", "opaque", "auto"),
    "moderation": ("low", "auto"),
    "input_fidelity": ("low", "high"),
}


def make_call(
    model_id: str = "gpt-image-1",
    images: int = 0,
    mask: bool = False,
    params: dict[str, tuple[str, ...]] | None = None,
    formats: tuple[str, ...] = ("png", "jpeg", "webp"),
    quality: str | None = None,
    **fields: Any,
) -> Call:
    request = ImageRequest(
        mode="edit" if images else "generate",
        model=model_id,
        prompt="a red fox",
        images=[InputImage(PNG, "image/png", 64, 64) for _ in range(images)],
        mask=InputImage(PNG, "image/png", 64, 64) if mask else None,
        **fields,
    )
    offering = Offering("openai", model_id, Price("image", 0.04))
    model = ModelSpec(
        model_id,
        model_id,
        "openai",
        ("generate", "edit"),
        (offering,),
        params=GPT_PARAMS if params is None else params,
        output_formats=formats,
    )
    return Call(request, model, offering, BASE, "sk-test", "1024x1024", quality)


def answer(body: Any, status: int = 200, headers: dict[str, str] | None = None) -> UpstreamResponse:
    return UpstreamResponse(status, headers or {}, body if isinstance(body, bytes) else orjson.dumps(body))


def test_gpt_image_generation_sends_every_field_the_model_takes() -> None:
    call = make_call(
        n=2,
        quality="high",
        background="transparent",
        moderation="low",
        output_format="webp",
        output_compression=80,
        style="vivid",  # not in this model's params: never sent
        user="u1",
    )
    request = ADAPTER.build(call)
    assert (request.method, request.url) == ("POST", f"{BASE}/images/generations")
    assert request.headers == {"Authorization": "Bearer sk-test"}
    assert request.json == {
        "model": "gpt-image-1",
        "prompt": "a red fox",
        "n": 2,
        "size": "1024x1024",
        "quality": "high",
        "background": "transparent",
        "moderation": "low",
        "output_format": "webp",
        "output_compression": 80,
        "user": "u1",
    }


def test_png_takes_no_compression_and_dalle_is_asked_for_base64() -> None:
    png = ADAPTER.build(make_call(output_format="png", output_compression=50)).json
    assert png is not None and "output_compression" not in png and png["output_format"] == "png"
    dalle = ADAPTER.build(
        make_call("dall-e-3", params={"quality": ("standard", "hd"), "style": ("vivid", "natural")},
                  formats=("png",), quality="hd", style="natural", output_format="jpeg")
    ).json  # fmt: skip
    assert dalle == {
        "model": "dall-e-3",
        "prompt": "a red fox",
        "n": 1,
        "size": "1024x1024",
        "quality": "hd",
        "style": "natural",
        "response_format": "b64_json",  # no second download; the gateway converts to jpeg itself
    }


def test_edit_is_multipart_with_image_for_one_and_image_brackets_for_several() -> None:
    one = ADAPTER.build(make_call(images=1, input_fidelity="high", moderation="low"))
    assert one.url == f"{BASE}/images/edits" and one.json is None and one.form is not None
    names = [p.name for p in one.form]
    assert names.count("image") == 1 and "input_fidelity" in names and "moderation" not in names
    several = ADAPTER.build(make_call(images=3, mask=True))
    assert several.form is not None
    files = [(p.name, p.filename, p.content_type) for p in several.form if p.filename]
    assert files == [
        ("image[]", "image0.png", "image/png"),
        ("image[]", "image1.png", "image/png"),
        ("image[]", "image2.png", "image/png"),
        ("mask", "mask.png", "image/png"),
    ]


def test_parse_returns_images_usage_and_format() -> None:
    body = {
        "created": 1,
        "data": [{"b64_json": "aGk="}, {"b64_json": "aGk=", "revised_prompt": "a fox"}],
        "usage": {"input_tokens": 10, "output_tokens": 4160, "total_tokens": 4170},
        "output_format": "webp",
        "size": "1024x1024",
        "quality": "high",
    }
    done = ADAPTER.parse(make_call(), answer(body))
    assert isinstance(done, Done)
    out = done.output
    assert [i.b64 for i in out.images] == ["aGk=", "aGk="] and out.images[1].revised_prompt == "a fox"
    assert {i.mime for i in out.images} == {"image/webp"} and out.output_format == "webp"
    assert out.usage == body["usage"]


@pytest.mark.parametrize(
    ("status", "error", "failure"),
    [
        (400, {"code": "moderation_blocked", "message": "safety system"}, "content_policy"),
        (400, {"code": "content_policy_violation", "message": "refused"}, "content_policy"),
        (400, {"type": "invalid_request_error", "message": "bad size"}, "invalid_request"),
        (401, {"code": "invalid_api_key", "message": "Incorrect API key"}, "auth"),
        (429, {"code": "insufficient_quota", "message": "quota"}, "quota"),
        (429, {"code": "rate_limit_exceeded", "message": "slow down"}, "rate_limited"),
        (403, {"code": "unsupported_country_region_territory", "message": "region"}, "quota"),
        (404, {"code": "model_not_found", "message": "no such model"}, "not_found"),
        (500, {"message": "server error", "type": "server_error"}, "server"),
        (503, {"message": "overloaded"}, "overloaded"),
    ],
)
def test_errors_map_by_code_then_status(status: int, error: dict[str, str], failure: str) -> None:
    with pytest.raises(UpstreamError) as caught:
        ADAPTER.parse(make_call(), answer({"error": error}, status, {"retry-after": "2"}))
    assert caught.value.failure == failure and caught.value.message == error["message"]
    assert caught.value.retry_after == 2.0


@pytest.mark.parametrize(
    ("response", "failure"),
    [
        (answer(b"<html>bad gateway</html>", 502), "server"),
        (answer(b"{not json"), "malformed"),
        (answer({"created": 1}), "malformed"),
        (answer({"created": 1, "data": []}), "no_image"),
        (answer({"created": 1, "data": [{"b64_json": ""}]}), "no_image"),
    ],
)
def test_answers_without_images_are_failures(response: UpstreamResponse, failure: str) -> None:
    with pytest.raises(UpstreamError) as caught:
        ADAPTER.parse(make_call(), response)
    assert caught.value.failure == failure


@pytest.mark.parametrize(
    ("model_id", "fields", "applied"),
    [
        ("gpt-image-1", {"output_format": "jpeg", "output_compression": 5}, True),
        ("gpt-image-1", {"output_format": "png", "output_compression": 5}, False),
        ("gpt-image-1", {"output_format": "jpeg"}, False),
        ("dall-e-3", {"output_format": "jpeg", "output_compression": 5}, False),  # the gateway converts
    ],
)
def test_parse_says_whether_the_compression_was_sent(
    model_id: str, fields: dict[str, Any], applied: bool
) -> None:
    done = ADAPTER.parse(make_call(model_id, **fields), answer({"data": [{"b64_json": "aGk="}]}))
    assert isinstance(done, Done) and done.output.compression_applied is applied
