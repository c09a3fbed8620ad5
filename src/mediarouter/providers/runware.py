"""Runware: every call is `POST {base}` with a JSON array of tasks; images come from `imageInference`.

One task per attempt, with a fresh `taskUUID` (kept in `call.state`). Results are asked for as
base64 (`outputType: base64Data`), so there is nothing to download (the provider option
`output_type: URL` asks for links on im.runware.ai instead). Delivery is `sync` by default:
the POST is held open until the images are ready. With the provider option `delivery: async` the
POST only queues the task and the adapter polls `getResponse` with the same `taskUUID`.

Pixel rules differ per model and are catalog options of the Runware row: `size_multiple` and
`size_range` (older FLUX/SD models want multiples of 64 between 512 and 2048), and `aspect_sizes`
(models that take a fixed list of sizes, one per aspect ratio). The size actually sent is
reported back as the output size. Edits send the source as `seedImage` or, for reference-image
models (`image_field: referenceImages`) and for several sources, as `inputs.referenceImages`.
"""

from __future__ import annotations

import uuid
from typing import Any

from mediarouter.params.sizes import size_of
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

OUTPUT_FORMATS = {"png": "PNG", "jpeg": "JPG", "webp": "WEBP"}
FORMAT_NAMES = {v: k for k, v in OUTPUT_FORMATS.items()}
IMAGE_FIELDS = (("imageBase64Data", "b64"), ("imageDataURI", "data_uri"), ("imageURL", "url"))
DEFAULT_SIZE = (1024, 1024)

# Canonical extra field -> imageInference field (anything else in `extra` is not sent).
QUALITY_RANGE = (20, 99)  # outputQuality bounds
EXTRA_FIELDS: dict[str, str] = {
    "seed": "seed",
    "negative_prompt": "negativePrompt",
    "steps": "steps",
    "num_inference_steps": "steps",
    "guidance_scale": "CFGScale",
    "cfg_scale": "CFGScale",
    "scheduler": "scheduler",
    "strength": "strength",
}

# Runware error codes -> gateway failure. The catalogue is large and unstable, so codes not listed
# are classified by the patterns in `classify_code` (the same families the official SDK uses).
ERROR_CODES: dict[str, str] = {
    "invalidApiKey": "auth",
    "rateLimitExceeded": "rate_limited",
    "insufficientCredits": "quota",
    "timeoutProvider": "timeout",
    "unknownModel": "not_found",
    "modelNotFound": "not_found",
    "taskFailedOrNotFound": "not_found",
    "internalServerError": "server",
    "serviceUnavailable": "overloaded",
    "noAvailableServer": "overloaded",
    "inferenceError": "job_failed",
    "taskFailed": "job_failed",
    "contentPolicyViolation": "content_policy",
    "providerContentPolicyViolation": "content_policy",
    "nsfwContentDetected": "content_policy",
    "unsafeContentDetected": "content_policy",
    "sensitiveContentDetected": "content_policy",
    "promptBlocked": "content_policy",
    "imageBlocked": "content_policy",
    "moderationFailed": "content_policy",
}
# (substring, failure) tried in order for codes not in ERROR_CODES; `invalid*` must come after `ApiKey`.
CODE_PATTERNS: tuple[tuple[str, str], ...] = (
    ("ApiKey", "auth"),
    ("Credits", "quota"),
    ("Balance", "quota"),
    ("Quota", "quota"),
    ("RateLimit", "rate_limited"),
    ("Timeout", "timeout"),
    ("NotFound", "not_found"),
    ("Blocked", "content_policy"),
    ("NSFW", "content_policy"),
)
VALIDATION_PREFIXES = ("invalid", "missing", "unsupported", "conflict", "duplicate", "max", "value", "array")


def classify_code(code: str) -> str | None:
    if code in ERROR_CODES:
        return ERROR_CODES[code]
    for part, failure in CODE_PATTERNS:
        if part in code:
            return failure
    if code.startswith(VALIDATION_PREFIXES):
        return "invalid_request"
    if code.startswith("provider"):
        return "server"
    return None


