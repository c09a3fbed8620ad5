"""What an attempt costs, from the catalog price in the provider's own unit."""

from __future__ import annotations

import math
from typing import Any

from mediarouter.catalog.models import Price


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
