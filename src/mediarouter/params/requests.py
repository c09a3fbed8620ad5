"""Check a canonical request against one model and decide what is sent: size, quality, mode.

What was changed or dropped is returned in `notes` (size mapping, quality alias, ignored
parameters) and ends up in the response's `metadata`, so nothing is changed silently.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from mediarouter.catalog.models import ModelSpec
from mediarouter.errors import invalid
from mediarouter.params.model_size import resolve_size
from mediarouter.schemas.images import ImageRequest

# Canonical optional fields a model may or may not accept (checked against `ModelSpec.params`).
ENUM_PARAMS = ("quality", "style", "background", "moderation", "input_fidelity")
NUMERIC_PARAMS = ("scale_factor",)  # validated with the mode, not as enums


@dataclass
class Resolved:
    size: str | None
    quality: str | None
    aspect_ratio: str | None = None
    resolution: str | None = None
    notes: dict[str, Any] = field(default_factory=dict)


def resolve_params(request: ImageRequest, model: ModelSpec) -> Resolved:
    _check_mode(request, model)
    notes: dict[str, Any] = {}
    sized = resolve_size(request, model, notes)
    quality = request.quality
    if quality and quality not in model.params.get("quality", ()) and quality in model.quality_aliases:
        notes["quality_mapping"] = {"requested": quality, "used": model.quality_aliases[quality]}
        quality = model.quality_aliases[quality]
    ignored: list[str] = notes.pop("ignored_params", [])
    if request.partial_images is not None:
        ignored.append("partial_images")  # streaming only, and image streams are refused
    for name in ENUM_PARAMS:
        value = quality if name == "quality" else getattr(request, name)
        if name in NUMERIC_PARAMS:
            continue
        if value is None:
            continue
        accepted = model.params.get(name)
        if accepted is None:
            ignored.append(name)
        elif value not in accepted:
            raise invalid(
                f"Invalid {name} '{value}' for model '{model.id}'; accepted: {', '.join(accepted)}", name
            )
    if ignored:
        notes["ignored_params"] = ignored
    used_quality = quality if "quality" in model.params else None
    return Resolved(sized.size, used_quality, sized.aspect_ratio, sized.resolution, notes)


def _check_mode(request: ImageRequest, model: ModelSpec) -> None:
    """Also turns an edit sent to an upscaler into mode `upscale` (before any attempt runs)."""
    if request.mode == "edit" and "edit" not in model.modes and "upscale" in model.modes:
        request.mode = "upscale"
        accepted = model.params.get("scale_factor", ())
        request.scale_factor = request.scale_factor or (int(accepted[0]) if accepted else 2)
        if accepted and str(request.scale_factor) not in accepted:
            raise invalid(
                f"Model '{model.id}' upscales by {' or '.join(accepted)}, not {request.scale_factor}",
                "scale_factor",
            )
        if len(request.images) != 1:
            raise invalid(
                f"Model '{model.id}' upscales exactly one image; got {len(request.images)}", "image"
            )
        return
    if request.mode not in model.modes:
        supported = ", ".join(
            {"generate": "text-to-image", "edit": "image-edit", "upscale": "image-upscale"}[m]
            for m in model.modes
        )
        if request.mode == "edit":
            raise invalid(
                f"Model '{model.id}' does not support image editing. Supported modes: {supported}", "model"
            )
        raise invalid(
            f"Model '{model.id}' does not support text-to-image. Supported modes: {supported}", "model"
        )
    if request.mode == "edit":
        if len(request.images) > model.max_input_images:
            raise invalid(
                f"Model '{model.id}' accepts at most {model.max_input_images} input image(s); got {len(request.images)}",
                "image",
            )
        if request.mask is not None and not model.mask:
            raise invalid(f"Model '{model.id}' does not support masks", "mask")
