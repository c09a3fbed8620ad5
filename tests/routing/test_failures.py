import pytest

from mediarouter.providers.base import FAILURES, UpstreamError, failure_for_status
from mediarouter.routing.failures import FAILURE_RULES, classify_failure, final_error


def test_every_failure_has_a_rule() -> None:
    assert set(FAILURE_RULES) == set(FAILURES)


# The expected verdict of every failure kind, written out: a kind added to FAILURES without a row here
# fails test_every_kind_has_an_expected_verdict.
VERDICTS = {
    "invalid_request": "stop",
    "content_policy": "stop",
    "payload_too_large": "stop",
    "rate_limited": "retry",
    "overloaded": "retry",
    "auth": "next",
    "quota": "next",
    "not_found": "next",
    "server": "next",
    "timeout": "next",
    "transport": "next",
    "malformed": "next",
    "no_image": "next",
    "job_failed": "next",
}


def test_every_kind_has_an_expected_verdict() -> None:
    assert set(VERDICTS) == set(FAILURE_RULES) == set(FAILURES)


@pytest.mark.parametrize("failure", FAILURES)
def test_every_kind_gets_its_verdict(failure: str) -> None:
    err = UpstreamError(failure, "x", retry_after=0.5)  # a short Retry-After, one retry left
    assert classify_failure(err, 1, 2.0) == VERDICTS[failure]
    assert FAILURE_RULES[failure].verdict == VERDICTS[failure]


@pytest.mark.parametrize(
    ("failure", "retry_after", "retries_left", "verdict"),
    [
        ("rate_limited", 0.5, 0, "next"),
        ("rate_limited", 30, 1, "next"),
        ("rate_limited", None, 1, "next"),
        ("overloaded", 1, 1, "retry"),
        ("overloaded", 2.5, 1, "next"),
        ("overloaded", None, 1, "next"),
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


@pytest.mark.parametrize("failure", FAILURES)
def test_every_kind_has_a_final_error(failure: str) -> None:
    err = final_error("openai", UpstreamError(failure, "boom", 500))
    assert (err.code, err.http_status) == (FAILURE_RULES[failure].code, FAILURE_RULES[failure].status)
    assert err.http_status in (400, 429, 502, 504) and "openai" in err.message


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
