"""The xAI image emulator: `/v1/images/generations` and `/v1/images/edits`, both JSON.

Mounted at `/sandbox/xai`; clients use the base URL `.../sandbox/xai/v1` (the openai SDK works
for generation, as it does against api.x.ai). What it holds clients to, like the real API:

* `size`, `style` and other OpenAI-only fields are refused with the flat body
  `{"code": "400", "error": "Argument not supported: size"}`; `quality` is taken by
  grok-imagine-image-2.0 only; `aspect_ratio` and a lower-case `resolution` ("1k", "2k") by the
  grok-imagine models only.
* Edits are JSON, the source as `image: {"url": <data URI>, "type": "image_url"}`; several
  sources (up to 3) are read from `images: [...]` (or a list in `image`). A multipart edit, as
  the openai SDK's `images.edit()` sends, is refused with 415.
* Pictures are JPEG, as base64 (`response_format: b64_json`) or URLs served under `/files/`.

Other errors are flat too, `{"code": <status description>, "error": <text>}`; a moderation
refusal is a 403 whose text starts "Content violates usage guidelines".
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import math
from dataclasses import dataclass
from typing import Any

import orjson
from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.requests import ClientDisconnect, Request
from starlette.responses import Response
from starlette.routing import Route

from mediarouter.catalog.models import load_catalog
from mediarouter.sandbox.context import EmulatorContext
from mediarouter.sandbox.files import FileShelf, file_url, files_route
from mediarouter.sandbox.images import inspect_image, mime_for
from mediarouter.sandbox.injection import apply_fault

SLUG = "xai"
ASPECT_RATIOS = ("1:1", "16:9", "9:16", "4:3", "3:4", "3:2", "2:3", "2:1", "1:2", "20:9", "9:20")
ASPECT_RATIOS_EXTRA = ("19.5:9", "9:19.5", "auto")
RESOLUTION_EDGES = {"1k": 1024, "1.5k": 1536, "2k": 2048}
LEGACY_SIZE = (1024, 768)  # grok-2-image answers at one size
MAX_SOURCES = 3
# Model -> (takes aspect_ratio/resolution and edits, takes quality); catalog xAI rows are added.
KNOWN_MODELS: dict[str, tuple[bool, bool]] = {
    "grok-imagine-image": (True, False),
    "grok-imagine-image-quality": (True, False),
    "grok-imagine-image-pro": (True, False),
    "grok-imagine-image-2.0": (True, True),
    "grok-2-image": (False, False),
    "grok-2-image-1212": (False, False),
    "grok-2-image-latest": (False, False),
}
COMMON_FIELDS = frozenset({"model", "prompt", "n", "response_format", "user"})
# gRPC status descriptions, which xAI puts in `code` for most errors.
STATUS_CODES: dict[int, tuple[str, str]] = {
    400: ("Client specified an invalid argument", "Invalid request."),
    401: ("The request does not have valid authentication credentials", "Invalid or missing API key."),
    403: (
        "The caller does not have permission to execute the specified operation",
        "Your team has either used all available credits or reached its monthly spending limit.",
    ),
    404: ("Some requested entity was not found", "The requested resource was not found."),
    429: ("Some resource has been exhausted", "Too many requests: your team's rate limit was exceeded."),
    500: ("Internal error", "The service encountered an internal error."),
    503: ("The service is currently unavailable", "The service is temporarily overloaded."),
}


class XaiError(Exception):
    def __init__(self, status: int, message: str, code: str | None = None) -> None:
        super().__init__(message)
        self.status = status
        self.body = {"code": code or STATUS_CODES.get(status, (str(status), ""))[0], "error": message}

    def response(self) -> Response:
        return _json(self.body, self.status)


def unsupported(name: str) -> XaiError:
    return XaiError(400, f"Argument not supported: {name}", code="400")


def _json(content: Any, status: int = 200) -> Response:
    return Response(orjson.dumps(content), status_code=status, media_type="application/json")


class XaiDialect:
    def __init__(self, model: str) -> None:
        self._model = model

    def error(self, status: int, message: str | None) -> Response:
        default = STATUS_CODES.get(status, (str(status), f"HTTP {status}"))[1]
        return XaiError(status, message or default).response()

    def content_policy(self) -> Response:
        text = (
            "Content violates usage guidelines. Team: sandbox, API key ID: sandbox, "
            f"Model: {self._model}, Failed check: SAFETY_CHECK_TYPE_SEXUAL"
        )
        return XaiError(403, text).response()

    def empty(self) -> Response:
        return _json({"data": []})


@dataclass(frozen=True)
class Task:
    model: str
    prompt: str
    n: int
    width: int
    height: int
    b64: bool
    sources: tuple[bytes, ...] = ()


def _models() -> dict[str, tuple[bool, bool]]:
    models = dict(KNOWN_MODELS)
    for model in load_catalog().models:
        offering = model.offering(SLUG)
        if offering is not None and offering.model_id not in models:
            models[offering.model_id] = (
                offering.model_id.startswith("grok-imagine"),
                "quality" in model.params,
            )
    return models


def build_xai_emulator(context: EmulatorContext) -> Starlette:
    emulator = XaiEmulator(context, FileShelf(context.settings.url_ttl_s), _models())
    routes = [
        Route("/v1/images/generations", emulator.generations, methods=["POST"]),
        Route("/v1/images/edits", emulator.edits, methods=["POST"]),
        files_route(emulator.shelf),
    ]
    handlers: dict[Any, Any] = {
        XaiError: _error_response,
        HTTPException: _http_error,
        ClientDisconnect: _gone,
        Exception: _server_error,
    }
    return Starlette(routes=routes, exception_handlers=handlers)


class XaiEmulator:
    def __init__(
        self, context: EmulatorContext, shelf: FileShelf, models: dict[str, tuple[bool, bool]]
    ) -> None:
        self.context = context
        self.shelf = shelf
        self.models = models

    async def generations(self, request: Request) -> Response:
        return await self._handle(request, edit=False)

    async def edits(self, request: Request) -> Response:
        return await self._handle(request, edit=True)

    async def _handle(self, request: Request, edit: bool) -> Response:
        _api_key(request)
        body, problem = await _read_json(request)
        model = str(body["model"]) if isinstance(body.get("model"), str) else ""
        fault = self.context.book.hit(SLUG, model or None)
        faulty = await apply_fault(fault, request, XaiDialect(model), self.context.settings.hang_s)
        if faulty is not None:
            return faulty
        if problem is not None:
            raise problem
        task = self._task(body, edit)
        pictures = await asyncio.gather(*(self._draw(task, i) for i in range(task.n)))
        items: list[dict[str, Any]] = []
        for picture in pictures:
            if task.b64:
                items.append({"b64_json": base64.b64encode(picture).decode("ascii")})
            else:
                items.append({"url": file_url(request, self.shelf.put(picture, mime_for("jpeg"), "jpeg"))})
            if not self.models[task.model][0]:
                items[-1]["revised_prompt"] = f"{task.prompt.rstrip('. ')}, rendered in high detail."
        return _json({"data": items})

    def _task(self, body: dict[str, Any], edit: bool) -> Task:
        model = body.get("model")
        if not isinstance(model, str) or not model:
            raise XaiError(400, "Argument 'model' is required")
        if model not in self.models:
            raise XaiError(
                404, f"The model {model} does not exist or your team sandbox does not have access to it."
            )
        imagine, takes_quality = self.models[model]
        allowed = COMMON_FIELDS | ({"aspect_ratio", "resolution"} if imagine else set())
        allowed |= {"quality"} if takes_quality else set()
        allowed |= {"image", "images"} if edit else set()
        for name in body:
            if name not in allowed:
                raise unsupported(name)
        prompt = body.get("prompt")
        if not isinstance(prompt, str) or not prompt.strip():
            raise XaiError(400, "Argument 'prompt' is required and must be a non-empty string")
        n = body.get("n", 1)
        if isinstance(n, bool) or not isinstance(n, int) or not 1 <= n <= 10:
            raise XaiError(400, f"Invalid value for n: {n!r}. It must be between 1 and 10.")
        response_format = body.get("response_format", "url")
        if response_format not in ("url", "b64_json"):
            raise XaiError(400, f"Invalid response_format {response_format!r}: expected 'url' or 'b64_json'")
        if takes_quality and body.get("quality", "medium") not in ("low", "medium"):
            raise XaiError(400, f"Invalid quality {body.get('quality')!r}: expected 'low' or 'medium'")
        sources = _sources(body) if edit else ()
        if edit and not imagine:
            raise XaiError(400, f"Model {model} does not support image editing")
        width, height = _dimensions(body, sources) if imagine else LEGACY_SIZE
        return Task(model, prompt, n, width, height, response_format == "b64_json", sources)

    async def _draw(self, task: Task, variant: int) -> bytes:
        renderer = self.context.renderer
        if not task.sources:
            return await renderer.render_async(task.prompt, task.width, task.height, "jpeg", variant=variant)
        return await renderer.render_edit_async(
            list(task.sources), task.prompt, task.width, task.height, "jpeg", variant=variant
        )


def _ratio_value(ratio: str) -> float:
    a, b = ratio.split(":")
    return float(a) / float(b)


def _dimensions(body: dict[str, Any], sources: tuple[bytes, ...]) -> tuple[int, int]:
    """Pixels for an aspect ratio and tier: edge x edge in area, sides in multiples of 16."""
    ratio = body.get("aspect_ratio")
    resolution = body.get("resolution", "1k")
    if ratio is not None and ratio not in ASPECT_RATIOS + ASPECT_RATIOS_EXTRA:
        raise XaiError(400, f"Invalid aspect_ratio {ratio!r}: expected one of {', '.join(ASPECT_RATIOS)}")
    if resolution not in RESOLUTION_EDGES:
        raise XaiError(
            400, f"Invalid resolution {resolution!r}: expected one of {', '.join(RESOLUTION_EDGES)}"
        )
    if ratio in (None, "auto"):
        info = inspect_image(sources[0]) if sources else None
        want = info.width / info.height if info else 1.0
        ratio = min(ASPECT_RATIOS, key=lambda r: abs(math.log(_ratio_value(r) / want)))
    edge, value = RESOLUTION_EDGES[resolution], _ratio_value(str(ratio))
    return round(edge * math.sqrt(value) / 16) * 16, round(edge / math.sqrt(value) / 16) * 16


def _sources(body: dict[str, Any]) -> tuple[bytes, ...]:
    values: list[Any] = []
    for name in ("image", "images"):
        value = body.get(name)
        if value is not None:
            values += value if isinstance(value, list) else [value]
    if not values:
        raise XaiError(400, 'An edit needs \'image\' ({"url": ..., "type": "image_url"}) or \'images\'')
    if len(values) > MAX_SOURCES:
        raise XaiError(400, f"At most {MAX_SOURCES} images can be edited together; got {len(values)}")
    return tuple(_decode_source(v, i) for i, v in enumerate(values))


def _decode_source(value: Any, index: int) -> bytes:
    url = value.get("url") if isinstance(value, dict) else value
    where = f"image {index + 1}"
    if not isinstance(url, str) or not url:
        raise XaiError(400, f'{where}: expected {{"url": <https URL or data URI>, "type": "image_url"}}')
    if not url.startswith("data:"):
        raise XaiError(400, f"{where}: only data URIs can be read in the sandbox (it cannot fetch URLs)")
    try:
        data = base64.b64decode(url.split(",", 1)[1], validate=True)
    except (IndexError, binascii.Error, ValueError):
        raise XaiError(400, f"{where}: the data URI is not valid base64") from None
    if inspect_image(data) is None:
        raise XaiError(400, f"{where}: unsupported or corrupt image")
    return data


def _api_key(request: Request) -> str:
    scheme, _, key = request.headers.get("authorization", "").partition(" ")
    if scheme.lower() != "bearer" or not key.strip():
        message = "Incorrect API key provided: ***. You can obtain an API key from https://console.x.ai."
        raise XaiError(400, message)
    return key.strip()


async def _read_json(request: Request) -> tuple[dict[str, Any], XaiError | None]:
    """The body, or {} and the error to answer once faults have had their turn."""
    content_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
    raw = await request.body()
    if content_type != "application/json":
        return {}, XaiError(415, "Expected request with `Content-Type: application/json`", code="415")
    try:
        body = orjson.loads(raw)
    except orjson.JSONDecodeError:
        return {}, XaiError(400, "Failed to parse the request body as JSON")
    if not isinstance(body, dict):
        return {}, XaiError(400, "The request body must be a JSON object")
    return body, None


async def _error_response(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, XaiError)
    return exc.response()


async def _http_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, HTTPException)
    return XaiError(exc.status_code, f"No such endpoint: {request.method} {request.url.path}").response()


async def _gone(request: Request, exc: Exception) -> Response:
    return Response(status_code=499)


async def _server_error(request: Request, exc: Exception) -> Response:
    return XaiDialect("").error(500, None)
