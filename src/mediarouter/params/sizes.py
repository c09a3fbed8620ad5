"""Size language: parse what the caller asked for and choose what the model supports.

Rule for a size the model does not offer: the closest shape first (smallest distance between
log aspect ratios), then the closest area; never a silent fallback to square. `auto` stays
`auto` where the model accepts it, else becomes the model's default.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass

from mediarouter.errors import invalid

_PIXELS = re.compile(r"^\s*(\d{1,5})\s*[xX×*]\s*(\d{1,5})\s*$")
_RATIO = re.compile(r"^\s*(\d{1,3}(?:\.\d{1,2})?)\s*:\s*(\d{1,3}(?:\.\d{1,2})?)\s*$")
ACCEPTED_FORMS = "'WIDTHxHEIGHT' (e.g. '1024x1024'), 'W:H' (e.g. '16:9') or 'auto'"


@dataclass(frozen=True, slots=True)
class Requested:
    width: int | None = None
    height: int | None = None
    ratio: float | None = None  # width / height
    auto: bool = False


def parse_size(value: str) -> Requested:
    text = value.strip().lower()
    if text == "auto":
        return Requested(auto=True)
    if m := _PIXELS.match(text):
        w, h = int(m.group(1)), int(m.group(2))
        if w <= 0 or h <= 0:
            raise invalid(f"Invalid size '{value}': width and height must be positive", "size")
        if w > 16384 or h > 16384:
            raise invalid(f"Invalid size '{value}': at most 16384 pixels per side", "size")
        return Requested(width=w, height=h, ratio=w / h)
    if m := _RATIO.match(text):
        a, b = float(m.group(1)), float(m.group(2))
        if a <= 0 or b <= 0:
            raise invalid(f"Invalid size '{value}': ratio parts must be positive", "size")
        return Requested(ratio=a / b)
    raise invalid(f"Invalid size '{value}': use {ACCEPTED_FORMS}", "size")


def _dims(size: str) -> tuple[int, int]:
    w, h = size.lower().split("x")
    return int(w), int(h)


def choose_size(requested: Requested, supported: tuple[str, ...], default: str | None) -> str | None:
    """Pick from `supported` pixel sizes (may include 'auto'); None when the model takes any size."""
    if not supported:
        if requested.width and requested.height:
            return f"{requested.width}x{requested.height}"
        return None
    if requested.auto:
        return "auto" if "auto" in supported else default or supported[0]
    pixel = [s for s in supported if s != "auto"]
    if requested.width and f"{requested.width}x{requested.height}" in pixel:
        return f"{requested.width}x{requested.height}"
    assert requested.ratio is not None
    want_area = requested.width * requested.height if requested.width and requested.height else None
    if want_area is None and default and default != "auto":
        dw, dh = _dims(default)
        want_area = dw * dh

    def distance(size: str) -> tuple[float, float]:
        w, h = _dims(size)
        shape = abs(math.log(w / h) - math.log(requested.ratio or 1.0))
        area = abs(math.log((w * h) / want_area)) if want_area else 0.0
        return (round(shape, 6), area)

    return min(pixel, key=distance)


def size_of(size: str | None) -> tuple[int, int] | None:
    if not size or size == "auto":
        return None
    try:
        return _dims(size)
    except ValueError:
        return None
