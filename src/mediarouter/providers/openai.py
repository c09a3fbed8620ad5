"""OpenAI Images API (`/images/generations` JSON, `/images/edits` multipart).

Which optional fields are sent is decided by the model's catalog `params` (quality, style,
background, moderation, input_fidelity) and `output_formats`; GPT image models always answer
base64, and DALL·E is asked for base64 too, so no second download is needed.
"""

from __future__ import annotations

from typing import Any

from mediarouter.providers.base import (
    Call,
    Done,
    FormPart,
    UpstreamError,
    UpstreamRequest,
    UpstreamResponse,
    failure_for_status,
    retry_after_s,
)
from mediarouter.schemas.images import GeneratedImage, ProviderOutput

# OpenAI error `code` (or `type`) -> gateway failure; anything else falls back to the HTTP status.
ERROR_CODES: dict[str, str] = {
    "moderation_blocked": "content_policy",
    "content_policy_violation": "content_policy",
    "image_generation_user_error": "invalid_request",
    "invalid_api_key": "auth",
    "insufficient_quota": "quota",
    "billing_hard_limit_reached": "quota",
    "unsupported_country_region_territory": "quota",
    "rate_limit_exceeded": "rate_limited",
    "model_not_found": "not_found",
}

# Canonical field -> sent when the model's catalog lists the parameter (edits take no `moderation`).
CATALOG_PARAMS = ("quality", "style", "background", "moderation", "input_fidelity")
EDIT_EXCLUDED = frozenset({"moderation", "style"})


def _is_dalle(model_id: str) -> bool:
    return model_id.startswith("dall-e")


def _sends_compression(call: Call) -> bool:
    req = call.request
    return (
        req.output_compression is not None
        and not _is_dalle(call.offering.model_id)
        and req.output_format in ("jpeg", "webp")
        and req.output_format in call.model.output_formats
    )


def _fields(call: Call, response_format: str | None) -> dict[str, Any]:
    req, model_id = call.request, call.offering.model_id
    body: dict[str, Any] = {"model": model_id, "prompt": req.prompt, "n": req.n}
    if call.size:
        body["size"] = call.size
    for name in CATALOG_PARAMS:
        if req.mode != "generate" and name in EDIT_EXCLUDED:
            continue
        value = call.quality if name == "quality" else getattr(req, name)
        if value is not None and name in call.model.params:
            body[name] = value
    if response_format:
        body["response_format"] = response_format
    if not _is_dalle(model_id) and req.output_format and req.output_format in call.model.output_formats:
        body["output_format"] = req.output_format  # DALL·E takes no output_format
        if _sends_compression(call):
            body["output_compression"] = req.output_compression
    if req.user:
        body["user"] = req.user
    return body


def _headers(call: Call) -> dict[str, str]:
    return {"Authorization": f"Bearer {call.api_key}"}


class OpenAIAdapter:
    slug = "openai"
    name = "OpenAI"

    def response_format(self, call: Call) -> str | None:
        """What to send as `response_format`: base64 for DALL·E (no second download), nothing for
        GPT image models, which always answer base64 and refuse the field."""
        return "b64_json" if _is_dalle(call.offering.model_id) else None

    def build(self, call: Call) -> UpstreamRequest:
        fields = _fields(call, self.response_format(call))
        if call.request.mode == "generate":
            return UpstreamRequest("POST", f"{call.base_url}/images/generations", _headers(call), json=fields)
        form = [FormPart(k, str(v)) for k, v in fields.items()]
        images = call.request.images
        image_field = "image" if len(images) == 1 else "image[]"
        for i, img in enumerate(images):
            ext = img.mime.split("/")[-1]
            form.append(FormPart(image_field, img.data, f"image{i}.{ext}", img.mime))
        if call.request.mask is not None:
            form.append(FormPart("mask", call.request.mask.data, "mask.png", call.request.mask.mime))
        return UpstreamRequest("POST", f"{call.base_url}/images/edits", _headers(call), form=form)

    def parse(self, call: Call, response: UpstreamResponse) -> Done:
        if response.status >= 400:
            raise self.error(response)
        body = response.json()
        if not isinstance(body, dict) or not isinstance(body.get("data"), list):
            raise UpstreamError("malformed", "response has no 'data' list", response.status)
        images = [
            GeneratedImage(
                b64=item.get("b64_json"), url=item.get("url"), revised_prompt=item.get("revised_prompt")
            )
            for item in body["data"]
            if isinstance(item, dict) and (item.get("b64_json") or item.get("url"))
        ]
        if not images:
            raise UpstreamError("no_image", "the response contained no image", response.status)
        fmt = body.get("output_format") or ("png" if _is_dalle(call.offering.model_id) else None)
        for image in images:
            image.mime = f"image/{fmt}" if fmt else None
        echo = {k: body[k] for k in ("background", "quality") if body.get(k)}
        output = ProviderOutput(images, body.get("usage"), body.get("size"), fmt, echo)
        output.compression_applied = _sends_compression(call)
        return Done(output)

    def cancel(self, call: Call) -> UpstreamRequest | None:
        return None

    @staticmethod
    def error(response: UpstreamResponse) -> UpstreamError:
        try:
            err = response.json().get("error") or {}
        except (UpstreamError, AttributeError):
            err = {}
        if not isinstance(err, dict):
            err = {"message": str(err)}
        code = err.get("code") or err.get("type")
        failure = ERROR_CODES.get(str(code)) or failure_for_status(response.status)
        message = str(err.get("message") or f"HTTP {response.status}")
        return UpstreamError(
            failure, message, response.status, str(code) if code else None, retry_after_s(response.headers)
        )
