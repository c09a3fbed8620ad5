"""Google's error bodies (`google.rpc.Status`) and the emulators' voice for injected faults.

`RpcError` is raised anywhere in an emulator and rendered by its exception handler as
`{"error": {"code", "message", "status", "details"}}`. The Gemini API and Vertex AI word the same
status differently, so each table row has both texts. `GoogleDialect` renders the fault modes:
errors, a safety refusal (HTTP 200 + `finishReason`, or Imagen's RAI answers) and an empty success.
"""

from __future__ import annotations

import secrets
from datetime import UTC, datetime
from typing import Any

import orjson
from starlette.responses import Response

from mediarouter.sandbox.google.models import GEMINI_API

ERROR_INFO = "type.googleapis.com/google.rpc.ErrorInfo"
RETRY_INFO = "type.googleapis.com/google.rpc.RetryInfo"
GEMINI_TROUBLESHOOTING = (
    "Please retry or report in https://developers.generativeai.google/guide/troubleshooting"
)

# HTTP status -> (google.rpc.Code name, Gemini API text, Vertex AI text) for the `error` fault mode.
STATUS_ERRORS: dict[int, tuple[str, str, str]] = {
    400: (
        "INVALID_ARGUMENT",
        "Request contains an invalid argument.",
        "Request contains an invalid argument.",
    ),
    401: (
        "UNAUTHENTICATED",
        "Request had invalid authentication credentials.",
        "Request had invalid authentication credentials. Expected OAuth 2 access token, login cookie or "
        "other valid authentication credential. "
        "See https://developers.google.com/identity/sign-in/web/devconsole-project.",
    ),
    403: ("PERMISSION_DENIED", "The caller does not have permission", "Permission denied on resource."),
    404: ("NOT_FOUND", "Requested entity was not found.", "Requested entity was not found."),
    409: ("ABORTED", "The operation was aborted.", "The operation was aborted."),
    429: (
        "RESOURCE_EXHAUSTED",
        "You exceeded your current quota, please check your plan and billing details. For more information "
        "on this error, head to: https://ai.google.dev/gemini-api/docs/rate-limits.",
        "Resource exhausted. Please try again later. Please refer to "
        "https://cloud.google.com/vertex-ai/generative-ai/docs/error-code-429 for more details.",
    ),
    499: ("CANCELLED", "The operation was cancelled.", "The operation was cancelled."),
    500: (
        "INTERNAL",
        f"An internal error has occurred. {GEMINI_TROUBLESHOOTING}",
        "Internal error encountered.",
    ),
    501: (
        "UNIMPLEMENTED",
        "Method not implemented.",
        "Operation is not implemented, or supported, or enabled.",
    ),
    503: (
        "UNAVAILABLE",
        "The model is overloaded. Please try again later.",
        "The service is currently unavailable.",
    ),
    504: (
        "DEADLINE_EXCEEDED",
        "Deadline expired before operation could complete.",
        "Deadline expired before operation could complete.",
    ),
}
GEMINI_RETRY_DELAY = "9s"  # what the Gemini API's 429 asks a client to wait
IMAGEN_PROMPT_BLOCKED = (
    "Image generation failed with the following error: The prompt could not be submitted. This prompt "
    "contains sensitive words that violate Google's Responsible AI practices. Try rephrasing the prompt. If "
    "you think this was an error, send feedback. Support codes: 42876398"
)
IMAGEN_OUTPUT_FILTERED = (
    "Your current safety filter threshold filtered out the generated image. You will not be charged for "
    "blocked images. Try rephrasing the prompt. If you think this was an error, send feedback. "
    "Support codes: 58061214"
)
IMAGE_SAFETY_MESSAGE = (
    "Unable to show the generated image. The image was filtered out because it violated Google's Generative "
    "AI Prohibited Use policy. You will not be charged for blocked images. Try rephrasing the prompt."
)


def google_json(content: Any, status: int = 200) -> Response:
    return Response(orjson.dumps(content), status_code=status, media_type="application/json; charset=UTF-8")


