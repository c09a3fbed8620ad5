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

import base64
import binascii
import re
import time
import uuid
from collections import OrderedDict
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import orjson
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from mediarouter.sandbox.context import EmulatorContext
from mediarouter.sandbox.files import FileShelf, Recipe, file_url, files_route
from mediarouter.sandbox.images import ImageInfo, inspect_image
from mediarouter.sandbox.injection import DroppedConnection, apply_fault, hold

SLUG = "alibaba"
JOB_S = 0.3  # a task ends this long after submission...
JOB_POLLS = 2  # ...or at this many polls, whichever comes first
MAX_TASKS = 10_000  # oldest forgotten first
FATES = frozenset({"job_failed", "job_stuck", "content_policy", "empty"})  # decided at submission
TERMINAL = frozenset({"SUCCEEDED", "FAILED", "CANCELED"})
POLICY_INPUT = "Input data may contain inappropriate content."
POLICY_OUTPUT = "Output data may contain inappropriate content."
JOB_FAILED = (
    "InternalError.Algo",
    "Algorithm process error: the sandbox was told to fail this task (job_failed).",
)
# status -> DashScope code, for the `error` fault mode.
STATUS_CODES = {
    400: ("InvalidParameter", "The request parameter is invalid."),
    401: ("InvalidApiKey", "Invalid API-key provided."),
    403: ("AccessDenied", "Access denied."),
    404: ("ModelNotFound", "Model not exist."),
    408: ("RequestTimeOut", "Request timed out, please try again later."),
    413: ("BadRequest.TooLarge", "Payload Too Large"),
    429: ("Throttling.RateQuota", "Requests rate limit exceeded, please try again later."),
    500: (
        "InternalError",
        "An internal error has occured, please try again later or contact service support.",
    ),
}


class DashScopeError(Exception):
    def __init__(self, status: int, code: str, message: str) -> None:
        super().__init__(message)
        self.status, self.code, self.message = status, code, message


@dataclass(frozen=True)
class ModelRule:
    """What one model accepts. Sizes are a fixed list, or bounds per side, or bounds on the area."""

    apis: frozenset[str]  # the endpoints that serve it: text2image | image_generation | multimodal
    default_size: tuple[int, int]
    sizes: tuple[tuple[int, int], ...] = ()
    side: tuple[int, int] | None = None  # min, max pixels per side
    area: tuple[int, int] | None = None  # min, max total pixels (aspect at most MAX_ASPECT)
    max_n: int = 4
    max_images: int = 0  # input images an edit model takes (0: text-to-image only)
    max_prompt: int = 800


MAX_ASPECT = 4.0
ENDPOINTS = {
    "text2image": "text2image/image-synthesis",
    "image_generation": "image-generation/generation",
    "multimodal": "multimodal-generation/generation",
}
TEXT2IMAGE = frozenset({"text2image"})
MULTIMODAL = frozenset({"multimodal"})
WAN_SIDES = ModelRule(TEXT2IMAGE, (1024, 1024), side=(512, 1440))
WAN_AREA = ModelRule(TEXT2IMAGE, (1024, 1024), area=(768 * 768, 1440 * 1440), max_prompt=2000)
WAN_26 = ModelRule(
    frozenset({"image_generation", "multimodal"}),
    (1024, 1024),
    area=(768 * 768, 1440 * 1440),
    max_prompt=2100,
)
QWEN_SIZES = ((1664, 928), (1472, 1140), (1328, 1328), (1140, 1472), (928, 1664))
QWEN_IMAGE = ModelRule(MULTIMODAL, (1328, 1328), sizes=QWEN_SIZES, max_n=1)
MODELS: dict[str, ModelRule] = {
    "wanx2.1-t2i-turbo": WAN_SIDES,
    "wanx2.1-t2i-plus": WAN_SIDES,
    "wan2.2-t2i-flash": WAN_SIDES,
    "wan2.2-t2i-plus": WAN_SIDES,
    "wan2.5-t2i-preview": WAN_AREA,
    "wan2.6-t2i": WAN_26,
    "qwen-image": QWEN_IMAGE,
    "qwen-image-plus": QWEN_IMAGE,
    "qwen-image-edit": ModelRule(MULTIMODAL, (1024, 1024), side=(512, 2048), max_n=1, max_images=1),
    "qwen-image-edit-plus": ModelRule(MULTIMODAL, (1024, 1024), side=(512, 2048), max_n=6, max_images=3),
}
_SIZE = re.compile(r"^([1-9][0-9]{1,4})\*([1-9][0-9]{1,4})$")


