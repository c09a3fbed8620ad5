"""Per-request facts the edge derives: request id, trace id, public base URL, disconnects."""

from __future__ import annotations

import os
import re
import time

from starlette.requests import Request

from mediarouter.settings import Settings

_TRACEPARENT = re.compile(r"^[0-9a-f]{2}-([0-9a-f]{32})-[0-9a-f]{16}-[0-9a-f]{2}$")


def new_request_id() -> str:
    """`req_` + milliseconds (hex, so ids sort by time) + 40 random bits."""
    return f"req_{int(time.time() * 1000):012x}{os.urandom(5).hex()}"


def trace_id(request: Request) -> str | None:
    match = _TRACEPARENT.match(request.headers.get("traceparent", "").strip().lower())
    return match.group(1) if match else None


def public_base(request: Request, settings: Settings) -> str:
    """The configured public URL, else the request's own, honouring X-Forwarded-Proto/-Host."""
    if settings.core.public_base_url:
        return settings.core.public_base_url.rstrip("/")
    headers = request.headers
    proto = headers.get("x-forwarded-proto", "").split(",")[0].strip() or request.url.scheme
    host = (
        headers.get("x-forwarded-host", "").split(",")[0].strip() or headers.get("host") or request.url.netloc
    )
    return f"{proto}://{host}"


async def wait_for_disconnect(request: Request) -> None:
    """Returns when the client closes the connection (the body has already been read)."""
    while True:
        message = await request.receive()
        if message["type"] == "http.disconnect":
            return
