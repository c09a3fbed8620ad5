"""Imagen's `:predict`: text-to-image (`instances[0].prompt`) and upscaling (`parameters.mode: upscale`).

`parameters` is a free-form struct on the wire, so checks are Imagen's own: sample count, aspect
ratio, size tier, output options, enum values compared case-insensitively (the SDK sends
`ALLOW_ADULT`, Google's REST samples `allow_adult`). The Gemini API takes the common subset;
`seed`, `negativePrompt`, `addWatermark`, `enhancePrompt` and `storageUri` are Vertex AI only,
and Vertex refuses a seed while the watermark is on.
"""

from __future__ import annotations

import asyncio
import secrets
from dataclasses import dataclass
from typing import Any

from mediarouter.sandbox.google.errors import invalid_argument
from mediarouter.sandbox.google.fields import (
    boolean_at,
    decode_bytes,
    encode_bytes,
    integer_at,
    list_at,
    object_at,
    pick,
    string_at,
)
from mediarouter.sandbox.google.models import (
    GEMINI_API,
    MAX_UPSCALED_PIXELS,
    UPSCALE_FACTORS,
    GoogleModel,
)
from mediarouter.sandbox.images import ImageRenderer, InvalidImageError, inspect_image

PERSON_GENERATION = frozenset({"dont_allow", "allow_adult", "allow_all"})
SAFETY_SETTINGS = frozenset(
    {"block_low_and_above", "block_medium_and_above", "block_only_high", "block_none"}
    | {"block_most", "block_some", "block_few", "block_fewest"}
)
VERTEX_ONLY = ("seed", "negativePrompt", "addWatermark", "enhancePrompt", "storageUri")
PIXEL_TIERS = {"1024": "1K", "2048": "2K"}  # sampleImageSize also comes as a pixel count


@dataclass
class ImagenTask:
    model: GoogleModel
    prompt: str
    samples: int
    width: int
    height: int
    fmt: str
    quality: int | None
    rai_reasons: bool
    safety_attributes: bool
    storage_uri: str | None = None
    source: bytes | None = None  # the image to upscale


def wants_rai_reasons(body: dict[str, Any]) -> bool:
    return bool(pick(object_at(body, "parameters", "parameters"), "includeRaiReason"))


def sample_count(body: dict[str, Any], model: GoogleModel) -> int:
    """How many images the request asks for (used before validation, for fault answers)."""
    count = pick(object_at(body, "parameters", "parameters"), "sampleCount")
    return count if isinstance(count, int) and 1 <= count <= model.max_samples else 1


def parse_imagen_task(body: dict[str, Any], model: GoogleModel, surface: str) -> ImagenTask:
    instance = _instance(body)
    params = object_at(body, "parameters", "parameters")
    fmt, quality = _output(params)
    common = {
        "fmt": fmt,
        "quality": quality,
        "rai_reasons": bool(boolean_at(params, "includeRaiReason", "parameters.includeRaiReason")),
        "safety_attributes": bool(
            boolean_at(params, "includeSafetyAttributes", "parameters.includeSafetyAttributes")
        ),
    }
    if model.family == "upscaler":
        return _upscale_task(model, instance, params, common)
    prompt = string_at(instance, "prompt", "instances[0].prompt") or ""
    if not prompt.strip():
        raise invalid_argument("The prompt is empty. Please provide a prompt.")
    samples = integer_at(params, "sampleCount", "parameters.sampleCount") or model.max_samples
    if not 1 <= samples <= model.max_samples:
        raise invalid_argument(
            f"Invalid sample count: {samples}. Sample count must be in [1, {model.max_samples}]."
        )
    ratio = string_at(params, "aspectRatio", "parameters.aspectRatio") or "1:1"
    if ratio not in model.ratios:
        raise invalid_argument(
            f"Unsupported aspect ratio: {ratio}. Supported values: {', '.join(model.ratios)}."
        )
    width, height = model.size(ratio, _tier(params, model))
    _check_options(params, surface)
    storage = string_at(params, "storageUri", "parameters.storageUri")
    return ImagenTask(model, prompt, samples, width, height, storage_uri=storage, **common)


def _instance(body: dict[str, Any]) -> dict[str, Any]:
    instances = list_at(body, "instances", "instances")
    if len(instances) != 1 or not isinstance(instances[0], dict):
        raise invalid_argument(f"Exactly one instance is required, got {len(instances)}.")
    return instances[0]


def _tier(params: dict[str, Any], model: GoogleModel) -> str:
    asked = pick(params, "sampleImageSize")
    if asked is None:
        return "1K"
    tier = PIXEL_TIERS.get(str(asked), str(asked).upper())
    if tier not in model.tiers:
        supported = ", ".join(model.tiers) or "none"
        raise invalid_argument(f"Unsupported sampleImageSize: {asked}. {model.id} supports: {supported}.")
    return tier


