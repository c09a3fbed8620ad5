"""xAI Grok image models: `/images/generations` and `/images/edits`, both JSON.

OpenAI-shaped, with three differences that matter: `size`, `style` and (except on
grok-imagine-image-2.0, whose catalog entry lists it) `quality` are refused with HTTP 400, so
shape is sent as `aspect_ratio` plus a lower-case `resolution` tier for the grok-imagine models;
edits are JSON with the source as an `image_url` object (several sources as `images`), not
multipart; and errors come either flat (`{"code": "400", "error": "..."}`) or OpenAI-like.

A moderation refusal is an error whose text says "Content violates usage guidelines". A 200
with an empty `data` list has been reported for blocked prompts too, but nothing in it says
why, so it is read as `no_image` (the router tries the next provider) rather than a policy
refusal that would stop the request.
"""

from __future__ import annotations

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
from mediarouter.schemas.images import GeneratedImage, InputImage, ProviderOutput

# Text in an error message -> failure, checked before the code and the status.
MESSAGE_MARKERS: tuple[tuple[str, str], ...] = (
    ("content violates usage guidelines", "content_policy"),
    ("safety_check_type", "content_policy"),
    ("incorrect api key", "auth"),
    ("no credits", "quota"),
    ("spending limit", "quota"),
)
# OpenAI-like `error.code`/`type` values -> failure.
ERROR_CODES: dict[str, str] = {
    "invalid_api_key": "auth",
    "invalid_request_error": "invalid_request",
    "rate_limit_exceeded": "rate_limited",
    "model_not_found": "not_found",
    "content_policy_violation": "content_policy",
}


def _takes_aspect(call: Call) -> bool:
    """grok-imagine models take aspect_ratio/resolution; grok-2-image takes no shape at all."""
    return call.aspect_ratio is not None and call.offering.model_id.startswith("grok-imagine")


def _shape_fields(call: Call) -> dict[str, Any]:
    if not _takes_aspect(call):
        return {}
    req = call.request
    if req.mode == "edit" and req.size is None and req.aspect_ratio is None:
        return {}  # an edit keeps the source's shape unless the caller asked for another
    fields: dict[str, Any] = {}
    if call.aspect_ratio and call.aspect_ratio != "auto":
        fields["aspect_ratio"] = call.aspect_ratio
    if call.resolution:
        fields["resolution"] = call.resolution.lower()
    return fields


def _image_object(image: InputImage) -> dict[str, str]:
    return {"url": image.data_uri(), "type": "image_url"}


def build_body(call: Call) -> dict[str, Any]:
    req = call.request
    body: dict[str, Any] = {
        "model": call.offering.model_id,
        "prompt": req.prompt,
        "n": req.n,
        "response_format": "b64_json",
        **_shape_fields(call),
    }
    if call.quality is not None and "quality" in call.model.params:
        body["quality"] = call.quality
    if req.user:
        body["user"] = req.user
    if req.mode == "edit":
        images = [_image_object(img) for img in req.images]
        if len(images) == 1:
            body["image"] = images[0]
        else:
            body["images"] = images
    return body


def _strip_data_prefix(text: str) -> str:
    return text.split(",", 1)[1] if text.startswith("data:") and "," in text else text


class XAIAdapter:
    slug = "xai"
    name = "xAI"
    media_hosts = ("imgen.x.ai",)

    def build(self, call: Call) -> UpstreamRequest:
        path = "/images/edits" if call.request.mode == "edit" else "/images/generations"
        headers = {"Authorization": f"Bearer {call.api_key}"}
        return UpstreamRequest("POST", f"{call.base_url}{path}", headers, json=build_body(call))

    def parse(self, call: Call, response: UpstreamResponse) -> Done:
        if response.status >= 400:
            raise self.error(response)
        body = response.json()
        if not isinstance(body, dict) or not isinstance(body.get("data"), list):
            raise UpstreamError("malformed", "response has no 'data' list", response.status)
        images: list[GeneratedImage] = []
        for item in body["data"]:
            if not isinstance(item, dict):
                continue
            b64, url = item.get("b64_json"), item.get("url")
            if b64 or url:
                images.append(
                    GeneratedImage(
                        b64=_strip_data_prefix(b64) if isinstance(b64, str) and b64 else None,
                        url=url if not b64 else None,
                        mime="image/jpeg",
                        revised_prompt=item.get("revised_prompt") or None,
                    )
                )
        if not images:
            raise UpstreamError(
                "no_image", "xAI answered 200 with no image (possibly moderated)", response.status
            )
        return Done(ProviderOutput(images, output_format="jpeg"))

    def cancel(self, call: Call) -> UpstreamRequest | None:
        return None

    @staticmethod
    def error(response: UpstreamResponse) -> UpstreamError:
        code, message = _error_fields(response)
        lowered = message.lower()
        failure = next((f for marker, f in MESSAGE_MARKERS if marker in lowered), None)
        failure = failure or ERROR_CODES.get(code) or failure_for_status(response.status)
        return UpstreamError(
            failure,
            message or f"HTTP {response.status}",
            response.status,
            code or None,
            retry_after_s(response.headers),
        )


def _error_fields(response: UpstreamResponse) -> tuple[str, str]:
    """(code, message) from the flat shape `{"code", "error": "<text>"}` or `{"error": {...}}`."""
    try:
        body = response.json()
    except UpstreamError:
        return "", response.body[:200].decode("utf-8", "replace").strip()
    if not isinstance(body, dict):
        return "", str(body)[:200]
    error = body.get("error")
    if isinstance(error, dict):
        return str(error.get("code") or error.get("type") or ""), str(error.get("message") or "")
    return str(body.get("code") or ""), str(error or body.get("message") or "")
