"""Property-based checks of the size mapping over every model in the shipped catalog."""

from __future__ import annotations

import math

from hypothesis import given, settings
from hypothesis import strategies as st

from mediarouter.catalog.models import load_catalog
from mediarouter.params.sizes import choose_aspect, choose_size, nominal_pixels, parse_size

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
