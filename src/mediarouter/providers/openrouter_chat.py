"""OpenRouter as the gateway's text upstream: the pure halves of `POST /v1/chat/completions`.

The gateway relays chat requests rather than translating them: the caller's OpenAI-shaped body goes
to OpenRouter with the model id unchanged (`google/gemini-3-flash-preview` names the model's maker,
and a top-level `provider` object is OpenRouter's own routing preference), minus the client
bookkeeping some SDKs leave in the body. Answers come back as they are; this module only reads them
for what the gateway records: the model that ran, token usage, cost, and errors.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import orjson

from mediarouter.catalog.models import Price
from mediarouter.catalog.prices import TEXT_BYTES_PER_TOKEN, TEXT_OVERHEAD_TOKENS, cost_of
from mediarouter.errors import invalid
from mediarouter.providers.base import UpstreamError, UpstreamRequest, UpstreamResponse
from mediarouter.providers.openrouter import classify_error, error_object
from mediarouter.schemas.images import CLIENT_BOOKKEEPING

SSE_TYPE = "text/event-stream"


def build_chat_body(body: Mapping[str, Any]) -> dict[str, Any]:
    """The body OpenRouter gets: `extra_body` merged in (LiteLLM passes it literally), bookkeeping dropped.

    Raises INVALID_REQUEST when `model` or `messages` is missing, before anything is sent.
    """
    fields = dict(body)
    extra_body = fields.pop("extra_body", None)
    if isinstance(extra_body, dict):
        fields.update(extra_body)
    model = fields.get("model")
    if not isinstance(model, str) or not model.strip():
        raise invalid("'model' is required (an OpenRouter model id such as 'openai/gpt-5.4')", "model")
    messages = fields.get("messages")
    if not isinstance(messages, list) or not messages:
        raise invalid("'messages' is required and must be a non-empty list", "messages")
    return {k: v for k, v in fields.items() if k not in CLIENT_BOOKKEEPING}


def build_chat_request(body: dict[str, Any], base_url: str, api_key: str) -> UpstreamRequest:
    headers = {"Authorization": f"Bearer {api_key}"}
    if body.get("stream") is True:
        headers["Accept"] = SSE_TYPE
    return UpstreamRequest("POST", f"{base_url}/chat/completions", headers, json=body)


def upstream_error(response: UpstreamResponse) -> UpstreamError:
    """The failure an error answer (status >= 400) stands for."""
    error = error_object(response) or {"message": f"HTTP {response.status}"}
    return classify_error(error, response.status, response.headers)


def parse_chat_response(response: UpstreamResponse) -> dict[str, Any]:
    """The completion as OpenRouter sent it; errors (also those inside a 200 body) raise UpstreamError."""
    if response.status >= 400:
        raise upstream_error(response)
    body = response.json()
    if not isinstance(body, dict):
        raise UpstreamError("malformed", "the completion is not a JSON object", response.status)
    if isinstance(body.get("error"), dict):
        raise classify_error(body["error"], response.status, response.headers)
    if not isinstance(body.get("choices"), list):
        raise UpstreamError("malformed", "the completion has no 'choices' list", response.status)
    return body


def chat_cost(usage: Mapping[str, Any] | None, price: Price | None) -> float | None:
    """USD: OpenRouter's own `usage.cost` when sent, else tokens x the catalog price, else None (unknown)."""
    if not usage:
        return None
    reported = usage.get("cost")
    if isinstance(reported, int | float) and not isinstance(reported, bool):
        return round(float(reported), 8)
    if price is not None and price.per == "token":
        return cost_of(price, 1, [], dict(usage), None, None)
    return None


PART_TOKENS = 1500  # an image, audio or file part of a message, whatever its size (a bound for images)
MEDIA_PARTS = frozenset({"image_url", "input_image", "input_audio", "file", "video_url"})


def chat_max_cost(body: Mapping[str, Any], price: Price | None, default_max_tokens: int) -> float:
    """The most a completion can cost, reserved against a key's budget before it is sent: every
    message's (and tool's) text at UTF-8 bytes / 2 plus `PART_TOKENS` per non-text part, and
    `max_completion_tokens` or `max_tokens` (else `default_max_tokens`) per choice, at the catalog
    price. 0 for a model with no catalog price: then only a budget already spent stops it."""
    if price is None or price.per != "token":
        return 0.0
    text_bytes, parts = _message_size(body.get("messages"))
    text_bytes += len(orjson.dumps(body.get("tools") or []))
    tokens_in = math.ceil(text_bytes / TEXT_BYTES_PER_TOKEN) + TEXT_OVERHEAD_TOKENS + PART_TOKENS * parts
    limit = body.get("max_completion_tokens") or body.get("max_tokens")
    tokens_out = (
        limit if isinstance(limit, int) and not isinstance(limit, bool) and limit > 0 else default_max_tokens
    )
    n = body.get("n")
    choices = n if isinstance(n, int) and not isinstance(n, bool) and n > 1 else 1
    return round((tokens_in * price.input + tokens_out * choices * price.output) / 1_000_000, 6)


def _message_size(value: Any) -> tuple[int, int]:
    """(UTF-8 bytes of every string, number of non-text parts) in messages, walked as JSON."""
    if isinstance(value, str):
        return len(value.encode()), 0
    if isinstance(value, dict):
        if value.get("type") in MEDIA_PARTS:  # not its base64: other parts are counted as text
            return 0, 1
        items: Any = value.values()
    elif isinstance(value, list):
        items = value
    else:
        return 0, 0
    sizes = [_message_size(v) for v in items]
    return sum(b for b, _ in sizes), sum(p for _, p in sizes)


@dataclass
class StreamScan:
    """Reads a relayed SSE stream in passing, for the log: the model, the final usage, an error event.

    Bytes are fed as they arrive (lines may be split across chunks); only `data:` lines that can hold
    what is wanted are decoded, so a long stream of text deltas costs a substring search per line.
    """

    model: str | None = None
    usage: dict[str, Any] | None = None
    error: dict[str, Any] | None = None
    done: bool = False
    events: int = 0
    _pending: bytearray = field(default_factory=bytearray)

    def feed(self, chunk: bytes) -> None:
        self._pending += chunk
        *lines, rest = self._pending.split(b"\n")
        self._pending = bytearray(rest)
        for line in lines:
            self._line(bytes(line).rstrip(b"\r"))

    def _line(self, line: bytes) -> None:
        if not line.startswith(b"data:"):
            return
        payload = line[5:].strip()
        if payload == b"[DONE]":
            self.done = True
            return
        self.events += 1
        wanted = self.model is None or b'"usage"' in payload or b'"error"' in payload
        if not wanted:
            return
        try:
            event = orjson.loads(payload)
        except orjson.JSONDecodeError:
            return
        if not isinstance(event, dict):
            return
        if self.model is None and isinstance(event.get("model"), str):
            self.model = event["model"]
        if isinstance(event.get("usage"), dict):
            self.usage = event["usage"]
        if isinstance(event.get("error"), dict):
            self.error = event["error"]
