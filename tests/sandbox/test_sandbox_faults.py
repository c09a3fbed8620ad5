from __future__ import annotations

import asyncio
import time
from typing import Any

import pytest
from starlette.responses import PlainTextResponse, Response

from mediarouter.errors import GatewayError
from mediarouter.providers.registry import BUILTIN_SLUGS
from mediarouter.sandbox.faults import PROVIDERS, Fault, FaultBook, parse_fault, parse_seed
from mediarouter.sandbox.injection import TRUNCATED_JSON, DroppedConnection, apply_fault, hold


def test_provider_slugs_are_the_gateways() -> None:
    assert set(PROVIDERS) == set(BUILTIN_SLUGS)


def test_set_replaces_the_fault_for_the_same_target() -> None:
    book = FaultBook()
    book.set(Fault(provider="openai", mode="error", status=500))
    book.set(Fault(provider="openai", mode="error", status=503))
    book.set(Fault(provider="openai", model="dall-e-3", mode="empty"))
    faults = book.snapshot()["faults"]
    assert [(f["model"], f["mode"], f["status"]) for f in faults] == [
        (None, "error", 503),
        ("dall-e-3", "empty", None),
    ]


def test_model_fault_wins_over_provider_fault() -> None:
    book = FaultBook()
    book.set(Fault(provider="openai", mode="error"))
    book.set(Fault(provider="openai", model="dall-e-3", mode="empty"))
    assert book.hit("openai", "dall-e-3").mode == "empty"  # type: ignore[union-attr]
    assert book.hit("openai", "gpt-image-1").mode == "error"  # type: ignore[union-attr]
    assert book.hit("openai", None).mode == "error"  # type: ignore[union-attr]
    assert book.hit("gemini", "dall-e-3") is None


def test_most_specific_fault_decides_alone() -> None:
    book = FaultBook()
    book.set(Fault(provider="openai", mode="error"))
    book.set(Fault(provider="openai", model="dall-e-3", mode="empty", rate=0.0))
    assert book.hit("openai", "dall-e-3") is None


def test_count_runs_out_and_leaves_the_book() -> None:
    book = FaultBook()
    book.set(Fault(provider="xai", mode="reset", count=2))
    assert book.hit("xai", None) is not None
    assert book.snapshot()["faults"][0]["count"] == 1
    assert book.hit("xai", None) is not None
    assert book.hit("xai", None) is None
    assert book.snapshot() == {"faults": [], "requests": {"xai": 3}}


def test_rate_is_honoured_and_repeatable_with_a_seed() -> None:
    def draws(seed: int) -> list[bool]:
        book = FaultBook(seed)
        book.set(Fault(provider="fal", mode="error", rate=0.5))
        return [book.hit("fal", None) is not None for _ in range(200)]

    assert draws(7) == draws(7)
    assert 60 < sum(draws(7)) < 140
    never = FaultBook()
    never.set(Fault(provider="fal", mode="error", rate=0.0))
    assert all(never.hit("fal", None) is None for _ in range(50))


def test_requests_are_counted_per_provider_until_cleared() -> None:
    book = FaultBook()
    book.set(Fault(provider="openai", mode="error"))
    for provider in ("openai", "openai", "gemini"):
        book.hit(provider, None)
    assert book.snapshot()["requests"] == {"openai": 2, "gemini": 1}
    book.clear()
    assert book.snapshot() == {"faults": [], "requests": {}}


def test_parse_fault_applies_defaults() -> None:
    fault = parse_fault({"provider": "openai", "mode": "error"})
    assert fault == Fault(provider="openai", mode="error")
    assert fault.error_status == 500
    assert parse_fault({"provider": "replicate", "mode": "job_stuck", "count": 1}).count == 1


