"""`POST /chat/completions`: OpenAI chat requests relayed to OpenRouter, as JSON or as a live SSE stream.

Text models are not routed across providers: the body goes to the configured `openrouter` upstream
with its model id unchanged (see `providers/openrouter_chat.py`). What the gateway adds is its own
authentication and per-key limits, error shape, request log (usage and cost), and, on JSON answers,
`X-MediaRouter-*` headers and a `mediarouter` block. Streams are relayed chunk by chunk as they arrive,
never buffered; a failure after the first byte becomes a final `data: {"error": ...}` event.
"""

from __future__ import annotations

import asyncio
import logging
import math
import time
from collections.abc import AsyncIterator, Awaitable
from dataclasses import dataclass
from typing import Any, TypeVar

import orjson
from starlette.requests import Request
from starlette.responses import Response, StreamingResponse
from starlette.types import Receive, Scope, Send

from mediarouter.api.auth import authenticate
from mediarouter.api.requests_context import new_request_id, trace_id, until_disconnect
from mediarouter.api.responses import error_response, json_response
from mediarouter.catalog.models import Catalog, Price
from mediarouter.catalog.prices import token_components
from mediarouter.errors import GatewayError, invalid, too_large
from mediarouter.providers.base import UpstreamError, UpstreamResponse
from mediarouter.providers.openrouter import classify_error
from mediarouter.providers.openrouter_chat import (
    SSE_TYPE,
    StreamScan,
    build_chat_body,
    build_chat_request,
    chat_cost,
    chat_max_cost,
    parse_chat_response,
)
from mediarouter.providers.transport import UpstreamStream
from mediarouter.routing.failures import describe, redact_secret
from mediarouter.schemas.images import Attempt
from mediarouter.store.keys import KeyRecord
from mediarouter.store.limits import Lease
from mediarouter.store.request_log import RequestRecord

log = logging.getLogger("mediarouter")
T = TypeVar("T")

ENDPOINT = "/v1/chat/completions"
UPSTREAM = "openrouter"
# Upstream 4xx the caller can act on keep their status; the upstream's other 4xx (our key, our
# credit) are the gateway's problem and become 502.
CALLER_STATUSES = frozenset({400, 404, 413, 422, 429})


def redacted(gw: Any, exc: UpstreamError) -> UpstreamError:
    """The failure with OpenRouter's key taken out of its message, before it is shown or logged."""
    runtime = gw.router.providers.get(UPSTREAM)
    exc.message = redact_secret(exc.message, runtime.api_key if runtime else None)
    return exc


def gateway_error(exc: UpstreamError) -> GatewayError:
    """The client-facing error for an upstream chat failure."""
    if exc.failure == "content_policy":
        message = f"The request was rejected by {UPSTREAM}'s content policy: {exc.message}"
        return GatewayError("CONTENT_POLICY_VIOLATION", message)
    if exc.status in CALLER_STATUSES:
        status = exc.status
    else:
        status = 504 if exc.failure == "timeout" else 502
    headers = {"Retry-After": str(int(exc.retry_after or 1))} if status == 429 else {}
    message = f"Provider {describe(UPSTREAM, exc)}"
    return GatewayError("UPSTREAM_ERROR", message, status=status, headers=headers)


def text_price(catalog: Catalog, model_id: str) -> Price | None:
    """The catalog's per-token price for a text model served by OpenRouter under `model_id`, if listed."""
    for model in catalog.models:
        offering = model.offering(UPSTREAM)
        if model.kind == "text" and offering is not None:
            if offering.model_id == model_id or model_id in (model.id, *model.aliases):
                return offering.price
    return None


