"""The Fireworks AI image-workflow emulator: FLUX.1 text-to-image (sync) and FLUX.1 Kontext (jobs).

Mounted at `/sandbox/fireworks`; clients use the base URL `.../sandbox/fireworks/inference/v1`.

* `POST .../workflows/accounts/fireworks/models/{model}/text_to_image` answers with the picture
  itself when `Accept` is `image/jpeg`, `image/png`, `image/*` or absent (a `Finish-Reason` header
  says SUCCESS or CONTENT_FILTERED), and with `{"id", "base64": [...], "finishReason", "seed"}`
  for `Accept: application/json`.
* `POST .../models/{model}` (Kontext) queues a job and answers `{"request_id"}`; `POST
  .../models/{model}/get_result` with `{"id"}` reports `Pending` for `PENDING_POLLS` polls, then
  `Ready` with `result.sample`, a URL served by this emulator under `/files/`.

Models are the catalog's Fireworks rows (option `api`). Faults: a refusal or a job mode met by a
Kontext request decides that job's fate (`Request Moderated`, `Error`, `Pending` forever, or
`Ready` without a sample); every other mode answers the request it meets.
"""

from __future__ import annotations

import base64
import binascii
import io
import math
import secrets
import time
import uuid
from dataclasses import dataclass
from typing import Any

import orjson
from PIL import Image
from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.requests import ClientDisconnect, Request
from starlette.responses import Response
from starlette.routing import Route

from mediarouter.catalog.models import load_catalog
from mediarouter.sandbox.context import EmulatorContext
from mediarouter.sandbox.faults import Fault
from mediarouter.sandbox.files import FileShelf, Recipe, file_url, files_route
from mediarouter.sandbox.images import inspect_image, mime_for
from mediarouter.sandbox.injection import DroppedConnection, apply_fault, hold

SLUG = "fireworks"
MODEL_PATH = "/inference/v1/workflows/accounts/{account}/models/{model}"
PENDING_POLLS = 1  # get_result answers Pending this many times before Ready
# FLUX.1 pixels per aspect ratio (about one megapixel, multiples of 16/32).
FLUX_SIZES: dict[str, tuple[int, int]] = {
    "1:1": (1024, 1024), "21:9": (1536, 640), "16:9": (1344, 768), "3:2": (1216, 832), "5:4": (1120, 896),
    "4:5": (896, 1120), "2:3": (832, 1216), "9:16": (768, 1344), "9:21": (640, 1536), "4:3": (1152, 896),
    "3:4": (896, 1152),
}  # fmt: skip
# Kontext's preferred resolutions; other ratios between 21:9 and 9:21 get ~1 MP in multiples of 32.
KONTEXT_SIZES: dict[str, tuple[int, int]] = {
    "21:9": (1568, 672), "16:9": (1392, 752), "4:3": (1184, 880), "3:2": (1248, 832), "1:1": (1024, 1024),
    "2:3": (832, 1248), "3:4": (880, 1184), "9:16": (752, 1392), "9:21": (672, 1568),
}  # fmt: skip
FLUX_DEFAULT_RATIO = "16:9"  # the API reference's default
# Fault modes that decide a Kontext job's outcome instead of answering the request they meet.
JOB_FATES = {"job_failed": "failed", "job_stuck": "stuck", "content_policy": "moderated", "empty": "empty"}
RAW_TYPES = {"image/jpeg": "jpeg", "image/png": "png", "image/*": "jpeg", "*/*": "jpeg"}
ERROR_TYPES: dict[int, tuple[str, str]] = {
    400: ("invalid_request_error", "Invalid request."),
    401: ("authentication_error", "The API key you provided is invalid."),
    402: ("payment_required", "Your account is suspended due to unpaid invoices or exceeded credit limits."),
    403: ("permission_denied", "You do not have access to this model."),
    404: ("not_found", "Model not found, inaccessible, and/or not deployed."),
    429: ("rate_limit_exceeded", "Request rate limit exceeded, please try again later."),
    500: ("internal_server_error", "Internal server error."),
    503: ("service_unavailable", "The service is temporarily overloaded, please try again later."),
}


class FireworksError(Exception):
    def __init__(self, status: int, message: str | None = None, code: str | None = None) -> None:
        kind, default = ERROR_TYPES.get(
            status, ("server_error" if status >= 500 else "invalid_request_error", "")
        )
        self.status = status
        self.body = {
            "error": {"object": "error", "type": kind, "code": code or kind, "message": message or default}
        }
        super().__init__(self.body["error"]["message"])

    def response(self) -> Response:
        return _json(self.body, self.status)


