"""Costs by hand: megapixels as fal and BFL bill them, first and extra megapixels, input megapixels."""

from __future__ import annotations

import pytest

from mediarouter.catalog.models import Price
from mediarouter.catalog.prices import cost_of, estimate_components, estimate_per_image, megapixels

FLUX_DEV = Price("megapixel", 0.025)  # fal-ai/flux/dev
FLUX2_PRO = Price("megapixel", 0.03, extra_usd=0.015, inputs=True)  # fal-ai/flux-2-pro(/edit)
FLUX2_FLEX = Price("megapixel", 0.05, inputs=True)


@pytest.mark.parametrize(
    ("size", "expected"),
    [
        ((1024, 1024), 1),  # exactly 2**20 pixels: one megapixel, not two
        ((512, 512), 1),
        ((1024, 768), 1),
        ((1025, 1024), 2),
        ((1536, 1024), 2),
        ((1920, 1080), 2),
        ((2048, 2048), 4),
        ((1328, 1328), 2),
    ],
)
def test_megapixels_are_2_to_the_20_pixels_rounded_up(size: tuple[int, int], expected: int) -> None:
    assert megapixels(*size) == expected


@pytest.mark.parametrize(
    ("price", "pixels", "inputs", "expected"),
    [
        (FLUX_DEV, [(1024, 1024)], [], 0.025),  # what fal bills flux.1-dev at 1024x1024
        (FLUX_DEV, [(1024, 1024), (1536, 1024)], [], 0.075),  # 1 + 2 MP
        (FLUX2_PRO, [(1024, 1024)], [], 0.03),  # the first megapixel only
        (FLUX2_PRO, [(2048, 2048)], [], 0.075),  # 0.03 + 3 x 0.015
        (FLUX2_PRO, [(1024, 1024)], [(1024, 1024), (64, 64)], 0.06),  # 0.03 + 2 input MP x 0.015
        (FLUX2_PRO, [(1024, 1024)], [(4096, 4096)], 0.09),  # a 16 MP input is resized to 4 MP
        (FLUX2_FLEX, [(1024, 1024)], [(1920, 1080)], 0.15),  # (1 + 2) x 0.05
        (FLUX_DEV, [(1024, 1024)], [(1024, 1024)], 0.025),  # inputs are billed only when the price says
    ],
)
def test_megapixel_costs(
    price: Price, pixels: list[tuple[int, int]], inputs: list[tuple[int, int]], expected: float
) -> None:
    assert cost_of(price, len(pixels), pixels, None, None, None, None, inputs) == pytest.approx(expected)


def test_images_without_a_measured_size_cost_the_size_asked_for() -> None:
    assert cost_of(FLUX2_PRO, 2, [], None, None, "2048x2048", None) == pytest.approx(0.15)
    assert cost_of(FLUX_DEV, 1, [], None, None, "auto", None) == pytest.approx(0.025)


def test_estimates_follow_the_same_rule() -> None:
    assert estimate_per_image(FLUX_DEV, None, "1024x1024", None) == 0.025
    assert estimate_per_image(FLUX2_PRO, None, "1024x1024", None, [(1024, 1024)]) == 0.045
    components = estimate_components(FLUX2_PRO, None, "2048x2048", None, 2, [(1024, 1024)])
    assert [
        (c["type"], c["metric"], c["quantity"], c["unit_price"], c["total_cost"]) for c in components
    ] == [
        ("output", "megapixel", 2, 0.03, 60_000),
        ("output", "extra_megapixel", 6, 0.015, 90_000),
        ("input", "extra_megapixel", 2, 0.015, 30_000),
    ]
