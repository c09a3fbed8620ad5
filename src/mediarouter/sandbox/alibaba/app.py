"""Emulator of Alibaba Cloud DashScope's image APIs, mounted at `/sandbox/alibaba` (base URL `.../api/v1`).

Endpoints, as the `dashscope` SDK calls them:
  POST /api/v1/services/aigc/text2image/image-synthesis     wan2.1-2.5 task (`ImageSynthesis`), async only
  POST /api/v1/services/aigc/image-generation/generation    wan2.6 task with `input.messages`
                                                            (`ImageGeneration.async_call`), async only
  GET  /api/v1/tasks/{task_id}                              the task (PENDING, RUNNING, SUCCEEDED, FAILED...)
  POST /api/v1/tasks/{task_id}/cancel                       cancels a PENDING task
  POST /api/v1/services/aigc/multimodal-generation/generation   qwen-image / qwen-image-edit and wan2.6,
                                                            synchronous (`MultiModalConversation.call`,
                                                            `ImageGeneration.call`)
  GET  /files/{name}                                        the result images (DashScope's OSS links)

Which model answers on which endpoint is `ModelRule.apis`; a model sent to another endpoint gets
DashScope's 400 InvalidParameter. A text2image task reports `output.results[].url`, an
image-generation task the chat shape `output.choices[].message.content[].image`.

A task is PENDING until polled, RUNNING once polled, and ends after `JOB_POLLS` polls or `JOB_S`
seconds. Job faults decide a task's fate when it is submitted: `job_failed` ends it FAILED,
`content_policy` ends it FAILED with DataInspectionFailed (DashScope's output moderation), `empty`
ends it SUCCEEDED without results, `job_stuck` keeps it RUNNING. On the synchronous API
`content_policy` is the 400 DataInspectionFailed of input moderation, `job_failed` a 500 and
`job_stuck` a request that never ends. Every other mode applies to any request.
"""

from __future__ import annotations

import time
import uuid
from collections import OrderedDict
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from mediarouter.sandbox.alibaba.errors import (
    JOB_FAILED,
    POLICY_OUTPUT,
    DashScopeDialect,
    DashScopeError,
    dashscope_error,
    dashscope_json,
    error_response,
)
from mediarouter.sandbox.alibaba.inputs import (
    api_key,
    check_image_count,
    model_rule,
    read_body,
    read_count,
    read_images,
    read_message,
    read_prompt,
    read_size,
)
from mediarouter.sandbox.context import EmulatorContext
from mediarouter.sandbox.files import FileShelf, Recipe, file_url, files_route
from mediarouter.sandbox.images import inspect_image
from mediarouter.sandbox.injection import DroppedConnection, apply_fault, hold

SLUG = "alibaba"
JOB_S = 0.3  # a task ends this long after submission...
JOB_POLLS = 2  # ...or at this many polls, whichever comes first
MAX_TASKS = 10_000  # oldest forgotten first
FATES = frozenset({"job_failed", "job_stuck", "content_policy", "empty"})  # decided at submission
TERMINAL = frozenset({"SUCCEEDED", "FAILED", "CANCELED"})


@dataclass
class Task:
    id: str
    model: str
    prompt: str
    n: int
    width: int
    height: int
    fate: str | None
    api: str = "text2image"  # which endpoint took it: decides the shape of its results
    created: float = field(default_factory=time.monotonic)
    submit_time: str = field(default_factory=lambda: _stamp())
    status: str = "PENDING"
    polls: int = 0
    scheduled_time: str | None = None
    end_time: str | None = None
    files: list[str] = field(default_factory=list)


def build_alibaba_emulator(context: EmulatorContext) -> Starlette:
    emulator = DashScopeEmulator(context)
    routes = [
        Route("/api/v1/services/aigc/text2image/image-synthesis", emulator.submit, methods=["POST"]),
        Route(
            "/api/v1/services/aigc/image-generation/generation", emulator.submit_generation, methods=["POST"]
        ),
        Route("/api/v1/services/aigc/multimodal-generation/generation", emulator.generate, methods=["POST"]),
        Route("/api/v1/tasks/{task_id}", emulator.get_task, methods=["GET"]),
        Route("/api/v1/tasks/{task_id}/cancel", emulator.cancel, methods=["POST"]),
        files_route(emulator.shelf),
    ]
    return Starlette(routes=routes, exception_handlers={DashScopeError: dashscope_error})


