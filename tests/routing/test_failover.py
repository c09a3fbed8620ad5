"""The failover loop with fake attempts: the request deadline, same-wake-up hedges, probe slots."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable

import pytest

from mediarouter.catalog.models import Offering, Price
from mediarouter.errors import GatewayError
from mediarouter.providers.base import UpstreamError
from mediarouter.routing.failover import FailoverLoop, LoopLimits, Outcome
from mediarouter.routing.health import BreakerPolicy, Health, MemoryHealth
from mediarouter.routing.policy import Candidate
from mediarouter.schemas.images import Attempt, GeneratedImage, ProviderOutput

Run = Callable[[Candidate], Awaitable[ProviderOutput]]


def cand(slug: str) -> Candidate:
    return Candidate(Offering(slug, f"{slug}-m", Price("image", 0.04)), 0.04, Health())


def output() -> ProviderOutput:
    return ProviderOutput([GeneratedImage(b64="AA==")])


async def execute(
    run: Run,
    slugs: list[str],
    health: MemoryHealth | None = None,
    forced: bool = False,
    deadline_s: float = 5.0,
    hedge_s: float = 0.0,
) -> tuple[Outcome | GatewayError, list[Attempt], MemoryHealth]:
    health = health or MemoryHealth(BreakerPolicy(min_requests=1, failure_rate=0.5, cooldown_s=0))
    attempts: list[Attempt] = []
    limits = LoopLimits(asyncio.get_running_loop().time() + deadline_s, 5, 2.0, hedge_s)
    loop = FailoverLoop(
        run,
        lambda c, o: 0.04 * len(o.images),
        health,
        limits,
        attempts,
        forced,
        lambda a: None,
        lambda m, s: m,
    )
    try:
        return await loop.execute([cand(s) for s in slugs]), attempts, health
    except GatewayError as err:
        return err, attempts, health


async def hang(candidate: Candidate) -> ProviderOutput:
    await asyncio.sleep(60)  # an attempt whose own timeout is not what ends it
    raise AssertionError


@pytest.mark.parametrize(
    ("forced", "code", "status"), [(True, "UPSTREAM_ERROR", 504), (False, "ALL_PROVIDERS_EXHAUSTED", 502)]
)
def test_an_attempt_cut_off_by_the_request_deadline_is_a_timeout(
    forced: bool, code: str, status: int
) -> None:
    async def scenario() -> None:
        err, attempts, health = await execute(hang, ["fal"], forced=forced, deadline_s=0.2)
        assert isinstance(err, GatewayError) and (err.code, err.http_status) == (code, status)
        assert err.message.endswith("fal (timeout): the request deadline passed after 0.2 s of this attempt")
        assert [(a.status, a.error_code) for a in attempts] == [("failed", "TIMEOUT")]
        assert err.extra["attempts"][0]["error_code"] == "TIMEOUT"
        snap = await health.snapshot("fal", "fal-m")
        assert snap.samples == 1 and snap.success_rate == 0.0  # counted in health like any timeout

    asyncio.run(scenario())


def test_two_hedged_successes_in_one_wake_up_are_both_costed() -> None:
    gate = asyncio.Event()

    async def both_at_once(candidate: Candidate) -> ProviderOutput:
        if candidate.offering.provider == "replicate":
            gate.set()  # the hedge started: release both in the same loop iteration
        await gate.wait()
        return output()

    async def scenario() -> None:
        outcome, attempts, _ = await execute(both_at_once, ["fal", "replicate"], hedge_s=0.01)
        assert isinstance(outcome, Outcome)
        assert sorted((a.provider, a.status, a.cost) for a in attempts) == [
            ("fal", "success", 0.04),
            ("replicate", "success", 0.04),
        ]

    asyncio.run(scenario())


@pytest.mark.parametrize("ending", ["stop", "cancelled", "deadline"])
def test_a_probe_that_ends_unrecorded_gives_its_slot_back(ending: str) -> None:
    async def probe(candidate: Candidate) -> ProviderOutput:
        if ending == "stop":
            raise UpstreamError("content_policy", "refused", 400)
        await asyncio.sleep(60)
        raise AssertionError

    async def scenario() -> None:
        health = MemoryHealth(BreakerPolicy(min_requests=1, failure_rate=0.5, cooldown_s=0))
        await health.record("fal", "fal-m", False, 10)  # open, and (no cooldown) due for a probe
        if ending == "cancelled":  # the client went away mid-probe
            task = asyncio.ensure_future(execute(probe, ["fal"], health))
            await asyncio.sleep(0.05)
            task.cancel()
            await asyncio.gather(task, return_exceptions=True)
        else:
            await execute(probe, ["fal"], health, deadline_s=0.1)
        failures = 2 if ending == "deadline" else 1  # a cut-off probe is a failed one: open again
        assert (await health.snapshot("fal", "fal-m")).samples == failures
        assert await health.allow("fal", "fal-m")  # the next probe may go

    asyncio.run(scenario())
