"""The seam between the router and a provider: pure build/parse functions around plain HTTP values.

An adapter never does I/O. `build` turns the canonical request into an `UpstreamRequest`;
`parse` turns an `UpstreamResponse` into `Done` (images) or `Poll` (a job to ask about again),
or raises `UpstreamError` with one of the `FAILURES` below. `providers/driver.py` sends the
requests, sleeps between polls, fetches returned image URLs and enforces the deadline.

To add a provider: a module with a parameter table and an adapter class with `slug`, `name`,
`build`, `parse` (and `cancel` for job APIs), registered in `providers/registry.py`.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Protocol

import orjson

from mediarouter.catalog.models import ModelSpec, Offering
from mediarouter.schemas.images import ImageRequest, ProviderOutput

# What went wrong upstream, in the gateway's words; routing/failures.py decides what each means.
FAILURES = (
    "invalid_request",  # the provider says the request itself is wrong
    "content_policy",  # the provider refused the prompt or image
    "payload_too_large",
    "rate_limited",  # 429 / throttling
    "overloaded",  # 503 with a short Retry-After
    "auth",  # the provider rejected our credentials (never shown to the client as 401)
    "quota",  # out of credit / quota / region not allowed
    "not_found",  # unknown model or job at the provider
    "server",  # 5xx
    "timeout",
    "transport",  # connection refused / reset / incomplete body
    "malformed",  # 2xx that is not the documented shape
    "no_image",  # 2xx with no image in it
    "job_failed",  # an async job ended in failure
)


@dataclass(slots=True)
class FormPart:
    name: str
    value: str | bytes
    filename: str | None = None
    content_type: str | None = None


@dataclass(slots=True)
class UpstreamRequest:
    method: str
    url: str
    headers: dict[str, str] = field(default_factory=dict)
    json: Any = None
    form: list[FormPart] | None = None
    body: bytes | None = None


@dataclass(slots=True)
class UpstreamResponse:
    status: int
    headers: Mapping[str, str]
    body: bytes

    def json(self) -> Any:
        """The body as JSON; a body that is not JSON is a malformed answer."""
        try:
            return loads_lifting(self.body)
        except orjson.JSONDecodeError:
            raise UpstreamError(
                "malformed", f"response is not valid JSON (HTTP {self.status})", self.status
            ) from None


_LIFT_MIN = 64 * 1024


def loads_lifting(body: bytes) -> Any:
    """`orjson.loads`, but strings of 64 KiB or more (base64 images) are sliced out and decoded
    directly: orjson takes ~10 ms on 4 x 2 MB of base64, slicing ~1 ms (bench/RESULTS.md, (c))."""
    if len(body) < _LIFT_MIN:
        return orjson.loads(body)
    prefix = f"\x00lifted-{os.urandom(8).hex()}-"  # a nonce: no string of the body can equal a token
    parts: list[bytes] = []
    lifted: dict[str, str] = {}
    pos = i = 0
    for _ in range(10_000):  # a body of many short strings is left to orjson past this
        start = body.find(b'"', i)
        end = body.find(b'"', start + 1) if start >= 0 else -1
        while end > 0 and _escaped(body, end):
            end = body.find(b'"', end + 1)
        if end < 0:
            break  # no more strings (or an unterminated one, which orjson reports)
        if end - start > _LIFT_MIN and body.find(b"\\", start, end) < 0:
            span = memoryview(body)[start + 1 : end]
            try:
                text = str(span, "ascii")  # ~5x faster than a UTF-8 decode
            except UnicodeDecodeError:
                try:
                    text = str(span, "utf-8")
                except UnicodeDecodeError:
                    return orjson.loads(body)  # orjson reports the invalid UTF-8
            lifted[token := f"{prefix}{len(lifted)}"] = text
            parts += (body[pos:start], orjson.dumps(token))
            pos = end + 1
        i = end + 1
    if not lifted:
        return orjson.loads(body)
    parts.append(body[pos:])
    return _restore(orjson.loads(b"".join(parts)), lifted)


def _escaped(body: bytes, quote: int) -> bool:
    n = 0
    while body[quote - 1 - n] == 0x5C:  # backslashes before the quote: odd = escaped
        n += 1
    return n % 2 == 1


def _restore(value: Any, lifted: dict[str, str]) -> Any:
    if isinstance(value, str):
        return lifted.get(value, value)
    if isinstance(value, list):
        return [_restore(v, lifted) for v in value]
    if isinstance(value, dict):
        return {lifted.get(k, k): _restore(v, lifted) for k, v in value.items()}
    return value


@dataclass(slots=True)
class Done:
    output: ProviderOutput


@dataclass(slots=True)
class Poll:
    """A job is running: send `request` after about `after_s` (None: the driver's backoff)."""

    request: UpstreamRequest
    after_s: float | None = None
    state: dict[str, Any] = field(default_factory=dict)


class UpstreamError(Exception):
    def __init__(
        self,
        failure: str,
        message: str,
        status: int | None = None,
        provider_code: str | None = None,
        retry_after: float | None = None,
    ) -> None:
        assert failure in FAILURES, failure
        super().__init__(message)
        self.failure = failure
        self.message = message
        self.status = status
        self.provider_code = provider_code
        self.retry_after = retry_after


@dataclass(slots=True)
class Call:
    """Everything one attempt needs: the canonical request, the model, who serves it, and how."""

    request: ImageRequest
    model: ModelSpec
    offering: Offering
    base_url: str
    api_key: str
    size: (
        str | None
    )  # pixels chosen for this model ("WxH" or "auto"; params/sizes.py), None = provider default
    quality: str | None = None
    aspect_ratio: str | None = None  # for aspect-ratio models: the ratio chosen ("16:9")
    resolution: str | None = None  # for tiered models: the tier chosen ("1K")
    options: dict[str, Any] = field(default_factory=dict)  # provider config extras (project, location...)
    state: dict[str, Any] = field(default_factory=dict)  # job ids etc. carried between polls
    # Seconds left in this attempt when `build` runs (set by the driver), so that a server-side
    # wait (e.g. Replicate's `Prefer: wait=N`) can end before the attempt does; None = unknown.
    time_left_s: float | None = None


class ImageAdapter(Protocol):
    slug: str
    name: str

    def build(self, call: Call) -> UpstreamRequest: ...

    def parse(self, call: Call, response: UpstreamResponse) -> Done | Poll: ...

    def cancel(self, call: Call) -> UpstreamRequest | None: ...


def failure_for_status(status: int) -> str:
    """The default meaning of an HTTP error status; adapters refine it with the provider's own codes."""
    if status == 413:
        return "payload_too_large"
    if status == 429:
        return "rate_limited"
    if status in (401,):
        return "auth"
    if status in (402, 403):
        return "quota"
    if status == 404:
        return "not_found"
    if status in (408, 504, 524):
        return "timeout"
    if status == 503:
        return "overloaded"
    if 400 <= status < 500:
        return "invalid_request"
    return "server"


def retry_after_s(headers: Mapping[str, str]) -> float | None:
    value = headers.get("retry-after-ms")
    if value:
        try:
            return float(value) / 1000
        except ValueError:
            pass
    value = headers.get("retry-after")
    if value:
        try:
            return float(value)
        except ValueError:
            return None
    return None
