"""Fireworks AI image workflows: FLUX.1 text-to-image (sync) and FLUX.1 Kontext (async job).

Which API a model speaks is its catalog option `api`: `text_to_image` (FLUX.1 schnell/dev FP8:
one POST whose body is the picture itself when `Accept` names an image type, or JSON with
`base64[]` when it is `application/json`) or `kontext` (submit, then poll `get_result` until
`Ready`, then download `result.sample` from BFL's delivery host). Both take an `aspect_ratio`,
never pixels. Kontext has no cancel endpoint, so an abandoned job simply runs out upstream.

The sync API is asked for the picture itself unless the provider option `accept: json` says to
ask for JSON (`Json-Return-Image-Accept` names the format inside it), e.g. behind a proxy that
passes only JSON; a JSON answer is understood either way.
"""

from __future__ import annotations

from typing import Any

from mediarouter.providers.base import (
    Call,
    Done,
    Poll,
    UpstreamError,
    UpstreamRequest,
    UpstreamResponse,
    failure_for_status,
    retry_after_s,
)
from mediarouter.schemas.images import GeneratedImage, ProviderOutput

WORKFLOWS_PATH = "/workflows/accounts/fireworks/models"
RAW_FORMATS = ("jpeg", "png")  # image types the sync API can answer with directly
ACCEPTS = ("image", "json")  # provider option `accept`: what the sync API is asked to answer with

# Canonical extra field -> body field, per API (anything else in `extra` is not sent).
EXTRA_FIELDS: dict[str, dict[str, str]] = {
    "text_to_image": {
        "seed": "seed",
        "guidance_scale": "guidance_scale",
        "num_inference_steps": "num_inference_steps",
        "steps": "num_inference_steps",
        "safety_check": "safety_check",
    },
    "kontext": {
        "seed": "seed",
        "prompt_upsampling": "prompt_upsampling",
        "safety_tolerance": "safety_tolerance",
    },
}

# Kontext `get_result` status -> what it means; an unknown status is treated as still running.
KONTEXT_STATUSES: dict[str, str] = {
    "Ready": "done",
    "Pending": "running",
    "Queued": "running",
    "Processing": "running",
    "Request Moderated": "content_policy",
    "Content Moderated": "content_policy",
    "Error": "job_failed",
    "Failed": "job_failed",
    "Task not found": "not_found",
}

# Error `code`/`type`/`errorcode` values -> gateway failure; otherwise the HTTP status decides.
ERROR_CODES: dict[str, str] = {
    "invalid_request_error": "invalid_request",
    "invalid_argument": "invalid_request",
    "authentication_error": "auth",
    "unauthenticated": "auth",
    "invalid_api_key": "auth",
    "permission_denied": "quota",
    "insufficient_quota": "quota",
    "payment_required": "quota",
    "rate_limit_exceeded": "rate_limited",
    "resource_exhausted": "rate_limited",
    "model_not_found": "not_found",
    "not_found": "not_found",
    "content_policy_violation": "content_policy",
}


def _api(call: Call) -> str:
    api = call.offering.options.get("api")
    if api in EXTRA_FIELDS:
        return str(api)
    return "kontext" if "kontext" in call.offering.model_id else "text_to_image"


def _model_url(call: Call) -> str:
    model_id = call.offering.model_id
    if model_id.startswith("accounts/"):
        return f"{call.base_url}/workflows/{model_id}"
    return f"{call.base_url}{WORKFLOWS_PATH}/{model_id}"


def _output_format(call: Call) -> str:
    """The caller's format when Fireworks can make it; PNG (lossless) when it must be converted later."""
    wanted = call.request.output_format
    if wanted in RAW_FORMATS:
        return str(wanted)
    if wanted is not None:
        return "png"
    return next((f for f in call.model.output_formats if f in RAW_FORMATS), "jpeg")