def size_problem(width: int, height: int, rule: ModelRule) -> str | None:
    """Why `width*height` is refused by the model, or None when it is fine."""
    if rule.sizes and (width, height) not in rule.sizes:
        return "size must be one of " + ", ".join(f"{w}*{h}" for w, h in rule.sizes)
    if rule.side and not all(rule.side[0] <= v <= rule.side[1] for v in (width, height)):
        return f"width and height must each be between {rule.side[0]} and {rule.side[1]}"
    if rule.area:
        if not rule.area[0] <= width * height <= rule.area[1]:
            return f"the total pixels must be between {rule.area[0]} and {rule.area[1]}"
        if max(width, height) / min(width, height) > MAX_ASPECT:
            return "the aspect ratio must be between 1:4 and 4:1"
    return None


def read_size(value: Any, rule: ModelRule, first: ImageInfo | None = None) -> tuple[int, int]:
    """`parameters.size` ("W*H") checked against the model; without it, the model's default (edits:
    the first input's shape at about one megapixel)."""
    if value is None:
        if first is None:
            return rule.default_size
        scale = (1024 * 1024 / (first.width * first.height)) ** 0.5
        low, high = rule.side or (512, 2048)
        width, height = (min(high, max(low, round(v * scale / 16) * 16)) for v in (first.width, first.height))
        return width, height
    match = _SIZE.match(value) if isinstance(value, str) else None
    if match is None:
        raise DashScopeError(
            400, "InvalidParameter", f"parameters.size must look like 1024*1024, got {value!r}"
        )
    width, height = int(match[1]), int(match[2])
    problem = size_problem(width, height, rule)
    if problem:
        raise DashScopeError(400, "InvalidParameter", f"The size {value} is not supported: {problem}.")
    return width, height


async def read_images(sources: list[str], shelf: FileShelf) -> list[bytes]:
    """Input images: data URIs, or links to this emulator's own files (other hosts cannot be reached)."""
    images: list[bytes] = []
    for source in sources:
        if source.startswith("data:"):
            try:
                data = base64.b64decode(source.partition(",")[2], validate=True)
            except (binascii.Error, ValueError):
                raise DashScopeError(400, "InvalidParameter", "An input image is not valid base64.") from None
        else:
            found = await shelf.read(source.rsplit("/files/", 1)[-1]) if "/files/" in source else None
            if found is None:
                message = f"The sandbox cannot download {source[:100]}; send images as data URIs."
                raise DashScopeError(400, "InvalidParameter.DataInspection", message)
            data = found[0]
        if inspect_image(data) is None:
            raise DashScopeError(400, "InvalidParameter", "An input image is not in a supported format.")
        images.append(data)
    return images


def dashscope_json(content: dict[str, Any], status: int = 200) -> Response:
    return Response(
        orjson.dumps({**content, "request_id": str(uuid.uuid4())}), status, media_type="application/json"
    )


def error_response(status: int, code: str, message: str) -> Response:
    return dashscope_json({"code": code, "message": message}, status)


class DashScopeDialect:
    """How DashScope says no; `empty` is the synchronous API's success without an image."""

    def error(self, status: int, message: str | None) -> Response:
        default = (
            ("InternalError", "Internal error.") if status >= 500 else ("InvalidParameter", "Bad request.")
        )
        code, text = STATUS_CODES.get(status, default)
        return error_response(status, code, message or text)

    def content_policy(self) -> Response:
        return error_response(400, "DataInspectionFailed", POLICY_INPUT)

    def empty(self) -> Response:
        choice = {"finish_reason": "stop", "message": {"role": "assistant", "content": []}}
        return dashscope_json({"output": {"choices": [choice]}, "usage": {"image_count": 0}})


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
    return Starlette(routes=routes, exception_handlers={DashScopeError: _dashscope_error})


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
        _api_key(request)
        body = await _body(request)
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
        rule = _model(model, api)
        given = body.get("input") if isinstance(body.get("input"), dict) else {}
        params = body.get("parameters") if isinstance(body.get("parameters"), dict) else {}
        if api == "text2image":
            prompt, negative = _prompt(given.get("prompt"), rule), given.get("negative_prompt")
        else:
            prompt, sources = _message(given, rule)
            _check_image_count(len(sources), str(model), rule)
            negative = params.get("negative_prompt")
        if negative is not None and not isinstance(negative, str):
            raise DashScopeError(400, "InvalidParameter", "negative_prompt must be a string")
        width, height = read_size(params.get("size"), rule)
        n = _count(params.get("n"), rule)
        task = Task(_task_id(), str(model), prompt, n, width, height, fate, api)
        self.tasks[task.id] = task
        while len(self.tasks) > MAX_TASKS:
            self.tasks.popitem(last=False)
        return dashscope_json({"output": {"task_status": task.status, "task_id": task.id}})

    async def get_task(self, request: Request) -> Response:
        _api_key(request)
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
        _api_key(request)
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
        _api_key(request)
        body = await _body(request)
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
        rule = _model(model, "multimodal")
        given = body.get("input") if isinstance(body.get("input"), dict) else {}
        params = body.get("parameters") if isinstance(body.get("parameters"), dict) else {}
        prompt, sources = _message(given, rule)
        _check_image_count(len(sources), str(model), rule)
        images = await read_images(sources, self.shelf)
        width, height = read_size(params.get("size"), rule, inspect_image(images[0]) if images else None)
        n = _count(params.get("n"), rule)
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