def _snap(value: int, multiple: int, low: int, high: int) -> int:
    return min(high, max(low, round(value / multiple) * multiple))


def resolve_dimensions(call: Call) -> tuple[int, int]:
    """Width and height to send, after the model's pixel rules (catalog options of the Runware row)."""
    options = call.offering.options
    fixed = options.get("aspect_sizes") or {}
    if call.aspect_ratio and call.aspect_ratio in fixed:
        found = size_of(str(fixed[call.aspect_ratio]))
        if found:
            return found
    dims = size_of(call.size) or size_of(call.model.default_size) or DEFAULT_SIZE
    if call.size == "auto" and call.request.images:
        dims = (call.request.images[0].width, call.request.images[0].height)
    multiple = int(options.get("size_multiple") or 1)
    low, high = options.get("size_range") or (1, 1 << 16)
    return _snap(dims[0], multiple, int(low), int(high)), _snap(dims[1], multiple, int(low), int(high))


def _applies_compression(call: Call) -> bool:
    """Runware takes `outputQuality` 20-99 only; outside it the gateway re-encodes at the asked value."""
    value = call.request.output_compression
    return (
        value is not None
        and _output_format(call) in ("JPG", "WEBP")
        and QUALITY_RANGE[0] <= value <= QUALITY_RANGE[1]
    )


def _output_format(call: Call) -> str:
    wanted = call.request.output_format or next(iter(call.model.output_formats), "png")
    return OUTPUT_FORMATS.get(wanted, "PNG")


def _delivery(call: Call) -> str:
    value = call.options.get("delivery") or call.offering.options.get("delivery") or "sync"
    return "async" if value == "async" else "sync"


def build_task(call: Call, task_uuid: str) -> dict[str, Any]:
    req = call.request
    width, height = resolve_dimensions(call)
    fmt = _output_format(call)
    task: dict[str, Any] = {
        "taskType": "imageInference",
        "taskUUID": task_uuid,
        "model": call.offering.model_id,
        "positivePrompt": req.prompt,
        "width": width,
        "height": height,
        "numberResults": req.n,
        "outputType": call.options.get("output_type") or "base64Data",
        "outputFormat": fmt,
        "includeCost": True,
        "safety": {"checkContent": True},
        "deliveryMethod": _delivery(call),
    }
    if req.output_compression is not None and fmt in ("JPG", "WEBP"):
        task["outputQuality"] = max(QUALITY_RANGE[0], min(QUALITY_RANGE[1], req.output_compression))
    for name, field in EXTRA_FIELDS.items():
        if name in req.extra and field not in task:
            task[field] = req.extra[name]
    if req.mode == "edit" and req.images:
        uris = [img.data_uri() for img in req.images]
        if len(uris) == 1 and call.offering.options.get("image_field", "seedImage") == "seedImage":
            task["seedImage"] = uris[0]
        else:
            task["inputs"] = {"referenceImages": uris}
        if req.mask is not None:
            task["maskImage"] = req.mask.data_uri()
    return task