def _common_fields(call: Call, api: str) -> dict[str, Any]:
    body: dict[str, Any] = {"prompt": call.request.prompt}
    if call.aspect_ratio and call.aspect_ratio != "auto":
        body["aspect_ratio"] = call.aspect_ratio
    for name, field in EXTRA_FIELDS[api].items():
        if name in call.request.extra and field not in body:
            body[field] = call.request.extra[name]
    return body


def _headers(call: Call, accept: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {call.api_key}", "Accept": accept}


def _asks_json(call: Call) -> bool:
    accept = call.options.get("accept", "image")
    if accept not in ACCEPTS:
        raise UpstreamError(
            "invalid_request", f"fireworks option accept must be one of {ACCEPTS}, not {accept!r}"
        )
    return accept == "json"


def _sniff_mime(body: bytes) -> str:
    """The type of an image body whose Content-Type does not say so; empty when it is no image."""
    if body.startswith(b"\x89PNG\r\n\x1a\n"):
        return "image/png"
    if body.startswith(b"\xff\xd8\xff"):
        return "image/jpeg"
    return ""


def _strip_data_prefix(text: str) -> str:
    return text.split(",", 1)[1] if text.startswith("data:") and "," in text else text


class FireworksAdapter:
    slug = "fireworks"
    name = "Fireworks AI"
    media_hosts = ("bfl.ai",)  # Kontext results: delivery-eu1.bfl.ai, delivery-us1.bfl.ai, ...

    def build(self, call: Call) -> UpstreamRequest:
        api = _api(call)
        fmt = _output_format(call)
        body = _common_fields(call, api)
        if api == "text_to_image":
            url = f"{_model_url(call)}/text_to_image"
            if _asks_json(call):
                headers = {**_headers(call, "application/json"), "Json-Return-Image-Accept": f"image/{fmt}"}
                return UpstreamRequest("POST", url, headers, json=body)
            return UpstreamRequest("POST", url, _headers(call, f"image/{fmt}"), json=body)
        body["output_format"] = fmt
        if call.request.mode == "edit" and call.request.images:
            image = call.request.images[0]
            body["input_image"] = image.data_uri()
        return UpstreamRequest("POST", _model_url(call), _headers(call, "application/json"), json=body)

    def parse(self, call: Call, response: UpstreamResponse) -> Done | Poll:
        if response.status >= 400:
            raise self.error(response)
        if _api(call) == "text_to_image":
            return Done(self._parse_sync(call, response))
        if "request_id" not in call.state:
            return self._parse_submit(call, response)
        return self._parse_result(call, response)

    def cancel(self, call: Call) -> UpstreamRequest | None:
        return None

    def _parse_sync(self, call: Call, response: UpstreamResponse) -> ProviderOutput:
        content_type = (response.headers.get("content-type") or "").split(";")[0].strip().lower()
        content_type = content_type if content_type.startswith("image/") else _sniff_mime(response.body)
        finish = response.headers.get("finish-reason") or ""
        if content_type.startswith("image/"):
            if finish.upper() == "CONTENT_FILTERED":
                raise UpstreamError(
                    "content_policy", "the image was filtered by Fireworks' safety checker", 200
                )
            if not response.body:
                raise UpstreamError("no_image", "the response body was empty", response.status)
            image = GeneratedImage(data=response.body, mime=content_type)
            return ProviderOutput([image], output_format=content_type.split("/")[1])
        return self._parse_sync_json(response, _output_format(call) if _asks_json(call) else None)

    def _parse_sync_json(self, response: UpstreamResponse, fmt: str | None) -> ProviderOutput:
        """`{"base64": [...], "finishReason"}`; `fmt` is the format asked for inside it, if any."""
        body = response.json()
        if not isinstance(body, dict):
            raise UpstreamError(
                "malformed", "response is neither an image nor a JSON object", response.status
            )
        if str(body.get("finishReason") or "").upper() == "CONTENT_FILTERED":
            raise UpstreamError("content_policy", "the image was filtered by Fireworks' safety checker", 200)
        encoded = body.get("base64")
        if isinstance(encoded, str):
            encoded = [encoded]
        if not isinstance(encoded, list):
            raise UpstreamError("malformed", "JSON response has no 'base64' list", response.status)
        mime = f"image/{fmt}" if fmt else None
        images = [
            GeneratedImage(b64=_strip_data_prefix(s), mime=mime) for s in encoded if isinstance(s, str) and s
        ]
        if not images:
            raise UpstreamError("no_image", "the response contained no image", response.status)
        return ProviderOutput(images, output_format=fmt)

    def _parse_submit(self, call: Call, response: UpstreamResponse) -> Poll:
        body = response.json()
        request_id = body.get("request_id") if isinstance(body, dict) else None
        if not isinstance(request_id, str) or not request_id:
            raise UpstreamError(
                "malformed", "Kontext submit answered without a 'request_id'", response.status
            )
        return Poll(_result_request(call, request_id), state={"request_id": request_id})

    def _parse_result(self, call: Call, response: UpstreamResponse) -> Done | Poll:
        body = response.json()
        if not isinstance(body, dict) or not isinstance(body.get("status"), str):
            raise UpstreamError("malformed", "get_result answered without a 'status'", response.status)
        status = body["status"]
        outcome = KONTEXT_STATUSES.get(status, "running")
        if outcome == "running":
            return Poll(_result_request(call, call.state["request_id"]))
        if outcome != "done":
            detail = _result_detail(body)
            raise UpstreamError(outcome, f"Kontext job ended '{status}'{detail}", response.status, status)
        result = body.get("result")
        sample = result.get("sample") if isinstance(result, dict) else None
        if not isinstance(sample, str) or not sample:
            raise UpstreamError("no_image", "the job is Ready but has no result.sample", response.status)
        fmt = _output_format(call)
        image = GeneratedImage(url=sample, mime=f"image/{fmt}")
        return Done(ProviderOutput([image], output_format=fmt))

    @staticmethod
    def error(response: UpstreamResponse) -> UpstreamError:
        code, message = _error_fields(response)
        failure = ERROR_CODES.get(code.lower()) if code else None
        failure = failure or failure_for_status(response.status)
        return UpstreamError(
            failure,
            message or f"HTTP {response.status}",
            response.status,
            code or None,
            retry_after_s(response.headers),
        )


def _result_request(call: Call, request_id: str) -> UpstreamRequest:
    url = f"{_model_url(call)}/get_result"
    return UpstreamRequest("POST", url, _headers(call, "application/json"), json={"id": request_id})


def _result_detail(body: dict[str, Any]) -> str:
    for key in ("details", "error", "result"):
        value = body.get(key)
        if value:
            return f": {value}"
    return ""


def _error_fields(response: UpstreamResponse) -> tuple[str, str]:
    """(code, message) from any of Fireworks' error shapes: OpenAI-like, API-gateway fault, or `detail`."""
    try:
        body = response.json()
    except UpstreamError:
        return "", response.body[:200].decode("utf-8", "replace").strip()
    if not isinstance(body, dict):
        return "", str(body)[:200]
    error = body.get("error")
    if isinstance(error, dict):
        code = error.get("code") or error.get("type") or ""
        return str(code), str(error.get("message") or "")
    if isinstance(error, str):
        return str(body.get("code") or ""), error
    fault = body.get("fault")
    if isinstance(fault, dict):
        detail = fault.get("detail")
        code = detail.get("errorcode", "") if isinstance(detail, dict) else ""
        return str(code), str(fault.get("faultstring") or "")
    detail = body.get("detail")
    if isinstance(detail, list):  # FastAPI-style validation errors
        parts = [str(d.get("msg", d)) if isinstance(d, dict) else str(d) for d in detail]
        return "invalid_request_error", "; ".join(parts)
    if detail is not None:
        return "", str(detail)
    return "", str(body.get("message") or "")