def _json(content: Any, status: int = 200, headers: dict[str, str] | None = None) -> Response:
    return Response(orjson.dumps(content), status_code=status, media_type="application/json", headers=headers)


@dataclass
class Job:
    id: str
    model: str
    prompt: str
    width: int
    height: int
    fmt: str
    seed: int
    source: bytes | None
    fate: str = "ready"  # ready | failed | stuck | moderated | empty
    polls: int = 0
    sample: str | None = None
    finished_at: float | None = None


def _models() -> dict[str, str]:
    """Provider model id -> api (`text_to_image` | `kontext`), from the catalog's Fireworks rows."""
    found: dict[str, str] = {}
    for model in load_catalog().models:
        offering = model.offering(SLUG)
        if offering is not None:
            api = offering.options.get("api") or (
                "kontext" if "kontext" in offering.model_id else "text_to_image"
            )
            found[offering.model_id.rsplit("/", 1)[-1]] = str(api)
    return found


class FireworksDialect:
    """Fault voice for one request: `raw` is the image format of a binary answer, None for JSON."""

    def __init__(self, raw: str | None, width: int, height: int) -> None:
        self._raw, self._size = raw, (width, height)

    def error(self, status: int, message: str | None) -> Response:
        return FireworksError(status, message).response()

    def content_policy(self) -> Response:
        headers = {"Finish-Reason": "CONTENT_FILTERED", "Seed": "0"}
        if self._raw is None:
            body = {"id": str(uuid.uuid4()), "base64": [], "finishReason": "CONTENT_FILTERED", "seed": 0}
            return _json(body, headers=headers)
        return Response(_blank(*self._size, self._raw), media_type=mime_for(self._raw), headers=headers)

    def empty(self) -> Response:
        if self._raw is None:
            return _json({"id": str(uuid.uuid4()), "base64": [], "finishReason": "SUCCESS", "seed": 0})
        return Response(b"", media_type=mime_for(self._raw), headers={"Finish-Reason": "SUCCESS"})


def _blank(width: int, height: int, fmt: str) -> bytes:
    """What the safety checker sends instead of a filtered picture: a black image."""
    out = io.BytesIO()
    Image.new("RGB", (width, height)).save(out, format=fmt.upper())
    return out.getvalue()


def build_fireworks_emulator(context: EmulatorContext) -> Starlette:
    emulator = FireworksEmulator(context, FileShelf(context.settings.url_ttl_s), _models())
    routes = [
        Route(MODEL_PATH + "/text_to_image", emulator.text_to_image, methods=["POST"]),
        Route(MODEL_PATH + "/get_result", emulator.get_result, methods=["POST"]),
        Route(MODEL_PATH, emulator.submit, methods=["POST"]),
        files_route(emulator.shelf),
    ]
    handlers: dict[Any, Any] = {
        FireworksError: _error_response,
        HTTPException: _http_error,
        ClientDisconnect: _client_gone,
        Exception: _server_error,
    }
    return Starlette(routes=routes, exception_handlers=handlers)