def _output(params: dict[str, Any]) -> tuple[str, int | None]:
    options = object_at(params, "outputOptions", "parameters.outputOptions")
    mime = string_at(options, "mimeType", "parameters.outputOptions.mimeType") or "image/png"
    if mime not in ("image/png", "image/jpeg"):
        raise invalid_argument(f"Unsupported output mime type: {mime}. Supported: image/png, image/jpeg.")
    quality = integer_at(options, "compressionQuality", "parameters.outputOptions.compressionQuality")
    if quality is not None and not 0 <= quality <= 100:
        raise invalid_argument("compressionQuality must be between 0 and 100.")
    return ("jpeg", quality) if mime == "image/jpeg" else ("png", None)


def _check_options(params: dict[str, Any], surface: str) -> None:
    person = (string_at(params, "personGeneration", "parameters.personGeneration") or "allow_adult").lower()
    if person not in PERSON_GENERATION or (surface == GEMINI_API and person == "allow_all"):
        raise invalid_argument(f"Unsupported personGeneration: {person}.")
    safety = (
        string_at(params, "safetySetting", "parameters.safetySetting") or "block_medium_and_above"
    ).lower()
    if safety not in SAFETY_SETTINGS or (surface == GEMINI_API and safety == "block_none"):
        raise invalid_argument(f"Unsupported safetySetting: {safety}.")
    if surface == GEMINI_API:
        for name in VERTEX_ONLY:
            if pick(params, name) is not None:
                raise invalid_argument(f"{name} parameter is not supported in Gemini API.")
        return
    seed = integer_at(params, "seed", "parameters.seed")
    if seed is not None and not 1 <= seed <= 2_147_483_647:
        raise invalid_argument(f"Invalid seed: {seed}. The seed must be in [1, 2147483647].")
    watermark = boolean_at(params, "addWatermark", "parameters.addWatermark")
    if seed is not None and watermark is not False:
        raise invalid_argument("Seed is not supported when watermark is enabled. Set addWatermark to false.")
    string_at(params, "negativePrompt", "parameters.negativePrompt")


def _upscale_task(
    model: GoogleModel, instance: dict[str, Any], params: dict[str, Any], common: dict[str, Any]
) -> ImagenTask:
    mode = string_at(params, "mode", "parameters.mode")
    if mode != "upscale":
        raise invalid_argument(f"Unsupported mode: {mode!r}. {model.id} supports mode 'upscale'.")
    image = object_at(instance, "image", "instances[0].image")
    if pick(image, "gcsUri") is not None and pick(image, "bytesBase64Encoded") is None:
        raise invalid_argument("The sandbox cannot read Cloud Storage; send bytesBase64Encoded.")
    source = decode_bytes(pick(image, "bytesBase64Encoded"), "instances[0].image.bytesBase64Encoded")
    info = inspect_image(source)
    if info is None:
        raise invalid_argument("Image could not be decoded. Please provide a valid PNG or JPEG image.")
    config = object_at(params, "upscaleConfig", "parameters.upscaleConfig")
    factor_name = (
        string_at(config, "upscaleFactor", "parameters.upscaleConfig.upscaleFactor") or "x2"
    ).lower()
    factor = UPSCALE_FACTORS.get(factor_name)
    if factor is None:
        raise invalid_argument(f"Unsupported upscaleFactor: {factor_name}. Supported values: x2, x4.")
    width, height = info.width * factor, info.height * factor
    if width * height > MAX_UPSCALED_PIXELS:
        raise invalid_argument(
            f"The upscaled image ({width}x{height}) would exceed the maximum of 17 megapixels."
        )
    prompt = string_at(instance, "prompt", "instances[0].prompt") or f"upscaled {factor_name}"
    return ImagenTask(model, prompt, 1, width, height, source=source, **common)


async def answer_imagen(task: ImagenTask, renderer: ImageRenderer) -> dict[str, Any]:
    mime = "image/jpeg" if task.fmt == "jpeg" else "image/png"
    if task.storage_uri:  # Imagen writes to Cloud Storage and answers with the object names
        folder = f"{task.storage_uri.rstrip('/')}/{secrets.token_hex(8)}"
        extension = "jpg" if task.fmt == "jpeg" else "png"
        return {
            "predictions": [
                {"gcsUri": f"{folder}/sample_{i}.{extension}", "mimeType": mime} for i in range(task.samples)
            ]
        }
    pictures = await asyncio.gather(*(_draw(task, i, renderer) for i in range(task.samples)))
    predictions: list[dict[str, Any]] = []
    for picture in pictures:
        prediction: dict[str, Any] = {"bytesBase64Encoded": encode_bytes(picture), "mimeType": mime}
        if task.safety_attributes:
            prediction["safetyAttributes"] = {"categories": [], "scores": []}
        predictions.append(prediction)
    return {"predictions": predictions}


async def _draw(task: ImagenTask, variant: int, renderer: ImageRenderer) -> bytes:
    size = (task.width, task.height, task.fmt, task.quality)
    if task.source is None:
        return await renderer.render_async(task.prompt, *size, variant=variant)
    try:
        return await renderer.render_edit_async([task.source], task.prompt, *size, variant=variant)
    except InvalidImageError:
        raise invalid_argument(
            "Image could not be decoded. Please provide a valid PNG or JPEG image."
        ) from None