def _api_key(request: Request) -> str:
    scheme, _, key = request.headers.get("authorization", "").partition(" ")
    if scheme.lower() != "bearer" or not key.strip():
        raise DashScopeError(401, "InvalidApiKey", "No API-key provided.")
    return key.strip()


async def _body(request: Request) -> dict[str, Any]:
    try:
        body = orjson.loads(await request.body() or b"{}")
    except orjson.JSONDecodeError:
        raise DashScopeError(400, "InvalidParameter", "The request body is not valid JSON.") from None
    if not isinstance(body, dict):
        raise DashScopeError(400, "InvalidParameter", "The request body must be a JSON object.")
    return body


def _model(model: str | None, api: str) -> ModelRule:
    if not model:
        raise DashScopeError(400, "BadRequest.EmptyModel", 'Required parameter "model" missing from request.')
    rule = MODELS.get(model)
    if rule is None:
        raise DashScopeError(404, "ModelNotFound", f"Model not exist: {model}")
    if api not in rule.apis:
        endpoints = " or ".join(ENDPOINTS[a] for a in sorted(rule.apis))
        raise DashScopeError(
            400, "InvalidParameter", f"Model {model} does not support this API; use {endpoints}."
        )
    return rule


def _check_image_count(count: int, model: str, rule: ModelRule) -> None:
    if rule.max_images and not count:
        raise DashScopeError(400, "InvalidParameter", f"Model {model} needs at least one input image.")
    if count > rule.max_images:
        raise DashScopeError(
            400, "InvalidParameter", f"Model {model} accepts at most {rule.max_images} image(s)."
        )


def _prompt(value: Any, rule: ModelRule) -> str:
    if not isinstance(value, str) or not value.strip():
        raise DashScopeError(
            400, "BadRequest.EmptyInput", 'Required parameter "input.prompt" missing from request.'
        )
    if len(value) > rule.max_prompt:
        raise DashScopeError(
            400, "InvalidParameter", f"The prompt is longer than {rule.max_prompt} characters."
        )
    return value


def _message(given: dict[str, Any], rule: ModelRule) -> tuple[str, list[str]]:
    """The prompt and the image references of `input.messages[0].content`."""
    messages = given.get("messages")
    content = (
        messages[0].get("content")
        if isinstance(messages, list) and messages and isinstance(messages[0], dict)
        else None
    )
    if not isinstance(content, list):
        raise DashScopeError(
            400, "InvalidParameter", "input.messages[0].content must be a list of {image}/{text} items."
        )
    texts = [p["text"] for p in content if isinstance(p, dict) and isinstance(p.get("text"), str)]
    images = [p["image"] for p in content if isinstance(p, dict) and isinstance(p.get("image"), str)]
    return _prompt(" ".join(texts), rule), images


def _count(value: Any, rule: ModelRule) -> int:
    if value is None:
        return 1
    if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= rule.max_n:
        raise DashScopeError(
            400, "InvalidParameter", f"parameters.n must be an integer between 1 and {rule.max_n}."
        )
    return value


def _task_id() -> str:
    return str(uuid.uuid4())


def _stamp() -> str:
    return datetime.now().strftime("%Y-%m-%d %H:%M:%S.%f")[:-3]


async def _dashscope_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, DashScopeError)
    return error_response(exc.status, exc.code, exc.message)
