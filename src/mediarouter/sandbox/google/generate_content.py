"""`:generateContent` for Gemini image models: request checks, then a real picture as `inlineData`.

Text parts of the last user turn are the prompt; every inline image in the conversation is a source
(an edit). `responseModalities` decides whether the answer carries an image, text, or both; without
IMAGE the model just talks, as the real one does. Gemini 3 models sign their final parts
(`thoughtSignature`) and add a thought part when `thinkingConfig.includeThoughts` is set.
Vertex AI insists on a `role` per turn and alone accepts `imageOutputOptions` and `personGeneration`.
"""

from __future__ import annotations

import math
import secrets
from dataclasses import dataclass, field
from typing import Any

from mediarouter.sandbox.google.errors import (
    GEMINI_TROUBLESHOOTING,
    RpcError,
    create_time,
    invalid_argument,
    response_id,
)
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
from mediarouter.sandbox.google.models import GEMINI_API, GoogleModel
from mediarouter.sandbox.images import ImageRenderer, InvalidImageError, inspect_image

MODALITIES = frozenset({"TEXT", "IMAGE", "AUDIO"})
DEFAULT_MODALITIES = ("TEXT", "IMAGE")
TOKENS_PER_INPUT_IMAGE = 258  # per 768x768 tile; small images are one tile
VERTEX_ONLY_IMAGE_CONFIG = ("imageOutputOptions", "personGeneration", "prominentPeople")
UNPROCESSABLE_IMAGE = f"Unable to process input image. {GEMINI_TROUBLESHOOTING}"


@dataclass
class GeminiTask:
    model: GoogleModel
    surface: str
    prompt: str
    sources: list[bytes] = field(default_factory=list)
    source_sizes: list[tuple[int, int]] = field(default_factory=list)
    modalities: tuple[str, ...] = DEFAULT_MODALITIES
    ratio: str = "1:1"
    tier: str = "1K"
    fmt: str = "png"
    quality: int | None = None
    include_thoughts: bool = False


def parse_gemini_task(body: dict[str, Any], model: GoogleModel, surface: str) -> GeminiTask:
    task = GeminiTask(model, surface, "")
    contents = list_at(body, "contents", "contents")
    if not contents:
        raise invalid_argument("* GenerateContentRequest.contents: contents is not specified\n")
    for index, content in enumerate(contents):
        _read_turn(task, content, index, last=index == len(contents) - 1)
    if len(task.sources) > model.max_input_images:
        raise invalid_argument(
            f"Too many input images: {len(task.sources)}; {model.id} takes at most {model.max_input_images}."
        )
    if not task.prompt and not task.sources:
        raise invalid_argument(
            "* GenerateContentRequest.contents: contents must contain text or image parts\n"
        )
    _read_config(task, object_at(body, "generationConfig", "generation_config"))
    return task


def _read_turn(task: GeminiTask, content: Any, index: int, last: bool) -> None:
    where = f"contents[{index}]"
    if not isinstance(content, dict):
        raise invalid_argument(
            f"Invalid value at '{where}' (type.googleapis.com/google.ai.generativelanguage.v1beta.Content)"
        )
    role = string_at(content, "role", f"{where}.role")
    if role not in (None, "user", "model") or (role is None and task.surface != GEMINI_API):
        raise invalid_argument("Please use a valid role: user, model.")
    parts = list_at(content, "parts", f"{where}.parts")
    if not parts:
        raise invalid_argument(f"* GenerateContentRequest.{where}.parts: contents.parts must not be empty.\n")
    texts: list[str] = []
    for number, part in enumerate(parts):
        if not isinstance(part, dict) or pick(part, "thought"):
            continue
        part_where = f"{where}.parts[{number}]"
        if pick(part, "fileData") is not None:
            uri = pick(pick(part, "fileData"), "fileUri")
            raise RpcError(
                403,
                f"You do not have permission to access the File {uri} or it may not exist.",
                "PERMISSION_DENIED",
            )
        inline = pick(part, "inlineData")
        if inline is not None:
            _read_image(task, inline, f"{part_where}.inline_data")
        elif isinstance(pick(part, "text"), str):
            texts.append(pick(part, "text"))
    if last and role != "model":
        task.prompt = " ".join(t.strip() for t in texts if t.strip())


def _read_image(task: GeminiTask, inline: Any, where: str) -> None:
    mime = string_at(inline, "mimeType", f"{where}.mime_type") or ""
    data = decode_bytes(pick(inline, "data"), f"{where}.data")
    if not mime.startswith("image/"):
        raise invalid_argument(f"Unsupported MIME type: {mime or '(none)'}")
    info = inspect_image(data)
    if info is None:
        raise invalid_argument(UNPROCESSABLE_IMAGE)
    task.sources.append(data)
    task.source_sizes.append((info.width, info.height))


def _read_config(task: GeminiTask, config: dict[str, Any]) -> None:
    modalities = list_at(config, "responseModalities", "generation_config.response_modalities")
    if modalities:
        upper = tuple(str(m).upper() for m in modalities)
        unknown = [m for m in upper if m not in MODALITIES]
        if unknown:
            where = "generation_config.response_modalities[0]"
            raise invalid_argument(f"Invalid value at '{where}' (Modality), \"{unknown[0]}\"")
        if "AUDIO" in upper:
            raise invalid_argument(
                f"Model {task.model.id} does not support the requested response modalities: audio"
            )
        task.modalities = upper
    thinking = object_at(config, "thinkingConfig", "generation_config.thinking_config")
    task.include_thoughts = bool(
        boolean_at(thinking, "includeThoughts", "generation_config.thinking_config.include_thoughts")
    )
    integer_at(config, "seed", "generation_config.seed")
    _read_image_config(task, object_at(config, "imageConfig", "generation_config.image_config"))


