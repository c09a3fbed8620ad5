"""fal.ai model endpoints, through the queue (default) or the synchronous `fal.run` host.

Queue protocol: submit `POST {queue}/{owner}/{app}[/{path}]`, poll `GET .../requests/{id}/status`
until `COMPLETED`, read `GET .../requests/{id}`, cancel with `PUT .../requests/{id}/cancel`. The
status, result and cancel URLs use only `{owner}/{app}`, never the endpoint's sub-path; the
URLs from the submit answer are used when they are on the queue host, else built that way.
Option `mode: sync` posts to the `run_url` host instead (default `https://fal.run`), whose answer
is the model output itself.

Each endpoint has its own input; the catalog row's `options` pick the dialect: `size_style`
(`image_size` presets or `{width, height}`, `aspect_ratio`, `aspect_resolution`), `edit_model_id`
(the endpoint used for edits), `image_field` (`image_urls` list or `image_url` single) and
`scale_field` (upscalers). A new dialect is a row in the tables below.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

from mediarouter.params.sizes import choose_aspect, parse_size, size_of
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

DEFAULT_RUN_URL = "https://fal.run"
# Pixel sizes fal names with an `image_size` preset; any other size is sent as {width, height}.
IMAGE_SIZE_PRESETS = {
    "1024x1024": "square_hd",
    "512x512": "square",
    "768x1024": "portrait_4_3",
    "576x1024": "portrait_16_9",
    "1024x768": "landscape_4_3",
    "1024x576": "landscape_16_9",
}
ASPECT_RATIOS = ("21:9", "16:9", "4:3", "3:2", "1:1", "2:3", "3:4", "9:16", "9:21")
OUTPUT_FORMATS = {"png": "png", "jpeg": "jpeg"}  # anything else is asked as PNG and converted
# image_field -> True when the endpoint takes a list of image URLs there, False for one.
IMAGE_FIELDS: dict[str, bool] = {"image_urls": True, "image_url": False}
# Extra request fields passed through under the same name when the caller sends them.
PASSTHROUGH = (
    "seed",
    "negative_prompt",
    "enable_safety_checker",
    "safety_tolerance",
    "guidance_scale",
    "num_inference_steps",
    "acceleration",
    "raw",
    "sync_mode",
)
NAMESPACES = ("workflows", "comfy")  # `{namespace}/{owner}/{app}/...` endpoint ids
RUNNING = frozenset({"IN_QUEUE", "IN_PROGRESS"})
POLICY_TYPES = frozenset({"content_policy_violation"})


def _sync(call: Call) -> bool:
    return call.options.get("mode") == "sync"


def endpoint_id(call: Call) -> str:
    edit_id = call.offering.options.get("edit_model_id")
    if call.request.mode == "edit" and edit_id:
        return str(edit_id)
    return call.offering.model_id


def app_path(endpoint: str) -> str:
    """`fal-ai/flux/dev` -> `fal-ai/flux`: the part the queue's job URLs are built on."""
    parts = endpoint.split("/")
    return "/".join(parts[:3] if parts[0] in NAMESPACES else parts[:2])


def _size_fields(call: Call) -> dict[str, Any]:
    style = call.offering.options.get("size_style")
    dims = size_of(call.size)
    if style == "image_size":
        if dims is None:
            return {}
        preset = IMAGE_SIZE_PRESETS.get(f"{dims[0]}x{dims[1]}")
        return {"image_size": preset or {"width": dims[0], "height": dims[1]}}
    if style not in ("aspect_ratio", "aspect_resolution"):
        return {}
    fields: dict[str, Any] = {}
    ratio = call.aspect_ratio or (
        choose_aspect(parse_size(call.size or ""), ASPECT_RATIOS, None) if dims else None
    )
    if ratio and ratio != "auto":
        fields["aspect_ratio"] = ratio
    if style == "aspect_resolution" and call.resolution:
        fields["resolution"] = call.resolution
    return fields


def _image_fields(call: Call, scale_field: str | None) -> dict[str, Any]:
    images = call.request.images
    if not images:
        return {}
    default = "image_url" if scale_field else "image_urls"
    name = str(call.offering.options.get("image_field") or default)
    takes_list = IMAGE_FIELDS.get(name, False)
    if not takes_list and len(images) > 1:
        raise UpstreamError(
            "invalid_request",
            f"fal's {endpoint_id(call)} takes one input image ('{name}'); got {len(images)}",
        )
    uris = [img.data_uri() for img in images]
    return {name: uris if takes_list else uris[0]}


def build_input(call: Call) -> dict[str, Any]:
    """The endpoint's JSON input, from the canonical request."""
    req = call.request
    scale_field = call.offering.options.get("scale_field")
    fields: dict[str, Any] = {}
    if req.prompt or not scale_field:
        fields["prompt"] = req.prompt
    fields.update(_size_fields(call))
    fields.update(_image_fields(call, scale_field))
    if scale_field:
        if req.scale_factor is not None:  # resolve_params sets it for upscalers
            fields[scale_field] = req.scale_factor
    else:
        fields["num_images"] = req.n
        fields["output_format"] = OUTPUT_FORMATS.get(req.output_format or "png", "png")
    for name in PASSTHROUGH:
        if name in req.extra:
            fields[name] = req.extra[name]
    return fields


def _headers(call: Call) -> dict[str, str]:
    return {"Authorization": f"Key {call.api_key}"}


def _job_url(given: Any, built: str, base_url: str) -> str:
    """The URL from the submit answer when it is on the queue's own host (our key goes with it)."""
    if isinstance(given, str):
        there, here = urlsplit(given), urlsplit(base_url)
        if (there.scheme, there.netloc) == (here.scheme, here.netloc):
            return given
    return built


