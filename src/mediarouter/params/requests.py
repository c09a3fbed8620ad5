"""Check a canonical request against one model and decide what is sent: size, quality, mode.

What was changed or dropped is returned in `notes` (size mapping, quality alias, ignored
parameters) and ends up in the response's `metadata`, so nothing is changed silently.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from mediarouter.catalog.models import ModelSpec
from mediarouter.errors import invalid
from mediarouter.params.sizes import choose_size, parse_size
from mediarouter.schemas.images import ImageRequest

# Canonical optional fields a model may or may not accept (checked against `ModelSpec.params`).
ENUM_PARAMS = ("quality", "style", "background", "moderation", "input_fidelity")


@dataclass
class Resolved:
    size: str | None
    quality: str | None
    notes: dict[str, Any] = field(default_factory=dict)


def resolve_params(request: ImageRequest, model: ModelSpec) -> Resolved:
    _check_mode(request, model)
    notes: dict[str, Any] = {}
    size = _resolve_size(request, model, notes)
    quality = request.quality
    if quality and quality not in model.params.get("quality", ()) and quality in model.quality_aliases:
        notes["quality_mapping"] = {"requested": quality, "used": model.quality_aliases[quality]}
        quality = model.quality_aliases[quality]
    ignored: list[str] = []
    for name in ENUM_PARAMS:
        value = quality if name == "quality" else getattr(request, name)
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
    return Resolved(size, quality if "quality" in model.params else None, notes)


def _check_mode(request: ImageRequest, model: ModelSpec) -> None:
    if request.mode not in model.modes:
        supported = ", ".join("text-to-image" if m == "generate" else f"image-{m}" for m in model.modes)
        if request.mode == "edit":
            raise invalid(f"Model '{model.id}' does not support image editing. Supported modes: {supported}", "model")
        raise invalid(f"Model '{model.id}' does not support text-to-image. Supported modes: {supported}", "model")
    if request.mode == "edit":
        if len(request.images) > model.max_input_images:
            raise invalid(
                f"Model '{model.id}' accepts at most {model.max_input_images} input image(s); got {len(request.images)}",
                "image",
            )
        if request.mask is not None and not model.mask:
            raise invalid(f"Model '{model.id}' does not support masks", "mask")


def _resolve_size(request: ImageRequest, model: ModelSpec, notes: dict[str, Any]) -> str | None:
    if request.size is None:
        return model.default_size
    wanted = parse_size(request.size)
    chosen = choose_size(wanted, model.sizes, model.default_size)
    if chosen != request.size:
        notes["size_mapping"] = {"requested": request.size, "used": chosen}
    return chosen
