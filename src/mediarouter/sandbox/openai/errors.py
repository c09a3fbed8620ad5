"""OpenAI's error bodies, as its clients parse them: `{"error": {message, type, param, code}}`.

`OpenAIError` is raised anywhere in the emulator and rendered by the app's exception handler.
`OpenAIDialect` is the emulator's voice for injected faults (see `sandbox/injection.py`).
"""

from __future__ import annotations

import time
import uuid
from http import HTTPStatus
from typing import Any

import orjson
from starlette.responses import Response

RATE_LIMIT_MESSAGE = (
    "Rate limit exceeded for images per minute in organization org-sandbox. Limit: 5/1min. Current: 6/1min. "
    "Please visit https://platform.openai.com/docs/guides/rate-limits to learn more."
)
SERVER_ERROR_MESSAGE = (
    "The server had an error while processing your request. Sorry about that! You can retry your request, "
    "or contact us through our help center at help.openai.com if the error persists."
)
MISSING_KEY_MESSAGE = (
    "You didn't provide an API key. You need to provide your API key in an Authorization header using Bearer "
    "auth (i.e. Authorization: Bearer YOUR_KEY). You can obtain an API key from "
    "https://platform.openai.com/account/api-keys."
)
MODERATION_MESSAGE = (
    "Your request was rejected by the safety system. If you believe this is an error, contact us at "
    "help.openai.com and include the request ID {request_id}."
)
DALLE_POLICY_MESSAGE = (
    "Your request was rejected as a result of our safety system. Your prompt may contain text that is not "
    "allowed by our safety system."
)

# status -> (type, code, message) for the `error` fault mode; `{key}` and `{model}` are filled in.
STATUS_ERRORS: dict[int, tuple[str, str | None, str]] = {
    400: ("invalid_request_error", None, "Invalid request: the server could not process the request body."),
    401: (
        "invalid_request_error",
        "invalid_api_key",
        "Incorrect API key provided: {key}. You can find your API key at https://platform.openai.com/account/api-keys.",
    ),
    403: (
        "invalid_request_error",
        "unsupported_country_region_territory",
        "Country, region, or territory not supported",
    ),
    404: (
        "invalid_request_error",
        "model_not_found",
        "The model '{model}' does not exist or you do not have access to it.",
    ),
    429: ("requests", "rate_limit_exceeded", RATE_LIMIT_MESSAGE),
    500: ("server_error", None, SERVER_ERROR_MESSAGE),
    503: ("server_error", None, "The engine is currently overloaded, please try again later."),
}


def request_id() -> str:
    return f"req_{uuid.uuid4().hex}"


def openai_json(content: Any, status: int = 200) -> Response:
    """A JSON response with the `x-request-id` header OpenAI puts on every answer."""
    return Response(
        orjson.dumps(content),
        status_code=status,
        media_type="application/json",
        headers={"x-request-id": request_id()},
    )


class OpenAIError(Exception):
    def __init__(
        self,
        status: int,
        message: str,
        *,
        type: str = "invalid_request_error",
        param: str | None = None,
        code: str | None = None,
        extra: dict[str, Any] | None = None,
    ) -> None:
        super().__init__(message)
        self.status = status
        self.body: dict[str, Any] = {
            "message": message,
            "type": type,
            "param": param,
            "code": code,
            **(extra or {}),
        }

    def response(self) -> Response:
        return openai_json({"error": self.body}, self.status)


def invalid_request(message: str, param: str | None, code: str | None = "invalid_value") -> OpenAIError:
    return OpenAIError(400, message, param=param, code=code)


def missing_key() -> OpenAIError:
    return OpenAIError(401, MISSING_KEY_MESSAGE)


def mask_key(key: str) -> str:
    """How OpenAI quotes a key back: a few leading characters, stars, the last four (if long)."""
    head = key[: min(8, len(key) // 3)]
    tail = key[-4:] if len(key) >= 20 else ""
    return head + "*" * max(4, len(key) - len(head) - len(tail)) + tail


class OpenAIDialect:
    """The emulator's fault voice for one request (its model decides the refusal wording)."""

    def __init__(self, model: str | None, api_key: str, is_gpt_image: bool) -> None:
        self._model = model or "unknown"
        self._api_key = api_key
        self._is_gpt_image = is_gpt_image

    def error(self, status: int, message: str | None) -> Response:
        default_type = "server_error" if status >= 500 else "invalid_request_error"
        type_, code, text = STATUS_ERRORS.get(status, (default_type, None, _phrase(status)))
        text = message or text.format(key=mask_key(self._api_key), model=self._model)
        return OpenAIError(status, text, type=type_, code=code).response()

    def content_policy(self) -> Response:
        if not self._is_gpt_image:
            return OpenAIError(400, DALLE_POLICY_MESSAGE, code="content_policy_violation").response()
        details = {"moderation_details": {"moderation_stage": "input", "categories": ["other"]}}
        message = MODERATION_MESSAGE.format(request_id=request_id())
        return OpenAIError(
            400, message, type="image_generation_user_error", code="moderation_blocked", extra=details
        ).response()

    def empty(self) -> Response:
        return openai_json({"created": int(time.time()), "data": []})


def _phrase(status: int) -> str:
    try:
        return HTTPStatus(status).phrase
    except ValueError:
        return f"HTTP {status}"
