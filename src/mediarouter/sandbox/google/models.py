"""The Google image models the emulators know, as data: which surface serves them, what they accept,
and how many pixels each aspect ratio and tier stands for.

Model catalogues drift; a new model is a new row. Pixel tables follow Google's published output
sizes (Gemini 2.5 Flash Image, Gemini 3 image models, Imagen 4); a ratio missing from a table is
computed (the tier's area at that ratio, multiples of 16).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

GEMINI_RATIOS = ("1:1", "2:3", "3:2", "3:4", "4:3", "4:5", "5:4", "9:16", "16:9", "21:9")
EXTREME_RATIOS = ("1:4", "4:1", "1:8", "8:1")
IMAGEN_RATIOS = ("1:1", "3:4", "4:3", "9:16", "16:9")

# 1K output pixels per aspect ratio; higher tiers scale both sides (2K x2, 4K x4, 512 x0.5).
FLASH_25_PIXELS: dict[str, tuple[int, int]] = {
    "1:1": (1024, 1024), "2:3": (832, 1248), "3:2": (1248, 832), "3:4": (864, 1184), "4:3": (1184, 864),
    "4:5": (896, 1152), "5:4": (1152, 896), "9:16": (768, 1344), "16:9": (1344, 768), "21:9": (1536, 672),
}  # fmt: skip
GEMINI_3_PIXELS: dict[str, tuple[int, int]] = {
    "1:1": (1024, 1024), "2:3": (848, 1264), "3:2": (1264, 848), "3:4": (896, 1200), "4:3": (1200, 896),
    "4:5": (928, 1152), "5:4": (1152, 928), "9:16": (768, 1376), "16:9": (1376, 768), "21:9": (1584, 672),
}  # fmt: skip
IMAGEN_PIXELS: dict[str, tuple[int, int]] = {
    "1:1": (1024, 1024), "3:4": (896, 1280), "4:3": (1280, 896), "9:16": (768, 1408), "16:9": (1408, 768),
}  # fmt: skip
TIER_SCALE: dict[str, float] = {"512": 0.5, "1K": 1.0, "2K": 2.0, "4K": 4.0}

GEMINI_API = "gemini"
VERTEX = "vertex"


@dataclass(frozen=True)
class GoogleModel:
    id: str
    family: str  # gemini (generateContent) | imagen (predict) | upscaler (predict, mode upscale)
    surfaces: frozenset[str]  # which emulators serve it: gemini, vertex
    ratios: tuple[str, ...]
    tiers: tuple[str, ...]  # imageSize / sampleImageSize values accepted
    pixels: dict[str, tuple[int, int]]
    max_samples: int = 1  # Imagen sampleCount
    max_input_images: int = 0  # Gemini edits
    image_tokens: dict[str, int] | None = None  # output tokens per image by tier (usageMetadata)
    thinking: bool = False  # Gemini 3: thought signatures, optional thought parts

    @property
    def method(self) -> str:
        return "generateContent" if self.family == "gemini" else "predict"

    def size(self, ratio: str, tier: str) -> tuple[int, int]:
        scale = TIER_SCALE.get(tier, 1.0)
        if ratio in self.pixels:
            w, h = self.pixels[ratio]
            return round(w * scale / 16) * 16, round(h * scale / 16) * 16
        a, b = (float(x) for x in ratio.split(":"))
        edge = 1024 * scale
        return round(edge * math.sqrt(a / b) / 16) * 16, round(edge * math.sqrt(b / a) / 16) * 16


BOTH = frozenset({GEMINI_API, VERTEX})


def _gemini(
    model_id: str, tiers: tuple[str, ...], tokens: dict[str, int], extreme: bool = False
) -> GoogleModel:
    flash_25 = model_id.startswith("gemini-2.5")
    return GoogleModel(
        model_id,
        "gemini",
        BOTH,
        GEMINI_RATIOS + (EXTREME_RATIOS if extreme else ()),
        tiers,
        FLASH_25_PIXELS if flash_25 else GEMINI_3_PIXELS,
        max_input_images=3 if flash_25 else 14,
        image_tokens=tokens,
        thinking=not flash_25,
    )


def _imagen(
    model_id: str, tiers: tuple[str, ...], max_samples: int, surfaces: frozenset[str] = BOTH
) -> GoogleModel:
    return GoogleModel(model_id, "imagen", surfaces, IMAGEN_RATIOS, tiers, IMAGEN_PIXELS, max_samples)


PRO_TOKENS = {"1K": 1120, "2K": 1120, "4K": 2000}
FLASH_31_TOKENS = {"512": 747, "1K": 1120, "2K": 1680, "4K": 2520}

MODELS: dict[str, GoogleModel] = {
    m.id: m
    for m in (
        _gemini("gemini-2.5-flash-image", ("1K",), {"1K": 1290}),
        _gemini("gemini-2.5-flash-image-preview", ("1K",), {"1K": 1290}),
        _gemini("gemini-3-pro-image-preview", ("1K", "2K", "4K"), PRO_TOKENS),
        _gemini("gemini-3-pro-image", ("1K", "2K", "4K"), PRO_TOKENS),
        _gemini("gemini-3.1-flash-image-preview", ("512", "1K", "2K", "4K"), FLASH_31_TOKENS, extreme=True),
        _imagen("imagen-4.0-generate-001", ("1K", "2K"), 4),
        _imagen("imagen-4.0-fast-generate-001", ("1K",), 4),
        _imagen("imagen-4.0-ultra-generate-001", ("1K", "2K"), 1),
        _imagen("imagen-3.0-generate-002", (), 4, frozenset({VERTEX})),
        GoogleModel("imagen-4.0-upscale-preview", "upscaler", frozenset({VERTEX}), (), (), {}),
    )
}

UPSCALE_FACTORS = {"x2": 2, "x4": 4}
MAX_UPSCALED_PIXELS = 17_000_000  # Imagen's ceiling for an upscaled image
