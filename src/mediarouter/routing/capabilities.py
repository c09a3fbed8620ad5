"""Which providers of a model can do what this request needs, before any of them is tried.

The request was already checked against the model (params/requests.py); an offering may do less
than its model (catalog `providers` rows: `modes`, `max_input_images`, `mask`), and a provider that
cannot do the request is left out here rather than tried and failed (its invalid-request answer
would stop the whole request although another provider could serve it).

Not filtered, because the gateway makes up for them: `n` above an offering's `max_n` is split
into parallel calls, and an `output_format` it does not produce is converted on the way out.
"""

from __future__ import annotations

from collections.abc import Callable

from mediarouter.catalog.models import ModelSpec, Offering
from mediarouter.schemas.images import ImageRequest

MODE_NAMES = {"generate": "text-to-image", "edit": "image-edit", "upscale": "image-upscale"}


def _mode(spec: ModelSpec, request: ImageRequest) -> str | None:
    if request.mode in spec.modes:
        return None
    return f"does not do {MODE_NAMES[request.mode]} (only {', '.join(MODE_NAMES[m] for m in spec.modes)})"


def _images(spec: ModelSpec, request: ImageRequest) -> str | None:
    if request.mode == "generate" or len(request.images) <= spec.max_input_images:
        return None
    return f"takes at most {spec.max_input_images} input image(s); got {len(request.images)}"


def _mask(spec: ModelSpec, request: ImageRequest) -> str | None:
    return "does not take a mask" if request.mask is not None and not spec.mask else None


Check = Callable[[ModelSpec, ImageRequest], str | None]
CHECKS: tuple[tuple[str, Check], ...] = (("model", _mode), ("image", _images), ("mask", _mask))


def unmet(model: ModelSpec, offering: Offering, request: ImageRequest) -> tuple[str, str] | None:
    """(param, why) when this provider cannot serve the request as its catalog row says, else None."""
    spec = model.served_by(offering)
    if spec is model:  # no narrowing: the request already passed the model's own checks
        return None
    return next(((param, why) for param, check in CHECKS if (why := check(spec, request))), None)