@dataclass
class ChatCall:
    """One relayed request and its log entry, settled once whichever way it ends."""

    gw: Any
    record: RequestRecord
    started: float
    lease: Lease | None = None
    price: Price | None = None
    upstream_started: float = 0.0
    upstream_ms: float = 0.0
    logged: bool = False
    key: KeyRecord | None = None
    written: asyncio.Event | None = None  # set once the log row is committed

    def upstream_done(self) -> None:
        if self.upstream_started:
            self.upstream_ms = (time.perf_counter() - self.upstream_started) * 1000

    def attempt(self, status: str, usage: Any = None, error: UpstreamError | None = None) -> None:
        model = self.record.model or ""
        attempt = Attempt(UPSTREAM, model, status, self.upstream_ms, cost=self.record.cost)
        if error is not None:
            attempt.error_code, attempt.http_status, attempt.message = (
                error.failure.upper(),
                error.status,
                error.message,
            )
        entry = attempt.public()
        if usage:
            entry["usage"] = usage  # the request log has no token columns: usage rides on the attempt
        self.record.attempts = [entry]
        self.gw.metrics.attempt(UPSTREAM, model, error.failure if error else status, self.upstream_ms)

    def fail(self, err: GatewayError, upstream: UpstreamError | None = None) -> Response:
        record = self.record
        record.http_status, record.error_code, record.error_message = err.http_status, err.code, err.message
        if upstream is not None:
            record.status = "upstream_failure"
            self.attempt("failed", error=upstream)
            err.extra["attempts"] = record.attempts
        elif err.code == "CANCELLED":
            record.status = "cancelled"
        err.extra.setdefault("request_id", record.id)
        headers = {"X-MediaRouter-Request-Id": record.id, "X-MediaRouter-Attempts": str(len(record.attempts))}
        return error_response(err, headers)

    def log(self) -> None:
        """Write the log entry and the metrics (once)."""
        if self.logged:
            return
        self.logged = True
        record = self.record
        record.duration_ms = (time.perf_counter() - self.started) * 1000
        record.overhead_ms = max(0.0, record.duration_ms - self.upstream_ms)
        self.gw.metrics.request(
            ENDPOINT, record.model or "", record.http_status, record.duration_ms, record.overhead_ms
        )
        self.written = self.gw.log.record(record)
        self.gw.metrics.in_flight -= 1

    async def release(self) -> None:
        """Give back the key's concurrency slot and settle its budget to what was spent (once)."""
        lease, self.lease = self.lease, None
        if lease is not None:
            await self.gw.limits.release(lease, self.record.cost)


async def completions(request: Request) -> Response:
    gw = request.app.state.gw
    key = await authenticate(request)
    rid = new_request_id()
    record = RequestRecord(
        rid, time.time(), ENDPOINT, "rejected", 0, key_id=key.key_id, trace_id=trace_id(request)
    )
    call = ChatCall(gw, record, time.perf_counter(), key=key)
    gw.metrics.in_flight += 1
    response: Response | None = None
    try:
        call.lease = await gw.limits.admit(key)
        response = await _serve(request, call)
    except UpstreamError as exc:
        call.upstream_done()
        exc = redacted(gw, exc)
        response = call.fail(gateway_error(exc), exc)
    except GatewayError as err:
        response = call.fail(err)
    except Exception:
        log.exception("internal error in request %s", rid)
        err = GatewayError("INTERNAL_ERROR", f"Internal error; quote request id {rid} when reporting it")
        response = call.fail(err)
    finally:
        if not isinstance(response, RelayResponse):  # a stream settles when it ends
            call.log()
            await call.release()
            if call.written is not None and gw.log.commit_before_answer:  # readable on every instance
                await call.written.wait()
    assert response is not None
    return response


async def _serve(request: Request, call: ChatCall) -> Response:
    gw, record = call.gw, call.record
    body = build_chat_body(await _read_json(request, gw.settings.limits.max_body_bytes, record))
    record.model = body["model"]
    record.user = body["user"] if isinstance(body.get("user"), str) else None
    if gw.settings.log.store_prompts:
        record.prompt = _last_text(body["messages"])
    runtime = gw.router.providers.get(UPSTREAM)
    if runtime is None:
        raise GatewayError(
            "MODEL_NOT_FOUND",
            "Chat completions are relayed to OpenRouter, which is not configured on this gateway "
            "(set providers.openrouter.api_key)",
            "model",
        )
    call.price = text_price(gw.router.catalog, body["model"])
    if request.query_params.get("dryRun", "").lower() in ("1", "true", "yes"):
        return _dry_run(call, body)
    key, lease = call.key, call.lease
    assert key is not None and lease is not None  # admitted by completions()
    await gw.limits.reserve(
        key, lease, chat_max_cost(body, call.price, gw.settings.limits.chat_default_max_tokens)
    )
    upstream = build_chat_request(body, runtime.base_url, await runtime.secret())
    timeout_s = gw.settings.timeouts.attempt_s  # one attempt's budget; for streams, the longest silence
    call.upstream_started = time.perf_counter()
    transport = gw.router.transport
    if body.get("stream") is True:
        stream = await _until_disconnect(request, transport.open_stream(UPSTREAM, upstream, timeout_s))
        if stream.status < 400 and SSE_TYPE in stream.headers.get("Content-Type", ""):
            return _relay(call, stream)
        response = await _read_whole(stream)  # an error, or JSON although a stream was asked for
    else:
        response = await _until_disconnect(request, transport.send(UPSTREAM, upstream, timeout_s))
    call.upstream_done()
    return _completed(call, parse_chat_response(response))


