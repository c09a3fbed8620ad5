"""Replicate's error bodies: RFC 7807 problem details (`title`, `detail`, `status`).

`ProblemError` is raised anywhere in the emulator and rendered by the app's exception handlers.
`ReplicateDialect` is the emulator's voice for injected faults; Replicate's refusals are failed
predictions, so the `content_policy` mode is normally a prediction fate (see `app.py`).
"""

from __future__ import annotations

from http import HTTPStatus
from typing import Any

import orjson
from starlette.exceptions import HTTPException
from starlette.requests import ClientDisconnect, Request
from starlette.responses import Response

from mediarouter.sandbox.images import InvalidImageError

SENSITIVE_ERROR = (
    "The input or output was flagged as sensitive. Please try again with different inputs. (E005)"
)
FAILED_ERROR = "Prediction failed: the model raised an exception while generating (sandbox job_failed)."
THROTTLED = "Request was throttled. Your rate limit resets in ~{s}s."
RETRY_AFTER_S = 1
TITLES = {
    400: "Bad request",
    401: "Unauthenticated",
    402: "Insufficient credit",
    403: "Forbidden",
    404: "Not found",
    422: "Input validation failed",
    429: "Too many requests",
    500: "Internal server error",
    503: "Service unavailable",
}
DETAILS = {
    401: "You did not pass a valid authentication token",
    402: "You have insufficient credit to run this model. Go to https://replicate.com/account/billing#billing "
    "to purchase credit. Once you purchase credit, please wait a few minutes before trying again.",
    404: "The requested resource could not be found.",
    500: "An internal error occurred while processing the request.",
}


class ProblemError(Exception):
    def __init__(self, status: int, detail: str | None = None, **extra: Any) -> None:
        super().__init__(detail)
        self.status = status
        title = TITLES.get(status, phrase(status))
        self.body = {
            "title": title,
            "detail": detail or DETAILS.get(status, phrase(status)),
            "status": status,
        }
        self.body.update(extra)

    def response(self) -> Response:
        headers = {"retry-after": str(RETRY_AFTER_S)} if self.status == 429 else None
        return Response(orjson.dumps(self.body), self.status, headers, "application/problem+json")


class Answered(Exception):
    """A fault answered the request before the handler's own logic ran."""

    def __init__(self, response: Response) -> None:
        self.response = response


def invalid_input(field_name: str, kind: str, description: str) -> ProblemError:
    fields = [{"type": kind, "field": f"input.{field_name}", "description": description}]
    return ProblemError(422, f"- input.{field_name}: {description}", invalid_fields=fields)


def replicate_json(content: Any, status: int = 200) -> Response:
    return Response(orjson.dumps(content), status_code=status, media_type="application/json")


class ReplicateDialect:
    def error(self, status: int, message: str | None) -> Response:
        detail = message or (THROTTLED.format(s=RETRY_AFTER_S) if status == 429 else None)
        return ProblemError(status, detail).response()

    def content_policy(self) -> Response:
        return ProblemError(422, SENSITIVE_ERROR).response()

    def empty(self) -> Response:
        return replicate_json({"id": "sandbox", "status": "succeeded", "output": None, "error": None})


def phrase(status: int) -> str:
    try:
        return HTTPStatus(status).phrase
    except ValueError:
        return f"HTTP {status}"


async def _problem(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, ProblemError)
    return exc.response()


async def _answered(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, Answered)
    return exc.response


async def _http_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, HTTPException)
    return ProblemError(exc.status_code).response()


async def _client_gone(request: Request, exc: Exception) -> Response:
    return Response(status_code=499)  # nobody is left to read it


async def _server_error(request: Request, exc: Exception) -> Response:
    if isinstance(exc, InvalidImageError):
        return ProblemError(422, str(exc)).response()
    return ProblemError(500).response()


HANDLERS: dict[Any, Any] = {
    ProblemError: _problem,
    Answered: _answered,
    HTTPException: _http_error,
    ClientDisconnect: _client_gone,
    Exception: _server_error,
}
