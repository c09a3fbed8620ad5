import asyncio

from mediarouter.routing.health import CLOSED, HALF_OPEN, OPEN, BreakerPolicy, MemoryHealth


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
