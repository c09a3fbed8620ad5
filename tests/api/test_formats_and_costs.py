"""Output formats decoded from the response bytes, and costs that match the catalog by hand."""

from __future__ import annotations

import base64
import io

import openai
import pytest
from PIL import Image

from imaging import decode

PIL_NAMES = {"png": "PNG", "jpeg": "JPEG", "webp": "WEBP", "gif": "GIF", "avif": "AVIF"}


@pytest.mark.parametrize("fmt", ["png", "jpeg", "webp", "gif", "avif"])
def test_every_output_format(sdk: openai.OpenAI, fmt: str) -> None:
    result = sdk.images.generate(
        model="dall-e-2",
        prompt="formats",
        size="256x256",
        response_format="b64_json",
        extra_body={"output_format": fmt},
    )
    image = decode(result.data[0])
    assert image.format == PIL_NAMES[fmt] and image.size == (256, 256)
    assert result.output_format == fmt


@pytest.mark.parametrize(
    ("model", "fields", "expected"),
    [
        ("dall-e-3", {"size": "1792x1024", "quality": "hd"}, 0.12),  # catalog variant "hd:1792x1024"
        ("dall-e-3", {"size": "1024x1024", "n": 2}, 0.08),  # 2 x $0.04
        ("dall-e-2", {"size": "512x512", "n": 3}, 0.054),  # 3 x $0.018
    ],
)
def test_costs_match_the_catalog(
    sdk: openai.OpenAI, model: str, fields: dict[str, object], expected: float
) -> None:
    result = sdk.images.generate(model=model, prompt="cost", response_format="b64_json", **fields)  # type: ignore[arg-type]
    assert result.model_extra["metadata"]["cost"] == pytest.approx(expected)  # type: ignore[index]


def test_token_priced_cost_follows_the_returned_usage(sdk: openai.OpenAI) -> None:
    result = sdk.images.generate(
        model="gpt-image-1", prompt="tokens", size="1024x1024", quality="low", response_format="b64_json"
    )
    usage = result.usage
    assert usage is not None
    by_hand = (
        usage.input_tokens * 10.0 + usage.output_tokens * 40.0
    ) / 1_000_000  # gpt-image-1: $10 in, $40 out per M
    assert result.model_extra["metadata"]["cost"] == pytest.approx(by_hand, abs=1e-6)  # type: ignore[index]


def _jpeg(item: object) -> tuple[bytes, dict[int, list[int]]]:
    """The JPEG bytes of a `data[i]` item and their quantization tables (which the quality sets)."""
    raw = base64.b64decode(item.b64_json)  # type: ignore[attr-defined]
    with Image.open(io.BytesIO(raw)) as im:
        assert im.format == "JPEG"
        return raw, {k: list(v) for k, v in im.quantization.items()}


def _tables_at(quality: int) -> dict[int, list[int]]:
    out = io.BytesIO()
    Image.new("RGB", (16, 16)).save(out, "JPEG", quality=quality)
    return _jpeg(type("Item", (), {"b64_json": base64.b64encode(out.getvalue())})())[1]


# Providers that return JPEG and take no compression field: the gateway re-encodes.
@pytest.mark.parametrize(
    "model", ["fal/flux.1-dev", "xai/grok-imagine-image", "fireworks/flux.1-schnell-fp8"]
)
def test_compression_is_honoured_where_the_provider_has_no_field(sdk: openai.OpenAI, model: str) -> None:
    def generate(**fields: object) -> tuple[bytes, dict[int, list[int]], dict[str, object]]:
        result = sdk.images.generate(
            model=model,
            prompt="compress me",
            response_format="b64_json",
            extra_body={"output_format": "jpeg", **fields},
        )
        return (*_jpeg(result.data[0]), (result.model_extra or {})["metadata"])

    low, low_tables, low_meta = generate(output_compression=5)
    high, high_tables, high_meta = generate(output_compression=95)
    assert low != high and len(low) < len(high)
    assert (low_tables, high_tables) == (_tables_at(5), _tables_at(95))
    assert low_meta["output_compression"] == {"value": 5, "applied_by": "gateway"}
    _, tables, meta = generate()  # not asked: the provider's own bytes (the emulator encodes at 75)
    assert tables == _tables_at(75) and "output_compression" not in meta


def test_compression_the_provider_applies_is_not_applied_twice(sdk: openai.OpenAI) -> None:
    result = sdk.images.generate(
        model="gpt-image-1",
        prompt="p",
        response_format="b64_json",
        quality="low",
        output_format="jpeg",
        output_compression=5,
    )
    meta = (result.model_extra or {})["metadata"]
    assert "output_compression" not in meta and "ignored_params" not in meta
    assert _jpeg(result.data[0])[1] == _tables_at(5)  # the emulator's encoding, as OpenAI's


def test_compression_for_lossless_output_is_reported(sdk: openai.OpenAI) -> None:
    result = sdk.images.generate(
        model="dall-e-2",
        prompt="p",
        size="256x256",
        response_format="b64_json",
        extra_body={"output_compression": 5},
    )
    assert (result.model_extra or {})["metadata"]["ignored_params"] == ["output_compression"]
