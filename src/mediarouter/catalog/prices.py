"""What an attempt costs, from the catalog price in the provider's own unit.

Megapixels are counted as fal and BFL bill them: 1 MP = 1024x1024 = 2**20 pixels, rounded up per
image to whole megapixels (1024x1024 is 1 MP, 1536x1024 is 2, 512x512 is 1). A price with
`extra_usd` bills an image's first megapixel at `usd` and each further one at `extra_usd`; with
`inputs`, each input image adds its own megapixels (at least 1, at most 4: fal resizes larger ones).
"""

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
    inputs: Sequence[tuple[int, int]] = (),
) -> float:
    """Cost of delivered images: per image, per megapixel of each output (`pixels`, as measured from
    the images; `inputs`: the request's input images), or per returned token."""
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
        unmeasured = megapixels_of(size)  # images whose bytes gave no size: the size asked for
        outputs = [megapixels(w, h) for w, h in pixels] + [unmeasured] * max(0, images - len(pixels))
        return round(megapixel_cost(price, each, outputs, inputs), 6)
    return round(each * images, 6)


MEGAPIXEL = 1_048_576  # 1024x1024: how fal and BFL count a megapixel
MAX_INPUT_MEGAPIXELS = 4


def megapixels(width: int, height: int) -> int:
    """Whole megapixels of one image as fal bills them: rounded up, at least one."""
    return max(1, math.ceil(width * height / MEGAPIXEL))


def megapixels_of(size: str | None) -> int:
    """Megapixels of a `WxH` size; 1 when the size is not fixed (`auto`, an aspect ratio)."""
    pixels = _pixels(size)
    return max(1, math.ceil(pixels / MEGAPIXEL)) if pixels else 1


def input_megapixels(price: Price, inputs: Sequence[tuple[int, int]]) -> int:
    """Megapixels the input images add to each output image, when the price bills inputs."""
    if not price.inputs:
        return 0
    return sum(min(MAX_INPUT_MEGAPIXELS, megapixels(w, h)) for w, h in inputs)


def megapixel_cost(
    price: Price, each: float, outputs: Sequence[int], inputs: Sequence[tuple[int, int]] = ()
) -> float:
    """USD for output images of `outputs` megapixels each. Inputs count once per output image: the
    rows that bill them (fal's FLUX.2) make one image per upstream request, each re-sending them."""
    extra = price.extra_usd if price.extra_usd is not None else each
    added = input_megapixels(price, inputs)
    return sum(each + extra * (mp + added - 1) for mp in outputs)


# Typical image output tokens for a 1024x1024 image by quality (GPT Image's published table);
# other token-billed models produce about 1290 tokens per image (Gemini).
TYPICAL_OUTPUT_TOKENS = {"low": 272, "medium": 1056, "high": 4160, "auto": 1056}
GEMINI_IMAGE_TOKENS = 1290
TYPICAL_INPUT_TOKENS = 50


def estimate_per_image(
    price: Price,
    quality: str | None,
    size: str | None,
    resolution: str | None,
    inputs: Sequence[tuple[int, int]] = (),
) -> float:
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
        return round(megapixel_cost(price, each, [megapixels_of(size)], inputs), 6)
    return each


def estimate_components(
    price: Price,
    quality: str | None,
    size: str | None,
    resolution: str | None,
    n: int,
    inputs: Sequence[tuple[int, int]] = (),
) -> list[dict[str, Any]]:
    """A dry run's cost components for `n` images (Lumenfall's shape: `unit_price` in USD,
    `total_cost` in micro-dollars). Megapixel prices list the output's megapixels, the first ones
    apart when they cost more, and the billed input megapixels."""
    if price.per != "megapixel":
        note = "token-billed: estimated from typical image token counts" if price.per == "token" else None
        return [_component("output", "image", n, estimate_per_image(price, quality, size, resolution), note)]
    each = unit_price(price, quality, size, resolution)
    out_mp, in_mp = megapixels_of(size), input_megapixels(price, inputs)
    if price.extra_usd is None:
        rows = [("output", "megapixel", n * out_mp, each), ("input", "megapixel", n * in_mp, each)]
    else:
        rows = [
            ("output", "megapixel", n, each),
            ("output", "extra_megapixel", n * (out_mp - 1), price.extra_usd),
            ("input", "extra_megapixel", n * in_mp, price.extra_usd),
        ]
    return [_component(*row) for row in rows if row[2] > 0]


def token_components(price: Price | None, tokens_in: int, tokens_out: int) -> list[dict[str, Any]]:
    """A chat dry run's components: input and output tokens at the catalog price per million (unit
    prices and totals None for a model the catalog does not price: OpenRouter says after the call)."""
    if price is None or price.per != "token":
        note = "no catalog price for this model: the provider reports the cost with its answer"
        return [
            {**_component(kind, "token", qty, 0.0, note), "unit_price": None, "total_cost": None}
            for kind, qty in (("input", tokens_in), ("output", tokens_out))
        ]
    return [
        _component("input", "token", tokens_in, price.input / 1_000_000),
        _component("output", "token", tokens_out, price.output / 1_000_000),
    ]


def _component(kind: str, metric: str, quantity: int, unit: float, note: str | None = None) -> dict[str, Any]:
    component: dict[str, Any] = {
        "type": kind,
        "metric": metric,
        "quantity": quantity,
        "billable_quantity": quantity,
        "unit_price": round(unit, 12),  # USD per token is millionths
        "total_cost": round(unit * quantity * 1_000_000),
    }
    if note:
        component["note"] = note
    return component


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
        return estimate_per_image(price, quality, largest, resolution, images)
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
