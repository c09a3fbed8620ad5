"""The Runware emulator: `POST /v1` with a JSON array of tasks, sync or async delivery.

Mounted at `/sandbox/runware`; clients use the base URL `.../sandbox/runware/v1`. The key comes as
`Authorization: Bearer` or as an `authentication` task first in the array. Tasks:

* `imageInference`, validated against the models of the catalog's Runware rows and their pixel
  rules (`size_multiple`/`size_range`, or the fixed `aspect_sizes`); results carry
  `imageURL` / `imageBase64Data` / `imageDataURI` per `outputType`, `NSFWContent` when the
  safety check was asked for, and `cost` with `includeCost`.
* With `deliveryMethod: "async"` the answer is an acknowledgement; `getResponse` with the same
  `taskUUID` then reports `processing` for `PENDING_POLLS` polls and `success` after that.
* `ping`.

Errors are `{"errors": [{code, message, parameter, taskType, taskUUID}]}` with the HTTP status
of the first failure; a task that fails while running is reported in `errors` with HTTP 200, next
to the other tasks' `data`. Faults: a refusal, `empty` or a job mode decides the task's outcome
(NSFW-flagged results, no results, a failed task, or one that never finishes); the other modes
answer the request they meet.
"""

from __future__ import annotations

import base64
import io
import uuid
from dataclasses import dataclass
from typing import Any

from PIL import Image
from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.requests import ClientDisconnect, Request
from starlette.responses import Response
from starlette.routing import Route

from mediarouter.sandbox.context import EmulatorContext
from mediarouter.sandbox.faults import Fault
from mediarouter.sandbox.files import FileShelf, file_url, files_route
from mediarouter.sandbox.images import mime_for
from mediarouter.sandbox.injection import DroppedConnection, apply_fault, hold
from mediarouter.sandbox.runware.errors import RunwareDialect, RunwareError, policy_error, runware_json
from mediarouter.sandbox.runware.tasks import (
    SLUG,
    Inference,
    ModelRule,
    authenticate,
    catalog_rules,
    parse_inference,
    read_tasks,
)

PENDING_POLLS = 1  # getResponse reports `processing` this many times before the results
JOB_FATES = {"job_failed": "failed", "job_stuck": "stuck", "content_policy": "nsfw", "empty": "empty"}


@dataclass
class Job:
    inference: Inference
    fate: str = "ready"  # ready | failed | stuck | nsfw | empty
    polls: int = 0
    results: list[dict[str, Any]] | None = None


def build_runware_emulator(context: EmulatorContext) -> Starlette:
    emulator = RunwareEmulator(context, FileShelf(context.settings.url_ttl_s), catalog_rules())
    routes = [
        Route("/v1", emulator.tasks, methods=["POST"]),
        Route("/v1/", emulator.tasks, methods=["POST"]),
        files_route(emulator.shelf),
    ]
    handlers: dict[Any, Any] = {
        RunwareError: _error_response,
        HTTPException: _http_error,
        ClientDisconnect: _client_gone,
        Exception: _server_error,
    }
    return Starlette(routes=routes, exception_handlers=handlers)


