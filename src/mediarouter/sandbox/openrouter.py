"""Emulator of OpenRouter's chat completions API, mounted at `/sandbox/openrouter` (base URL `.../api/v1`).

  POST /api/v1/chat/completions   text replies, and images when `modalities` includes "image"; JSON, or
                                  SSE (`data: {chat.completion.chunk}` lines, usage in the last chunk,
                                  then `data: [DONE]`) with `stream: true`
  GET  /api/v1/models             the models below, in OpenRouter's listing shape

Replies are deterministic (they quote the last user message) and priced from `MODELS`, with the cost
in `usage.cost` as OpenRouter reports it. A body field `sandbox_stream_delay_ms` (0 by default, so
streams are fast) spaces the stream's chunks, so a client can watch the first chunk arrive before
the last is sent. Faults: `reset` on a stream sends a few chunks, then drops the connection;
`malformed` on a stream sends a broken event; `empty` answers without text or image; the rest as
`injection.apply_fault` does, with OpenRouter's error bodies.
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import time
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

import orjson
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route
from starlette.types import Receive, Scope, Send

from mediarouter.sandbox.context import EmulatorContext
from mediarouter.sandbox.images import InvalidImageError
from mediarouter.sandbox.injection import apply_fault

SLUG = "openrouter"
MAX_DELAY_MS = 5000
IMAGE_TOKENS = 1290  # completion tokens billed per generated image
RESET_AFTER_CHUNKS = 3  # events a `reset` stream sends before the connection drops...
DROP_PAUSE_S = 0.05  # ...and how long after the last one
AUTO_MODEL = "openrouter/auto"
# Gemini's 1K pixels per aspect ratio; other tiers scale them.
ASPECT_PIXELS = {
    "1:1": (1024, 1024),
    "2:3": (832, 1248),
    "3:2": (1248, 832),
    "3:4": (864, 1184),
    "4:3": (1184, 864),
    "4:5": (896, 1152),
    "5:4": (1152, 896),
    "9:16": (768, 1344),
    "16:9": (1344, 768),
    "21:9": (1536, 672),
}
TIER_SCALE = {"0.5K": 0.5, "1K": 1.0, "2K": 2.0, "4K": 4.0}


@dataclass(frozen=True)
class ModelEntry:
    id: str
    name: str
    prompt_usd: float  # per million input tokens
    completion_usd: float  # per million output tokens
    context_length: int = 128_000
    image_tiers: tuple[
        str, ...
    ] = ()  # empty: text only; else the `image_config.image_size` values it honours

    @property
    def outputs_images(self) -> bool:
        return bool(self.image_tiers)


MODELS: dict[str, ModelEntry] = {
    m.id: m
    for m in (
        ModelEntry("google/gemini-3-flash-preview", "Google: Gemini 3 Flash Preview", 0.5, 3.0, 1_048_576),
        ModelEntry("openai/gpt-5.4", "OpenAI: GPT-5.4", 1.25, 10.0, 400_000),
        ModelEntry("anthropic/claude-sonnet-4.5", "Anthropic: Claude Sonnet 4.5", 3.0, 15.0, 1_000_000),
        ModelEntry("meta-llama/llama-3.3-70b-instruct", "Meta: Llama 3.3 70B Instruct", 0.1, 0.3, 131_072),
        ModelEntry(
            "google/gemini-2.5-flash-image", "Google: Gemini 2.5 Flash Image", 0.3, 30.0, 32_768, ("1K",)
        ),
        ModelEntry(
            "google/gemini-3-pro-image-preview",
            "Google: Gemini 3 Pro Image",
            2.0,
            120.0,
            65_536,
            ("1K", "2K", "4K"),
        ),
    )
}


class OpenRouterError(Exception):
    def __init__(self, status: int, message: str, metadata: dict[str, Any] | None = None) -> None:
        super().__init__(message)
        self.status, self.message, self.metadata = status, message, metadata

    def response(self) -> Response:
        error: dict[str, Any] = {"code": self.status, "message": self.message}
        if self.metadata:
            error["metadata"] = self.metadata
        headers = {"retry-after": "1"} if self.status == 429 else None
        return Response(orjson.dumps({"error": error}), self.status, headers, "application/json")


STATUS_MESSAGES = {
    400: "Bad Request",
    401: "User not found.",
    402: "Insufficient credits. Add more using https://openrouter.ai/settings/credits",
    403: "Forbidden",
    404: "No endpoints found for this model.",
    408: "Request timed out.",
    429: "Rate limit exceeded: free-models-per-min.",
    502: "Provider returned error",
    503: "No instances available that meet your routing requirements.",
}


class OpenRouterDialect:
    def __init__(self, model: str | None) -> None:
        self.model = model or AUTO_MODEL

    def error(self, status: int, message: str | None) -> Response:
        text = message or STATUS_MESSAGES.get(status, "Internal Server Error")
        metadata = {"provider_name": "Google", "raw": "upstream error"} if status == 502 else None
        return OpenRouterError(status, text, metadata).response()

    def content_policy(self) -> Response:
        metadata = {
            "reasons": ["violence"],
            "flagged_input": "...",
            "provider_name": "Google",
            "model_slug": self.model,
        }
        return OpenRouterError(
            403, f"{self.model} requires moderation on Google. Your input was flagged.", metadata
        ).response()

    def empty(self) -> Response:
        return _json(_completion(self.model, "", [], _usage(MODELS.get(self.model), 1, 0, 0)))


@dataclass
class Reply:
    """What one request produces: the words of the answer, the images, the usage."""

    model: ModelEntry
    words: list[str]
    images: list[str]  # data URLs
    usage: dict[str, Any]
    finish_reason: str = "stop"


def build_openrouter_emulator(context: EmulatorContext) -> Starlette:
    emulator = OpenRouterEmulator(context)
    routes = [
        Route("/api/v1/chat/completions", emulator.chat, methods=["POST"]),
        Route("/api/v1/models", emulator.models, methods=["GET"]),
    ]

    async def problem(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, OpenRouterError)
        return exc.response()

    return Starlette(routes=routes, exception_handlers={OpenRouterError: problem})


class OpenRouterEmulator:
    def __init__(self, context: EmulatorContext) -> None:
        self.context = context

    async def models(self, request: Request) -> Response:
        faulty = await apply_fault(
            self.context.book.hit(SLUG, None), request, OpenRouterDialect(None), self._hang
        )
        return faulty or _json({"data": [_listing(m) for m in MODELS.values()]})

    async def chat(self, request: Request) -> Response:
        _api_key(request)
        body = await _body(request)
        model_id = body.get("model") if isinstance(body.get("model"), str) else None
        fault = self.context.book.hit(SLUG, model_id)
        streaming = body.get("stream") is True
        stream_fault = fault.mode if fault is not None and streaming else None
        if stream_fault not in ("reset", "malformed"):
            faulty = await apply_fault(fault, request, OpenRouterDialect(model_id), self._hang)
            if faulty is not None:
                if fault is not None and fault.mode == "empty" and streaming:
                    entry = _model(model_id)  # billed for the prompt, as the JSON answer is
                    return SseResponse(self._chunks(Reply(entry, [], [], _usage(entry, 1, 0, 0)), 0))
                return faulty
        reply = await self._reply(body, _model(model_id))
        if not streaming:
            return _json(
                _completion(
                    reply.model.id, " ".join(reply.words), reply.images, reply.usage, reply.finish_reason
                )
            )
        delay = _delay(body.get("sandbox_stream_delay_ms"))
        if stream_fault == "malformed":
            return SseResponse(
                _single(b'data: {"id": "gen-broken", "choices": [{"delta": {"content": "tr\n\n')
            )
        abort = RESET_AFTER_CHUNKS if stream_fault == "reset" else None
        return SseResponse(self._chunks(reply, delay), abort_after=abort)

    @property
    def _hang(self) -> float:
        return self.context.settings.hang_s

    async def _reply(self, body: dict[str, Any], model: ModelEntry) -> Reply:
        messages = body.get("messages")
        if not isinstance(messages, list) or not messages:
            raise OpenRouterError(400, 'Input required: specify "prompt" or "messages"')
        text, sources = _last_user(messages)
        modalities = body.get("modalities") or ["text"]
        if not isinstance(modalities, list) or not set(modalities) <= {"text", "image"}:
            raise OpenRouterError(400, "modalities must be a list of 'text' and 'image'")
        images: list[str] = []
        if "image" in modalities:
            if not model.outputs_images:
                message = f"No endpoints found that support the requested output modalities: {', '.join(modalities)}"
                raise OpenRouterError(404, message)
            images.append(await self._image(model, body.get("image_config"), text, sources))
        words = (
            f"Here is the image you asked for: {text}"
            if images
            else f"Sandbox reply from {model.id} to: {text}"
        ).split()
        limit = body.get("max_tokens") or body.get("max_completion_tokens")
        finish = "stop"
        if isinstance(limit, int) and not isinstance(limit, bool) and 0 < limit < len(words):
            words, finish = words[:limit], "length"
        prompt_tokens = sum(len(_text(m.get("content")).split()) for m in messages if isinstance(m, dict)) + 4
        return Reply(model, words, images, _usage(model, prompt_tokens, len(words), len(images)), finish)

    async def _image(self, model: ModelEntry, config: Any, prompt: str, sources: list[bytes]) -> str:
        config = config if isinstance(config, dict) else {}
        ratio = config.get("aspect_ratio", "1:1")
        if ratio not in ASPECT_PIXELS:
            raise OpenRouterError(400, f"image_config.aspect_ratio must be one of {', '.join(ASPECT_PIXELS)}")
        tier = config.get("image_size", "1K")
        if tier not in TIER_SCALE:
            raise OpenRouterError(400, f"image_config.image_size must be one of {', '.join(TIER_SCALE)}")
        scale = TIER_SCALE[tier] if tier in model.image_tiers else 1.0  # a tier the model lacks is ignored
        width, height = (round(v * scale) for v in ASPECT_PIXELS[ratio])
        renderer = self.context.renderer
        try:
            if sources:
                png = await renderer.render_edit_async(sources, prompt, width, height, "png")
            else:
                png = await renderer.render_async(prompt, width, height, "png")
        except InvalidImageError as exc:
            raise OpenRouterError(400, f"Invalid image input: {exc}") from None
        return "data:image/png;base64," + base64.b64encode(png).decode()

    async def _chunks(self, reply: Reply, delay_s: float) -> AsyncIterator[bytes]:
        """The reply as OpenRouter streams it: a processing comment, role, one chunk per word, the images,
        the finish reason, then the usage, then [DONE]."""
        gen_id, created = f"gen-{int(time.time())}-{uuid.uuid4().hex[:20]}", int(time.time())

        def chunk(
            delta: dict[str, Any], finish: str | None = None, usage: dict[str, Any] | None = None
        ) -> bytes:
            choices = (
                []
                if usage
                else [{"index": 0, "delta": delta, "finish_reason": finish, "native_finish_reason": finish}]
            )
            body: dict[str, Any] = {
                "id": gen_id,
                "provider": "Sandbox",
                "model": reply.model.id,
                "object": "chat.completion.chunk",
                "created": created,
                "choices": choices,
            }
            if usage:
                body["usage"] = usage
            return b"data: " + orjson.dumps(body) + b"\n\n"

        yield b": OPENROUTER PROCESSING\n\n"
        yield chunk({"role": "assistant", "content": ""})
        for i, word in enumerate(reply.words):
            await asyncio.sleep(delay_s)
            yield chunk({"role": "assistant", "content": word if i == 0 else " " + word})
        if reply.images:
            await asyncio.sleep(delay_s)
            yield chunk({"role": "assistant", "content": "", "images": _image_parts(reply.images)})
        await asyncio.sleep(delay_s)
        yield chunk({"role": "assistant", "content": ""}, reply.finish_reason)
        yield chunk({}, usage=reply.usage)
        yield b"data: [DONE]\n\n"


class SseResponse(Response):
    """Server-sent events written as they are produced; with `abort_after`, the app returns after that
    many events without ending the body, so the server drops the connection mid-stream."""

    def __init__(self, events: AsyncIterator[bytes], abort_after: int | None = None) -> None:
        super().__init__(status_code=200, media_type="text/event-stream")
        self.events, self.abort_after = events, abort_after

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        headers = [(b"content-type", b"text/event-stream"), (b"cache-control", b"no-cache")]
        await send({"type": "http.response.start", "status": 200, "headers": headers})
        sent = 0
        try:
            async for event in self.events:
                if self.abort_after is not None and sent >= self.abort_after:
                    await asyncio.sleep(DROP_PAUSE_S)  # let what was sent be read, as on a real network
                    return  # no final empty body: the connection is dropped
                await send({"type": "http.response.body", "body": event, "more_body": True})
                sent += 1
        except OSError:
            return  # the client left
        finally:
            await self.events.aclose()  # type: ignore[attr-defined]
        await send({"type": "http.response.body", "body": b"", "more_body": False})


async def _single(event: bytes) -> AsyncIterator[bytes]:
    yield event


def _completion(
    model: str, content: str, images: list[str], usage: dict[str, Any], finish: str = "stop"
) -> dict[str, Any]:
    message: dict[str, Any] = {"role": "assistant", "content": content, "refusal": None, "reasoning": None}
    if images:
        message["images"] = _image_parts(images)
    return {
        "id": f"gen-{int(time.time())}-{uuid.uuid4().hex[:20]}",
        "provider": "Sandbox",
        "model": model,
        "object": "chat.completion",
        "created": int(time.time()),
        "choices": [
            {
                "logprobs": None,
                "finish_reason": finish,
                "native_finish_reason": finish,
                "index": 0,
                "message": message,
            }
        ],
        "usage": usage,
    }


def _image_parts(images: list[str]) -> list[dict[str, Any]]:
    return [{"type": "image_url", "image_url": {"url": url}, "index": i} for i, url in enumerate(images)]


def _usage(model: ModelEntry | None, prompt: int, words: int, images: int) -> dict[str, Any]:
    completion = words + images * IMAGE_TOKENS
    cost = (prompt * model.prompt_usd + completion * model.completion_usd) / 1_000_000 if model else 0.0
    return {
        "prompt_tokens": prompt,
        "completion_tokens": completion,
        "total_tokens": prompt + completion,
        "cost": round(cost, 8),
        "is_byok": False,
        "prompt_tokens_details": {"cached_tokens": 0},
        "completion_tokens_details": {"reasoning_tokens": 0, "image_tokens": images * IMAGE_TOKENS},
    }


def _listing(model: ModelEntry) -> dict[str, Any]:
    outputs = ["image", "text"] if model.outputs_images else ["text"]
    return {
        "id": model.id,
        "canonical_slug": model.id,
        "name": model.name,
        "created": 1_767_225_600,
        "description": f"{model.name} (sandbox)",
        "context_length": model.context_length,
        "architecture": {
            "modality": "text+image->" + "+".join(outputs),
            "input_modalities": ["text", "image"],
            "output_modalities": outputs,
            "tokenizer": model.id.split("/")[0],
        },
        "pricing": {
            "prompt": f"{model.prompt_usd / 1e6:.10f}",
            "completion": f"{model.completion_usd / 1e6:.10f}",
            "request": "0",
            "image": "0",
        },
        "top_provider": {
            "context_length": model.context_length,
            "max_completion_tokens": 65_536,
            "is_moderated": False,
        },
        "supported_parameters": ["max_tokens", "temperature", "top_p", "stop", "seed", "stream", "tools"],
    }


def _api_key(request: Request) -> str:
    scheme, _, key = request.headers.get("authorization", "").partition(" ")
    if scheme.lower() != "bearer" or not key.strip():
        raise OpenRouterError(401, "No auth credentials found")
    return key.strip()


async def _body(request: Request) -> dict[str, Any]:
    try:
        body = orjson.loads(await request.body() or b"{}")
    except orjson.JSONDecodeError:
        raise OpenRouterError(400, "Invalid JSON in request body") from None
    if not isinstance(body, dict):
        raise OpenRouterError(400, "The request body must be a JSON object")
    return body


def _model(model_id: str | None) -> ModelEntry:
    if not model_id:
        raise OpenRouterError(400, "No models provided")
    if model_id == AUTO_MODEL:
        return next(iter(MODELS.values()))
    model = MODELS.get(model_id)
    if model is None:
        raise OpenRouterError(400, f"{model_id} is not a valid model ID")
    return model


def _delay(value: Any) -> float:
    if isinstance(value, int | float) and not isinstance(value, bool) and value > 0:
        return min(float(value), MAX_DELAY_MS) / 1000
    return 0.0


def _text(content: Any) -> str:
    if isinstance(content, str):
        return content
    if isinstance(content, list):
        return " ".join(
            str(p.get("text", "")) for p in content if isinstance(p, dict) and p.get("type") == "text"
        )
    return ""


def _last_user(messages: list[Any]) -> tuple[str, list[bytes]]:
    """The last user message's text and its images (data URIs; other URLs cannot be fetched here)."""
    for message in reversed(messages):
        if isinstance(message, dict) and message.get("role") == "user":
            content = message.get("content")
            sources: list[bytes] = []
            for part in content if isinstance(content, list) else []:
                url = part.get("image_url", {}).get("url") if isinstance(part, dict) else None
                if isinstance(url, str) and url.startswith("data:"):
                    try:
                        sources.append(base64.b64decode(url.partition(",")[2], validate=True))
                    except (binascii.Error, ValueError):
                        raise OpenRouterError(400, "Invalid image data URL") from None
            return _text(content), sources
    raise OpenRouterError(400, "messages must contain a user message")


def _json(content: Any, status: int = 200) -> Response:
    return Response(orjson.dumps(content), status_code=status, media_type="application/json")
