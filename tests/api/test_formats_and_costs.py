"""Output formats decoded from the response bytes, and costs that match the catalog by hand."""

from __future__ import annotations

import openai
import pytest

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
