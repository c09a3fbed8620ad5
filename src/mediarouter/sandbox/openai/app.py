"""The OpenAI Images emulator: `/v1/images/{generations,edits,variations}` and `/files/{name}`.

Mounted at `/sandbox/openai`, so clients use the base URL `.../sandbox/openai/v1` and nothing else
changes. Each API request: bearer key, then the body is read, then `book.hit("openai", model)` and
any fault, then validation, then real pictures from the shared renderer.
"""

from __future__ import annotations

import asyncio
from typing import Any

import orjson
from starlette.applications import Starlette
from starlette.datastructures import FormData
from starlette.exceptions import HTTPException
from starlette.requests import ClientDisconnect, Request
from starlette.responses import Response
from starlette.routing import Route

from mediarouter.sandbox.context import EmulatorContext
from mediarouter.sandbox.files import FileShelf, Recipe, file_url, files_route
from mediarouter.sandbox.images import InvalidImageError, mime_for
from mediarouter.sandbox.injection import apply_fault
from mediarouter.sandbox.openai.errors import (
    SERVER_ERROR_MESSAGE,
    OpenAIDialect,
    OpenAIError,
    invalid_request,
    missing_key,
    openai_json,
)
from mediarouter.sandbox.openai.fields import RequestFields
from mediarouter.sandbox.openai.models import MODELS
from mediarouter.sandbox.openai.params import DEFAULT_MODELS, ImageTask, model_for, parse_task
from mediarouter.sandbox.openai.results import dalle_body, gpt_image_body, stream_response
from mediarouter.sandbox.openai.uploads import read_images, split_form

SLUG = "openai"
JSON_PARSE_MESSAGE = (
    "We could not parse the JSON body of your request. (HINT: This likely means you aren't using your HTTP "
    "library correctly. The OpenAI API expects a JSON payload, but what was sent was not valid JSON.)"
)
MAX_FORM_FILES = 64  # above the 16-image limit, so too many images get OpenAI's message, not a parser's


def build_openai_emulator(context: EmulatorContext) -> Starlette:
    emulator = OpenAIEmulator(context, FileShelf(context.settings.url_ttl_s))
    routes = [
        Route("/v1/images/generations", emulator.generations, methods=["POST"]),
        Route("/v1/images/edits", emulator.edits, methods=["POST"]),
        Route("/v1/images/variations", emulator.variations, methods=["POST"]),
        files_route(emulator.shelf),
    ]
    handlers: dict[Any, Any] = {
        OpenAIError: _openai_error,
        HTTPException: _http_error,
        ClientDisconnect: _client_gone,
        Exception: _server_error,
    }
    return Starlette(routes=routes, exception_handlers=handlers)


def api_key(request: Request) -> str:
    scheme, _, key = request.headers.get("authorization", "").partition(" ")
    if scheme.lower() != "bearer" or not key.strip():
        raise missing_key()
    return key.strip()


