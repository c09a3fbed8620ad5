"""Alibaba Cloud Model Studio (DashScope): three APIs, chosen by the catalog row's `options.api`.

* `text2image` (wanx2.1 to wan2.5): an async task. `POST /services/aigc/text2image/image-synthesis`
  with `X-DashScope-Async: enable` and `input.prompt` answers a `task_id`; `GET /tasks/{id}` is
  polled until SUCCEEDED (image URLs in `output.results[]`) or FAILED/CANCELED/UNKNOWN.
* `image_generation` (wan2.6-t2i): the same task lifecycle, submitted to
  `/services/aigc/image-generation/generation` with a chat-shaped `input.messages` (as the SDK's
  `ImageGeneration.async_call`); the finished task carries `output.choices[].message.content[]`.
* `multimodal` (qwen-image, qwen-image-edit; wan2.6-t2i too): one synchronous call to
  `/services/aigc/multimodal-generation/generation` with `input.messages` (`ImageGeneration.call`,
  `MultiModalConversation.call`); edits put the input images (data URIs) before the text. Image
  URLs come back in `choices[].message.content`.

Cancelling (`POST /tasks/{id}/cancel`, sent by the driver when the deadline passes or the caller
leaves) only works on a PENDING (still queued) task: DashScope answers 400 `UnsupportedOperation`
once the task is RUNNING. The cancel is sent anyway, since a queued task is then stopped, and its
refusal is ignored; a RUNNING task runs to its end upstream and its result expires unread after 24
hours. (The sandbox moves a task to RUNNING at its first poll, so there the cancel is refused.)

Sizes are written `W*H` (asterisk). Errors are `{"request_id", "code", "message"}`, sometimes in a
200 body; `ERROR_CODES` translates them. To support another DashScope API, add a builder and a
parser pair and a name in `APIS`.
"""

from __future__ import annotations

import re
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

APIS = ("text2image", "image_generation", "multimodal")
TASK_APIS = frozenset({"text2image", "image_generation"})  # submitted, then polled
PATHS = {
    "text2image": "/services/aigc/text2image/image-synthesis",
    "image_generation": "/services/aigc/image-generation/generation",
    "multimodal": "/services/aigc/multimodal-generation/generation",
}

# DashScope `code` -> gateway failure; a prefix match covers the dotted variants
# (`Throttling.RateQuota`, `AccessDenied.Unpurchased`, `InternalError.Algo`...).
ERROR_CODES: dict[str, str] = {
    "DataInspectionFailed": "content_policy",
    "InvalidParameter": "invalid_request",
    "BadRequest": "invalid_request",
    "InvalidURL": "invalid_request",
    "InvalidApiKey": "auth",
    "Throttling": "rate_limited",
    "Arrearage": "quota",
    "AccessDenied": "quota",
    "ModelNotFound": "not_found",
    "RequestTimeOut": "timeout",
    "InternalError": "server",
}

# Task states: still running (poll again), or finished.
RUNNING_STATES = frozenset({"PENDING", "RUNNING"})
FINISHED_FAILED = frozenset({"FAILED", "CANCELED", "UNKNOWN"})

# Canonical `extra` fields DashScope understands, and where each goes: (field, place per API).
# Anything else in `extra` is not sent.
EXTRA_FIELDS: dict[str, dict[str, str]] = {
    "negative_prompt": {"text2image": "input", "image_generation": "parameters", "multimodal": "parameters"},
    "seed": {"text2image": "parameters", "image_generation": "parameters", "multimodal": "parameters"},
    "prompt_extend": {
        "text2image": "parameters",
        "image_generation": "parameters",
        "multimodal": "parameters",
    },
}


def classify_code(code: str | None, status: int) -> str:
    """The failure for a DashScope error code, falling back to the HTTP status."""
    if code:
        family = code.split(".")[0]
        if code in ERROR_CODES or family in ERROR_CODES:
            return ERROR_CODES.get(code) or ERROR_CODES[family]
    return failure_for_status(status) if status >= 400 else "server"


def dashscope_size(size: str | None) -> str | None:
    """`1024x1024` -> `1024*1024`; None/`auto` -> None (the model's default)."""
    if not size or size == "auto":
        return None
    return size.lower().replace("x", "*")


def _api(call: Call) -> str:
    api = call.offering.options.get("api", "text2image")
    if api not in APIS:
        raise UpstreamError("invalid_request", f"unknown DashScope api {api!r} in the catalog; known: {APIS}")
    return str(api)


def _headers(call: Call, asynchronous: bool = False) -> dict[str, str]:
    headers = {"Authorization": f"Bearer {call.api_key}"}
    if asynchronous:
        headers["X-DashScope-Async"] = "enable"
    return headers


def _extras(call: Call, api: str, place: str) -> dict[str, Any]:
    return {
        name: call.request.extra[name]
        for name, places in EXTRA_FIELDS.items()
        if places.get(api) == place and call.request.extra.get(name) is not None
    }


def _parameters(call: Call, api: str) -> dict[str, Any]:
    params: dict[str, Any] = {"n": call.request.n, "watermark": False}
    size = dashscope_size(call.size)
    if size:
        params["size"] = size
    params.update(_extras(call, api, "parameters"))
    return params


def build_text2image(call: Call) -> dict[str, Any]:
    return {
        "model": call.offering.model_id,
        "input": {"prompt": call.request.prompt, **_extras(call, "text2image", "input")},
        "parameters": _parameters(call, "text2image"),
    }


def build_messages(call: Call, api: str) -> dict[str, Any]:
    """The chat-shaped body of the `multimodal` and `image_generation` APIs."""
    content: list[dict[str, str]] = [{"image": img.data_uri()} for img in call.request.images]
    content.append({"text": call.request.prompt})
    return {
        "model": call.offering.model_id,
        "input": {"messages": [{"role": "user", "content": content}]},
        "parameters": _parameters(call, api),
    }