class DashScopeEmulator:
    def __init__(self, context: EmulatorContext, job_s: float = JOB_S, job_polls: int = JOB_POLLS) -> None:
        self.context = context
        self.job_s = job_s
        self.job_polls = job_polls
        self.shelf = FileShelf(context.settings.url_ttl_s)
        self.tasks: OrderedDict[str, Task] = OrderedDict()

    # --- the async task APIs

    async def submit(self, request: Request) -> Response:
        return await self._submit(request, "text2image")

    async def submit_generation(self, request: Request) -> Response:
        return await self._submit(request, "image_generation")

    async def _submit(self, request: Request, api: str) -> Response:
        api_key(request)
        body = await read_body(request)
        model = body.get("model") if isinstance(body.get("model"), str) else None
        fault = self.context.book.hit(SLUG, model)
        fate = fault.mode if fault is not None and fault.mode in FATES else None
        if fate is None:
            faulty = await apply_fault(fault, request, DashScopeDialect(), self.context.settings.hang_s)
            if faulty is not None:
                return faulty
        elif fault is not None and fault.latency_ms and not await hold(request, fault.latency_ms / 1000):
            return DroppedConnection()
        if request.headers.get("x-dashscope-async", "").lower() != "enable":
            raise DashScopeError(403, "AccessDenied", "current user api does not support synchronous calls")
        rule = model_rule(model, api)
        given = body.get("input") if isinstance(body.get("input"), dict) else {}
        params = body.get("parameters") if isinstance(body.get("parameters"), dict) else {}
        if api == "text2image":
            prompt, negative = read_prompt(given.get("prompt"), rule), given.get("negative_prompt")
        else:
            prompt, sources = read_message(given, rule)
            check_image_count(len(sources), str(model), rule)
            negative = params.get("negative_prompt")
        if negative is not None and not isinstance(negative, str):
            raise DashScopeError(400, "InvalidParameter", "negative_prompt must be a string")
        width, height = read_size(params.get("size"), rule)
        n = read_count(params.get("n"), rule)
        task = Task(_task_id(), str(model), prompt, n, width, height, fate, api)
        self.tasks[task.id] = task
        while len(self.tasks) > MAX_TASKS:
            self.tasks.popitem(last=False)
        return dashscope_json({"output": {"task_status": task.status, "task_id": task.id}})

    async def get_task(self, request: Request) -> Response:
        api_key(request)
        task = self.tasks.get(request.path_params["task_id"])
        faulty = await self._fault(request, task.model if task else None)
        if faulty is not None:
            return faulty
        if task is None:
            return dashscope_json(
                {"output": {"task_id": request.path_params["task_id"], "task_status": "UNKNOWN"}}
            )
        self._advance(task, polled=True)
        return dashscope_json(self._render(request, task))

    async def cancel(self, request: Request) -> Response:
        api_key(request)
        task = self.tasks.get(request.path_params["task_id"])
        faulty = await self._fault(request, task.model if task else None)
        if faulty is not None:
            return faulty
        if task is None:
            raise DashScopeError(404, "InvalidParameter", "The task does not exist.")
        if task.status != "PENDING":
            message = "Failed to cancel the task, please confirm if the task is in PENDING status."
            raise DashScopeError(400, "UnsupportedOperation", message)
        task.status, task.end_time = "CANCELED", _stamp()
        return dashscope_json({})

    def _advance(self, task: Task, polled: bool) -> None:
        if task.status in TERMINAL:
            return
        task.polls += polled
        if task.polls and task.status == "PENDING":
            task.status, task.scheduled_time = "RUNNING", _stamp()
        if task.fate == "job_stuck":
            return
        if task.polls >= self.job_polls or time.monotonic() - task.created >= self.job_s:
            task.scheduled_time = task.scheduled_time or _stamp()
            task.end_time = _stamp()
            task.status = "FAILED" if task.fate in ("job_failed", "content_policy") else "SUCCEEDED"
            if task.status == "SUCCEEDED" and task.fate != "empty":
                task.files = [
                    self.shelf.put(self._recipe(task, i), "image/png", "png") for i in range(task.n)
                ]

    def _recipe(self, task: Task, variant: int) -> Recipe:
        async def draw() -> bytes:
            return await self.context.renderer.render_async(
                task.prompt, task.width, task.height, "png", variant=variant
            )

        return draw

    def _render(self, request: Request, task: Task) -> dict[str, Any]:
        output: dict[str, Any] = {
            "task_id": task.id,
            "task_status": task.status,
            "submit_time": task.submit_time,
        }
        if task.scheduled_time:
            output["scheduled_time"] = task.scheduled_time
        if task.end_time:
            output["end_time"] = task.end_time
        if task.status == "FAILED":
            code, message = (
                ("DataInspectionFailed", POLICY_OUTPUT) if task.fate == "content_policy" else JOB_FAILED
            )
            output |= {"code": code, "message": message}
        content: dict[str, Any] = {"output": output}
        if task.api == "image_generation":
            return self._render_choices(request, task, content)
        if task.status in ("SUCCEEDED", "FAILED"):
            done = len(task.files)
            output["task_metrics"] = {"TOTAL": task.n, "SUCCEEDED": done, "FAILED": task.n - done}
        if task.status == "SUCCEEDED":
            urls = [file_url(request, name) for name in task.files]
            output["results"] = [
                {"orig_prompt": task.prompt, "actual_prompt": task.prompt, "url": u} for u in urls
            ]
            content["usage"] = {"image_count": len(urls)}
        return content

    def _render_choices(self, request: Request, task: Task, content: dict[str, Any]) -> dict[str, Any]:
        """An image-generation (wan2.6) task: one chat-shaped choice per image, as the sync API."""
        output = content["output"]
        if task.status in TERMINAL:
            output["finished"] = True
        if task.status == "SUCCEEDED":
            output["choices"] = [
                {
                    "finish_reason": "stop",
                    "message": {
                        "role": "assistant",
                        "content": [{"image": file_url(request, name), "type": "image"}],
                    },
                }
                for name in task.files
            ]
            content["usage"] = {
                "image_count": len(task.files),
                "size": f"{task.width}*{task.height}",
                "input_tokens": 0,
                "output_tokens": 0,
                "total_tokens": 0,
            }
        return content

    async def _fault(self, request: Request, model: str | None) -> Response | None:
        """Count a poll or a cancel; fates only apply to new tasks."""
        fault = self.context.book.hit(SLUG, model)
        if fault is not None and fault.mode in FATES:
            return None
        return await apply_fault(fault, request, DashScopeDialect(), self.context.settings.hang_s)

    # --- the synchronous multimodal API

    async def generate(self, request: Request) -> Response:
        api_key(request)
        body = await read_body(request)
        model = body.get("model") if isinstance(body.get("model"), str) else None
        fault = self.context.book.hit(SLUG, model)
        faulty = await apply_fault(fault, request, DashScopeDialect(), self.context.settings.hang_s)
        if faulty is not None:
            return faulty
        if fault is not None and fault.mode == "job_failed":
            return error_response(500, *JOB_FAILED)
        if fault is not None and fault.mode == "job_stuck":
            await hold(request, self.context.settings.hang_s)
            return DroppedConnection()
        rule = model_rule(model, "multimodal")
        given = body.get("input") if isinstance(body.get("input"), dict) else {}
        params = body.get("parameters") if isinstance(body.get("parameters"), dict) else {}
        prompt, sources = read_message(given, rule)
        check_image_count(len(sources), str(model), rule)
        images = await read_images(sources, self.shelf)
        width, height = read_size(params.get("size"), rule, inspect_image(images[0]) if images else None)
        n = read_count(params.get("n"), rule)
        renderer = self.context.renderer
        pictures = [
            await renderer.render_edit_async(images, prompt, width, height, "png", variant=i)
            if images
            else await renderer.render_async(prompt, width, height, "png", variant=i)
            for i in range(n)
        ]
        urls = [file_url(request, self.shelf.put(p, "image/png", "png")) for p in pictures]
        message = {"role": "assistant", "content": [{"image": u} for u in urls]}
        usage = {"image_count": n, "width": width, "height": height}
        return dashscope_json(
            {"output": {"choices": [{"finish_reason": "stop", "message": message}]}, "usage": usage}
        )


def _task_id() -> str:
    return str(uuid.uuid4())


def _stamp() -> str:
    return datetime.now().strftime("%Y-%m-%d %H:%M:%S.%f")[:-3]