class FireworksEmulator:
    def __init__(self, context: EmulatorContext, shelf: FileShelf, models: dict[str, str]) -> None:
        self.context = context
        self.shelf = shelf
        self.models = models
        self.jobs: dict[str, Job] = {}

    async def text_to_image(self, request: Request) -> Response:
        _api_key(request)
        body, problem = await _read_json(request)
        model = request.path_params["model"]
        accept = request.headers.get("accept")
        raw = _raw_format(accept)
        ratio = body.get("aspect_ratio", FLUX_DEFAULT_RATIO)
        width, height = FLUX_SIZES.get(ratio, (1024, 1024)) if isinstance(ratio, str) else (1024, 1024)
        fault = self.context.book.hit(SLUG, model)
        dialect = FireworksDialect(raw, width, height)
        faulty = await apply_fault(fault, request, dialect, self.context.settings.hang_s)
        if faulty is not None:
            return faulty
        if problem is not None:
            raise problem
        self._check_model(model, "text_to_image")
        prompt = _prompt(body)
        if ratio not in FLUX_SIZES:
            raise FireworksError(400, f"aspect_ratio must be one of {', '.join(FLUX_SIZES)}; got {ratio!r}")
        seed = _integer(body, "seed", 0, 2**32 - 1) or secrets.randbelow(2**31)
        _integer(body, "num_inference_steps", 1, 100)
        _number(body, "guidance_scale", 0.0, 100.0)
        if raw is None and _first_type(accept) != "application/json":
            raise FireworksError(
                406, f"Unsupported Accept header {accept!r}: use image/jpeg, image/png or application/json"
            )
        fmt = raw or _json_image_format(request.headers.get("json-return-image-accept"))
        picture = await self.context.renderer.render_async(prompt, width, height, fmt)
        headers = {"Finish-Reason": "SUCCESS", "Seed": str(seed)}
        if raw is not None:
            return Response(picture, media_type=mime_for(fmt), headers=headers)
        encoded = base64.b64encode(picture).decode("ascii")
        return _json({"id": str(uuid.uuid4()), "base64": [encoded], "finishReason": "SUCCESS", "seed": seed})

    async def submit(self, request: Request) -> Response:
        _api_key(request)
        body, problem = await _read_json(request)
        model = request.path_params["model"]
        faulty, fate = await self._meet(self.context.book.hit(SLUG, model), request)
        if faulty is not None:
            return faulty
        if problem is not None:
            raise problem
        self._check_model(model, "kontext")
        job = _kontext_job(model, body)
        job.fate = fate or job.fate
        self.jobs[job.id] = job
        return _json({"request_id": job.id})

    async def get_result(self, request: Request) -> Response:
        _api_key(request)
        body, problem = await _read_json(request)
        job_id = body.get("id")
        job = self.jobs.get(job_id) if isinstance(job_id, str) else None
        fault = self.context.book.hit(SLUG, job.model if job else request.path_params["model"])
        faulty, fate = await self._meet(fault, request)
        if faulty is not None:
            return faulty
        if problem is not None:
            raise problem
        if not isinstance(job_id, str) or not job_id:
            raise FireworksError(400, "Field 'id' is required")
        if job is None:
            return _json({"id": job_id, "status": "Task not found", "result": None})
        if fate is not None and job.polls <= PENDING_POLLS:
            job.fate = fate  # the job has not been reported finished yet
        job.polls += 1
        return _json(self._status(request, job))

    async def _meet(self, fault: Fault | None, request: Request) -> tuple[Response | None, str | None]:
        """(faulty response, None) for request-level modes; (None, fate) for modes that decide the job."""
        fate = JOB_FATES.get(fault.mode) if fault is not None else None
        if fault is None or fate is None:
            dialect = FireworksDialect(None, 1024, 1024)
            return await apply_fault(fault, request, dialect, self.context.settings.hang_s), None
        if fault.latency_ms and not await hold(request, fault.latency_ms / 1000):
            return DroppedConnection(), None
        return None, fate

    def _status(self, request: Request, job: Job) -> dict[str, Any]:
        answer: dict[str, Any] = {"id": job.id, "status": "Pending", "result": None, "progress": None}
        if job.fate == "stuck" or job.polls <= PENDING_POLLS:
            answer["progress"] = round(min(0.95, job.polls / (PENDING_POLLS + 1)), 2)
            return answer
        if job.fate == "failed":
            return {**answer, "status": "Error", "details": {"message": "Generation failed: internal error"}}
        if job.fate == "moderated":
            return {**answer, "status": "Request Moderated", "details": {"Moderation Reasons": ["Content"]}}
        if job.fate == "empty":
            return {**answer, "status": "Ready", "result": {}}
        if job.sample is None:
            name = self.shelf.put(self._recipe(job), mime_for(job.fmt), job.fmt)
            job.sample, job.finished_at = file_url(request, name), time.time()
        result = {"sample": job.sample, "prompt": job.prompt, "seed": job.seed, "end_time": job.finished_at}
        return {**answer, "status": "Ready", "result": result, "progress": 1.0}

    def _recipe(self, job: Job) -> Recipe:
        async def draw() -> bytes:
            renderer = self.context.renderer
            if job.source is None:
                return await renderer.render_async(job.prompt, job.width, job.height, job.fmt)
            return await renderer.render_edit_async([job.source], job.prompt, job.width, job.height, job.fmt)

        return draw

    def _check_model(self, model: str, api: str) -> None:
        if self.models.get(model) != api:
            raise FireworksError(
                404, f"Model not found, inaccessible, and/or not deployed: accounts/fireworks/models/{model}"
            )