class RunwareAdapter:
    slug = "runware"
    name = "Runware"
    media_hosts = ("im.runware.ai",)

    def build(self, call: Call) -> UpstreamRequest:
        task_uuid = str(uuid.uuid4())
        call.state["task_uuid"] = task_uuid
        task = build_task(call, task_uuid)
        call.state["dimensions"] = f"{task['width']}x{task['height']}"
        return UpstreamRequest("POST", call.base_url, _headers(call), json=[task])

    def parse(self, call: Call, response: UpstreamResponse) -> Done | Poll:
        if response.status >= 400:
            raise self.error(response)
        body = response.json()
        if not isinstance(body, dict) or not isinstance(body.get("data", []), list):
            raise UpstreamError("malformed", "response is not an object with a 'data' list", response.status)
        task_uuid = call.state["task_uuid"]
        items = [
            i
            for i in body.get("data") or []
            if isinstance(i, dict) and i.get("taskUUID") in (None, task_uuid)
        ]
        errors = [e for e in body.get("errors") or [] if isinstance(e, dict)]
        errors += [{**(i.get("error") or {}), **i} for i in items if i.get("status") == "error"]
        images, flagged = _images(items, _output_format(call))
        if _delivery(call) == "async" and not errors and _still_running(items, call.request.n):
            return Poll(_poll_request(call, task_uuid), state={"polling": True})
        if images:
            fmt = FORMAT_NAMES[_output_format(call)]
            output = ProviderOutput(images, size=call.state.get("dimensions"), output_format=fmt)
            output.compression_applied = _applies_compression(call)
            return Done(output)
        if errors:
            raise _item_error(errors[0], response.status)
        if flagged:
            raise UpstreamError(
                "content_policy", "Runware flagged every image as NSFW content", response.status
            )
        raise UpstreamError("no_image", "the response contained no image", response.status)

    def cancel(self, call: Call) -> UpstreamRequest | None:
        return None

    @staticmethod
    def error(response: UpstreamResponse) -> UpstreamError:
        try:
            body = response.json()
        except UpstreamError:
            body = None
        first: dict[str, Any] = {}
        if isinstance(body, dict):
            errors = body.get("errors")
            if isinstance(errors, list) and errors and isinstance(errors[0], dict):
                first = errors[0]
            elif isinstance(body.get("error"), dict):
                first = body["error"]
        code = str(first.get("code") or "")
        failure = classify_code(code) if code else None
        message = str(first.get("message") or f"HTTP {response.status}")
        return UpstreamError(
            failure or failure_for_status(response.status),
            message,
            response.status,
            code or None,
            retry_after_s(response.headers),
        )


def _headers(call: Call) -> dict[str, str]:
    return {"Authorization": f"Bearer {call.api_key}"}


def _poll_request(call: Call, task_uuid: str) -> UpstreamRequest:
    return UpstreamRequest(
        "POST", call.base_url, _headers(call), json=[{"taskType": "getResponse", "taskUUID": task_uuid}]
    )


def _still_running(items: list[dict[str, Any]], expected: int) -> bool:
    """getResponse answers with the state of every result so far: wait until `expected` are final."""
    final = [i for i in items if i.get("status") in ("success", "error") or _has_image(i)]
    return len(final) < expected or any(i.get("status") in ("processing", "pending") for i in items)


def _has_image(item: dict[str, Any]) -> bool:
    return any(item.get(field) for field, _ in IMAGE_FIELDS)


def _images(items: list[dict[str, Any]], fmt: str) -> tuple[list[GeneratedImage], int]:
    """Images of the results, and how many results were dropped as NSFW."""
    images: list[GeneratedImage] = []
    flagged = 0
    for item in items:
        if not _has_image(item):
            continue
        if item.get("NSFWContent") is True:
            flagged += 1
            continue
        mime = f"image/{FORMAT_NAMES[fmt]}"
        if item.get("imageBase64Data"):
            images.append(GeneratedImage(b64=str(item["imageBase64Data"]), mime=mime))
        elif item.get("imageDataURI"):
            head, _, data = str(item["imageDataURI"]).partition(",")
            mime = head[5:].split(";")[0] if head.startswith("data:") else mime
            images.append(GeneratedImage(b64=data, mime=mime))
        else:
            images.append(GeneratedImage(url=str(item["imageURL"]), mime=mime))
    return images, flagged


def _item_error(item: dict[str, Any], status: int) -> UpstreamError:
    """A task that failed inside a 200 answer: its code when known, else a failed job."""
    code = str(item.get("code") or "")
    failure = (classify_code(code) if code else None) or "job_failed"
    message = str(item.get("message") or "the task failed")
    return UpstreamError(failure, message, status, code or None)
