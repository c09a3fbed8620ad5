"""OpenAI validation rules and the figures the emulator derives, without a server."""

from __future__ import annotations

from typing import Any

import pytest

from mediarouter.sandbox.images import ImageInfo
from mediarouter.sandbox.openai.errors import OpenAIError, mask_key
from mediarouter.sandbox.openai.fields import RequestFields, listing
from mediarouter.sandbox.openai.models import custom_size_problem
from mediarouter.sandbox.openai.params import ImageTask, InputImage, parse_task
from mediarouter.sandbox.openai.results import input_image_tokens, usage


def task(
    body: dict[str, Any], endpoint: str = "generations", textual: bool = False, **files: Any
) -> ImageTask:
    return parse_task(endpoint, RequestFields({"prompt": "a fox", **body}, textual), **files)


def image(width: int, height: int) -> InputImage:
    return InputImage(b"", ImageInfo("png", width, height, "RGBA"))


def test_defaults_follow_the_model() -> None:
    gpt = task({"model": "gpt-image-1"})
    assert (gpt.size, gpt.quality, gpt.background, gpt.output_format, gpt.response_format) == (
        "1024x1024",
        "medium",
        "opaque",
        "png",
        "b64_json",
    )
    dalle = task({})  # no model: the generations default, dall-e-2
    assert (dalle.model.id, dalle.size, dalle.quality, dalle.response_format, dalle.style) == (
        "dall-e-2",
        "1024x1024",
        "standard",
        "url",
        None,
    )
    assert task({"model": "dall-e-3"}).style == "vivid"


def test_lossy_formats_default_to_full_quality() -> None:
    assert task({"model": "gpt-image-1", "output_format": "webp"}).output_compression == 100
    assert (
        task({"model": "gpt-image-1", "output_format": "jpeg", "output_compression": 0}).output_compression
        == 0
    )
    assert task({"model": "gpt-image-1"}).output_compression is None


def test_form_fields_arrive_as_text() -> None:
    edit = task(
        {"model": "gpt-image-1.5", "n": "3", "stream": "true", "size": "auto"},
        "edits",
        True,
        images=(image(900, 600),),
    )
    assert (edit.n, edit.stream, edit.size) == (3, True, "1536x1024")


@pytest.mark.parametrize(
    ("body", "param", "code"),
    [
        ({"prompt": None}, "prompt", "missing_required_parameter"),
        ({"prompt": ""}, "prompt", "empty_string"),
        ({"n": "2"}, "n", "invalid_type"),
        ({"n": 0}, "n", "integer_below_min_value"),
        ({"n": True}, "n", "invalid_type"),
        ({"model": 3}, "model", "invalid_type"),
        ({"moderation": "high", "model": "gpt-image-1"}, "moderation", "invalid_value"),
        ({"style": "vivid", "model": "gpt-image-1"}, "style", "unknown_parameter"),
        ({"input_fidelity": "high", "model": "gpt-image-1"}, "input_fidelity", "unknown_parameter"),
        ({"whatever": 1}, "whatever", "unknown_parameter"),
    ],
)
def test_generation_rejections(body: dict[str, Any], param: str, code: str) -> None:
    with pytest.raises(OpenAIError) as caught:
        task(body)
    assert caught.value.status == 400
    assert (caught.value.body["param"], caught.value.body["code"]) == (param, code)


def test_edits_refuse_generation_only_fields() -> None:
    with pytest.raises(OpenAIError) as caught:
        task({"model": "gpt-image-1", "moderation": "low"}, "edits", True, images=(image(64, 64),))
    assert caught.value.body["code"] == "unknown_parameter"


@pytest.mark.parametrize(
    ("size", "problem"),
    [
        ((1536, 864), None),
        ((3840, 2160), None),
        ((1000, 1008), "divisible by 16"),
        ((3840, 1280), None),
        ((3840, 1264), "aspect ratio"),
        ((3840, 2176), "3840x2160"),
    ],
)
def test_custom_sizes(size: tuple[int, int], problem: str | None) -> None:
    found = custom_size_problem(*size)
    assert (found is None) if problem is None else (found is not None and problem in found)


def test_usage_scales_with_area_quality_and_n() -> None:
    figures = usage(task({"model": "gpt-image-1", "quality": "high", "size": "1536x1024", "n": 2}))
    assert figures["output_tokens"] == 2 * 6240
    assert figures["input_tokens"] == figures["input_tokens_details"]["text_tokens"] == 2
    assert figures["total_tokens"] == figures["input_tokens"] + figures["output_tokens"]


def test_input_image_tokens_count_tiles() -> None:
    small = task({"model": "gpt-image-1"}, "edits", True, images=(image(512, 512),))
    large = task({"model": "gpt-image-1"}, "edits", True, images=(image(4096, 2048), image(512, 512)))
    assert input_image_tokens(small) == 65 + 129
    assert input_image_tokens(large) == (65 + 129 * 6) + (65 + 129)  # 1536x768 after scaling: 3x2 tiles


def test_keys_are_never_quoted_in_full() -> None:
    for key in ("sk-test", "sk-sandbox", "sk-proj-abcdefghijklmnopqrstuvwxyz0123456789"):
        masked = mask_key(key)
        assert key not in masked and "*" in masked
    assert mask_key("sk-proj-abcdefghijklmnopqrstuvwxyz0123456789").endswith("6789")


def test_listing_reads_like_openai() -> None:
    assert listing(["a"]) == "'a'"
    assert listing(["a", "b"]) == "'a' and 'b'"
    assert listing(["a", "b", "c"]) == "'a', 'b', and 'c'"
