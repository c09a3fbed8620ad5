"""The catalog loader: per-provider capability overrides and price fields."""

from __future__ import annotations

from typing import Any

import pytest

from mediarouter.catalog.models import load_catalog
from mediarouter.errors import ConfigError


def _row(**provider: Any) -> dict[str, Any]:
    return {
        "id": "test-edit",
        "modes": ["generate", "edit"],
        "max_n": 4,
        "max_input_images": 3,
        "output_formats": ["png", "jpeg"],
        "providers": [
            {"provider": "alibaba", "model_id": "a"},
            {"provider": "fal", "model_id": "f", **provider},
        ],
    }


def test_an_offering_narrows_what_its_model_does() -> None:
    row = _row(max_input_images=1, max_n=1, modes=["edit"], output_formats=["jpeg"], mask=False)
    model = load_catalog({"models": [row]}).get("test-edit")
    assert model is not None
    wide, narrow = (model.served_by(o) for o in model.offerings)
    assert wide is model  # no override: the model itself
    assert (narrow.max_input_images, narrow.max_n, narrow.modes, narrow.output_formats) == (
        1,
        1,
        ("edit",),
        ("jpeg",),
    )


@pytest.mark.parametrize(
    "override",
    [
        {"max_input_images": 4},
        {"max_n": 8},
        {"max_n": 0},
        {"modes": ["upscale"]},
        {"output_formats": ["gif"]},
    ],
)
def test_an_offering_cannot_do_more_than_its_model(override: dict[str, Any]) -> None:
    with pytest.raises(ConfigError, match=f"provider 'fal': {next(iter(override))} may only narrow"):
        load_catalog({"models": [_row(**override)]})


def test_unknown_provider_row_and_price_keys_stop_start_up() -> None:
    with pytest.raises(ConfigError, match="unknown key.*max_images"):
        load_catalog({"models": [_row(max_images=1)]})
    with pytest.raises(ConfigError, match="unknown price key.*extra"):
        load_catalog({"models": [_row(price={"per": "megapixel", "usd": 0.03, "extra": 0.01})]})
    with pytest.raises(ConfigError, match="extra_usd is for per: megapixel"):
        load_catalog({"models": [_row(price={"per": "image", "usd": 0.03, "extra_usd": 0.01})]})


def test_shipped_limits_of_providers_whose_adapters_take_one_image() -> None:
    model = load_catalog().get("qwen-image-edit")
    assert model is not None
    limits = {o.provider: model.served_by(o).max_input_images for o in model.offerings}
    assert limits == {"alibaba": 3, "fal": 1, "replicate": 1}
