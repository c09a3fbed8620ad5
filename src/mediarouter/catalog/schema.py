"""A model's accepted parameters as typed descriptors, from the same data the translation uses.

Descriptor types: `enum` (`values`), `integer` / `number` (`minimum`, `maximum`), `string`,
`boolean`, `image[]` (`min_items`, `max_items`), `image`. A parameter that is accepted and then
mapped onto another (`size` on an aspect-ratio model, `resolution` on a pixel-size model) says
so in `maps_to`; `required` is there only when true. Extra fields (`seed`, ...) are listed for
the providers whose adapter forwards them (`providers`); elsewhere they are reported as ignored.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from mediarouter.catalog.models import ModelSpec
from mediarouter.params.extras import EXTRA_TYPES
from mediarouter.params.formats import OUTPUT_FORMATS
from mediarouter.params.sizes import ACCEPTED_FORMS, RATIO_FORMS, RESOLUTION_EDGE, default_tier

ANY_SIZE = "any WIDTHxHEIGHT or W:H, mapped to the closest supported size (shape first, then area)"


def model_schema(model: ModelSpec, max_n: int, extras: Mapping[str, frozenset[str]]) -> dict[str, Any]:
    """`max_n`: the gateway's limit (emulation makes any n up to it); `extras`: per serving
    provider, the extra fields its adapter forwards."""
    only_images = "generate" not in model.modes
    params: dict[str, Any] = {
        "prompt": {"type": "string", "required": True} if model.modes != ("upscale",) else {"type": "string"},
        "n": {
            "type": "integer",
            "minimum": 1,
            "maximum": max_n,
            "native_maximum": min(model.max_n, max_n),
            "default": 1,
        },
        "response_format": {"type": "enum", "values": ["url", "b64_json"]},
        "output_format": {
            "type": "enum",
            "values": list(OUTPUT_FORMATS),
            "native": list(model.output_formats),
        },
        "output_compression": {"type": "integer", "minimum": 0, "maximum": 100},
        "user": {"type": "string"},
        **_size_params(model),
    }
    for name, values in model.params.items():
        params[name] = _catalog_param(model, name, values)
    params.update(_image_params(model, required=only_images))
    params.update(_extra_params(extras))
    return {"modes": list(model.modes), "parameters": params}


def _size_params(model: ModelSpec) -> dict[str, Any]:
    if model.modes == ("upscale",):
        return {}  # the output size is the input's times scale_factor
    tiers = list(RESOLUTION_EDGE)
    if model.aspect_ratios:
        params: dict[str, Any] = {
            "size": {"type": "string", "forms": ACCEPTED_FORMS, "maps_to": ["aspect_ratio", "resolution"]},
            "aspect_ratio": {
                "type": "enum",
                "values": list(model.aspect_ratios),
                "default": model.default_size,
                "also_accepts": f"any {RATIO_FORMS}, mapped to the closest supported ratio",
            },
        }
        if model.resolutions:
            params["resolution"] = {
                "type": "enum",
                "values": list(model.resolutions),
                "default": default_tier(model.resolutions),
                "also_accepts": f"{', '.join(tiers)}, mapped to the closest tier by area",
            }
        return params
    if not model.sizes:
        size: dict[str, Any] = {"type": "string", "forms": "'WIDTHxHEIGHT' (e.g. '1024x1024')"}
    else:
        size = {
            "type": "enum",
            "values": list(model.sizes),
            "default": model.default_size,
            "also_accepts": ANY_SIZE,
        }
    return {
        "size": size,
        "aspect_ratio": {"type": "string", "forms": RATIO_FORMS, "maps_to": ["size"]},
        "resolution": {"type": "enum", "values": tiers, "maps_to": ["size"]},
    }


def _catalog_param(model: ModelSpec, name: str, values: tuple[str, ...]) -> dict[str, Any]:
    if name == "scale_factor":  # sent as a number; the catalog lists the factors as text
        factors = [int(v) for v in values]
        return {"type": "enum", "values": factors, "default": factors[0] if factors else 2}
    descriptor: dict[str, Any] = {"type": "enum", "values": list(values)}
    if name == "quality" and model.quality_aliases:
        descriptor["aliases"] = dict(model.quality_aliases)
    return descriptor


def _image_params(model: ModelSpec, required: bool) -> dict[str, Any]:
    params: dict[str, Any] = {}
    if "upscale" in model.modes:
        params["image"] = {"type": "image[]", "min_items": 1, "max_items": 1}
    elif "edit" in model.modes:
        params["image"] = {"type": "image[]", "min_items": 1, "max_items": model.max_input_images}
        if model.mask:
            params["mask"] = {"type": "image"}
    if required and "image" in params:
        params["image"]["required"] = True
    return params


def _extra_params(extras: Mapping[str, frozenset[str]]) -> dict[str, Any]:
    by_name: dict[str, list[str]] = {}
    for provider, names in extras.items():
        for name in names:
            by_name.setdefault(name, []).append(provider)
    return {
        name: {"type": EXTRA_TYPES.get(name, "any"), "providers": sorted(providers)}
        for name, providers in sorted(by_name.items())
    }
