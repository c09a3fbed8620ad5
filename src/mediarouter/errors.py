"""One error tree for the whole gateway.

Every failure a client can see is a `GatewayError` carrying its code; the table `ERROR_TABLE`
maps each code to its HTTP status and OpenAI error `type`. The API edge renders any
`GatewayError` as `{"error": {"message", "type", "code", "param"}}`; nothing else reaches a client.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class ErrorKind:
    status: int
    type: str
    retryable: bool  # whether a client retry could succeed at a 429/503 (drives `x-should-retry`)


ERROR_TABLE: dict[str, ErrorKind] = {
    "AUTHENTICATION_FAILED": ErrorKind(401, "authentication_error", False),
    "PERMISSION_DENIED": ErrorKind(403, "permission_error", False),
    "INVALID_REQUEST": ErrorKind(400, "invalid_request_error", False),
    "MODEL_NOT_FOUND": ErrorKind(404, "invalid_request_error", False),
    "NOT_FOUND": ErrorKind(404, "invalid_request_error", False),
    "METHOD_NOT_ALLOWED": ErrorKind(405, "invalid_request_error", False),
    "PAYLOAD_TOO_LARGE": ErrorKind(413, "invalid_request_error", False),
    "UNSUPPORTED_MEDIA_TYPE": ErrorKind(415, "invalid_request_error", False),
    "RATE_LIMITED": ErrorKind(429, "rate_limit_error", True),
    "IDEMPOTENCY_CONFLICT": ErrorKind(409, "invalid_request_error", False),
    "BUDGET_EXCEEDED": ErrorKind(402, "insufficient_quota", False),
    "CONTENT_POLICY_VIOLATION": ErrorKind(400, "invalid_request_error", False),
    "ALL_PROVIDERS_EXHAUSTED": ErrorKind(502, "upstream_error", False),
    "UPSTREAM_ERROR": ErrorKind(502, "upstream_error", True),  # only its 429 (a forced rate limit) is retried
    "CANCELLED": ErrorKind(499, "invalid_request_error", False),
    "SHUTTING_DOWN": ErrorKind(503, "server_error", True),  # cut off by a shutdown: retry elsewhere
    "INTERNAL_ERROR": ErrorKind(500, "server_error", False),
}


@dataclass
class GatewayError(Exception):
    """An error with a gateway code; `status` overrides the table (used by UPSTREAM_ERROR)."""

    code: str
    message: str
    param: str | None = None
    status: int | None = None
    headers: dict[str, str] = field(default_factory=dict)
    extra: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        super().__init__(self.message)

    @property
    def kind(self) -> ErrorKind:
        return ERROR_TABLE[self.code]

    @property
    def http_status(self) -> int:
        return self.status if self.status is not None else self.kind.status

    @property
    def should_retry(self) -> bool:
        """A rate limit (ours, or a forced provider's 429 with its Retry-After) or a shutdown is worth a
        retry; everything else is terminal, so SDKs do not turn one failure into three."""
        return self.kind.retryable and self.http_status in (429, 503)

    def body(self) -> dict[str, Any]:
        error: dict[str, Any] = {
            "message": self.message,
            "type": self.kind.type,
            "code": self.code,
            "param": self.param,
        }
        error.update(self.extra)
        return {"error": error}


def invalid(message: str, param: str | None = None) -> GatewayError:
    return GatewayError("INVALID_REQUEST", message, param=param)


def unauthenticated(message: str = "Invalid API key") -> GatewayError:
    return GatewayError("AUTHENTICATION_FAILED", message)


def forbidden(message: str) -> GatewayError:
    return GatewayError("PERMISSION_DENIED", message)


def not_found(message: str) -> GatewayError:
    return GatewayError("NOT_FOUND", message)


def too_large(message: str, param: str | None = None) -> GatewayError:
    return GatewayError("PAYLOAD_TOO_LARGE", message, param=param)


class ConfigError(Exception):
    """A configuration problem found at start-up: names the file, the key and what is wrong."""
