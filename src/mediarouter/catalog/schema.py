"""A model's accepted parameters as typed descriptors, from the same data the translation uses."""

from __future__ import annotations

from typing import Any

from mediarouter.catalog.models import ModelSpec
from mediarouter.params.formats import OUTPUT_FORMATS


def model_schema(model: ModelSpec) -> dict[str, Any]:
    params: dict[str, Any] = {
        "prompt": {"type": "string", "required": True},
        "n": {"type": "integer", "minimum": 1, "maximum": 10, "native_maximum": model.max_n, "default": 1},
        "response_format": {"type": "enum", "values": ["url", "b64_json"]},
        "output_format": {
            "type": "enum",
            "values": list(OUTPUT_FORMATS),
            "native": list(model.output_formats),
        },
        "output_compression": {"type": "integer", "minimum": 0, "maximum": 100},
        "user": {"type": "string"},
    }
    if model.sizes:
        params["size"] = {
            "type": "enum",
            "values": list(model.sizes),
            "default": model.default_size,
            "also_accepts": "any WIDTHxHEIGHT or W:H, mapped to the closest supported size",
        }
    if model.aspect_ratios:
        params["aspect_ratio"] = {"type": "enum", "values": list(model.aspect_ratios)}
    if model.resolutions:
        params["resolution"] = {"type": "enum", "values": list(model.resolutions)}
    for name, values in model.params.items():
        descriptor: dict[str, Any] = {"type": "enum", "values": list(values)}
        if name == "quality" and model.quality_aliases:
            descriptor["aliases"] = dict(model.quality_aliases)
        params[name] = descriptor
    if "edit" in model.modes:
        params["image"] = {"type": "image[]", "min_items": 1, "max_items": model.max_input_images}
        if model.mask:
            params["mask"] = {"type": "image"}
    return {"modes": list(model.modes), "parameters": params}
