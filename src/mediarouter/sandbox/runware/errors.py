"""Runware's error body, `{"errors": [{code, message, parameter, taskType, taskUUID}]}`, and its
fault voice (`RunwareDialect`) for `sandbox/injection.py`.
"""

from __future__ import annotations

from typing import Any

import orjson
from starlette.responses import Response

STATUS_CODES: dict[int, tuple[str, str]] = {
    400: ("invalidParameter", "Invalid parameter in the request."),
    401: ("invalidApiKey", "Invalid API key. Get one at https://my.runware.ai/signup"),
    402: ("insufficientCredits", "Insufficient credits. Add funds at https://my.runware.ai/wallet"),
    403: ("forbidden", "This API key is not allowed to use this model."),
    404: ("unknownModel", "The requested model does not exist."),
    408: ("timeoutProvider", "The request to the provider timed out."),
    429: ("rateLimitExceeded", "Too many requests. Please slow down."),
    500: ("internalServerError", "Internal server error. Please retry."),
    502: ("providerError", "The inference provider returned an error."),
    503: ("serviceUnavailable", "The service is temporarily unavailable."),
    504: ("timeoutProvider", "The inference provider did not answer in time."),
}


class RunwareError(Exception):
    def __init__(
        self,
        status: int,
        code: str,
        message: str,
        parameter: str | None = None,
        task: dict[str, Any] | None = None,
    ) -> None:
        super().__init__(message)
        self.status = status
        self.item: dict[str, Any] = {"code": code, "message": message}
        if parameter:
            self.item["parameter"] = parameter
        for name in ("taskType", "taskUUID"):
            if task is not None and task.get(name) is not None:
                self.item[name] = task[name]

    def response(self) -> Response:
        return runware_json({"errors": [self.item]}, self.status)


def policy_error(task: dict[str, Any] | None) -> RunwareError:
    message = "The request was flagged by the content moderation system."
    return RunwareError(400, "contentPolicyViolation", message, "positivePrompt", task)


def runware_json(content: Any, status: int = 200) -> Response:
    return Response(orjson.dumps(content), status_code=status, media_type="application/json")


class RunwareDialect:
    def __init__(self, task: dict[str, Any] | None) -> None:
        self._task = task

    def error(self, status: int, message: str | None) -> Response:
        code, text = STATUS_CODES.get(
            status, ("internalServerError" if status >= 500 else "invalidParameter", "")
        )
        return RunwareError(status, code, message or text or f"HTTP {status}", task=self._task).response()

    def content_policy(self) -> Response:
        return policy_error(self._task).response()

    def empty(self) -> Response:
        return runware_json({"data": []})
