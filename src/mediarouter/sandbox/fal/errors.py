"""fal's error bodies: `{"detail": str | [{loc, msg, type, ...}]}`, with `X-Fal-Retryable`.

`FalError` is raised anywhere in the emulator and rendered by the app's exception handlers.
`FalDialect` is the emulator's voice for injected faults on the sync host and on queue polls.
"""

from __future__ import annotations

from http import HTTPStatus
from typing import Any

import orjson
from starlette.exceptions import HTTPException
from starlette.requests import ClientDisconnect, Request
from starlette.responses import Response

from mediarouter.sandbox.images import InvalidImageError

POLICY_MESSAGE = (
    "The content could not be processed because it contained material flagged by a content checker."
)
FAILED_MESSAGE = "Internal error while running the model (sandbox job_failed)."
CANCELLED_MESSAGE = "Request was cancelled by the user."
DEFAULT_ERRORS = {
    400: "Bad request",
    401: "Authentication is required to access this application.",
    403: "Access denied: your account is locked or has no credit left.",
    404: "Application not found.",
    429: "Concurrent request limit reached. Please try again later.",
    500: "Internal Server Error",
    503: "Service temporarily unavailable. Please try again later.",
}


class FalError(Exception):
    def __init__(self, status: int, detail: Any, error_type: str | None = None) -> None:
        super().__init__(str(detail))
        self.status = status
        self.detail = detail
        self.error_type = error_type

    def response(self) -> Response:
        retryable = self.status in (408, 409, 429) or self.status >= 500
        headers = {"x-fal-retryable": "true" if retryable else "false"}
        if self.error_type:
            headers["x-fal-error-type"] = self.error_type
        if self.status == 429:
            headers["retry-after"] = "1"
        return Response(orjson.dumps({"detail": self.detail}), self.status, headers, "application/json")


class Answered(Exception):
    """A fault answered the request before the handler's own logic ran."""

    def __init__(self, response: Response) -> None:
        self.response = response


def validation_error(name: str, message: str, kind: str, given: Any = None) -> FalError:
    return FalError(422, [{"loc": ["body", name], "msg": message, "type": kind, "input": given}])


def policy_refusal(prompt: str) -> FalError:
    item = {
        "loc": ["body", "prompt"],
        "msg": POLICY_MESSAGE,
        "type": "content_policy_violation",
        "url": "https://docs.fal.ai/errors#content_policy_violation",
        "ctx": {},
        "input": prompt,
    }
    return FalError(422, [item], "content_policy_violation")


def fal_json(content: Any, status: int = 200, headers: dict[str, str] | None = None) -> Response:
    return Response(orjson.dumps(content), status_code=status, headers=headers, media_type="application/json")


class FalDialect:
    def error(self, status: int, message: str | None) -> Response:
        return FalError(status, message or DEFAULT_ERRORS.get(status, phrase(status))).response()

    def content_policy(self) -> Response:
        return policy_refusal("").response()

    def empty(self) -> Response:
        return fal_json({"images": [], "timings": {}, "seed": 0, "has_nsfw_concepts": [], "prompt": ""})


def phrase(status: int) -> str:
    try:
        return HTTPStatus(status).phrase
    except ValueError:
        return f"HTTP {status}"


async def _fal_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, FalError)
    return exc.response()


async def _answered(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, Answered)
    return exc.response


async def _http_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, HTTPException)
    return FalError(exc.status_code, phrase(exc.status_code)).response()


async def _client_gone(request: Request, exc: Exception) -> Response:
    return Response(status_code=499)  # nobody is left to read it


async def _server_error(request: Request, exc: Exception) -> Response:
    if isinstance(exc, InvalidImageError):
        return validation_error("image_urls", str(exc), "image_load_error").response()
    return FalError(500, DEFAULT_ERRORS[500]).response()


HANDLERS: dict[Any, Any] = {
    FalError: _fal_error,
    Answered: _answered,
    HTTPException: _http_error,
    ClientDisconnect: _client_gone,
    Exception: _server_error,
}