def _read_image_config(task: GeminiTask, image: dict[str, Any]) -> None:
    """Ratio, tier and (Vertex only) output format."""
    task.ratio = _ratio(task, string_at(image, "aspectRatio", "generation_config.image_config.aspect_ratio"))
    size = string_at(image, "imageSize", "generation_config.image_config.image_size")
    if size is not None:
        tier = size.strip().upper()
        if tier not in task.model.tiers:
            raise invalid_argument(
                f"Unsupported image size: {size}. {task.model.id} supports: {', '.join(task.model.tiers)}."
            )
        task.tier = tier
    for name in VERTEX_ONLY_IMAGE_CONFIG:
        if pick(image, name) is not None and task.surface == GEMINI_API:
            where = "generation_config.image_config"
            raise invalid_argument(
                f"Invalid JSON payload received. Unknown name \"{name}\" at '{where}': Cannot find field."
            )
    options = object_at(image, "imageOutputOptions", "generation_config.image_config.image_output_options")
    mime = string_at(options, "mimeType", "generation_config.image_config.image_output_options.mime_type")
    if mime not in (None, "image/png", "image/jpeg"):
        raise invalid_argument(f"Unsupported output mime type: {mime}. Supported: image/png, image/jpeg.")
    task.fmt = "jpeg" if mime == "image/jpeg" else "png"
    quality = integer_at(
        options,
        "compressionQuality",
        "generation_config.image_config.image_output_options.compression_quality",
    )
    if quality is not None and not 0 <= quality <= 100:
        raise invalid_argument("compressionQuality must be between 0 and 100.")
    task.quality = quality if task.fmt == "jpeg" else None


def _ratio(task: GeminiTask, asked: str | None) -> str:
    """The asked ratio, else the first input image's closest one, else 1:1."""
    if asked is not None:
        if asked not in task.model.ratios:
            raise invalid_argument(
                f"Unsupported aspect ratio: {asked}. Supported values: {', '.join(task.model.ratios)}."
            )
        return asked
    if not task.sources:
        return "1:1"
    w, h = task.source_sizes[0]
    return min(task.model.ratios, key=lambda r: abs(math.log(_value(r)) - math.log(w / h)))


def _value(ratio: str) -> float:
    a, b = ratio.split(":")
    return float(a) / float(b)


async def answer_gemini(task: GeminiTask, renderer: ImageRenderer) -> dict[str, Any]:
    """The GenerateContentResponse, with a freshly drawn picture when IMAGE was asked for."""
    width, height = task.model.size(task.ratio, task.tier)
    parts: list[dict[str, Any]] = []
    signature = encode_bytes(secrets.token_bytes(24)) if task.model.thinking else None
    if task.model.thinking and task.include_thoughts:
        parts.append(
            {
                "text": f"**Composing the image**\n\nPlanning a {task.ratio} picture of: {task.prompt[:200]}",
                "thought": True,
            }
        )
    if "TEXT" in task.modalities:
        verb = "edited" if task.sources else "created"
        parts.append({"text": f"Here is the image I {verb} for you: {task.prompt[:200]}"})
    image_tokens = 0
    if "IMAGE" in task.modalities:
        picture = await _draw(task, width, height, renderer)
        mime = "image/jpeg" if task.fmt == "jpeg" else "image/png"
        parts.append({"inlineData": {"mimeType": mime, "data": encode_bytes(picture)}})
        image_tokens = (task.model.image_tokens or {}).get(task.tier, 1290)
    elif not parts:
        parts.append({"text": task.prompt[:200] or "..."})
    if signature:
        parts[-1]["thoughtSignature"] = signature
    body: dict[str, Any] = {
        "candidates": [{"content": {"role": "model", "parts": parts}, "finishReason": "STOP", "index": 0}],
        "usageMetadata": _usage(task, image_tokens, parts),
        "modelVersion": task.model.id,
        "responseId": response_id(),
    }
    if task.surface != GEMINI_API:
        body["createTime"] = create_time()
    return body


async def _draw(task: GeminiTask, width: int, height: int, renderer: ImageRenderer) -> bytes:
    if not task.sources:
        return await renderer.render_async(task.prompt, width, height, task.fmt, task.quality)
    try:
        return await renderer.render_edit_async(
            task.sources, task.prompt, width, height, task.fmt, task.quality
        )
    except InvalidImageError:
        raise invalid_argument(UNPROCESSABLE_IMAGE) from None


def _usage(task: GeminiTask, image_tokens: int, parts: list[dict[str, Any]]) -> dict[str, Any]:
    prompt_text = max(1, math.ceil(len(task.prompt) / 4))
    prompt_images = sum(
        TOKENS_PER_INPUT_IMAGE * max(1, math.ceil(w / 768) * math.ceil(h / 768)) for w, h in task.source_sizes
    )
    answer_text = sum(math.ceil(len(p["text"]) / 4) for p in parts if "text" in p and not p.get("thought"))
    thoughts = 180 if task.model.thinking else 0
    candidates = image_tokens + answer_text
    usage: dict[str, Any] = {
        "promptTokenCount": prompt_text + prompt_images,
        "candidatesTokenCount": candidates,
        "totalTokenCount": prompt_text + prompt_images + candidates + thoughts,
        "promptTokensDetails": [{"modality": "TEXT", "tokenCount": prompt_text}]
        + ([{"modality": "IMAGE", "tokenCount": prompt_images}] if prompt_images else []),
        "candidatesTokensDetails": [{"modality": "IMAGE", "tokenCount": image_tokens}]
        if image_tokens
        else [],
    }
    if thoughts:
        usage["thoughtsTokenCount"] = thoughts
    return usage
