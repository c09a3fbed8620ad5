"""OpenRouter as the gateway's text upstream: the pure halves of `POST /v1/chat/completions`.

The gateway relays chat requests rather than translating them: the caller's OpenAI-shaped body goes
to OpenRouter with the model id unchanged (`google/gemini-3-flash-preview` names the model's maker,
and a top-level `provider` object is OpenRouter's own routing preference), minus the client
bookkeeping some SDKs leave in the body. Answers come back as they are; this module only reads them
for what the gateway records: the model that ran, token usage, cost, and errors.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import orjson

from mediarouter.catalog.models import Price
from mediarouter.catalog.prices import cost_of
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
