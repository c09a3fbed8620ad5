"""Gemini image models over `:generateContent`, the same body on the Gemini API and Vertex AI.

Generation sends the prompt as one text part; an edit adds every input image as an `inlineData`
part after it (there is no separate edit endpoint). The size goes into
`generationConfig.imageConfig` as the aspect ratio and tier the params layer chose. Safety
outcomes come back as HTTP 200: a `finishReason` or a `promptFeedback.blockReason` says why no
image was drawn, and the tables below say what that means for routing.
"""

from __future__ import annotations

import base64
from typing import Any

from mediarouter.providers.base import Call, UpstreamError
from mediarouter.schemas.images import GeneratedImage, ProviderOutput

# What we ask for unless the catalog row's `response_modalities` option says otherwise.
DEFAULT_MODALITIES = ("IMAGE",)

# Our resolution tier -> Gemini's `imageSize` word (the 0.5K tier is spelled "512").
IMAGE_SIZES: dict[str, str] = {"0.5K": "512", "1K": "1K", "2K": "2K", "4K": "4K"}

# `finishReason` of a candidate without an image: a refusal (stop) or just no picture (next).
REFUSAL_FINISH_REASONS = frozenset(
    {
        "SAFETY",
        "IMAGE_SAFETY",
        "PROHIBITED_CONTENT",
        "IMAGE_PROHIBITED_CONTENT",
        "BLOCKLIST",
        "SPII",
        "RECITATION",
        "IMAGE_RECITATION",
        "MODEL_ARMOR",
        "JAILBREAK",
    }
)
# Keys that mark a body as a GenerateContentResponse even when it carries no candidate.
RESPONSE_KEYS = frozenset({"candidates", "promptFeedback", "usageMetadata", "modelVersion", "responseId"})


def jpeg_output(call: Call, vertex: bool) -> bool:
    """JPEG (with its compressionQuality) is asked for explicitly on Vertex only."""
    return vertex and call.request.output_format == "jpeg" and "jpeg" in call.model.output_formats


def build_generate_content(call: Call, vertex: bool) -> dict[str, Any]:
    """The request body; `vertex` adds the Vertex-only output options."""
    req = call.request
    parts: list[dict[str, Any]] = [{"text": req.prompt}]
    for image in req.images:
        parts.append({"inlineData": {"mimeType": image.mime, "data": _b64(image.data)}})
    modalities = call.offering.options.get("response_modalities") or DEFAULT_MODALITIES
    config: dict[str, Any] = {"responseModalities": list(modalities)}
    image_config: dict[str, Any] = {}
    if call.aspect_ratio and call.aspect_ratio != "auto":
        image_config["aspectRatio"] = call.aspect_ratio
    if call.resolution and len(call.model.resolutions) > 1:
        # Single-tier models (gemini-2.5-flash-image) have no size to choose: send none rather than
        # a field the model may refuse.
        image_config["imageSize"] = IMAGE_SIZES.get(call.resolution, call.resolution)
    if jpeg_output(call, vertex):
        options: dict[str, Any] = {"mimeType": "image/jpeg"}
        if req.output_compression is not None:
            options["compressionQuality"] = req.output_compression
        image_config["imageOutputOptions"] = options
    if image_config:
        config["imageConfig"] = image_config
    seed = req.extra.get("seed")
    if isinstance(seed, int) and not isinstance(seed, bool):
        config["seed"] = seed
    return {"contents": [{"role": "user", "parts": parts}], "generationConfig": config}


def parse_generate_content(body: Any, status: int) -> ProviderOutput:
    """Images from a 200 answer, or the UpstreamError that explains why there are none."""
    if not isinstance(body, dict) or not (RESPONSE_KEYS & set(body)):
        raise UpstreamError("malformed", "the answer is not a GenerateContentResponse", status)
    candidates = body.get("candidates") or []
    if not isinstance(candidates, list):
        raise UpstreamError("malformed", "'candidates' is not a list", status)
    feedback = body.get("promptFeedback")
    if not candidates and isinstance(feedback, dict) and feedback.get("blockReason"):
        reason = str(feedback["blockReason"])
        detail = feedback.get("blockReasonMessage") or f"the prompt was blocked ({reason})"
        raise UpstreamError("content_policy", str(detail), status, reason)
    images: list[GeneratedImage] = []
    texts: list[str] = []
    reasons: list[str] = []
    for candidate in candidates:
        if not isinstance(candidate, dict):
            raise UpstreamError("malformed", "a candidate is not an object", status)
        found, said = _candidate_parts(candidate, status)
        images += found
        texts += said
        if candidate.get("finishReason"):
            reasons.append(str(candidate["finishReason"]))
            if candidate.get("finishMessage"):
                texts.append(str(candidate["finishMessage"]))
    if not images:
        raise _no_image(reasons, texts, status)
    fmt = (images[0].mime or "image/png").split("/")[-1]
    return ProviderOutput(images, _usage(body.get("usageMetadata")), None, fmt)


def _candidate_parts(candidate: dict[str, Any], status: int) -> tuple[list[GeneratedImage], list[str]]:
    """Final images and text of one candidate; `thought` parts are interim drafts and skipped."""
    content = candidate.get("content") or {}
    parts = (content.get("parts") or []) if isinstance(content, dict) else None
    if not isinstance(parts, list):
        raise UpstreamError("malformed", "'content.parts' is not a list", status)
    images: list[GeneratedImage] = []
    texts: list[str] = []
    for part in parts:
        if not isinstance(part, dict) or part.get("thought"):
            continue
        inline = part.get("inlineData") or part.get("inline_data")
        if isinstance(inline, dict) and isinstance(inline.get("data"), str) and inline["data"]:
            mime = inline.get("mimeType") or inline.get("mime_type") or "image/png"
            if str(mime).startswith("image/"):
                images.append(GeneratedImage(b64=inline["data"], mime=str(mime)))
        elif isinstance(part.get("text"), str):
            texts.append(part["text"])
    return images, texts


def _no_image(reasons: list[str], texts: list[str], status: int) -> UpstreamError:
    said = " ".join(t.strip() for t in texts if t.strip())[:300]
    refusal = next((r for r in reasons if r in REFUSAL_FINISH_REASONS), None)
    if refusal is not None:
        return UpstreamError("content_policy", said or f"the image was blocked ({refusal})", status, refusal)
    code = reasons[0] if reasons else None
    if said:
        return UpstreamError("no_image", f"the model answered with text only: {said}", status, code)
    return UpstreamError(
        "no_image", f"the answer contained no image ({code or 'no candidates'})", status, code
    )


def _usage(metadata: Any) -> dict[str, Any] | None:
    """`usageMetadata` in the gateway's token vocabulary (thinking tokens are billed as output)."""
    if not isinstance(metadata, dict):
        return None
    prompt = _count(metadata.get("promptTokenCount"))
    output = _count(metadata.get("candidatesTokenCount")) + _count(metadata.get("thoughtsTokenCount"))
    total = _count(metadata.get("totalTokenCount")) or prompt + output
    return {"input_tokens": prompt, "output_tokens": output, "total_tokens": total}


def _count(value: Any) -> int:
    return value if isinstance(value, int) and not isinstance(value, bool) else 0


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")