def _kontext_job(model: str, body: dict[str, Any]) -> Job:
    prompt = _prompt(body)
    fmt = body.get("output_format", "jpeg")
    if fmt not in ("jpeg", "png"):
        raise FireworksError(400, f"output_format must be 'jpeg' or 'png'; got {fmt!r}")
    source = _input_image(body.get("input_image"))
    _integer(body, "safety_tolerance", 0, 2 if source else 6)
    seed = _integer(body, "seed", 0, 2**32 - 1) or secrets.randbelow(2**31)
    ratio = body.get("aspect_ratio")
    if ratio is None:
        width, height = _kontext_size(_source_ratio(source) if source else "1:1")
    else:
        width, height = _kontext_size(ratio)
    return Job(str(uuid.uuid4()), model, prompt, width, height, fmt, seed, source)


def _kontext_size(ratio: object) -> tuple[int, int]:
    if isinstance(ratio, str) and ratio in KONTEXT_SIZES:
        return KONTEXT_SIZES[ratio]
    try:
        a, b = (float(x) for x in str(ratio).split(":"))
        value = a / b
    except ValueError:
        value = 0.0
    if not 9 / 21 - 1e-6 <= value <= 21 / 9 + 1e-6:
        raise FireworksError(400, f"aspect_ratio must be between 21:9 and 9:21; got {ratio!r}")
    width = round(1024 * math.sqrt(value) / 32) * 32
    return width, round(1024 * 1024 / width / 32) * 32


def _source_ratio(source: bytes) -> str:
    info = inspect_image(source)
    assert info is not None
    want = info.width / info.height
    return min(KONTEXT_SIZES, key=lambda r: abs(math.log(KONTEXT_SIZES[r][0] / KONTEXT_SIZES[r][1] / want)))


def _input_image(value: object) -> bytes | None:
    if value is None:
        return None
    if not isinstance(value, str) or not value:
        raise FireworksError(400, "input_image must be a base64 string or a data URI")
    if value.startswith(("http://", "https://")):
        raise FireworksError(
            400, "input_image URLs cannot be fetched by the sandbox; send base64 or a data URI"
        )
    text = value.split(",", 1)[1] if value.startswith("data:") else value
    try:
        data = base64.b64decode(text, validate=True)
    except (binascii.Error, ValueError):
        raise FireworksError(400, "input_image is not valid base64") from None
    if inspect_image(data) is None:
        raise FireworksError(400, "input_image is not an image that can be decoded")
    return data


def _first_type(accept: str | None) -> str:
    return (accept or "*/*").split(",")[0].split(";")[0].strip().lower()


def _raw_format(accept: str | None) -> str | None:
    """The image format to answer with directly, or None for a JSON (or refused) answer."""
    return RAW_TYPES.get(_first_type(accept))


def _json_image_format(value: str | None) -> str:
    return "png" if (value or "").strip().lower() == "image/png" else "jpeg"


def _api_key(request: Request) -> str:
    scheme, _, key = request.headers.get("authorization", "").partition(" ")
    if scheme.lower() != "bearer" or not key.strip():
        raise FireworksError(
            401, "Missing or invalid Authorization header: expected 'Bearer <FIREWORKS_API_KEY>'"
        )
    return key.strip()


async def _read_json(request: Request) -> tuple[dict[str, Any], FireworksError | None]:
    """The body, or {} and the error to answer once faults have had their turn."""
    try:
        body = orjson.loads(await request.body())
    except orjson.JSONDecodeError:
        return {}, FireworksError(400, "The request body is not valid JSON")
    if not isinstance(body, dict):
        return {}, FireworksError(400, "The request body must be a JSON object")
    return body, None


def _prompt(body: dict[str, Any]) -> str:
    prompt = body.get("prompt")
    if not isinstance(prompt, str) or not prompt.strip():
        raise FireworksError(400, "Field 'prompt' is required and must be a non-empty string")
    return prompt


def _integer(body: dict[str, Any], name: str, low: int, high: int) -> int | None:
    value = body.get(name)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
        raise FireworksError(
            400, f"Field '{name}' must be an integer between {low} and {high}; got {value!r}"
        )
    return value


def _number(body: dict[str, Any], name: str, low: float, high: float) -> None:
    value = body.get(name)
    if value is not None and (
        isinstance(value, bool) or not isinstance(value, int | float) or not low <= value <= high
    ):
        raise FireworksError(400, f"Field '{name}' must be a number between {low} and {high}; got {value!r}")


async def _error_response(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, FireworksError)
    return exc.response()


async def _http_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, HTTPException)
    return FireworksError(exc.status_code, f"Invalid URL ({request.method} {request.url.path})").response()


async def _client_gone(request: Request, exc: Exception) -> Response:
    return Response(status_code=499)


async def _server_error(request: Request, exc: Exception) -> Response:
    return FireworksError(500).response()
