"""The failover loop: run candidates one after another (or hedged, two at once) until one delivers.

Each attempt rebuilds its upstream request from the canonical request, runs under the per-attempt
timeout and the request deadline, and is recorded whatever its outcome. Candidates whose breaker
is open are deferred and tried only as a last resort. Cancelling the loop (the client went away)
cancels every running attempt, which cancels upstream jobs where the provider allows it.
"""

from __future__ import annotations

import asyncio
import time
from collections import deque
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from mediarouter.errors import GatewayError
from mediarouter.providers.base import UpstreamError
from mediarouter.routing.failures import FAILURE_RULES, classify_failure, describe, final_error
from mediarouter.routing.health import HealthStore
from mediarouter.routing.policy import Candidate
from mediarouter.schemas.images import Attempt, ProviderOutput

RunAttempt = Callable[[Candidate], Awaitable[ProviderOutput]]
Costing = Callable[[Candidate, ProviderOutput], float]


@dataclass
class Outcome:
    candidate: Candidate
    output: ProviderOutput
    cost: float


@dataclass(frozen=True)
class LoopLimits:
    deadline: float  # loop time
    max_attempts: int
    max_retry_after_s: float
    hedge_after_s: float  # 0 = no hedging


class FailoverLoop:
    def __init__(
        self,
        run: RunAttempt,
        costing: Costing,
        health: HealthStore,
        limits: LoopLimits,
        attempts: list[Attempt],
        forced: bool,
        on_attempt: Callable[[Attempt], None],
        redact: Callable[[str, str], str],
    ) -> None:
        self.run = run
        self.costing = costing
        self.health = health
        self.limits = limits
        self.attempts = attempts
        self.forced = forced
        self.on_attempt = on_attempt
        self.redact = redact
        self.running: dict[asyncio.Task[ProviderOutput], tuple[Candidate, float]] = {}
        self.started = 0
        self.retries: dict[str, int] = {}
        self.last: tuple[str, UpstreamError] | None = None

    async def execute(self, ordered: list[Candidate]) -> Outcome:
        queue: deque[Candidate] = deque(ordered)
        deferred: deque[Candidate] = deque()
        loop = asyncio.get_running_loop()
        try:
            while True:
                if not self.running:
                    candidate = await self._next(queue, deferred)
                    if candidate is None:
                        break
                    self._start(candidate)
                remaining = self.limits.deadline - loop.time()
                if remaining <= 0:
                    break
                timeout = remaining
                hedge = self.limits.hedge_after_s
                if (
                    hedge
                    and len(self.running) == 1
                    and (queue or deferred)
                    and self.started < self.limits.max_attempts
                ):
                    ((_, since),) = self.running.values()
                    timeout = min(remaining, max(0.0, hedge - (time.perf_counter() - since)))
                done, _ = await asyncio.wait(
                    self.running, timeout=timeout, return_when=asyncio.FIRST_COMPLETED
                )
                if not done:
                    if loop.time() < self.limits.deadline:
                        candidate = await self._next(queue, deferred)
                        if candidate is not None:
                            self._start(candidate)
                    continue
                for task in done:
                    outcome = await self._settle(task, queue)
                    if outcome is not None:
                        return outcome
        finally:
            await self._cancel_running()
        return self._exhausted()

    async def _next(self, queue: deque[Candidate], deferred: deque[Candidate]) -> Candidate | None:
        if self.started >= self.limits.max_attempts:
            return None
        while queue:
            candidate = queue.popleft()
            o = candidate.offering
            if self.forced or await self.health.allow(o.provider, o.model_id):
                return candidate
            deferred.append(candidate)
        return deferred.popleft() if deferred else None

    def _start(self, candidate: Candidate) -> None:
        self.started += 1
        task = asyncio.ensure_future(self.run(candidate))
        self.running[task] = (candidate, time.perf_counter())

    async def _settle(self, task: asyncio.Task[ProviderOutput], queue: deque[Candidate]) -> Outcome | None:
        candidate, since = self.running.pop(task)
        o = candidate.offering
        latency = (time.perf_counter() - since) * 1000
        exc = task.exception()
        if exc is None:
            output = task.result()
            cost = self.costing(candidate, output)
            self._record(Attempt(o.provider, o.model_id, "success", latency, cost=cost))
            await self.health.record(o.provider, o.model_id, True, latency)
            await self._cancel_running()
            return Outcome(candidate, output, cost)
        if not isinstance(exc, UpstreamError):
            raise exc
        exc.message = self.redact(exc.message, o.provider)
        retries_left = self.retries.get(o.provider, 1)
        verdict = (
            "stop" if self.forced else classify_failure(exc, retries_left, self.limits.max_retry_after_s)
        )
        self._record(
            Attempt(
                o.provider,
                o.model_id,
                "failed",
                latency,
                exc.failure.upper(),
                exc.status,
                exc.message,
                verdict,
            )
        )
        if FAILURE_RULES[exc.failure].verdict != "stop":
            await self.health.record(o.provider, o.model_id, False, latency)
        self.last = (o.provider, exc)
        if self.forced or verdict == "stop":
            await self._cancel_running()
            raise self._with_attempts(final_error(o.provider, exc))
        if verdict == "retry":
            self.retries[o.provider] = retries_left - 1
            loop = asyncio.get_running_loop()
            await asyncio.sleep(min(exc.retry_after or 0.0, max(0.0, self.limits.deadline - loop.time())))
            self.started -= 1  # a retry of the same provider does not use up a candidate
            queue.appendleft(candidate)
        return None

    def _record(self, attempt: Attempt) -> None:
        self.attempts.append(attempt)
        self.on_attempt(attempt)

    async def _cancel_running(self) -> None:
        if not self.running:
            return
        for task in self.running:
            task.cancel()
        await asyncio.gather(*self.running, return_exceptions=True)
        for candidate, since in self.running.values():
            o = candidate.offering
            latency = (time.perf_counter() - since) * 1000
            self._record(Attempt(o.provider, o.model_id, "cancelled", latency, "CANCELLED"))
        self.running.clear()

    def _exhausted(self) -> Outcome:
        if self.last is None:
            raise self._with_attempts(
                GatewayError(
                    "ALL_PROVIDERS_EXHAUSTED", "The request deadline passed before any provider answered"
                )
            )
        slug, exc = self.last
        failed = sum(1 for a in self.attempts if a.status == "failed")
        raise self._with_attempts(
            GatewayError(
                "ALL_PROVIDERS_EXHAUSTED", f"All {failed} attempt(s) failed; last: {describe(slug, exc)}"
            )
        )

    def _with_attempts(self, err: GatewayError) -> GatewayError:
        err.extra["attempts"] = [a.public() for a in self.attempts]
        return err
