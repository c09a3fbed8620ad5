"""Replicate predictions API: `POST /models/{owner}/{name}/predictions`, then poll until terminal.

Each model on Replicate has its own input schema; the catalog row's `options` say which dialect
a model speaks, and the tables below turn the canonical request into it:

- `size_style`: `aspect_ratio` (an enum such as "16:9"), `aspect_resolution` (aspect ratio plus a
  "1K"/"2K"/"4K" tier) or `width_height` (`size: "custom"` with pixel `width`/`height`);
- `image_field`: where edit images go (`image_input`/`input_images` take a list of data URIs,
  `input_image`/`image` take one);
- `n_field`: the count field for models that draw several images per prediction;
- `scale_field`: the upscale factor field of upscalers.

A new model is a catalog row; a new dialect is a row in these tables. The create request asks
the server to hold it (`Prefer: wait=N`, N from the `wait_s` option, capped by the attempt's time
left) so quick models finish in one round trip; otherwise the prediction is polled at `urls.get`
and cancelled at `urls.cancel` when the attempt gives up.
"""

from __future__ import annotations

import math
import re
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

# The aspect ratios most Replicate image models accept (`aspect_ratio` enum of the FLUX family).
ASPECT_RATIOS = ("1:1", "16:9", "21:9", "3:2", "2:3", "4:5", "5:4", "3:4", "4:3", "9:16", "9:21")
# Canonical output format -> Replicate's spelling; anything else is asked as PNG and converted.
OUTPUT_FORMATS = {"png": "png", "jpeg": "jpg", "webp": "webp"}
FORMAT_OF = {"png": "png", "jpg": "jpeg", "jpeg": "jpeg", "webp": "webp"}
# image_field -> True when the model takes a list of images there, False when it takes one.
IMAGE_FIELDS: dict[str, bool] = {
    "image_input": True,
    "input_images": True,
    "input_image": False,
    "image": False,
}
# Extra request fields passed through as the same input names when the caller sends them.
PASSTHROUGH = ("seed", "negative_prompt", "go_fast", "safety_tolerance", "prompt_upsampling", "megapixels")
TERMINAL = frozenset({"succeeded", "failed", "canceled"})
RUNNING = frozenset({"starting", "processing"})
DEFAULT_WAIT_S = 60  # Replicate holds a request at most 60 s
WAIT_MARGIN_S = 0.5  # leave time to read the answer before the attempt deadline
# A failed prediction whose error matches this was refused by the safety checker.
SENSITIVE = re.compile(r"\(E005\)|flagged as sensitive|nsfw|safety filter|content moderat", re.IGNORECASE)


def _aspect_ratio(call: Call) -> str | None:
    """The model's aspect ratio: the one chosen for ratio models, else the closest to the pixels."""
    if call.aspect_ratio:
        return call.aspect_ratio
    if call.size == "auto":
        return "match_input_image" if call.request.mode == "edit" else None
    if size_of(call.size) is None:
        return None
    return choose_aspect(parse_size(call.size or ""), ASPECT_RATIOS, None)


def _size_fields(call: Call) -> dict[str, Any]:
    style = call.offering.options.get("size_style")
    if style == "width_height":
        dims = size_of(call.size)
        return {"size": "custom", "width": dims[0], "height": dims[1]} if dims else {}
    fields: dict[str, Any] = {}
    if style in ("aspect_ratio", "aspect_resolution") and (ratio := _aspect_ratio(call)):
        fields["aspect_ratio"] = ratio
    if style == "aspect_resolution" and call.resolution:
        fields["resolution"] = call.resolution
    return fields


def _image_fields(call: Call) -> dict[str, Any]:
    images = call.request.images
    if not images:
        return {}
    name = str(call.offering.options.get("image_field") or "image")
    takes_list = IMAGE_FIELDS.get(name, False)
    if not takes_list and len(images) > 1:
        raise UpstreamError(
            "invalid_request",
            f"Replicate's {call.offering.model_id} takes one input image ('{name}'); got {len(images)}",
        )
    uris = [img.data_uri() for img in images]
    return {name: uris if takes_list else uris[0]}


def _sends_quality(call: Call) -> bool:
    """`output_quality` goes with JPEG and WebP output; upscalers keep their input's format."""
    req = call.request
    lossy = OUTPUT_FORMATS.get(req.output_format or "png", "png") != "png"
    return req.output_compression is not None and lossy and not call.offering.options.get("scale_field")


def build_input(call: Call) -> dict[str, Any]:
    """The prediction's `input` object for this model, from the canonical request."""
    req, options = call.request, call.offering.options
    scale_field = options.get("scale_field")
    fields: dict[str, Any] = {}
    if req.prompt or not scale_field:
        fields["prompt"] = req.prompt
    fields.update(_size_fields(call))
    fields.update(_image_fields(call))
    if (n_field := options.get("n_field")) and req.n:
        fields[n_field] = req.n
    if scale_field and req.scale_factor is not None:  # resolve_params sets it for upscalers
        fields[scale_field] = req.scale_factor
    if not scale_field:  # upscalers keep their input's format
        fields["output_format"] = OUTPUT_FORMATS.get(req.output_format or "png", "png")
        if _sends_quality(call):
            fields["output_quality"] = req.output_compression
    for name in PASSTHROUGH:
        if name in req.extra:
            fields[name] = req.extra[name]
    return fields