class OpenAIEmulator:
    def __init__(self, context: EmulatorContext, shelf: FileShelf) -> None:
        self.context = context
        self.shelf = shelf

    async def generations(self, request: Request) -> Response:
        key = api_key(request)
        body, problem = _json_object(await request.body())
        fields = RequestFields(body, textual=False)
        faulty = await self._fault(request, key, "generations", fields)
        if faulty is not None:
            return faulty
        if problem is not None:
            raise problem
        return await self._answer(request, parse_task("generations", fields))

    async def edits(self, request: Request) -> Response:
        return await self._multipart(request, "edits")

    async def variations(self, request: Request) -> Response:
        return await self._multipart(request, "variations")

    async def _multipart(self, request: Request, endpoint: str) -> Response:
        key = api_key(request)
        form, problem = await _read_form(request)
        try:
            model = form.get("model")
            fields = RequestFields({"model": model} if isinstance(model, str) else {}, textual=True)
            faulty = await self._fault(request, key, endpoint, fields)
            if faulty is not None:
                return faulty
            if problem is not None:
                raise problem
            fields, files = split_form(form, endpoint)
            images, mask = await read_images(files, model_for(endpoint, fields), endpoint)
            task = parse_task(endpoint, fields, images, mask)
        finally:
            await form.close()
        return await self._answer(request, task)

    async def _fault(
        self, request: Request, key: str, endpoint: str, fields: RequestFields
    ) -> Response | None:
        """Count the request and apply its fault; the model is the one the API would use."""
        model = fields.values.get("model")
        model_id = model if isinstance(model, str) and model else DEFAULT_MODELS[endpoint]
        fault = self.context.book.hit(SLUG, model_id)
        spec = MODELS.get(model_id)
        dialect = OpenAIDialect(model_id, key, spec.is_gpt_image if spec else True)
        return await apply_fault(fault, request, dialect, self.context.settings.hang_s)

    async def _answer(self, request: Request, task: ImageTask) -> Response:
        if not task.model.is_gpt_image and task.response_format == "url" and not task.images:
            urls = [
                file_url(request, self.shelf.put(self._recipe(task, i), "image/png", "png"))
                for i in range(task.n)
            ]
            return openai_json(dalle_body(task, [], urls))
        pictures = list(await asyncio.gather(*(self._draw(task, i) for i in range(task.n))))
        if task.stream:
            return stream_response(task, pictures)
        if task.model.is_gpt_image:
            return openai_json(gpt_image_body(task, pictures))
        if task.response_format == "url":
            urls = [file_url(request, self.shelf.put(p, mime_for("png"), "png")) for p in pictures]
            return openai_json(dalle_body(task, pictures, urls))
        return openai_json(dalle_body(task, pictures, None))

    def _recipe(self, task: ImageTask, variant: int) -> Recipe:
        """Render on download: the shelf then holds arguments, not pictures."""

        async def draw() -> bytes:
            return await self._draw(task, variant)

        return draw

    async def _draw(self, task: ImageTask, variant: int) -> bytes:
        renderer = self.context.renderer
        compression = task.output_compression if task.output_format in ("jpeg", "webp") else None
        options = {"variant": variant, "transparent": task.background == "transparent"}
        size_and_format = (task.width, task.height, task.output_format, compression)
        if not task.images:
            return await renderer.render_async(task.prompt, *size_and_format, **options)
        mask = task.mask.data if task.mask else None
        if mask is None and not task.model.is_gpt_image:
            mask = task.images[0].data  # dall-e-2 without a mask edits where the image is transparent
        try:
            sources = [image.data for image in task.images]
            return await renderer.render_edit_async(
                sources, task.prompt, *size_and_format, mask=mask, **options
            )
        except InvalidImageError:
            message = "Invalid image file or mode for image 1, please check your image file."
            raise invalid_request(message, "image", "invalid_image_file") from None


def _json_object(raw: bytes) -> tuple[dict[str, Any], OpenAIError | None]:
    """The body as an object, or an empty one and the error to answer once faults have had their turn."""
    try:
        body = orjson.loads(raw)
    except orjson.JSONDecodeError:
        return {}, OpenAIError(400, JSON_PARSE_MESSAGE)
    if not isinstance(body, dict):
        return {}, invalid_request("The body must be a JSON object.", None, "invalid_type")
    return body, None


async def _read_form(request: Request) -> tuple[FormData, OpenAIError | None]:
    """The form, or an empty one and the error to answer once faults have had their turn."""
    content_type = request.headers.get("content-type", "")
    if not content_type.lower().startswith("multipart/form-data"):
        message = f"Invalid Content-Type header ({content_type or 'none'}), expected multipart/form-data."
        return FormData(), invalid_request(message, None, None)
    try:
        return await request.form(max_files=MAX_FORM_FILES), None
    except HTTPException as exc:
        return FormData(), invalid_request(f"Could not parse the multipart form: {exc.detail}", None, None)


async def _openai_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, OpenAIError)
    return exc.response()


async def _http_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, HTTPException)
    path = request.url.path.removeprefix(request.scope.get("root_path", ""))
    return OpenAIError(exc.status_code, f"Invalid URL ({request.method} {path})").response()


async def _client_gone(request: Request, exc: Exception) -> Response:
    return Response(status_code=499)  # nobody is left to read it


async def _server_error(request: Request, exc: Exception) -> Response:
    return OpenAIError(500, SERVER_ERROR_MESSAGE, type="server_error").response()
