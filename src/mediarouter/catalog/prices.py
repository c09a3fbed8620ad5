"""What an attempt costs, from the catalog price in the provider's own unit."""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

from mediarouter.catalog.models import ModelSpec, Price


def unit_price(price: Price, quality: str | None, size: str | None, resolution: str | None = None) -> float:
    """USD per image or per megapixel, after `variants` keyed '<quality>:<size>', quality, size, resolution."""
    for key in (f"{quality}:{size}", quality, size, resolution):
        if key and key in price.variants:
            return price.variants[key]
    return price.usd


def cost_of(
    price: Price,
    images: int,
    pixels: list[tuple[int, int]],
    usage: dict[str, Any] | None,
    quality: str | None,
    size: str | None,
    resolution: str | None = None,
) -> float:
    """Cost of delivered images: per image, per megapixel of each output, or per returned token."""
    if images <= 0:
        return 0.0
    if price.per == "token":
        if not usage:
            return 0.0
        tokens_in = usage.get("input_tokens") or usage.get("prompt_tokens") or 0
        tokens_out = usage.get("output_tokens") or usage.get("completion_tokens") or 0
        return round((tokens_in * price.input + tokens_out * price.output) / 1_000_000, 6)
    each = unit_price(price, quality, size, resolution)
    if price.per == "megapixel":
        mp = sum(math.ceil(w * h / 1_000_000) for w, h in pixels) if pixels else images
        return round(each * mp, 6)
    return round(each * images, 6)


# Typical image output tokens for a 1024x1024 image by quality (GPT Image's published table);
# other token-billed models produce about 1290 tokens per image (Gemini).
TYPICAL_OUTPUT_TOKENS = {"low": 272, "medium": 1056, "high": 4160, "auto": 1056}
GEMINI_IMAGE_TOKENS = 1290
TYPICAL_INPUT_TOKENS = 50


def estimate_per_image(price: Price, quality: str | None, size: str | None, resolution: str | None) -> float:
    """Expected USD for one image before calling anyone: used to rank providers and for dry runs."""
    pixels = _pixels(size)
    if price.per == "token":
        if quality in TYPICAL_OUTPUT_TOKENS:
            tokens = TYPICAL_OUTPUT_TOKENS[quality] * (pixels / 1_048_576 if pixels else 1.0)
        else:
            tokens = GEMINI_IMAGE_TOKENS
        return round((TYPICAL_INPUT_TOKENS * price.input + tokens * price.output) / 1_000_000, 6)
    each = unit_price(price, quality, size, resolution)
    if price.per == "megapixel":
        return round(each * max(1, math.ceil((pixels or 1_048_576) / 1_000_000)), 6)
    return each


def _pixels(size: str | None) -> int | None:
    if not size or "x" not in size:
        return None
    try:
        w, h = size.lower().split("x")
        return int(w) * int(h)
    except ValueError:
        return None


# Upper bounds for budget reservations (`max_estimate`): the most a provider bills, not the typical.
GEMINI_MAX_IMAGE_TOKENS = {"4K": 2000}  # Gemini image output per image: 1290 tokens up to 2K, 2000 at 4K
TEXT_BYTES_PER_TOKEN = 2  # English runs ~4 characters a token; other scripts more bytes per char
TEXT_OVERHEAD_TOKENS = 16  # the tokens a chat-style API wraps around a message
CAPTION_TOKENS = 100  # a Gemini image may come with a sentence about it
LARGEST_GPT_IMAGE = "1536x1024"  # when a GPT Image model's sizes list none larger


def max_estimate(
    price: Price,
    model: ModelSpec,
    quality: str | None,
    size: str | None,
    resolution: str | None,
    prompt: str = "",
    images: Sequence[tuple[int, int]] = (),
) -> float:
    """The most one image of this request can cost, before anyone is called: what a budget reserves.

    Token-billed models are bounded by the largest size and quality tier the request can produce
    (GPT Image), or by a Gemini image's tokens plus as much text as the prompt (the model may write
    alongside its image); input by the prompt's UTF-8 bytes / 2 and each input image's tiles. Other
    prices are exact per image or megapixel, so only an unfixed (`auto`) size is bounded by the largest.
    """
    largest = size if _pixels(size) else _largest(model.sizes)
    if price.per != "token":
        return estimate_per_image(price, quality, largest, resolution)
    text_in = math.ceil(len(prompt.encode()) / TEXT_BYTES_PER_TOKEN) + TEXT_OVERHEAD_TOKENS
    gpt_image = "quality" in model.params
    images_in = sum((_openai_image_tokens if gpt_image else _gemini_image_tokens)(w, h) for w, h in images)
    if gpt_image:
        tier = quality if quality in ("low", "medium", "high") else "high"
        pixels = _pixels(largest) or _pixels(LARGEST_GPT_IMAGE) or 0
        tokens_out = math.ceil(TYPICAL_OUTPUT_TOKENS[tier] * pixels / 1_048_576)
    else:
        image_out = GEMINI_MAX_IMAGE_TOKENS.get(resolution or "", GEMINI_IMAGE_TOKENS)
        tokens_out = image_out + text_in + CAPTION_TOKENS
    return round(((text_in + images_in) * price.input + tokens_out * price.output) / 1_000_000, 6)


def _largest(sizes: Sequence[str]) -> str | None:
    fixed = [s for s in sizes if _pixels(s)]
    return max(fixed, key=lambda s: _pixels(s) or 0) if fixed else None


def _openai_image_tokens(width: int, height: int) -> int:
    """An input image fitted in 2048x2048, its short side at most 768, in 512-pixel tiles (high detail)."""
    scale = min(1.0, 2048 / max(width, height, 1))
    scale *= min(1.0, 768 / max(min(width, height) * scale, 1))
    return 85 + 170 * math.ceil(width * scale / 512) * math.ceil(height * scale / 512)


def _gemini_image_tokens(width: int, height: int) -> int:
    """258 tokens for an image up to 384 pixels a side, else 258 per 768-pixel tile."""
    if max(width, height) <= 384:
        return 258
    return 258 * math.ceil(width / 768) * math.ceil(height / 768)
