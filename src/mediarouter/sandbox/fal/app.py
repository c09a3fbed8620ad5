"""The fal emulator, mounted at `/sandbox/fal`: both of fal's hosts and its CDN.

- `{root}/queue` stands for `https://queue.fal.run`: submit `POST /queue/{endpoint}`, then
  `GET /queue/{owner}/{app}/requests/{id}/status` (202 while `IN_QUEUE`/`IN_PROGRESS`, 200 once
  `COMPLETED`), the result at `GET .../requests/{id}` and `PUT .../requests/{id}/cancel`. As on fal,
  job URLs use only `{owner}/{app}`: asking with the endpoint's sub-path is answered 405.
- `{root}/run` stands for `https://fal.run`: `POST /run/{endpoint}` answers the model output itself.
- `{root}/media/files/{name}` stands for `v3.fal.media`; `sync_mode: true` inlines data URIs instead.

Auth: `Authorization: Key <key>`. Every API request is counted with `book.hit("fal", endpoint)`.
Job fault modes set the fate of a queued request (`jobs.py`); on the sync host they become a 500,
a hang, an empty output, and the 422 refusal. Other modes go through `injection.apply_fault`.
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
from collections import OrderedDict
from typing import Any

import orjson
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response
from starlette.routing import Route

from mediarouter.sandbox.context import EmulatorContext
from mediarouter.sandbox.fal.errors import (
    CANCELLED_MESSAGE,
    DEFAULT_ERRORS,
    FAILED_MESSAGE,
    HANDLERS,
    Answered,
    FalDialect,
    FalError,
    fal_json,
    policy_refusal,
)
from mediarouter.sandbox.fal.inputs import Endpoint, app_path, load_endpoints, parse_input
from mediarouter.sandbox.fal.jobs import FATES, Job, advance, job_urls, status_body
from mediarouter.sandbox.files import FileShelf, Recipe
from mediarouter.sandbox.images import mime_for
from mediarouter.sandbox.injection import DroppedConnection, apply_fault, hold

SLUG = "fal"
JOB_S = 0.1  # a queued request completes this long after submission...
JOB_POLLS = 3  # ...or after this many status polls, whichever comes first
MAX_REQUESTS = 10_000  # the oldest are forgotten first


def build_fal_emulator(context: EmulatorContext) -> Starlette:
    emulator = FalEmulator(context, load_endpoints())
    routes = [
        Route("/queue/{path:path}", emulator.submit, methods=["POST"]),
        Route("/queue/{path:path}", emulator.read, methods=["GET"]),
        Route("/queue/{path:path}", emulator.cancel, methods=["PUT"]),
        Route("/run/{path:path}", emulator.run, methods=["POST"]),
        Route("/media/files/{name}", emulator.media, methods=["GET"]),
    ]
    return Starlette(routes=routes, exception_handlers=HANDLERS)


class FalEmulator:
    def __init__(
        self,
        context: EmulatorContext,
        endpoints: dict[str, Endpoint],
        job_s: float = JOB_S,
        job_polls: int = JOB_POLLS,
    ) -> None:
        self.context = context
        self.endpoints = endpoints
        self.job_s = job_s
        self.job_polls = job_polls
        self.shelf = FileShelf(context.settings.url_ttl_s)
        self.jobs: OrderedDict[str, Job] = OrderedDict()

    # --- the queue host

    async def submit(self, request: Request) -> Response:
        _key(request)
        given = await _body(request)
        endpoint_id = request.path_params["path"].strip("/")
        fault = self.context.book.hit(SLUG, endpoint_id)
        fate = fault.mode if fault is not None and fault.mode in FATES else None
        if fate is None:
            faulty = await apply_fault(fault, request, FalDialect(), self.context.settings.hang_s)
            if faulty is not None:
                return faulty
        elif fault is not None and fault.latency_ms and not await hold(request, fault.latency_ms / 1000):
            return Response(status_code=499)  # the client left
        endpoint = self._endpoint(endpoint_id)
        job = Job(endpoint, parse_input(endpoint, given), fate)
        self.jobs[job.id] = job
        while len(self.jobs) > MAX_REQUESTS:
            self.jobs.popitem(last=False)
        body = {
            "request_id": job.id,
            **job_urls(_root(request), job),
            "status": "IN_QUEUE",
            "queue_position": 0,
        }
        return fal_json(body, headers={"x-fal-request-id": job.id})

    async def read(self, request: Request) -> Response:
        """`.../requests/{id}/status`, or `.../requests/{id}`: the result once completed."""
        job, action = await self._addressed(request)
        if action == "status":
            advance(job, True, self.job_s, self.job_polls)
            with_logs = request.query_params.get("logs", "").lower() in ("1", "true")
            body = status_body(job, _root(request), with_logs, self.job_s)
            return fal_json(body, 200 if job.status == "COMPLETED" else 202)
        if action:
            raise FalError(404, "Not Found")
        advance(job, False, self.job_s, self.job_polls)
        if job.status != "COMPLETED":
            raise FalError(400, "Request is still in progress")
        return await self._result(request, job)

    async def cancel(self, request: Request) -> Response:
        job, action = await self._addressed(request)
        if action != "cancel":
            raise FalError(405, "Method Not Allowed")
        advance(job, False, self.job_s, self.job_polls)
        if job.status == "COMPLETED":
            return fal_json({"status": "ALREADY_COMPLETED"}, 400)
        job.cancelled, job.status = True, "COMPLETED"
        return fal_json({"status": "CANCELLATION_REQUESTED"}, 202)

    async def _addressed(self, request: Request) -> tuple[Job, str]:
        """The job a `{owner}/{app}/requests/{id}[/{action}]` path names, and the action."""
        _key(request)
        app, marker, rest = request.path_params["path"].strip("/").partition("/requests/")
        request_id, _, action = rest.partition("/")
        job = self.jobs.get(request_id) if marker else None
        fault = self.context.book.hit(SLUG, job.endpoint.id if job else None)
        if fault is not None and fault.mode not in FATES:  # fates apply to new requests only
            faulty = await apply_fault(fault, request, FalDialect(), self.context.settings.hang_s)
            if faulty is not None:
                raise Answered(faulty)
        if job is None:
            raise FalError(404, f"Request {request_id} not found" if marker else "Not Found")
        if app != job.app_path:
            if app.startswith(f"{job.app_path}/"):  # the endpoint's sub-path: not a queue URL
                raise FalError(405, "Method Not Allowed")
            raise FalError(404, f"Request {request_id} not found")
        return job, action

    async def _result(self, request: Request, job: Job) -> Response:
        if job.cancelled:
            raise FalError(400, CANCELLED_MESSAGE)
        if job.fate == "job_failed":
            raise FalError(500, FAILED_MESSAGE)
        if job.fate == "content_policy":
            raise policy_refusal(job.task.prompt)
        return fal_json(await self._output(request, job), headers={"x-fal-request-id": job.id})

    # --- the sync host and the CDN

    async def run(self, request: Request) -> Response:
        _key(request)
        given = await _body(request)
        endpoint_id = request.path_params["path"].strip("/")
        fault = self.context.book.hit(SLUG, endpoint_id)
        faulty = await apply_fault(fault, request, FalDialect(), self.context.settings.hang_s)
        if faulty is not None:
            return faulty
        endpoint = self._endpoint(endpoint_id)
        fate = fault.mode if fault is not None and fault.mode in FATES else None
        job = Job(endpoint, parse_input(endpoint, given), fate)
        if job.fate == "job_stuck":
            await hold(request, self.context.settings.hang_s)
            return DroppedConnection()
        await asyncio.sleep(min(self.job_s, 0.05))
        job.status = "COMPLETED"
        return await self._result(request, job)

    async def media(self, request: Request) -> Response:
        found = await self.shelf.read(request.path_params["name"])
        if found is None:
            return PlainTextResponse("Not Found", status_code=404)
        content, mime = found
        return Response(content, media_type=mime, headers={"cache-control": "public, max-age=3600"})

    def _endpoint(self, endpoint_id: str) -> Endpoint:
        endpoint = self.endpoints.get(endpoint_id)
        if endpoint is None:
            raise FalError(404, f"Application '{app_path(endpoint_id)}' not found: {DEFAULT_ERRORS[404]}")
        return endpoint

    # --- the model output

    async def _output(self, request: Request, job: Job) -> dict[str, Any]:
        task = job.task
        mime = mime_for(task.fmt)
        count = 0 if job.fate == "empty" else task.count
        if task.inline:
            pictures = await asyncio.gather(*(self._recipe(job, i)() for i in range(count)))
            urls = [f"data:{mime};base64,{base64.b64encode(p).decode()}" for p in pictures]
        else:
            if job.files is None:
                job.files = [self.shelf.put(self._recipe(job, i), mime, task.fmt) for i in range(count)]
            urls = [f"{_root(request)}/media/files/{name}" for name in job.files]
        images = [
            {
                "url": url,
                "width": task.width,
                "height": task.height,
                "content_type": mime,
                "file_name": f"{job.id[:8]}-{i}.{task.fmt}",
            }
            for i, url in enumerate(urls)
        ]
        timings = {"inference": round(self.job_s, 3)}
        if job.endpoint.upscaler:
            return {"image": images[0] if images else None, "timings": timings}
        seed = int(hashlib.sha256(job.id.encode()).hexdigest()[:8], 16)
        return {
            "images": images,
            "timings": timings,
            "seed": seed,
            "has_nsfw_concepts": [False] * len(images),
            "prompt": task.prompt,
        }

    def _recipe(self, job: Job, variant: int) -> Recipe:
        """Drawn when downloaded: the shelf holds arguments, not pictures."""
        renderer, task = self.context.renderer, job.task

        async def draw() -> bytes:
            size = (task.width, task.height, task.fmt)
            if task.sources:
                return await renderer.render_edit_async(task.sources, task.prompt, *size, variant=variant)
            return await renderer.render_async(task.prompt, *size, variant=variant)

        return draw


def _key(request: Request) -> str:
    scheme, _, key = request.headers.get("authorization", "").partition(" ")
    if scheme.lower() != "key" or not key.strip():
        raise FalError(401, DEFAULT_ERRORS[401])
    return key.strip()


async def _body(request: Request) -> Any:
    raw = await request.body()
    try:
        return orjson.loads(raw) if raw else {}
    except orjson.JSONDecodeError:
        raise FalError(400, "The request body is not valid JSON.") from None


def _root(request: Request) -> str:
    """This emulator's absolute URL (`.../sandbox/fal`) as the client reached it."""
    root = request.url.replace(path=request.scope.get("root_path", ""), query="", fragment="")
    return str(root).rstrip("/")
