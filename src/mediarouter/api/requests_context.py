"""Per-request facts the edge derives: request id, trace id, public base URL, disconnects."""

from __future__ import annotations

import asyncio
import os
import re
import time
from collections.abc import Awaitable
from typing import TypeVar

from starlette.requests import Request

from mediarouter.errors import GatewayError
from mediarouter.settings import Settings

T = TypeVar("T")

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


async def until_disconnect(request: Request, work: Awaitable[T], message: str) -> T:
    """Await `work` in this task; if the client closes the connection first, cancel it and raise
    CANCELLED with `message`. `work` runs in the caller's task (one task and one `asyncio.wait`
    fewer per request than racing two tasks): a watcher task cancels the caller on disconnect."""
    task = asyncio.current_task()
    assert task is not None
    gone = finished = False

    async def watch() -> None:
        nonlocal gone
        await wait_for_disconnect(request)
        if not finished:  # once `work` is over, a cancel would hit whatever the caller does next
            gone = True
            task.cancel()

    watcher = asyncio.get_running_loop().create_task(watch())
    try:
        return await work
    except BaseException:
        if not gone:  # a failure of its own, or the server shutting down: as it is
            raise
        task.uncancel()  # the watcher's cancel became this error, not a cancellation of the caller
        raise GatewayError("CANCELLED", message) from None
    finally:
        finished = True
        watcher.cancel()
