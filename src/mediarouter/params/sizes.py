"""Size language: parse what the caller asked for and choose what the model supports.

Rule for a size the model does not offer: the closest shape first (smallest distance between
log aspect ratios), then the closest area; never a silent fallback to square. `auto` stays
`auto` where the model accepts it, else becomes the model's default. A resolution tier stands
for an area (`RESOLUTION_EDGE` squared): tiered models get the tier of closest area, pixel-size
models the supported size of the nearest shape and then the closest area to the tier's.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass

from mediarouter.errors import invalid

_PIXELS = re.compile(r"^\s*(\d{1,5})\s*[xX×*]\s*(\d{1,5})\s*$")
_RATIO = re.compile(r"^\s*(\d{1,3}(?:\.\d{1,2})?)\s*:\s*(\d{1,3}(?:\.\d{1,2})?)\s*$")
ACCEPTED_FORMS = "'WIDTHxHEIGHT' (e.g. '1024x1024'), 'W:H' (e.g. '16:9') or 'auto'"
RATIO_FORMS = "'W:H' (e.g. '16:9') or 'auto'"


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
    if ratio := _parse_ratio(text, value, "size"):
        return ratio
    raise invalid(f"Invalid size '{value}': use {ACCEPTED_FORMS}", "size")


def parse_aspect_ratio(value: str) -> Requested:
    """Like `parse_size` without pixels; errors name `aspect_ratio`."""
    text = value.strip().lower()
    if text == "auto":
        return Requested(auto=True)
    if ratio := _parse_ratio(text, value, "aspect_ratio"):
        return ratio
    raise invalid(f"Invalid aspect_ratio '{value}': use {RATIO_FORMS}", "aspect_ratio")


def _parse_ratio(text: str, value: str, param: str) -> Requested | None:
    if not (m := _RATIO.match(text)):
        return None
    a, b = float(m.group(1)), float(m.group(2))
    if a <= 0 or b <= 0:
        raise invalid(f"Invalid {param} '{value}': ratio parts must be positive", param)
    return Requested(ratio=a / b)


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


# Long-edge-equivalent of each resolution tier: a tier's area is edge x edge.
RESOLUTION_EDGE = {"0.5K": 512, "1K": 1024, "2K": 2048, "4K": 4096}


def _ratio_value(ratio: str) -> float:
    a, b = ratio.split(":")
    return float(a) / float(b)


def choose_aspect(requested: Requested, ratios: tuple[str, ...], default: str | None) -> str:
    """Closest supported aspect ratio (by log distance); `auto` kept where the model has it."""
    concrete = [r for r in ratios if r != "auto"]
    if requested.auto or requested.ratio is None:
        return "auto" if "auto" in ratios else default or ("1:1" if "1:1" in concrete else concrete[0])
    want = math.log(requested.ratio)
    return min(concrete, key=lambda r: round(abs(math.log(_ratio_value(r)) - want), 6))


def parse_resolution(value: str) -> str:
    """'1k' -> '1K'; anything but a known tier is a 400 naming the tiers."""
    tier = {r.upper(): r for r in RESOLUTION_EDGE}.get(value.strip().upper())
    if tier is None:
        raise invalid(f"Invalid resolution '{value}': use one of {', '.join(RESOLUTION_EDGE)}", "resolution")
    return tier


def default_tier(resolutions: tuple[str, ...]) -> str | None:
    """The tier a tiered model gets when nothing says otherwise."""
    if not resolutions:
        return None
    return "1K" if "1K" in resolutions else resolutions[0]


def closest_tier(area: float, resolutions: tuple[str, ...]) -> str | None:
    """The model's tier whose area is closest (log distance) to `area`; None for untiered models."""
    tiers = [r for r in resolutions if r in RESOLUTION_EDGE]
    if not tiers:
        return None
    return min(tiers, key=lambda r: round(abs(math.log(RESOLUTION_EDGE[r] ** 2 / area)), 6))


def choose_resolution(requested: Requested, resolutions: tuple[str, ...]) -> str | None:
    """The tier whose area is closest to the requested pixels; None when no pixels were asked."""
    if not (requested.width and requested.height):
        return None
    return closest_tier(requested.width * requested.height, resolutions)


def tier_area(tier: str) -> int:
    return RESOLUTION_EDGE[tier] ** 2


def shape_of(requested: Requested | None, default: str | None) -> float:
    """Width/height asked for, else the default's (a size or a ratio), else square."""
    if requested is not None and requested.ratio is not None:
        return requested.ratio
    if default and (dims := size_of(default)):
        return dims[0] / dims[1]
    if default and ":" in default:
        return _ratio_value(default)
    return 1.0


def tier_pixels(ratio: float, tier: str) -> Requested:
    """The pixels a shape at a tier's area stands for, as a request `choose_size` can map."""
    width, height = _pixels(ratio, RESOLUTION_EDGE[tier])
    return Requested(width=width, height=height, ratio=ratio)


def _pixels(ratio: float, edge: int) -> tuple[int, int]:
    return round(edge * math.sqrt(ratio) / 16) * 16, round(edge / math.sqrt(ratio) / 16) * 16


def nominal_pixels(ratio: str, resolution: str | None) -> str:
    """Pixels a ratio and tier stand for (multiples of 16), for providers that take width/height."""
    edge = RESOLUTION_EDGE.get(resolution or "1K", 1024)
    width, height = _pixels(_ratio_value(ratio) if ratio != "auto" else 1.0, edge)
    return f"{width}x{height}"
