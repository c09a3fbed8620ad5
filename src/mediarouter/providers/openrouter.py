"""OpenRouter image models, spoken through its chat completions API.

`POST /chat/completions` with `modalities` asking for image output (`["image", "text"]` by default;
a catalog row may set `options.modalities: [image]` for image-only models) and, for aspect-ratio
models, `image_config: {aspect_ratio, image_size}`. Input images for edits are `image_url` content
parts holding data URIs. Images come back as data URLs in `choices[0].message.images[]`; their base64
text is passed on as is (no decode/encode round trip).

Errors are `{"error": {"code": <int>, "message", "metadata"}}`, with the HTTP status equal to the code,
or with HTTP 200 once generation has started. `classify_error` is shared with the chat relay
(`openrouter_chat.py`).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from mediarouter.providers.base import (
    Call,
    Done,
    UpstreamError,
    UpstreamRequest,
    UpstreamResponse,
    failure_for_status,
    retry_after_s,
)
from mediarouter.schemas.images import GeneratedImage, ProviderOutput

DEFAULT_MODALITIES = ("image", "text")

# OpenRouter error code (= HTTP status) -> gateway failure; 403 is refined by `_is_moderation`.
ERROR_CODES: dict[int, str] = {
    400: "invalid_request",
    401: "auth",
    402: "quota",
    403: "quota",
    404: "not_found",
    408: "timeout",
    413: "payload_too_large",
    429: "rate_limited",
    502: "server",
    503: "server",
}

# Metadata keys that mark a 403 as a moderation block rather than a permission problem.
MODERATION_KEYS = ("reasons", "flagged_input")

# Finish reasons that mean the model refused (OpenRouter's normalised one, or the upstream's own).
REFUSAL_FINISH_REASONS = frozenset(
    {
        "content_filter",
        "SAFETY",
        "IMAGE_SAFETY",
        "PROHIBITED_CONTENT",
        "IMAGE_PROHIBITED_CONTENT",
        "BLOCKLIST",
    }
)


def _is_moderation(metadata: Any) -> bool:
    return isinstance(metadata, dict) and any(k in metadata for k in MODERATION_KEYS)


def classify_error(
    error: Mapping[str, Any], status: int, headers: Mapping[str, str] | None = None
) -> UpstreamError:
    """An `error` object (from a 4xx/5xx body, a 200 body or an SSE event) as an UpstreamError."""
    code = error.get("code")
    number = code if isinstance(code, int) and not isinstance(code, bool) else status
    if number == 403 and _is_moderation(error.get("metadata")):
        failure = "content_policy"
    elif number in ERROR_CODES:
        failure = ERROR_CODES[number]
    elif number >= 400:
        failure = failure_for_status(number)
    else:
        failure = "server"
    message = str(error.get("message") or f"HTTP {number}")
    reasons = error.get("metadata", {}).get("reasons") if isinstance(error.get("metadata"), dict) else None
    if failure == "content_policy" and isinstance(reasons, list) and reasons:
        message = f"{message} ({', '.join(str(r) for r in reasons)})"
    retry_after = retry_after_s(headers) if headers is not None else None
    provider_code = str(code) if code is not None else None
    return UpstreamError(failure, message, number if number >= 400 else status, provider_code, retry_after)


def error_object(response: UpstreamResponse) -> dict[str, Any]:
    """The `error` object of an answer, or {} when there is none (or the body is not JSON)."""
    try:
        body = response.json()
    except UpstreamError:
        return {}
    error = body.get("error") if isinstance(body, dict) else None
    if isinstance(error, dict):
        return error
    return {"message": str(error)} if error else {}


def data_url_image(url: str) -> GeneratedImage:
    """`data:image/png;base64,AAAA` -> b64 "AAAA" with its mime; other URLs stay URLs to fetch."""
    if not url.startswith("data:"):
        return GeneratedImage(url=url)
    header, sep, payload = url.partition(",")
    if not sep or not header.endswith(";base64"):
        raise UpstreamError("malformed", "an image data URL is not base64")
    mime = header[len("data:") : -len(";base64")] or None
    return GeneratedImage(b64=payload, mime=mime)


def image_content(call: Call) -> str | list[dict[str, Any]]:
    """The user message: the prompt alone, or the prompt then the input images as data URIs."""
    if not call.request.images:
        return call.request.prompt
    parts: list[dict[str, Any]] = [{"type": "text", "text": call.request.prompt}]
    for img in call.request.images:
        uri = img.data_uri()
        parts.append({"type": "image_url", "image_url": {"url": uri}})
    return parts


def build_image_body(call: Call) -> dict[str, Any]:
    modalities = call.offering.options.get("modalities") or list(DEFAULT_MODALITIES)
    body: dict[str, Any] = {
        "model": call.offering.model_id,
        "messages": [{"role": "user", "content": image_content(call)}],
        "modalities": list(modalities),
    }
    image_config: dict[str, str] = {}
    if call.aspect_ratio and call.aspect_ratio != "auto":
        image_config["aspect_ratio"] = call.aspect_ratio
    if call.resolution:
        image_config["image_size"] = call.resolution
    if image_config:
        body["image_config"] = image_config
    if call.request.user:
        body["user"] = call.request.user
    return body


def parse_image_body(body: Any, status: int) -> ProviderOutput:
    if not isinstance(body, dict):
        raise UpstreamError("malformed", "response is not a JSON object", status)
    if isinstance(body.get("error"), dict):  # failed after the 200 was sent
        raise classify_error(body["error"], status)
    choices = body.get("choices")
    if not isinstance(choices, list) or not choices or not isinstance(choices[0], dict):
        raise UpstreamError("malformed", "response has no choices", status)
    choice = choices[0]
    message = choice.get("message")
    if not isinstance(message, dict):
        raise UpstreamError("malformed", "choices[0] has no message", status)
    items = message.get("images") or []
    urls = [
        item["image_url"]["url"]
        for item in items
        if isinstance(item, dict)
        and isinstance(item.get("image_url"), dict)
        and isinstance(item["image_url"].get("url"), str)
    ]
    if not urls:
        reasons = {choice.get("finish_reason"), choice.get("native_finish_reason")}
        text = str(message.get("content") or "")[:200]
        if reasons & REFUSAL_FINISH_REASONS:
            raise UpstreamError("content_policy", text or "the model refused to draw this prompt", status)
        raise UpstreamError(
            "no_image", "the model answered without an image" + (f": {text}" if text else ""), status
        )
    usage = body.get("usage") if isinstance(body.get("usage"), dict) else None
    return ProviderOutput([data_url_image(u) for u in urls], usage)


class OpenRouterAdapter:
    slug = "openrouter"
    name = "OpenRouter"
    media_hosts: tuple[str, ...] = ()  # images come back inline, as data URLs

    def build(self, call: Call) -> UpstreamRequest:
        headers = {"Authorization": f"Bearer {call.api_key}"}
        return UpstreamRequest(
            "POST", f"{call.base_url}/chat/completions", headers, json=build_image_body(call)
        )

    def parse(self, call: Call, response: UpstreamResponse) -> Done:
        if response.status >= 400:
            error = error_object(response) or {"message": f"HTTP {response.status}"}
            raise classify_error(error, response.status, response.headers)
        return Done(parse_image_body(response.json(), response.status))

    def cancel(self, call: Call) -> UpstreamRequest | None:
        return None
