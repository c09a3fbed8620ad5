"""Imagen over `:predict`: text-to-image (`api: predict`) and upscaling (`api: predict_upscale`).

The body is `{"instances": [...], "parameters": {...}}` and the answer `{"predictions": [...]}`
with one `bytesBase64Encoded` per image. We always ask for `includeRaiReason`, so an image the
safety filter removed comes back as an entry with `raiFilteredReason` instead of silently
disappearing: no image left and a reason given means a content-policy refusal.
"""

from __future__ import annotations

import base64
from typing import Any

from mediarouter.providers.base import Call, UpstreamError
from mediarouter.schemas.images import GeneratedImage, ProviderOutput

MAX_SAMPLES = 4
# `scale_factor` as clients send it -> Vertex's `upscaleConfig.upscaleFactor`.
UPSCALE_FACTORS: dict[str, str] = {"2": "x2", "x2": "x2", "4": "x4", "x4": "x4"}
DEFAULT_UPSCALE_FACTOR = "x2"
# Extra request fields honoured on Vertex only (the Gemini API rejects them) -> Imagen parameter.
VERTEX_EXTRAS: dict[str, str] = {"negative_prompt": "negativePrompt", "seed": "seed"}


def build_predict(call: Call, vertex: bool) -> dict[str, Any]:
    req = call.request
    parameters: dict[str, Any] = {"sampleCount": min(req.n, MAX_SAMPLES), "includeRaiReason": True}
    if call.aspect_ratio and call.aspect_ratio != "auto":
        parameters["aspectRatio"] = call.aspect_ratio
    if call.resolution and len(call.model.resolutions) > 1:
        parameters["sampleImageSize"] = call.resolution  # "1K" | "2K"; single-tier models take none
    _output_options(call, parameters)
    if vertex:
        for field, name in VERTEX_EXTRAS.items():
            if req.extra.get(field) is not None:
                parameters[name] = req.extra[field]
        if "seed" in parameters:
            parameters["addWatermark"] = False  # Vertex refuses a seed while the watermark is on
    return {"instances": [{"prompt": req.prompt}], "parameters": parameters}


def build_upscale(call: Call, vertex: bool = True) -> dict[str, Any]:
    """One input image, `mode: upscale`, and the request's `scale_factor` (2 or 4).

    Only Vertex serves the upscaler; `vertex` is there to share `build_predict`'s signature."""
    images = call.request.images
    if len(images) != 1:
        raise UpstreamError("invalid_request", f"upscaling takes exactly one input image, got {len(images)}")
    asked = call.request.scale_factor or call.request.extra.get("scale_factor")
    factor = DEFAULT_UPSCALE_FACTOR if asked is None else UPSCALE_FACTORS.get(str(asked).strip().lower())
    if factor is None:
        raise UpstreamError("invalid_request", f"scale_factor must be 2 or 4, got {asked!r}")
    image = {
        "bytesBase64Encoded": base64.b64encode(images[0].data).decode("ascii"),
        "mimeType": images[0].mime,
    }
    parameters: dict[str, Any] = {
        "mode": "upscale",
        "sampleCount": 1,
        "upscaleConfig": {"upscaleFactor": factor},
        "includeRaiReason": True,
    }
    _output_options(call, parameters)
    return {"instances": [{"prompt": call.request.prompt or "", "image": image}], "parameters": parameters}


def jpeg_output(call: Call, vertex: bool) -> bool:
    """JPEG (with its compressionQuality) is asked for explicitly on both surfaces."""
    return call.request.output_format == "jpeg" and "jpeg" in call.model.output_formats


def _output_options(call: Call, parameters: dict[str, Any]) -> None:
    """JPEG is asked for explicitly; PNG is Imagen's default and needs nothing."""
    req = call.request
    if jpeg_output(call, True):
        options: dict[str, Any] = {"mimeType": "image/jpeg"}
        if req.output_compression is not None:
            options["compressionQuality"] = req.output_compression
        parameters["outputOptions"] = options


def parse_predict(body: Any, status: int) -> ProviderOutput:
    if not isinstance(body, dict):
        raise UpstreamError("malformed", "the answer is not a JSON object", status)
    predictions = body.get("predictions") or []
    if not isinstance(predictions, list):
        raise UpstreamError("malformed", "'predictions' is not a list", status)
    images: list[GeneratedImage] = []
    filtered: list[str] = []
    for prediction in predictions:
        if not isinstance(prediction, dict):
            raise UpstreamError("malformed", "a prediction is not an object", status)
        data = prediction.get("bytesBase64Encoded")
        if isinstance(data, str) and data:
            mime = str(prediction.get("mimeType") or "image/png")
            images.append(GeneratedImage(b64=data, mime=mime, revised_prompt=prediction.get("prompt")))
        elif prediction.get("raiFilteredReason"):
            filtered.append(str(prediction["raiFilteredReason"]))
    if not images:
        if filtered:
            raise UpstreamError("content_policy", filtered[0], status, "RAI_FILTERED")
        raise UpstreamError("no_image", "the answer contained no image", status)
    fmt = (images[0].mime or "image/png").split("/")[-1]
    return ProviderOutput(images, None, None, fmt)
