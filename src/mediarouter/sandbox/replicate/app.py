"""The Replicate emulator, mounted at `/sandbox/replicate` (clients use the base URL `.../v1`).

Endpoints: `POST /v1/models/{owner}/{name}/predictions`, `POST /v1/predictions` (with `version`),
`GET /v1/predictions` (cursor pages), `GET /v1/predictions/{id}`, `POST /v1/predictions/{id}/cancel`,
the SSE `urls.stream`, `GET /v1/models/{owner}/{name}[/versions/{id}]`, and `GET /delivery/xezq/{file}`
standing for the replicate.delivery CDN. Auth: `Authorization: Bearer <token>` (or legacy `Token`).

Every API request is counted with `book.hit("replicate", model)`. `Prefer: wait=N` holds a create
request until the prediction ends or N seconds pass, then answers it as it is (`starting` when not
finished, as Replicate does). Job fault modes set the fate of a new prediction (`predictions.py`);
the other modes are applied to any request by `injection.apply_fault`.
"""

from __future__ import annotations

import asyncio
import time
from collections import OrderedDict
from collections.abc import AsyncIterator
from typing import Any

import orjson
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response, StreamingResponse
from starlette.routing import Route

from mediarouter.sandbox.context import EmulatorContext
from mediarouter.sandbox.files import FileShelf, Recipe
from mediarouter.sandbox.images import mime_for
from mediarouter.sandbox.injection import apply_fault, hold
from mediarouter.sandbox.replicate.errors import (
    HANDLERS,
    Answered,
    ProblemError,
    ReplicateDialect,
    replicate_json,
)
from mediarouter.sandbox.replicate.inputs import ModelEntry, load_models, parse_input, prefer_wait
from mediarouter.sandbox.replicate.predictions import (
    FATES,
    Prediction,
    advance,
    cancel,
    model_body,
    prediction_body,
    version_body,
)

SLUG = "replicate"
JOB_S = 0.1  # a prediction ends this long after creation...
JOB_POLLS = 3  # ...or after this many polls, whichever comes first
MAX_PREDICTIONS = 10_000  # the oldest are forgotten first
PAGE_SIZE = 100
UNKNOWN_VERSION = "The specified version does not exist (or perhaps you don't have permission to use it?)"


def build_replicate_emulator(context: EmulatorContext) -> Starlette:
    emulator = ReplicateEmulator(context, load_models())
    routes = [
        Route("/v1/models/{owner}/{name}/predictions", emulator.create_for_model, methods=["POST"]),
        Route("/v1/models/{owner}/{name}", emulator.get_model, methods=["GET"]),
        Route("/v1/models/{owner}/{name}/versions/{version}", emulator.get_version, methods=["GET"]),
        Route("/v1/predictions", emulator.create_for_version, methods=["POST"]),
        Route("/v1/predictions", emulator.list_predictions, methods=["GET"]),
        Route("/v1/predictions/{id}", emulator.get_prediction, methods=["GET"]),
        Route("/v1/predictions/{id}/cancel", emulator.cancel, methods=["POST"]),
        Route("/v1/predictions/{id}/stream", emulator.stream, methods=["GET"]),
        Route("/delivery/xezq/{name}", emulator.delivery, methods=["GET"]),
    ]
    return Starlette(routes=routes, exception_handlers=HANDLERS)