CHARS_PER_TOKEN = 4  # a typical English token: a dry run is an estimate (budgets reserve a bound)


def _dry_run(call: ChatCall, body: dict[str, Any]) -> Response:
    """`?dryRun=true`: the estimate (images' shape) from the messages' text and the answer's token
    limit (`max_completion_tokens`, `max_tokens`, else limits.chat_default_max_tokens); calls nobody."""
    record = call.record
    tokens_in = math.ceil(_text_chars(body["messages"]) / CHARS_PER_TOKEN)
    limit = body.get("max_completion_tokens") or body.get("max_tokens")
    if not isinstance(limit, int) or isinstance(limit, bool) or limit <= 0:
        limit = call.gw.settings.limits.chat_default_max_tokens
    n = body.get("n")
    choices = n if isinstance(n, int) and not isinstance(n, bool) and n > 1 else 1
    components = token_components(call.price, tokens_in, limit * choices)
    priced = all(c["total_cost"] is not None for c in components)
    total = sum(c["total_cost"] for c in components) if priced else None
    estimate = {
        "estimated": True,
        "model": record.model,
        "provider": UPSTREAM,
        "executed_model": f"{UPSTREAM}/{record.model}",
        "total_cost_micros": total,
        "total_cost": None if total is None else round(total / 1_000_000, 6),
        "currency": "USD",
        "components": components,
    }
    record.status, record.http_status, record.provider = "completed", 200, UPSTREAM
    return json_response(estimate, headers={"X-MediaRouter-Request-Id": record.id})


def _text_chars(value: Any) -> int:
    """Characters of the messages' text: string contents and `text` parts (images are not text)."""
    if isinstance(value, list):
        return sum(_text_chars(item) for item in value)
    if not isinstance(value, dict):
        return len(value) if isinstance(value, str) else 0
    if value.get("type") == "text":
        return _text_chars(value.get("text"))
    return _text_chars(value.get("content"))


def _completed(call: ChatCall, payload: dict[str, Any]) -> Response:
    record = call.record
    usage = payload.get("usage") if isinstance(payload.get("usage"), dict) else None
    cost = chat_cost(usage, call.price)
    executed = f"{UPSTREAM}/{payload.get('model') or record.model}"
    record.status, record.http_status = "completed", 200
    record.executed_model, record.provider, record.cost = executed, UPSTREAM, cost or 0.0
    call.attempt("success", usage)
    # Not `metadata`: OpenAI's chat type declares that as a string map, and SDKs warn on anything else.
    payload["mediarouter"] = {
        "model": record.model,
        "executed_model": executed,
        "provider": UPSTREAM,
        "provider_name": call.gw.router.providers[UPSTREAM].name,
        "cost": cost,  # null when neither OpenRouter nor the catalog says
        "cost_currency": "USD",
        "attempts": record.attempts,
    }
    overhead = max(0.0, (time.perf_counter() - call.started) * 1000 - call.upstream_ms)
    headers = {
        "X-MediaRouter-Request-Id": record.id,
        "X-MediaRouter-Provider": UPSTREAM,
        "X-MediaRouter-Model": executed,
        "X-MediaRouter-Attempts": "1",
        "X-MediaRouter-Overhead-Ms": f"{overhead:.2f}",
    }
    if cost is not None:
        headers["X-MediaRouter-Cost"] = f"{cost:.6f}"
    response = json_response(payload, headers=headers)
    record.response_size_bytes = len(response.body)
    return response


