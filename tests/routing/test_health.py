import asyncio
import secrets
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import pytest
import redis.asyncio as aioredis

from mediarouter.routing.health import CLOSED, HALF_OPEN, OPEN, BreakerPolicy, HealthStore, MemoryHealth
from mediarouter.routing.health_redis import RedisHealth

from services import redis_url


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def run(coro):  # type: ignore[no-untyped-def]
    return asyncio.run(coro)


def test_breaker_opens_probes_and_closes() -> None:
    clock = Clock()
    health = MemoryHealth(BreakerPolicy(window_s=60, min_requests=4, failure_rate=0.5, cooldown_s=10), clock)

    async def scenario() -> None:
        for ok in (True, False, False):
            await health.record("fal", "m", ok, 100)
        assert (await health.snapshot("fal", "m")).state == CLOSED  # 3 < min_requests
        await health.record("fal", "m", False, 100)
        assert (await health.snapshot("fal", "m")).state == OPEN
        assert not await health.allow("fal", "m")
        clock.now += 10
        assert await health.allow("fal", "m")  # the half-open probe
        assert not await health.allow("fal", "m")  # only one at a time
        await health.record("fal", "m", False, 100)
        assert (await health.snapshot("fal", "m")).state == OPEN
        clock.now += 10
        assert await health.allow("fal", "m")
        await health.record("fal", "m", True, 50)
        snap = await health.snapshot("fal", "m")
        assert snap.state == CLOSED and snap.success_rate == 1.0
        assert await health.allow("fal", "m")

    run(scenario())


def test_window_forgets_old_samples_and_reports_percentiles() -> None:
    clock = Clock()
    health = MemoryHealth(BreakerPolicy(window_s=5, min_requests=2, failure_rate=0.5), clock)

    async def scenario() -> None:
        for latency in (100, 200, 300, 400):
            await health.record("openai", "m", True, latency)
        snap = await health.snapshot("openai", "m")
        assert snap.samples == 4 and snap.p50_ms in (200, 300) and snap.p95_ms == 400
        assert snap.label == "healthy"
        clock.now += 6
        assert (await health.snapshot("openai", "m")).samples == 0

    run(scenario())


def test_half_open_label() -> None:
    clock = Clock()
    health = MemoryHealth(BreakerPolicy(min_requests=1, failure_rate=0.5, cooldown_s=1), clock)

    async def scenario() -> None:
        await health.record("x", "m", False, 1)
        assert (await health.snapshot("x", "m")).label == "open_breaker"
        clock.now += 2
        assert (await health.snapshot("x", "m")).state == HALF_OPEN

    run(scenario())


BACKENDS = ["memory", "redis"]  # the real Redis on 127.0.0.1:6379 (tests/services.py)
OPENS_AFTER_2 = BreakerPolicy(window_s=60, min_requests=2, failure_rate=0.5, cooldown_s=10, probe_ttl_s=30)


@asynccontextmanager
async def store(backend: str, policy: BreakerPolicy, clock: Clock) -> AsyncIterator[HealthStore]:
    if backend == "memory":
        yield MemoryHealth(policy, clock)
        return
    redis = aioredis.from_url(redis_url())
    prefix = f"mrtest-{secrets.token_hex(4)}"
    try:
        yield RedisHealth(redis, policy, prefix, clock)
    finally:
        keys = [k async for k in redis.scan_iter(match=f"{prefix}:*")]
        if keys:
            await redis.delete(*keys)
        await redis.aclose()


async def _open(health: HealthStore, clock: Clock) -> None:
    for _ in range(2):
        await health.record("fal", "m", False, 100)
    assert (await health.snapshot("fal", "m")).state == OPEN
    clock.now += 10  # cooldown over: the next allow() is the half-open probe


@pytest.mark.parametrize("backend", BACKENDS)
def test_breaker_cycle_on_each_backend(backend: str) -> None:
    clock = Clock()

    async def scenario() -> None:
        async with store(backend, OPENS_AFTER_2, clock) as health:
            await _open(health, clock)
            assert await health.allow("fal", "m") and not await health.allow("fal", "m")
            await health.record("fal", "m", False, 100)  # the probe failed: open again
            assert (await health.snapshot("fal", "m")).state == OPEN and not await health.allow("fal", "m")
            clock.now += 10
            assert await health.allow("fal", "m")
            await health.record("fal", "m", True, 50)
            assert (await health.snapshot("fal", "m")).state == CLOSED and await health.allow("fal", "m")

    run(scenario())


@pytest.mark.parametrize("backend", BACKENDS)
def test_a_released_probe_slot_lets_the_next_probe_through(backend: str) -> None:
    """A probe cancelled (hedge loser, client gone, deadline) or stopped by an invalid request is
    never recorded; without its release the breaker stayed half-open with nothing probing it."""
    clock = Clock()

    async def scenario() -> None:
        async with store(backend, OPENS_AFTER_2, clock) as health:
            await _open(health, clock)
            assert await health.allow("fal", "m")
            assert not await health.allow("fal", "m")
            await health.release("fal", "m")
            assert await health.allow("fal", "m")
            assert (await health.snapshot("fal", "m")).state == HALF_OPEN
            await health.release("other", "m")  # nothing held there: a no-op

    run(scenario())


@pytest.mark.parametrize("backend", BACKENDS)
def test_a_probe_slot_never_given_back_expires(backend: str) -> None:
    """An instance that dies mid-probe releases nothing: the slot lasts probe_ttl_s (attempt_s)."""
    clock = Clock()

    async def scenario() -> None:
        async with store(backend, OPENS_AFTER_2, clock) as health:
            await _open(health, clock)
            assert await health.allow("fal", "m")
            clock.now += 29
            assert not await health.allow("fal", "m")
            clock.now += 1
            assert await health.allow("fal", "m")

    run(scenario())


@pytest.mark.parametrize("backend", BACKENDS)
def test_a_last_resort_success_closes_an_open_breaker(backend: str) -> None:
    """Tried while open (every healthy provider failed), the provider answered: it is back."""
    clock = Clock()

    async def scenario() -> None:
        async with store(backend, OPENS_AFTER_2, clock) as health:
            await _open(health, clock)
            clock.now -= 5  # still cooling down: allow() says no, the router tries it last
            assert not await health.allow("fal", "m")
            await health.record("fal", "m", True, 80)
            snap = await health.snapshot("fal", "m")
            assert snap.state == CLOSED and snap.success_rate == 1.0
            assert await health.allow("fal", "m")

    run(scenario())