class FalAdapter:
    slug = "fal"
    name = "fal.ai"
    media_hosts = ("fal.media", "v3.fal.media", "v3b.fal.media", "storage.googleapis.com")

    def build(self, call: Call) -> UpstreamRequest:
        base = str(call.options.get("run_url") or DEFAULT_RUN_URL) if _sync(call) else call.base_url
        url = f"{base.rstrip('/')}/{endpoint_id(call)}"
        return UpstreamRequest("POST", url, _headers(call), json=build_input(call))

    def parse(self, call: Call, response: UpstreamResponse) -> Done | Poll:
        if response.status >= 400:
            raise self.error(response)
        body = response.json()
        if not isinstance(body, dict):
            raise UpstreamError("malformed", "the answer is not a JSON object", response.status)
        step = call.state.get("fal_step")
        if _sync(call) or step == "result":
            return Done(self.output(body, response.status))
        if step is None:
            return self.submitted(call, body, response.status)
        return self.polled(call, body, response.status)

    def cancel(self, call: Call) -> UpstreamRequest | None:
        url = call.state.get("cancel_url")
        return UpstreamRequest("PUT", url, _headers(call)) if url else None

    @staticmethod
    def submitted(call: Call, body: dict[str, Any], status: int) -> Poll:
        request_id = body.get("request_id")
        if not isinstance(request_id, str) or not request_id:
            raise UpstreamError("malformed", "the queue answer has no request_id", status)
        root = f"{call.base_url.rstrip('/')}/{app_path(endpoint_id(call))}/requests/{request_id}"
        state = {
            "fal_step": "status",
            "request_id": request_id,
            "status_url": _job_url(body.get("status_url"), f"{root}/status", call.base_url),
            "response_url": _job_url(body.get("response_url"), root, call.base_url),
            "cancel_url": _job_url(body.get("cancel_url"), f"{root}/cancel", call.base_url),
        }
        return Poll(UpstreamRequest("GET", state["status_url"], _headers(call)), state=state)

    @staticmethod
    def polled(call: Call, body: dict[str, Any], status: int) -> Poll:
        job_status = body.get("status")
        if job_status in RUNNING:
            return Poll(UpstreamRequest("GET", call.state["status_url"], _headers(call)))
        if job_status != "COMPLETED":
            raise UpstreamError("job_failed", f"the request ended {job_status}", status, str(job_status))
        if body.get("error"):
            error_type = str(body.get("error_type") or "")
            failure = "content_policy" if error_type in POLICY_TYPES else "job_failed"
            raise UpstreamError(failure, str(body["error"]), status, error_type or None)
        result = UpstreamRequest("GET", call.state["response_url"], _headers(call))
        return Poll(result, after_s=0.0, state={"fal_step": "result"})

    @staticmethod
    def output(body: dict[str, Any], status: int) -> ProviderOutput:
        raw = body.get("images")
        items = (
            raw if isinstance(raw, list) else [body["image"]] if isinstance(body.get("image"), dict) else None
        )
        if items is None:
            raise UpstreamError("malformed", "the output has no 'images' list", status)
        flags = body.get("has_nsfw_concepts")
        flagged = flags if isinstance(flags, list) and len(flags) == len(items) else [False] * len(items)
        if items and all(flagged):
            raise UpstreamError("content_policy", "fal's safety checker flagged every image", status)
        images = [
            _image(item)
            for item, nsfw in zip(items, flagged, strict=True)
            if not nsfw and isinstance(item, dict) and isinstance(item.get("url"), str) and item["url"]
        ]
        if not images:
            raise UpstreamError("no_image", "the output contained no image", status)
        mime = images[0].mime or ""
        fmt = mime.split("/")[-1] if mime.startswith("image/") else None
        return ProviderOutput(images, output_format=fmt)

    @staticmethod
    def error(response: UpstreamResponse) -> UpstreamError:
        """`{"detail": str | [{loc, msg, type}]}`; a `content_policy_violation` type is a refusal."""
        try:
            body = response.json()
        except UpstreamError:
            body = None
        body = body if isinstance(body, dict) else {}
        detail = body.get("detail")
        items = [d for d in detail if isinstance(d, dict)] if isinstance(detail, list) else []
        types = {str(d.get("type")) for d in items if d.get("type")}
        error_type = body.get("error_type") or response.headers.get("x-fal-error-type")
        if error_type:
            types.add(str(error_type))
        message = "; ".join(str(d.get("msg") or d.get("type")) for d in items) if items else str(detail or "")
        failure = failure_for_status(response.status)
        if types & POLICY_TYPES:
            failure = "content_policy"
        elif failure == "invalid_request" and response.headers.get("x-fal-retryable", "").lower() == "true":
            failure = "server"  # fal says trying again may work: not the request's fault
        code = sorted(types)[0] if types else None
        return UpstreamError(
            failure,
            message or f"HTTP {response.status}",
            response.status,
            code,
            retry_after_s(response.headers),
        )


def _image(item: dict[str, Any]) -> GeneratedImage:
    """A CDN URL to fetch, or a data URI (`sync_mode`) kept as its base64 text, never fetched."""
    url = str(item["url"])
    mime = item.get("content_type") if isinstance(item.get("content_type"), str) else None
    if url.startswith("data:") and ";base64," in url:
        head, _, b64 = url.partition(",")
        return GeneratedImage(b64=b64, mime=head[5:].split(";")[0] or mime)
    return GeneratedImage(url=url, mime=mime)