@pytest.mark.parametrize(
    ("body", "param"),
    [
        ({"provider": "openia", "mode": "error"}, "provider"),
        ({"mode": "error"}, "provider"),
        ({"provider": "openai", "mode": "explode"}, "mode"),
        ({"provider": "openai"}, "mode"),
        ({"provider": "openai", "mode": "error", "rate": 1.5}, "rate"),
        ({"provider": "openai", "mode": "error", "rate": -0.1}, "rate"),
        ({"provider": "openai", "mode": "error", "rate": "1"}, "rate"),
        ({"provider": "openai", "mode": "error", "count": -1}, "count"),
        ({"provider": "openai", "mode": "error", "count": 0}, "count"),
        ({"provider": "openai", "mode": "error", "count": True}, "count"),
        ({"provider": "openai", "mode": "error", "latency_ms": -5}, "latency_ms"),
        ({"provider": "openai", "mode": "error", "status": 200}, "status"),
        ({"provider": "openai", "mode": "empty", "status": 500}, "status"),
        ({"provider": "openai", "mode": "slow"}, "latency_ms"),
        ({"provider": "openai", "mode": "job_failed"}, "mode"),
        ({"provider": "openai", "mode": "error", "model": ""}, "model"),
        ({"provider": "openai", "mode": "error", "colour": "red"}, "colour"),
    ],
)
def test_parse_fault_rejects(body: dict[str, Any], param: str) -> None:
    with pytest.raises(GatewayError) as caught:
        parse_fault(body)
    assert caught.value.http_status == 400
    assert caught.value.code == "INVALID_REQUEST"
    assert caught.value.param == param


def test_parse_seed() -> None:
    assert parse_seed(3) == 3
    assert parse_seed(None) is None
    with pytest.raises(GatewayError):
        parse_seed("3")


class StubDialect:
    def error(self, status: int, message: str | None) -> Response:
        return PlainTextResponse(f"error {status} {message}", status_code=status)

    def content_policy(self) -> Response:
        return PlainTextResponse("refused", status_code=400)

    def empty(self) -> Response:
        return PlainTextResponse("empty")


class StubRequest:
    def __init__(self, disconnect_after_s: float | None = None) -> None:
        self._deadline = None if disconnect_after_s is None else time.monotonic() + disconnect_after_s

    async def is_disconnected(self) -> bool:
        return self._deadline is not None and time.monotonic() >= self._deadline


def run(fault: Fault | None, request: StubRequest | None = None, hang_s: float = 5.0) -> Response | None:
    return asyncio.run(apply_fault(fault, request or StubRequest(), StubDialect(), hang_s))  # type: ignore[arg-type]


def test_apply_fault_uses_the_dialect() -> None:
    assert run(None) is None
    response = run(Fault(provider="openai", mode="error", status=429, message="slow down"))
    assert response is not None and response.status_code == 429 and response.body == b"error 429 slow down"
    assert run(Fault(provider="openai", mode="error")).status_code == 500  # type: ignore[union-attr]
    assert run(Fault(provider="openai", mode="content_policy")).body == b"refused"  # type: ignore[union-attr]
    assert run(Fault(provider="openai", mode="empty")).body == b"empty"  # type: ignore[union-attr]


def test_apply_fault_generic_modes() -> None:
    malformed = run(Fault(provider="openai", mode="malformed"))
    assert malformed is not None and malformed.status_code == 200 and malformed.body == TRUNCATED_JSON
    assert isinstance(run(Fault(provider="openai", mode="reset")), DroppedConnection)
    assert run(Fault(provider="replicate", mode="job_failed")) is None


def test_slow_and_latency_delay_the_answer() -> None:
    started = time.monotonic()
    assert run(Fault(provider="openai", mode="slow", latency_ms=150)) is None
    assert time.monotonic() - started >= 0.15
    started = time.monotonic()
    assert run(Fault(provider="openai", mode="empty", latency_ms=100)).body == b"empty"  # type: ignore[union-attr]
    assert time.monotonic() - started >= 0.1


def test_timeout_holds_until_the_client_leaves_or_hang_s_passes() -> None:
    started = time.monotonic()
    response = run(Fault(provider="openai", mode="timeout"), StubRequest(disconnect_after_s=0.1), hang_s=30)
    assert isinstance(response, DroppedConnection)
    assert time.monotonic() - started < 1.0
    started = time.monotonic()
    assert isinstance(run(Fault(provider="openai", mode="timeout"), hang_s=0.1), DroppedConnection)
    assert 0.1 <= time.monotonic() - started < 1.0


def test_hold_reports_whether_the_client_stayed() -> None:
    assert asyncio.run(hold(StubRequest(), 0.05)) is True  # type: ignore[arg-type]
    assert asyncio.run(hold(StubRequest(disconnect_after_s=0.0), 5)) is False  # type: ignore[arg-type]