class RpcError(Exception):
    def __init__(
        self, status: int, message: str, code: str | None = None, details: list[Any] | None = None
    ) -> None:
        super().__init__(message)
        self.status = status
        self.message = message
        self.code = code or STATUS_ERRORS.get(status, ("UNKNOWN",))[0]
        self.details = details

    def response(self) -> Response:
        error: dict[str, Any] = {"code": self.status, "message": self.message, "status": self.code}
        if self.details:
            error["details"] = self.details
        return google_json({"error": error}, self.status)


def invalid_argument(message: str) -> RpcError:
    return RpcError(400, message, "INVALID_ARGUMENT")


def error_info(reason: str, service: str, **metadata: str) -> dict[str, Any]:
    return {
        "@type": ERROR_INFO,
        "reason": reason,
        "domain": "googleapis.com",
        "metadata": {"service": service, **metadata},
    }


def unauthenticated(surface: str, reason: str) -> RpcError:
    """No usable credential: Gemini wants a key (403 for none), Vertex an OAuth token (401)."""
    if surface == GEMINI_API:
        message = (
            "Method doesn't allow unregistered callers (callers without established identity). "
            "Please use API Key or other form of API consumer identity to call this API."
        )
        return RpcError(403, message, "PERMISSION_DENIED")
    details = [
        error_info(reason, "aiplatform.googleapis.com", method="google.cloud.aiplatform.v1.PredictionService")
    ]
    return RpcError(401, STATUS_ERRORS[401][2], "UNAUTHENTICATED", details)


def rpc_error(surface: str, status: int, message: str | None) -> RpcError:
    code, gemini_text, vertex_text = STATUS_ERRORS.get(status, (_code_for(status), "", ""))
    text = message or (gemini_text if surface == GEMINI_API else vertex_text) or f"HTTP {status}"
    details: list[Any] | None = None
    if status == 429 and surface == GEMINI_API:
        details = [{"@type": RETRY_INFO, "retryDelay": GEMINI_RETRY_DELAY}]
    if status == 400 and "api key" in text.lower():  # a fault message that reads like a bad key
        details = [error_info("API_KEY_INVALID", "generativelanguage.googleapis.com")]
    return RpcError(status, text, code, details)


def _code_for(status: int) -> str:
    if status >= 500:
        return "INTERNAL"
    return "FAILED_PRECONDITION" if status == 412 else "INVALID_ARGUMENT"


def response_id() -> str:
    return secrets.token_urlsafe(16)


def create_time() -> str:
    return datetime.now(UTC).isoformat(timespec="microseconds").replace("+00:00", "Z")


class GoogleDialect:
    """How one request's refusals look: `generateContent` answers 200 with a finishReason; Imagen
    filters the output (when RAI reasons were asked for) or refuses the prompt with a 400."""

    def __init__(self, surface: str, model: str, method: str, rai_reasons: bool, samples: int) -> None:
        self.surface = surface
        self.model = model
        self.method = method
        self.rai_reasons = rai_reasons
        self.samples = samples

    def error(self, status: int, message: str | None) -> Response:
        return rpc_error(self.surface, status, message).response()

    def content_policy(self) -> Response:
        if self.method == "predict":
            if not self.rai_reasons:
                return invalid_argument(IMAGEN_PROMPT_BLOCKED).response()
            return google_json(
                {"predictions": [{"raiFilteredReason": IMAGEN_OUTPUT_FILTERED}] * self.samples}
            )
        candidate = {"finishReason": "IMAGE_SAFETY", "finishMessage": IMAGE_SAFETY_MESSAGE, "index": 0}
        return google_json(self._envelope([candidate]))

    def empty(self) -> Response:
        if self.method == "predict":
            return google_json({})  # proto-JSON leaves out an empty `predictions`
        text = "I can't create that image, but I can describe it for you in words instead."
        candidate = {
            "content": {"role": "model", "parts": [{"text": text}]},
            "finishReason": "STOP",
            "index": 0,
        }
        return google_json(self._envelope([candidate]))

    def _envelope(self, candidates: list[dict[str, Any]]) -> dict[str, Any]:
        body: dict[str, Any] = {
            "candidates": candidates,
            "usageMetadata": {"promptTokenCount": 12, "totalTokenCount": 12},
            "modelVersion": self.model,
            "responseId": response_id(),
        }
        if self.surface != GEMINI_API:
            body["createTime"] = create_time()
        return body
