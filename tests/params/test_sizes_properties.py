"""Property-based checks of the size mapping over every model in the shipped catalog."""

from __future__ import annotations

import math

from hypothesis import given, settings
from hypothesis import strategies as st

from mediarouter.catalog.models import load_catalog
from mediarouter.params.requests import resolve_params
from mediarouter.params.sizes import (
    RESOLUTION_EDGE,
    choose_aspect,
    choose_size,
    nominal_pixels,
    parse_aspect_ratio,
    parse_size,
    shape_of,
    tier_pixels,
)
from mediarouter.schemas.images import ImageRequest

CATALOG = load_catalog()
PIXEL_MODELS = [m for m in CATALOG.models if m.sizes]
ASPECT_MODELS = [m for m in CATALOG.models if m.aspect_ratios]
dims = st.integers(min_value=64, max_value=8192)


def _ratio(size: str) -> float:
    w, h = size.split("x")
    return int(w) / int(h)


def _aspect(ratio: str) -> float:
    a, b = ratio.split(":")
    return float(a) / float(b)


@settings(max_examples=300, deadline=None)
@given(st.sampled_from(PIXEL_MODELS), dims, dims)
def test_pixel_models_always_get_a_supported_size_of_the_nearest_shape(model, w, h) -> None:  # type: ignore[no-untyped-def]
    chosen = choose_size(parse_size(f"{w}x{h}"), model.sizes, model.default_size)
    assert chosen in model.sizes
    concrete = [s for s in model.sizes if s != "auto"]
    best = min(abs(math.log(_ratio(s) / (w / h))) for s in concrete)
    assert abs(math.log(_ratio(chosen) / (w / h))) <= best + 1e-9  # shape first


@settings(max_examples=100, deadline=None)
@given(st.sampled_from(PIXEL_MODELS), st.data())
def test_exact_sizes_map_to_themselves(model, data) -> None:  # type: ignore[no-untyped-def]
    size = data.draw(st.sampled_from([s for s in model.sizes if s != "auto"]))
    assert choose_size(parse_size(size), model.sizes, model.default_size) == size


@settings(max_examples=300, deadline=None)
@given(st.sampled_from(ASPECT_MODELS), dims, dims)
def test_aspect_models_get_a_supported_ratio_of_the_nearest_shape(model, w, h) -> None:  # type: ignore[no-untyped-def]
    chosen = choose_aspect(parse_size(f"{w}x{h}"), model.aspect_ratios, model.default_size)
    assert chosen in model.aspect_ratios
    concrete = [r for r in model.aspect_ratios if r != "auto"]
    best = min(abs(math.log(_aspect(r) / (w / h))) for r in concrete)
    assert abs(math.log(_aspect(chosen) / (w / h))) <= best + 1e-9
    nominal = nominal_pixels(chosen, None)
    assert abs(math.log(_ratio(nominal) / _aspect(chosen))) < 0.05


@settings(max_examples=100, deadline=None)
@given(st.sampled_from(ASPECT_MODELS), st.data())
def test_exact_ratios_map_to_themselves(model, data) -> None:  # type: ignore[no-untyped-def]
    ratio = data.draw(st.sampled_from([r for r in model.aspect_ratios if r != "auto"]))
    assert choose_aspect(parse_size(ratio), model.aspect_ratios, model.default_size) == ratio


TIERS = st.sampled_from(sorted(RESOLUTION_EDGE))
RATIOS = st.one_of(st.none(), st.sampled_from(["1:1", "16:9", "9:16", "4:3", "3:4", "21:9", "2:3", "5:4"]))


def _resolved(model, tier: str, ratio: str | None):  # type: ignore[no-untyped-def]
    request = ImageRequest("generate", model.id, "p", resolution=tier, aspect_ratio=ratio)
    return resolve_params(request, model)


@settings(max_examples=300, deadline=None)
@given(st.sampled_from([m for m in PIXEL_MODELS if "generate" in m.modes]), TIERS, RATIOS)
def test_a_tier_on_a_pixel_model_gets_the_nearest_shape_then_the_tiers_area(model, tier, ratio) -> None:  # type: ignore[no-untyped-def]
    resolved = _resolved(model, tier, ratio)
    assert resolved.size in model.sizes and resolved.size != "auto"
    shape = shape_of(parse_aspect_ratio(ratio) if ratio else None, model.default_size)
    concrete = [s for s in model.sizes if s != "auto"]
    best_shape = min(abs(math.log(_ratio(s) / shape)) for s in concrete)
    assert abs(math.log(_ratio(resolved.size) / shape)) <= best_shape + 1e-6  # shape first
    same_shape = [s for s in concrete if abs(math.log(_ratio(s) / shape)) <= best_shape + 1e-6]
    target = tier_pixels(shape, tier)
    area = target.width * target.height  # type: ignore[operator]

    def off(size: str) -> float:
        w, h = size.split("x")
        return abs(math.log(int(w) * int(h) / area))

    assert off(resolved.size) <= min(off(s) for s in same_shape) + 1e-9  # then area
    assert resolved.notes["size_mapping"]["requested_resolution"] == tier


@settings(max_examples=300, deadline=None)
@given(st.sampled_from([m for m in ASPECT_MODELS if "generate" in m.modes]), TIERS, RATIOS)
def test_a_tier_on_a_ratio_model_is_the_nearest_tier_it_offers(model, tier, ratio) -> None:  # type: ignore[no-untyped-def]
    resolved = _resolved(model, tier, ratio)
    if not model.resolutions:
        assert "resolution" in resolved.notes["ignored_params"]
        return
    assert resolved.resolution in model.resolutions
    if tier in model.resolutions:
        assert resolved.resolution == tier  # exact tiers map to themselves
    wanted = math.log(RESOLUTION_EDGE[tier])
    best = min(abs(math.log(RESOLUTION_EDGE[r]) - wanted) for r in model.resolutions)
    assert abs(math.log(RESOLUTION_EDGE[resolved.resolution]) - wanted) <= best + 1e-9  # type: ignore[index]
    assert resolved.size == nominal_pixels(resolved.aspect_ratio or "1:1", resolved.resolution)
