"""How DashScope says no: its error bodies and codes, and the `error`/`content_policy`/`empty` dialect."""

from __future__ import annotations

import uuid
from typing import Any

import orjson
from starlette.requests import Request
from starlette.responses import Response

POLICY_INPUT = "Input data may contain inappropriate content."
POLICY_OUTPUT = "Output data may contain inappropriate content."
JOB_FAILED = (
    "InternalError.Algo",
    "Algorithm process error: the sandbox was told to fail this task (job_failed).",
)
# status -> DashScope code, for the `error` fault mode.
STATUS_CODES = {
    400: ("InvalidParameter", "The request parameter is invalid."),
    401: ("InvalidApiKey", "Invalid API-key provided."),
    403: ("AccessDenied", "Access denied."),
    404: ("ModelNotFound", "Model not exist."),
    408: ("RequestTimeOut", "Request timed out, please try again later."),
    413: ("BadRequest.TooLarge", "Payload Too Large"),
    429: ("Throttling.RateQuota", "Requests rate limit exceeded, please try again later."),
    500: (
        "InternalError",
        "An internal error has occured, please try again later or contact service support.",
    ),
}


class DashScopeError(Exception):
    def __init__(self, status: int, code: str, message: str) -> None:
        super().__init__(message)
        self.status, self.code, self.message = status, code, message


def dashscope_json(content: dict[str, Any], status: int = 200) -> Response:
    return Response(
        orjson.dumps({**content, "request_id": str(uuid.uuid4())}), status, media_type="application/json"
    )


def error_response(status: int, code: str, message: str) -> Response:
    return dashscope_json({"code": code, "message": message}, status)


class DashScopeDialect:
    """How DashScope says no; `empty` is the synchronous API's success without an image."""

    def error(self, status: int, message: str | None) -> Response:
        default = (
            ("InternalError", "Internal error.") if status >= 500 else ("InvalidParameter", "Bad request.")
        )
        code, text = STATUS_CODES.get(status, default)
        return error_response(status, code, message or text)

    def content_policy(self) -> Response:
        return error_response(400, "DataInspectionFailed", POLICY_INPUT)

    def empty(self) -> Response:
        choice = {"finish_reason": "stop", "message": {"role": "assistant", "content": []}}
        return dashscope_json({"output": {"choices": [choice]}, "usage": {"image_count": 0}})


async def dashscope_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, DashScopeError)
    return error_response(exc.status, exc.code, exc.message)