class RunwareEmulator:
    def __init__(self, context: EmulatorContext, shelf: FileShelf, models: dict[str, ModelRule]) -> None:
        self.context = context
        self.shelf = shelf
        self.models = models
        self.jobs: dict[str, Job] = {}

    async def tasks(self, request: Request) -> Response:
        tasks, problem = await read_tasks(request)
        tasks = authenticate(request, tasks)
        first = next((t for t in tasks if t.get("taskType") in ("imageInference", "getResponse")), None)
        fault = self.context.book.hit(SLUG, self._model_of(first))
        faulty, fate = await self._meet(fault, request, first)
        if faulty is not None:
            return faulty
        if problem is not None:
            raise problem
        data: list[dict[str, Any]] = []
        errors: list[RunwareError] = []
        for task in tasks:
            try:
                data += await self._run(request, task, fate)
            except RunwareError as exc:
                errors.append(exc)
            except _Stuck:
                await hold(request, self.context.settings.hang_s)
                return DroppedConnection()
        body: dict[str, Any] = {"data": data} if data or not errors else {}
        if errors:
            body["errors"] = [e.item for e in errors]
        failed = [e.status for e in errors if e.status != 200]
        return runware_json(body, failed[0] if failed and not data else 200)

    def _model_of(self, task: dict[str, Any] | None) -> str | None:
        if task is None:
            return None
        if task.get("taskType") == "getResponse":
            job = self.jobs.get(str(task.get("taskUUID")))
            return job.inference.model if job else None
        model = task.get("model")
        return model if isinstance(model, str) else None

    async def _meet(
        self, fault: Fault | None, request: Request, task: dict[str, Any] | None
    ) -> tuple[Response | None, str | None]:
        """(faulty response, None) for request-level modes; (None, fate) for modes that decide a task."""
        fate = JOB_FATES.get(fault.mode) if fault is not None else None
        if fault is None or fate is None:
            return await apply_fault(fault, request, RunwareDialect(task), self.context.settings.hang_s), None
        if fault.latency_ms and not await hold(request, fault.latency_ms / 1000):
            return DroppedConnection(), None
        return None, fate

    async def _run(self, request: Request, task: dict[str, Any], fate: str | None) -> list[dict[str, Any]]:
        kind = task.get("taskType")
        if kind == "imageInference":
            inference = parse_inference(task, self.models)
            job = Job(inference, fate or "ready")
            if inference.is_async:
                self.jobs[inference.uuid] = job
                return [{"taskType": "imageInference", "taskUUID": inference.uuid}]
            if job.fate == "stuck":
                raise _Stuck
            return await self._finish(request, job)
        if kind == "getResponse":
            return await self._poll(request, task, fate)
        if kind == "ping":
            return [{"taskType": "ping", "pong": True}]
        raise RunwareError(400, "unsupportedTaskType", f"Unsupported taskType {kind!r}", "taskType", task)

    async def _poll(self, request: Request, task: dict[str, Any], fate: str | None) -> list[dict[str, Any]]:
        job = self.jobs.get(str(task.get("taskUUID")))
        if job is None:
            message = "No async task with this taskUUID is running or finished recently."
            raise RunwareError(400, "taskFailedOrNotFound", message, "taskUUID", task)
        if fate is not None and job.polls <= PENDING_POLLS:
            job.fate = fate  # not reported finished yet
        job.polls += 1
        inference = job.inference
        if job.fate == "stuck" or job.polls <= PENDING_POLLS:
            item = {"taskType": "imageInference", "taskUUID": inference.uuid, "status": "processing"}
            return [dict(item) for _ in range(inference.n)]
        if job.results is None:
            job.results = await self._finish(request, job)
        return job.results

    async def _finish(self, request: Request, job: Job) -> list[dict[str, Any]]:
        """The results of a task that ran to its fate (a failure is raised as a 200 error item)."""
        inference = job.inference
        if job.fate == "failed":
            failure = RunwareError(
                200, "inferenceError", "The inference failed on the worker.", task=inference.task
            )
            failure.item["status"] = "error"
            raise failure
        if job.fate == "nsfw" and not inference.check_content:
            raise policy_error(inference.task)
        if job.fate == "empty":
            return [_result_base(inference)] if inference.is_async else []
        return [await self._result(request, job, i) for i in range(inference.n)]

    async def _result(self, request: Request, job: Job, index: int) -> dict[str, Any]:
        inference = job.inference
        flagged = job.fate == "nsfw"
        picture = await self._draw(inference, index, flagged)
        item = _result_base(inference) | {"imageUUID": str(uuid.uuid4()), "seed": inference.seed + index}
        mime = mime_for(inference.fmt)
        if inference.output_field == "imageURL":
            item["imageURL"] = file_url(request, self.shelf.put(picture, mime, inference.fmt))
        elif inference.output_field == "imageDataURI":
            item["imageDataURI"] = f"data:{mime};base64,{base64.b64encode(picture).decode('ascii')}"
        else:
            item["imageBase64Data"] = base64.b64encode(picture).decode("ascii")
        if inference.check_content:
            item["NSFWContent"] = flagged
        if inference.cost is not None:
            item["cost"] = inference.cost
        return item

    async def _draw(self, inference: Inference, index: int, flagged: bool) -> bytes:
        size_and_format = (inference.width, inference.height, inference.fmt, inference.quality)
        if flagged:
            return _blank(*size_and_format)
        renderer = self.context.renderer
        if not inference.sources:
            return await renderer.render_async(inference.prompt, *size_and_format, variant=index)
        return await renderer.render_edit_async(
            inference.sources, inference.prompt, *size_and_format, mask=inference.mask, variant=index
        )


class _Stuck(Exception):
    """A sync task that never finishes: the request is held until the client gives up."""


def _result_base(inference: Inference) -> dict[str, Any]:
    base = {"taskType": "imageInference", "taskUUID": inference.uuid}
    return base | {"status": "success"} if inference.is_async else base


def _blank(width: int, height: int, fmt: str, quality: int | None) -> bytes:
    """What a flagged result carries instead of the picture: a black image."""
    out = io.BytesIO()
    Image.new("RGB", (width, height)).save(out, format=fmt.upper())
    return out.getvalue()


async def _error_response(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, RunwareError)
    return exc.response()


async def _http_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, HTTPException)
    return RunwareError(
        exc.status_code, "invalidEndpoint", f"No endpoint {request.method} {request.url.path}; use POST /v1"
    ).response()


async def _client_gone(request: Request, exc: Exception) -> Response:
    return Response(status_code=499)


async def _server_error(request: Request, exc: Exception) -> Response:
    return RunwareDialect(None).error(500, None)