class ReplicateEmulator:
    def __init__(
        self,
        context: EmulatorContext,
        models: dict[str, ModelEntry],
        job_s: float = JOB_S,
        job_polls: int = JOB_POLLS,
    ) -> None:
        self.context = context
        self.models = models
        self.by_version = {m.version: m for m in models.values()}
        self.job_s = job_s
        self.job_polls = job_polls
        self.shelf = FileShelf(context.settings.url_ttl_s)
        self.predictions: OrderedDict[str, Prediction] = OrderedDict()

    # --- creating

    async def create_for_model(self, request: Request) -> Response:
        _token(request)
        body = await _body(request)
        model_id = f"{request.path_params['owner']}/{request.path_params['name']}"
        return await self._create(request, body, self.models.get(model_id), model_id)

    async def create_for_version(self, request: Request) -> Response:
        _token(request)
        body = await _body(request)
        version = str(body.get("version") or "") if isinstance(body, dict) else ""
        name, _, version_id = version.rpartition(":")  # "owner/name:id", "id" or "owner/name"
        entry = self.by_version.get(version_id) or self.models.get(name or version_id)
        if entry is None:
            raise ProblemError(422, UNKNOWN_VERSION, title="Invalid version or not permitted")
        return await self._create(request, body, entry, entry.id)

    async def _create(self, request: Request, body: Any, entry: ModelEntry | None, model_id: str) -> Response:
        fault = self.context.book.hit(SLUG, model_id)
        fate = fault.mode if fault is not None and fault.mode in FATES else None
        if fate is None:
            faulty = await apply_fault(fault, request, ReplicateDialect(), self.context.settings.hang_s)
            if faulty is not None:
                return faulty
        elif fault is not None and fault.latency_ms and not await hold(request, fault.latency_ms / 1000):
            return Response(status_code=499)  # the client left
        if entry is None:
            raise ProblemError(404, f"Model {model_id} not found or you don't have permission to use it")
        if not isinstance(body, dict):
            raise ProblemError(400, "The request body must be a JSON object")
        prediction = Prediction(entry, body.get("input"), parse_input(entry, body.get("input")), fate)
        self.predictions[prediction.id] = prediction
        while len(self.predictions) > MAX_PREDICTIONS:
            self.predictions.popitem(last=False)
        if wait_s := prefer_wait(request.headers.get("prefer")):
            await self._hold_until_done(request, prediction, wait_s)
        return replicate_json(self._body(request, prediction), 201)

    async def _hold_until_done(self, request: Request, prediction: Prediction, wait_s: int) -> None:
        deadline = prediction.created + wait_s
        while True:
            self._advance(prediction, polled=False)
            left = deadline - time.monotonic()
            if prediction.done or left <= 0:
                return
            if prediction.fate != "job_stuck":
                left = min(left, prediction.created + self.job_s - time.monotonic())
            if not await hold(request, max(0.01, left)):
                return

    def _advance(self, prediction: Prediction, polled: bool) -> None:
        if advance(prediction, polled, self.job_s, self.job_polls):
            mime = mime_for(prediction.job.fmt)
            ext = "jpg" if prediction.job.fmt == "jpeg" else prediction.job.fmt
            prediction.files = [
                self.shelf.put(self._recipe(prediction, i), mime, ext) for i in range(prediction.job.count)
            ]

    def _recipe(self, prediction: Prediction, variant: int) -> Recipe:
        """Drawn when downloaded: the shelf holds arguments, not pictures."""
        renderer, job = self.context.renderer, prediction.job

        async def draw() -> bytes:
            if job.sources:
                return await renderer.render_edit_async(
                    job.sources, job.prompt, job.width, job.height, job.fmt, variant=variant
                )
            return await renderer.render_async(job.prompt, job.width, job.height, job.fmt, variant=variant)

        return draw

    # --- reading, cancelling, listing

    async def get_prediction(self, request: Request) -> Response:
        prediction = await self._existing(request)
        self._advance(prediction, polled=True)
        return replicate_json(self._body(request, prediction))

    async def cancel(self, request: Request) -> Response:
        prediction = await self._existing(request)
        self._advance(prediction, polled=False)
        cancel(prediction)
        return replicate_json(self._body(request, prediction))

    async def list_predictions(self, request: Request) -> Response:
        _token(request)
        await self._fault(request, None)
        cursor = request.query_params.get("cursor", "0")
        start = int(cursor) if cursor.isdigit() else 0
        newest = list(reversed(self.predictions.values()))
        base = f"{_root(request)}/v1/predictions"
        following = f"{base}?cursor={start + PAGE_SIZE}" if start + PAGE_SIZE < len(newest) else None
        previous = f"{base}?cursor={max(0, start - PAGE_SIZE)}" if start else None
        results = [self._body(request, p) for p in newest[start : start + PAGE_SIZE]]
        return replicate_json({"next": following, "previous": previous, "results": results})

    async def stream(self, request: Request) -> Response:
        """Server-sent events once the prediction ends: `error` if it failed, an `output` per file, `done`."""
        prediction = await self._existing(request)

        async def events() -> AsyncIterator[bytes]:
            deadline = time.monotonic() + self.context.settings.hang_s
            while not prediction.done and time.monotonic() < deadline:
                self._advance(prediction, polled=False)
                await asyncio.sleep(0.05)
            body = self._body(request, prediction)
            sent = [("error", orjson.dumps({"detail": body["error"]}).decode())] if body["error"] else []
            output = body["output"]
            sent += [("output", url) for url in (output if isinstance(output, list) else [output]) if url]
            for number, (event, data) in enumerate([*sent, ("done", "{}")]):
                yield f"event: {event}\nid: {prediction.id}:{number}\ndata: {data}\n\n".encode()

        return StreamingResponse(events(), media_type="text/event-stream")

    async def get_model(self, request: Request) -> Response:
        return replicate_json(model_body(await self._model(request)))

    async def get_version(self, request: Request) -> Response:
        entry = await self._model(request)
        if request.path_params["version"] != entry.version:
            raise ProblemError(404)
        return replicate_json(version_body(entry))

    async def delivery(self, request: Request) -> Response:
        found = await self.shelf.read(request.path_params["name"])
        if found is None:
            return PlainTextResponse("Not found", status_code=404)
        content, mime = found
        return Response(content, media_type=mime, headers={"cache-control": "public, max-age=3600"})

    async def _existing(self, request: Request) -> Prediction:
        _token(request)
        prediction = self.predictions.get(request.path_params["id"])
        await self._fault(request, prediction.model.id if prediction else None)
        if prediction is None:
            raise ProblemError(404)
        return prediction

    async def _model(self, request: Request) -> ModelEntry:
        _token(request)
        model_id = f"{request.path_params['owner']}/{request.path_params['name']}"
        await self._fault(request, model_id)
        entry = self.models.get(model_id)
        if entry is None:
            raise ProblemError(404)
        return entry

    async def _fault(self, request: Request, model_id: str | None) -> None:
        """Count a request that creates nothing; raises `Answered` when a fault answers it."""
        fault = self.context.book.hit(SLUG, model_id)
        if fault is not None and fault.mode in FATES:
            return  # fates apply to new predictions only
        faulty = await apply_fault(fault, request, ReplicateDialect(), self.context.settings.hang_s)
        if faulty is not None:
            raise Answered(faulty)

    def _body(self, request: Request, prediction: Prediction) -> dict[str, Any]:
        return prediction_body(prediction, _root(request), self.job_s)


def _token(request: Request) -> str:
    scheme, _, token = request.headers.get("authorization", "").partition(" ")
    if scheme.lower() not in ("bearer", "token") or not token.strip():
        raise ProblemError(401)
    return token.strip()


async def _body(request: Request) -> Any:
    raw = await request.body()
    try:
        return orjson.loads(raw) if raw else {}
    except orjson.JSONDecodeError:
        return None


def _root(request: Request) -> str:
    """This emulator's absolute URL (`.../sandbox/replicate`) as the client reached it."""
    root = request.url.replace(path=request.scope.get("root_path", ""), query="", fragment="")
    return str(root).rstrip("/")
