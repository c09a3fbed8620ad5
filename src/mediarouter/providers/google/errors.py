"""Google's `google.rpc.Status` errors, classified once for the Gemini API and Vertex AI.

Both APIs answer `{"error": {"code", "message", "status", "details": [...]}}`. The canonical
`status` name decides first, then `details[].reason` (`ErrorInfo`) refines it, then a few message
texts that mean something the status does not say (a region block arrives as 400
FAILED_PRECONDITION, an Imagen prompt refusal as 400 INVALID_ARGUMENT). To extend: add a row.
"""

from __future__ import annotations

import re
from typing import Any

from mediarouter.providers.base import (
    UpstreamError,
    UpstreamResponse,
    failure_for_status,
    retry_after_s,
)

# google.rpc.Code name -> gateway failure.
STATUS_FAILURES: dict[str, str] = {
    "INVALID_ARGUMENT": "invalid_request",
    "OUT_OF_RANGE": "invalid_request",
    "FAILED_PRECONDITION": "invalid_request",
    "UNAUTHENTICATED": "auth",
    "PERMISSION_DENIED": "auth",
    "NOT_FOUND": "not_found",
    "RESOURCE_EXHAUSTED": "rate_limited",
    "INTERNAL": "server",
    "UNKNOWN": "server",
    "DATA_LOSS": "server",
    "ABORTED": "server",
    "CANCELLED": "server",
    "UNAVAILABLE": "overloaded",
    "DEADLINE_EXCEEDED": "timeout",
    "UNIMPLEMENTED": "not_found",
}

# `ErrorInfo.reason` -> failure; wins over the status (an invalid key is a 400 INVALID_ARGUMENT).
REASON_FAILURES: dict[str, str] = {
    "API_KEY_INVALID": "auth",
    "API_KEY_EXPIRED": "auth",
    "ACCESS_TOKEN_EXPIRED": "auth",
    "ACCESS_TOKEN_TYPE_UNSUPPORTED": "auth",
    "CREDENTIALS_MISSING": "auth",
    "SERVICE_DISABLED": "auth",
    "API_KEY_SERVICE_BLOCKED": "auth",
    "BILLING_DISABLED": "quota",
    "RATE_LIMIT_EXCEEDED": "rate_limited",
}

# Lower-case message fragment -> failure; wins over everything (checked in this order).
MESSAGE_FAILURES: tuple[tuple[str, str], ...] = (
    ("api key not valid", "auth"),  # in case a proxy dropped the ErrorInfo
    ("api key expired", "auth"),
    ("user location is not supported", "quota"),
    ("not available in your country", "quota"),
    ("responsible ai practices", "content_policy"),  # Imagen: "...violate Google's Responsible AI practices"
    ("sensitive words", "content_policy"),
)

_DURATION = re.compile(r"^\s*(\d+(?:\.\d+)?)s\s*$")


def classify_google_error(response: UpstreamResponse) -> UpstreamError:
    """The `UpstreamError` for a non-2xx Google answer (falls back to the HTTP status)."""
    error = _error_object(response)
    status_name = str(error.get("status") or "")
    message = str(error.get("message") or f"HTTP {response.status}")
    details = [d for d in error.get("details") or [] if isinstance(d, dict)]
    reasons = [str(d["reason"]) for d in details if d.get("reason")]
    failure = STATUS_FAILURES.get(status_name) or failure_for_status(response.status)
    for reason in reasons:
        if reason in REASON_FAILURES:
            failure = REASON_FAILURES[reason]
            break
    lowered = message.lower()
    for fragment, meaning in MESSAGE_FAILURES:
        if fragment in lowered:
            failure = meaning
            break
    code = reasons[0] if reasons else status_name or None
    retry_after = _retry_delay(details) or retry_after_s(response.headers)
    return UpstreamError(failure, message, response.status, code, retry_after)


def _error_object(response: UpstreamResponse) -> dict[str, Any]:
    """`body.error` (sometimes wrapped in a one-element list by proxies), or {} for a non-JSON body."""
    try:
        body = response.json()
    except UpstreamError:
        return {}
    if isinstance(body, list) and body:
        body = body[0]
    error = body.get("error") if isinstance(body, dict) else None
    if isinstance(error, dict):
        return error
    return {"message": str(error)} if error else {}


def _retry_delay(details: list[dict[str, Any]]) -> float | None:
    """`google.rpc.RetryInfo.retryDelay` ("41s", "0.5s") in seconds."""
    for detail in details:
        delay = detail.get("retryDelay")
        if isinstance(delay, str) and (match := _DURATION.match(delay)):
            return float(match.group(1))
        if isinstance(delay, dict):  # proto-JSON Duration written as an object
            return float(delay.get("seconds", 0)) + float(delay.get("nanos", 0)) / 1e9
    return None
