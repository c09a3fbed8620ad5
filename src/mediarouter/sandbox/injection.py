"""Turning a fault into what a client sees on the wire, the same way for every emulator.

An emulator calls `book.hit(...)` for each request, then `apply_fault(...)` with a `FaultDialect`:
three methods that render its provider's own error, refusal and empty-success bodies. Everything
else (hanging, dropping the connection, broken JSON, latency) looks the same whatever the provider,
so it lives here. Job-based emulators get None back for `job_failed`/`job_stuck` and act on the
fault's mode themselves when the job is polled.
"""

from __future__ import annotations

import asyncio
from typing import Protocol

from starlette.requests import Request
from starlette.responses import Response
from starlette.types import Receive, Scope, Send

from mediarouter.sandbox.faults import JOB_MODES, Fault

DISCONNECT_POLL_S = 0.2  # how often a held request checks whether its client is still there
# The start of a plausible success body: what `reset` sends before dropping, and `malformed` in full.
TRUNCATED_JSON = b'{"created": 1767225600, "data": [{"b64_json": "iVBORw0KGgoAAAANSUhEUgAA'


class FaultDialect(Protocol):
    """How one provider says no. Each method returns a complete response in the provider's shape."""

    def error(self, status: int, message: str | None) -> Response:
        """The provider's error body for `status`; `message` replaces its usual text when given."""
        ...

    def content_policy(self) -> Response: ...

    def empty(self) -> Response:
        """A success (200) in the provider's shape that carries no image."""
        ...


class DroppedConnection(Response):
    """Promises a body (Content-Length), sends a part of it, then returns without finishing.

    ASGI has no "close the socket" message; a server whose app returns mid-body closes the
    connection (uvicorn does, and logs it), so the client sees the connection drop while reading.
    """

    def __init__(self) -> None:
        super().__init__(status_code=200, media_type="application/json")

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        promised = str(len(TRUNCATED_JSON) * 64).encode()
        headers = [(b"content-type", b"application/json"), (b"content-length", promised)]
        await send({"type": "http.response.start", "status": 200, "headers": headers})
        await send({"type": "http.response.body", "body": TRUNCATED_JSON, "more_body": True})


async def hold(request: Request, seconds: float) -> bool:
    """Wait `seconds` unless the client leaves first; True when it is still connected."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + seconds
    while (remaining := deadline - loop.time()) > 0:
        if await request.is_disconnected():
            return False
        await asyncio.sleep(min(DISCONNECT_POLL_S, remaining))
    return not await request.is_disconnected()


async def apply_fault(
    fault: Fault | None, request: Request, dialect: FaultDialect, hang_s: float
) -> Response | None:
    """The faulty response for `fault`, or None when the request should be served normally.

    Read the request body before calling this: disconnects are detected by reading from the client.
    """
    if fault is None:
        return None
    if fault.latency_ms and not await hold(request, fault.latency_ms / 1000):
        return DroppedConnection()  # the client left; nobody will read this
    mode = fault.mode
    if mode == "slow" or mode in JOB_MODES:
        return None
    if mode == "error":
        return dialect.error(fault.error_status, fault.message)
    if mode == "content_policy":
        return dialect.content_policy()
    if mode == "empty":
        return dialect.empty()
    if mode == "malformed":
        return Response(TRUNCATED_JSON, status_code=200, media_type="application/json")
    if mode == "timeout":
        await hold(request, hang_s)
        return DroppedConnection()
    if mode == "reset":
        return DroppedConnection()
    raise ValueError(f"unknown fault mode {mode!r}")
