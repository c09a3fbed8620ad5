"""`size`, `aspect_ratio` and `resolution` of one request, resolved for one model's size style.

Precedence: `size` wins over `aspect_ratio` (both give a shape); `resolution` gives an area, and
pixels in `size` win over it. What was used, and anything asked that lost, is written to `notes`
(`size_mapping`, `ignored_params`) so the caller sees every choice. Malformed values are 400s
naming the parameter, checked even when another parameter wins.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from mediarouter.catalog.models import ModelSpec
from mediarouter.params.sizes import (
    Requested,
    choose_aspect,
    choose_resolution,
    choose_size,
    closest_tier,
    default_tier,
    nominal_pixels,
    parse_aspect_ratio,
    parse_resolution,
    parse_size,
    shape_of,
    tier_area,
    tier_pixels,
)
from mediarouter.schemas.images import ImageRequest


@dataclass(frozen=True, slots=True)
class SizeChoice:
    size: str | None  # pixels ("WxH" or "auto"), None = the provider's default
    aspect_ratio: str | None = None  # aspect-ratio models only
    resolution: str | None = None  # tiered models only


@dataclass(frozen=True, slots=True)
class Asked:
    shape: Requested | None  # from `size`, else `aspect_ratio`
    tier: str | None  # from `resolution`, unless `size` gave pixels
    text: str | None  # the size or aspect ratio as typed


def _asked(request: ImageRequest, ignored: list[str]) -> Asked:
    size = parse_size(request.size) if request.size is not None else None
    ratio = parse_aspect_ratio(request.aspect_ratio) if request.aspect_ratio is not None else None
    tier = parse_resolution(request.resolution) if request.resolution is not None else None
    if size is not None and ratio is not None:
        ignored.append("aspect_ratio")  # size wins
    shape = size if size is not None else ratio
    if tier is not None and shape is not None and shape.width is not None:
        ignored.append("resolution")  # pixels say the area already
        tier = None
    return Asked(shape, tier, request.size if size is not None else request.aspect_ratio)


def resolve_size(request: ImageRequest, model: ModelSpec, notes: dict[str, Any]) -> SizeChoice:
    """The size fields this model gets; the mapping and what lost go into `notes`."""
    ignored: list[str] = []
    asked = _asked(request, ignored)
    if model.aspect_ratios:
        choice = _for_ratio_model(asked, model, ignored)
        mapping: dict[str, Any] = {"aspect_ratio": choice.aspect_ratio, "resolution": choice.resolution}
        changed = asked.shape is not None or asked.tier is not None
    else:
        choice = _for_pixel_model(asked, model)
        mapping = {"used": choice.size}
        changed = asked.tier is not None or (asked.shape is not None and choice.size != asked.text)
    if changed:
        requested = {"requested": asked.text} if asked.text is not None else {}
        tier = {"requested_resolution": asked.tier} if asked.tier is not None else {}
        notes["size_mapping"] = {**requested, **tier, **mapping}
    if ignored:
        notes.setdefault("ignored_params", []).extend(ignored)
    return choice


def _for_pixel_model(asked: Asked, model: ModelSpec) -> SizeChoice:
    """A supported size: shape first, then the area of the pixels or tier asked (or the default's)."""
    wanted = asked.shape
    if asked.tier is not None:
        wanted = tier_pixels(shape_of(asked.shape, model.default_size), asked.tier)
    if wanted is None:
        return SizeChoice(model.default_size)
    return SizeChoice(choose_size(wanted, model.sizes, model.default_size))


def _for_ratio_model(asked: Asked, model: ModelSpec, ignored: list[str]) -> SizeChoice:
    aspect = choose_aspect(asked.shape or Requested(auto=True), model.aspect_ratios, model.default_size)
    resolution = None
    if asked.tier is not None:
        resolution = closest_tier(tier_area(asked.tier), model.resolutions)
        if resolution is None:
            ignored.append("resolution")  # the model has one size per ratio
    elif asked.shape is not None:
        resolution = choose_resolution(asked.shape, model.resolutions)
    if resolution is None:
        resolution = default_tier(model.resolutions)
    return SizeChoice(nominal_pixels(aspect, resolution), aspect, resolution)
