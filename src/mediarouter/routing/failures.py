"""One table for every upstream failure: what the router does next, and what a forced caller sees.

`stop`: the same request would fail everywhere (invalid, content policy, too large).
`retry`: try the same provider again (a 429/503 whose Retry-After is short, once).
`next`: go to the next candidate.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from mediarouter.errors import GatewayError
from mediarouter.providers.base import FAILURES, UpstreamError


@dataclass(frozen=True)
class Rule:
    verdict: str  # stop | retry | next
    code: str  # gateway error code when this failure is the final answer
    status: int  # HTTP status of that answer


FAILURE_RULES: dict[str, Rule] = {
    "invalid_request": Rule("stop", "UPSTREAM_ERROR", 400),
    "content_policy": Rule("stop", "CONTENT_POLICY_VIOLATION", 400),
    "payload_too_large": Rule("stop", "UPSTREAM_ERROR", 400),
    "rate_limited": Rule("retry", "UPSTREAM_ERROR", 429),
    "overloaded": Rule("retry", "UPSTREAM_ERROR", 502),
    "auth": Rule("next", "UPSTREAM_ERROR", 502),
    "quota": Rule("next", "UPSTREAM_ERROR", 502),
    "not_found": Rule("next", "UPSTREAM_ERROR", 502),
    "server": Rule("next", "UPSTREAM_ERROR", 502),
    "timeout": Rule("next", "UPSTREAM_ERROR", 504),
    "transport": Rule("next", "UPSTREAM_ERROR", 502),
    "malformed": Rule("next", "UPSTREAM_ERROR", 502),
    "no_image": Rule("next", "UPSTREAM_ERROR", 502),
    "job_failed": Rule("next", "UPSTREAM_ERROR", 502),
}
assert set(FAILURE_RULES) == set(FAILURES)


def classify_failure(error: UpstreamError, retries_left: int, max_retry_after_s: float) -> str:
    """The verdict for this failure of this attempt: stop, retry (same provider) or next."""
    verdict = FAILURE_RULES[error.failure].verdict
    if verdict == "retry":
        short = error.retry_after is not None and error.retry_after <= max_retry_after_s
        return "retry" if short and retries_left > 0 else "next"
    return verdict


_KEY_ECHO = re.compile(r"(api[ _-]?key[^:]*:\s*)\S+", re.IGNORECASE)


def redact_secret(message: str, secret: str | None) -> str:
    """An upstream's error message without the key it was sent (some APIs echo it back verbatim)."""
    if secret and secret in message:
        message = message.replace(secret, "***")
    return _KEY_ECHO.sub(r"\1***", message)


def describe(provider: str, error: UpstreamError) -> str:
    where = f"HTTP {error.status}" if error.status else error.failure
    return f"{provider} ({where}): {error.message}"


def final_error(provider: str, error: UpstreamError) -> GatewayError:
    """The client-facing error for a failure that ends the request (forced, or a stop verdict)."""
    rule = FAILURE_RULES[error.failure]
    if error.failure == "content_policy":
        message = f"The request was rejected by {provider}'s content policy: {error.message}"
    else:
        message = f"Provider {describe(provider, error)}"
    headers = {"Retry-After": str(int(error.retry_after or 1))} if rule.status == 429 else {}
    return GatewayError(rule.code, message, status=rule.status, headers=headers)
