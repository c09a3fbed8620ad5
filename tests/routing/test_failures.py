import pytest

from mediarouter.providers.base import FAILURES, UpstreamError, failure_for_status
from mediarouter.routing.failures import FAILURE_RULES, classify_failure, final_error


def test_every_failure_has_a_rule() -> None:
    assert set(FAILURE_RULES) == set(FAILURES)


@pytest.mark.parametrize(
    ("failure", "retry_after", "retries_left", "verdict"),
    [
        ("invalid_request", None, 1, "stop"),
        ("content_policy", None, 1, "stop"),
        ("payload_too_large", None, 1, "stop"),
        ("rate_limited", 0.5, 1, "retry"),
        ("rate_limited", 0.5, 0, "next"),
        ("rate_limited", 30, 1, "next"),
        ("rate_limited", None, 1, "next"),
        ("overloaded", 1, 1, "retry"),
        ("auth", None, 1, "next"),
        ("quota", None, 1, "next"),
        ("server", None, 1, "next"),
        ("timeout", None, 1, "next"),
        ("transport", None, 1, "next"),
        ("malformed", None, 1, "next"),
        ("no_image", None, 1, "next"),
        ("job_failed", None, 1, "next"),
    ],
)
def test_verdicts(failure: str, retry_after: float | None, retries_left: int, verdict: str) -> None:
    err = UpstreamError(failure, "x", retry_after=retry_after)
    assert classify_failure(err, retries_left, 2.0) == verdict


@pytest.mark.parametrize(
    ("failure", "code", "status"),
    [
        ("invalid_request", "UPSTREAM_ERROR", 400),
        ("content_policy", "CONTENT_POLICY_VIOLATION", 400),
        ("rate_limited", "UPSTREAM_ERROR", 429),
        ("timeout", "UPSTREAM_ERROR", 504),
        ("auth", "UPSTREAM_ERROR", 502),  # a provider's 401 never reaches the client as 401
        ("server", "UPSTREAM_ERROR", 502),
        ("no_image", "UPSTREAM_ERROR", 502),
    ],
)
def test_forced_errors(failure: str, code: str, status: int) -> None:
    err = final_error("openai", UpstreamError(failure, "boom", 500))
    assert (err.code, err.http_status) == (code, status)
    assert "openai" in err.message


@pytest.mark.parametrize(
    ("status", "failure"),
    [
        (400, "invalid_request"),
        (401, "auth"),
        (403, "quota"),
        (404, "not_found"),
        (413, "payload_too_large"),
        (429, "rate_limited"),
        (500, "server"),
        (502, "server"),
        (503, "overloaded"),
        (504, "timeout"),
    ],
)
def test_status_defaults(status: int, failure: str) -> None:
    assert failure_for_status(status) == failure
