"""OpenAI's validation rules for the three image endpoints, ending in one resolved `ImageTask`.

Checks run in the order a client most needs to hear about them: model, unknown parameters,
prompt, n, size, then the model-specific options. What the API resolves on the caller's behalf
(`size: auto`, `quality: auto`, `background: auto`) is resolved here and echoed in the response.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

from mediarouter.sandbox.images import ImageInfo
from mediarouter.sandbox.openai.errors import invalid_request
from mediarouter.sandbox.openai.fields import RequestFields, listing, unsupported_value
from mediarouter.sandbox.openai.models import (
    AUTO_QUALITY,
    DEFAULT_EDIT_MODEL,
    DEFAULT_GENERATION_MODEL,
    DEFAULT_VARIATION_MODEL,
    MODELS,
    OUTPUT_FORMATS,
    ModelSpec,
    custom_size_problem,
    parse_size,
)

EVERY_MODEL = frozenset({"model", "prompt", "n", "size", "quality", "user", "safety_identifier"})
# Optional fields each endpoint has; a model takes those also listed in its `params`.
ENDPOINT_PARAMS: dict[str, frozenset[str]] = {
    "generations": frozenset(
        {"background", "output_format", "output_compression", "moderation", "stream", "partial_images"}
        | {"response_format", "style"}
    ),
    "edits": frozenset(
        {"background", "output_format", "output_compression", "stream", "partial_images", "input_fidelity"}
        | {"response_format"}
    ),
    "variations": frozenset({"response_format"}),
}
VARIATION_FIELDS = frozenset({"model", "n", "size", "user"})
DEFAULT_MODELS = {
    "generations": DEFAULT_GENERATION_MODEL,
    "edits": DEFAULT_EDIT_MODEL,
    "variations": DEFAULT_VARIATION_MODEL,
}


@dataclass(frozen=True)
class InputImage:
    data: bytes
    info: ImageInfo


@dataclass(frozen=True)
class ImageTask:
    endpoint: str  # generations | edits | variations
    model: ModelSpec
    prompt: str
    n: int
    width: int
    height: int
    quality: str  # as echoed: auto resolved
    background: str  # opaque | transparent
    output_format: str
    output_compression: int | None
    response_format: str  # b64_json | url
    style: str | None = None
    stream: bool = False
    partial_images: int = 0
    images: tuple[InputImage, ...] = field(default=())
    mask: InputImage | None = None

    @property
    def size(self) -> str:
        return f"{self.width}x{self.height}"


def model_for(endpoint: str, fields: RequestFields) -> ModelSpec:
    model_id = fields.string("model") or DEFAULT_MODELS[endpoint]
    supported = [
        m.id
        for m in MODELS.values()
        if endpoint == "generations"
        or (endpoint == "edits" and m.max_edit_images)
        or (endpoint == "variations" and m.variations)
    ]
    if model_id not in supported:
        raise unsupported_value("model", model_id, supported)
    return MODELS[model_id]


def parse_task(
    endpoint: str, fields: RequestFields, images: tuple[InputImage, ...] = (), mask: InputImage | None = None
) -> ImageTask:
    """Validate a request to `endpoint` into a task; `images`/`mask` were checked by `uploads.py`."""
    spec = model_for(endpoint, fields)
    base = VARIATION_FIELDS if endpoint == "variations" else EVERY_MODEL
    allowed = base | (ENDPOINT_PARAMS[endpoint] & spec.params)
    unknown = sorted(fields.names() - allowed)
    if unknown:
        raise invalid_request(f"Unknown parameter: '{unknown[0]}'.", unknown[0], "unknown_parameter")
    if endpoint == "variations":
        prompt = "variation of the input image"
    else:
        prompt = fields.string("prompt", required=True, max_length=spec.max_prompt_chars) or ""
    n = fields.integer("n", 1, spec.max_n) or 1
    width, height = _size(spec, fields, images)
    quality = fields.choice("quality", spec.qualities) or spec.default_quality
    common: dict[str, Any] = {"endpoint": endpoint, "model": spec, "prompt": prompt, "n": n, "width": width}
    common.update(height=height, images=images, mask=mask)
    if not spec.is_gpt_image:
        response_format = fields.choice("response_format", ("url", "b64_json")) or "url"
        style = fields.choice("style", ("vivid", "natural")) or ("vivid" if "style" in spec.params else None)
        return ImageTask(
            quality=quality,
            background="opaque",
            output_format="png",
            output_compression=None,
            response_format=response_format,
            style=style,
            **common,
        )
    output_format = fields.choice("output_format", OUTPUT_FORMATS) or "png"
    compression = fields.integer("output_compression", 0, 100)
    if output_format == "png" and compression not in (None, 100):
        message = "Compression less than 100 is not supported for PNG output format."
        raise invalid_request(message, "output_compression", "unsupported_value")
    background = fields.choice("background", ("transparent", "opaque", "auto")) or "auto"
    if background == "transparent" and output_format not in ("png", "webp"):
        message = (
            f"Transparent background is not supported for output format '{output_format}'; use png or webp."
        )
        raise invalid_request(message, "background", "unsupported_value")
    fields.choice("moderation", ("low", "auto"))
    fields.choice("input_fidelity", ("high", "low"))
    return ImageTask(
        quality=AUTO_QUALITY if quality == "auto" else quality,
        background="transparent" if background == "transparent" else "opaque",
        output_format=output_format,
        output_compression=100 if compression is None and output_format != "png" else compression,
        response_format="b64_json",
        stream=bool(fields.boolean("stream")),
        partial_images=fields.integer("partial_images", 0, 3) or 0,
        **common,
    )


def _size(spec: ModelSpec, fields: RequestFields, images: tuple[InputImage, ...]) -> tuple[int, int]:
    size = fields.string("size") or spec.default_size
    if size == "auto" and "auto" in spec.sizes:
        return _auto_size(images)
    parsed = parse_size(size)
    if size in spec.sizes and parsed:
        return parsed
    if spec.custom_sizes and parsed:
        problem = custom_size_problem(*parsed)
        if problem is None:
            return parsed
        raise invalid_request(f"Invalid size '{size}': {problem}.", "size")
    if spec.custom_sizes:
        message = f"Invalid size '{size}'. Use 'auto' or WIDTHxHEIGHT, for example {listing(spec.sizes[1:])}."
        raise invalid_request(message, "size")
    raise unsupported_value("size", size, spec.sizes)


def _auto_size(images: tuple[InputImage, ...]) -> tuple[int, int]:
    """1024x1024, or for an edit the standard size nearest the first image's aspect ratio."""
    if not images:
        return 1024, 1024
    aspect = images[0].info.width / images[0].info.height
    threshold = math.sqrt(1.5)  # halfway between 1:1 and 3:2 on a log scale
    if aspect > threshold:
        return 1536, 1024
    if aspect < 1 / threshold:
        return 1024, 1536
    return 1024, 1024