def _error_from(body: dict[str, Any], status: int, retry_after: float | None = None) -> UpstreamError:
    code = body.get("code")
    code = str(code) if code else None
    message = str(body.get("message") or code or f"HTTP {status}")
    return UpstreamError(classify_code(code, status), message, status, code, retry_after)


def _error_body(response: UpstreamResponse) -> dict[str, Any]:
    """The error object of a failed answer; a body that is not JSON (a proxy's HTML page) counts as empty."""
    try:
        body = response.json()
    except UpstreamError:
        return {}
    return body if isinstance(body, dict) else {}


def parse_task(call: Call, body: dict[str, Any], status: int, api: str = "text2image") -> Done | Poll:
    """A task answer (the submit reply, or a poll): Poll while it runs, Done or an error when it ends."""
    output = body.get("output")
    if not isinstance(output, dict) or not output.get("task_status"):
        raise UpstreamError("malformed", "task answer has no output.task_status", status)
    state, task_id = str(output["task_status"]), output.get("task_id") or call.state.get("task_id")
    if state in RUNNING_STATES:
        if not task_id:
            raise UpstreamError("malformed", "task answer has no task_id", status)
        poll = UpstreamRequest("GET", f"{call.base_url}/tasks/{task_id}", _headers(call))
        return Poll(poll, state={"task_id": task_id})
    if state in FINISHED_FAILED:
        code = output.get("code")
        failure = "content_policy" if code == "DataInspectionFailed" else "job_failed"
        message = str(output.get("message") or f"task {task_id} ended {state}")
        raise UpstreamError(failure, message, status, str(code) if code else state)
    if state != "SUCCEEDED":
        raise UpstreamError("malformed", f"unknown task_status {state!r}", status)
    if api == "image_generation":
        return _choices_output(call, output, body.get("usage"), status)
    results = output.get("results")
    if not isinstance(results, list):
        raise UpstreamError("malformed", "a SUCCEEDED task has no output.results list", status)
    urls = [r["url"] for r in results if isinstance(r, dict) and isinstance(r.get("url"), str) and r["url"]]
    if not urls:
        refused = [r for r in results if isinstance(r, dict) and r.get("code")]
        if refused:
            raise _error_from(refused[0], status)  # every item failed: say why the first one did
        raise UpstreamError("no_image", "the task succeeded without an image", status)
    usage = body.get("usage") if isinstance(body.get("usage"), dict) else None
    size = call.size if call.size and call.size != "auto" else None
    return Done(ProviderOutput([GeneratedImage(url=u) for u in urls], usage, size))


def parse_multimodal(call: Call, body: dict[str, Any], status: int) -> Done:
    output = body.get("output")
    if not isinstance(output, dict):
        raise UpstreamError("malformed", "response has no output object", status)
    return _choices_output(call, output, body.get("usage"), status)


def _choices_output(call: Call, output: dict[str, Any], usage: Any, status: int) -> Done:
    """Images in `output.choices[].message.content[].image` (the chat-shaped APIs)."""
    choices = output.get("choices")
    if not isinstance(choices, list):
        raise UpstreamError("malformed", "response has no output.choices list", status)
    urls: list[str] = []
    for choice in choices:
        message = choice.get("message") if isinstance(choice, dict) else None
        content = message.get("content") if isinstance(message, dict) else None
        if isinstance(content, list):
            urls += [p["image"] for p in content if isinstance(p, dict) and isinstance(p.get("image"), str)]
    if not urls:
        raise UpstreamError("no_image", "the response contained no image", status)
    usage = usage if isinstance(usage, dict) else None
    return Done(ProviderOutput([GeneratedImage(url=u) for u in urls], usage, _usage_size(usage) or call.size))


def _usage_size(usage: dict[str, Any] | None) -> str | None:
    """The size DashScope reports: `width`/`height` (qwen-image) or `size: "W*H"` (wan2.6)."""
    if not usage:
        return None
    if isinstance(usage.get("width"), int) and isinstance(usage.get("height"), int):
        return f"{usage['width']}x{usage['height']}"
    size = usage.get("size")
    if isinstance(size, str) and re.fullmatch(r"[1-9][0-9]*\*[1-9][0-9]*", size):
        return size.replace("*", "x")
    return None


class AlibabaAdapter:
    slug = "alibaba"
    name = "Alibaba Cloud DashScope"
    media_hosts = ("aliyuncs.com",)  # dashscope-result-*.oss-*.aliyuncs.com

    def build(self, call: Call) -> UpstreamRequest:
        api = _api(call)
        body = build_text2image(call) if api == "text2image" else build_messages(call, api)
        headers = _headers(call, asynchronous=api in TASK_APIS)
        return UpstreamRequest("POST", f"{call.base_url}{PATHS[api]}", headers, json=body)

    def parse(self, call: Call, response: UpstreamResponse) -> Done | Poll:
        if response.status >= 400:
            raise _error_from(_error_body(response), response.status, retry_after_s(response.headers))
        body = response.json()
        if not isinstance(body, dict):
            raise UpstreamError("malformed", "response is not a JSON object", response.status)
        if body.get("code") and "output" not in body:  # DashScope can put an error in a 200 body
            raise _error_from(body, response.status, retry_after_s(response.headers))
        api = _api(call)
        if api in TASK_APIS:
            return parse_task(call, body, response.status, api)
        return parse_multimodal(call, body, response.status)

    def cancel(self, call: Call) -> UpstreamRequest | None:
        task_id = call.state.get("task_id")
        if not task_id:
            return None
        return UpstreamRequest("POST", f"{call.base_url}/tasks/{task_id}/cancel", _headers(call))