class Relay:
    """One upstream stream passed through to the client. `close` releases the upstream and writes
    the log entry exactly once, whether the stream ended, failed, or the client left."""

    def __init__(self, call: ChatCall, stream: UpstreamStream) -> None:
        self.call, self.stream, self.scan = call, stream, StreamScan()
        self.failure: UpstreamError | None = None
        self.sent = 0
        self.closed = False
        call.record.status, call.record.http_status = "cancelled", 200  # until seen to its end

    async def events(self) -> AsyncIterator[bytes]:
        try:
            try:
                async for chunk in self.stream.chunks():
                    self.scan.feed(chunk)
                    self.sent += len(chunk)
                    yield chunk
            except UpstreamError as exc:
                self.failure = redacted(self.call.gw, exc)
                event = b"data: " + orjson.dumps(gateway_error(exc).body()) + b"\n\n"
                self.sent += len(event)
                yield event
            if self.failure is None and self.scan.error is not None:  # the upstream's own error event
                self.failure = redacted(self.call.gw, classify_error(self.scan.error, 200))
            self.call.record.status = "upstream_failure" if self.failure else "completed"
        finally:
            self.close()

    def close(self) -> None:
        if self.closed:
            return
        self.closed = True
        self.stream.close()
        call, record = self.call, self.call.record
        call.upstream_done()
        record.response_size_bytes = self.sent
        if self.scan.model:
            record.executed_model = f"{UPSTREAM}/{self.scan.model}"
        record.cost = chat_cost(self.scan.usage, call.price) or 0.0
        if self.failure is not None:
            err = gateway_error(self.failure)
            record.error_code, record.error_message = err.code, err.message
            call.attempt("failed", self.scan.usage, self.failure)
        else:
            call.attempt("success" if record.status == "completed" else "cancelled", self.scan.usage)
        call.log()


class RelayResponse(StreamingResponse):
    """A StreamingResponse that always settles its relay: when the client leaves, Starlette just stops
    iterating, which would leave the upstream open, the request unlogged and the key's slot held."""

    def __init__(self, relay: Relay, headers: dict[str, str]) -> None:
        super().__init__(relay.events(), media_type=SSE_TYPE, headers=headers)
        self.relay = relay

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        try:
            await super().__call__(scope, receive, send)
        finally:
            await self.body_iterator.aclose()  # type: ignore[attr-defined]
            self.relay.close()
            await self.relay.call.release()


def _relay(call: ChatCall, stream: UpstreamStream) -> Response:
    record = call.record
    record.provider, record.executed_model = UPSTREAM, f"{UPSTREAM}/{record.model}"
    headers = {
        "X-MediaRouter-Request-Id": record.id,
        "X-MediaRouter-Provider": UPSTREAM,
        "X-MediaRouter-Model": f"{UPSTREAM}/{record.model}",
        "X-MediaRouter-Attempts": "1",
        "Cache-Control": "no-cache",
        "X-Accel-Buffering": "no",  # asks nginx-like proxies not to buffer the stream
    }
    return RelayResponse(Relay(call, stream), headers)


async def _read_whole(stream: UpstreamStream) -> UpstreamResponse:
    try:
        return await stream.read()
    finally:
        stream.close()


async def _read_json(request: Request, limit: int, record: RequestRecord) -> dict[str, Any]:
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > limit:
        raise too_large(f"The request body is larger than the limit of {limit} bytes")
    raw = await request.body()
    record.request_size_bytes = len(raw)
    if len(raw) > limit:
        raise too_large(f"The request body is larger than the limit of {limit} bytes")
    try:
        body = orjson.loads(raw)
    except orjson.JSONDecodeError:
        raise invalid("The body must be a JSON object (Content-Type: application/json)") from None
    if not isinstance(body, dict):
        raise invalid("The body must be a JSON object")
    return body


def _last_text(messages: list[Any]) -> str | None:
    """The text of the last message, for the log when prompts are stored."""
    content = messages[-1].get("content") if isinstance(messages[-1], dict) else None
    if isinstance(content, list):
        content = " ".join(
            p.get("text", "") for p in content if isinstance(p, dict) and p.get("type") == "text"
        )
    return content if isinstance(content, str) else None


async def _until_disconnect(request: Request, work: Awaitable[T]) -> T:
    return await until_disconnect(
        request, work, "The client closed the connection; the upstream request was cancelled"
    )