def _wait_s(call: Call) -> int | None:
    """Seconds for `Prefer: wait`; None when there is too little time left to wait at all."""
    wanted = float(call.options.get("wait_s", DEFAULT_WAIT_S))
    if call.time_left_s is not None:
        wanted = min(wanted, call.time_left_s - WAIT_MARGIN_S)
    seconds = min(DEFAULT_WAIT_S, math.floor(wanted))
    return seconds if seconds >= 1 else None


def _headers(call: Call) -> dict[str, str]:
    return {"Authorization": f"Bearer {call.api_key}"}


def _same_origin(url: Any, base_url: str) -> bool:
    """Job URLs from an answer are followed (with our key) only on the API's own host."""
    if not isinstance(url, str):
        return False
    there, here = urlsplit(url), urlsplit(base_url)
    return (there.scheme, there.netloc) == (here.scheme, here.netloc)


class ReplicateAdapter:
    slug = "replicate"
    name = "Replicate"
    media_hosts = ("replicate.delivery", "pbxt.replicate.delivery")

    def build(self, call: Call) -> UpstreamRequest:
        headers = _headers(call)
        if (wait := _wait_s(call)) is not None:
            headers["Prefer"] = f"wait={wait}"
        url = f"{call.base_url}/models/{call.offering.model_id}/predictions"
        return UpstreamRequest("POST", url, headers, json={"input": build_input(call)})

    def parse(self, call: Call, response: UpstreamResponse) -> Done | Poll:
        if response.status >= 400:
            raise self.error(response)
        prediction = response.json()
        if not isinstance(prediction, dict) or not isinstance(prediction.get("id"), str):
            raise UpstreamError("malformed", "the answer is not a prediction object", response.status)
        status = prediction.get("status")
        if status == "succeeded":
            return Done(self.output(call, prediction, response.status))
        if status in TERMINAL:
            raise self.job_error(prediction)
        if status not in RUNNING:
            raise UpstreamError("malformed", f"unknown prediction status {status!r}", response.status)
        urls = prediction.get("urls") if isinstance(prediction.get("urls"), dict) else {}
        own = f"{call.base_url}/predictions/{prediction['id']}"
        get_url = urls["get"] if _same_origin(urls.get("get"), call.base_url) else own
        cancel_url = urls["cancel"] if _same_origin(urls.get("cancel"), call.base_url) else f"{own}/cancel"
        state = {"prediction_id": prediction["id"], "cancel_url": cancel_url}
        return Poll(UpstreamRequest("GET", get_url, _headers(call)), state=state)

    def cancel(self, call: Call) -> UpstreamRequest | None:
        url = call.state.get("cancel_url")
        return UpstreamRequest("POST", url, _headers(call)) if url else None

    @staticmethod
    def output(call: Call, prediction: dict[str, Any], status: int) -> ProviderOutput:
        raw = prediction.get("output")
        items = raw if isinstance(raw, list) else [raw] if raw is not None else []
        images = [_image(item) for item in items if isinstance(item, str) and item]
        if not images:
            raise UpstreamError("no_image", "the prediction succeeded without an image", status)
        given = prediction.get("input") if isinstance(prediction.get("input"), dict) else {}
        fmt = FORMAT_OF.get(str(given.get("output_format")))
        metrics = prediction.get("metrics") if isinstance(prediction.get("metrics"), dict) else None
        output = ProviderOutput(images, usage=metrics, output_format=fmt)
        output.compression_applied = _sends_quality(call)
        return output

    @staticmethod
    def job_error(prediction: dict[str, Any]) -> UpstreamError:
        status = prediction.get("status")
        message = str(prediction.get("error") or f"the prediction ended {status}")
        if status == "failed" and SENSITIVE.search(message):
            return UpstreamError("content_policy", message, provider_code="E005")
        return UpstreamError("job_failed", message, provider_code=str(status))

    @staticmethod
    def error(response: UpstreamResponse) -> UpstreamError:
        """RFC 7807 problem details (`title`, `detail`, `status`); the HTTP status decides the failure."""
        try:
            body = response.json()
        except UpstreamError:
            body = None
        problem = body if isinstance(body, dict) else {}
        detail = problem.get("detail") or problem.get("title") or f"HTTP {response.status}"
        title = problem.get("title")
        return UpstreamError(
            failure_for_status(response.status),
            str(detail),
            response.status,
            str(title) if title else None,
            retry_after_s(response.headers),
        )


def _image(item: str) -> GeneratedImage:
    """A URL to fetch, or a data URI (sync answers may inline the file) kept as its base64 text."""
    if item.startswith("data:") and ";base64," in item:
        head, _, b64 = item.partition(",")
        return GeneratedImage(b64=b64, mime=head[5:].split(";")[0] or None)
    return GeneratedImage(url=item)
