"""The failover loop: run candidates one after another (or hedged, two at once) until one delivers.

Each attempt rebuilds its upstream request from the canonical request, runs under the per-attempt
timeout and the request deadline, and is recorded whatever its outcome. Candidates whose breaker
is open are deferred and tried only as a last resort. Cancelling the loop (the client went away)
cancels every running attempt, which cancels upstream jobs where the provider allows it.

Attempts still running when the request deadline passes are cut off as timeouts (counted in
health like any timeout). An attempt that finished in the same wake-up as the winner is recorded
as what it was, with its cost: the provider billed it. An attempt the breaker let through (maybe
a half-open probe) that ends without a health record gives its probe slot back.
"""

from __future__ import annotations

import asyncio
import time
from collections import deque
from collections.abc import Awaitable, Callable, Iterable
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


@dataclass
class Running:
    candidate: Candidate
    since: float  # perf_counter
    admitted: bool  # let through by the breaker (so it may hold a probe slot)


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
        self.running: dict[asyncio.Task[ProviderOutput], Running] = {}
        self.started = 0
        self.retries: dict[str, int] = {}
        self.last: tuple[str, UpstreamError] | None = None

    async def execute(self, ordered: list[Candidate]) -> Outcome:
        queue: deque[Candidate] = deque(ordered)
        deferred: deque[Candidate] = deque()
        loop = asyncio.get_running_loop()
        try:
            while True:
                remaining = self.limits.deadline - loop.time()
                if remaining <= 0:
                    return await self._deadline_passed(queue)
                if not self.running:
                    picked = await self._next(queue, deferred)
                    if picked is None:
                        break
                    self._start(*picked)
                timeout = remaining
                hedge = self.limits.hedge_after_s
                if (
                    hedge
                    and len(self.running) == 1
                    and (queue or deferred)
                    and self.started < self.limits.max_attempts
                ):
                    (first,) = self.running.values()
                    timeout = min(remaining, max(0.0, hedge - (time.perf_counter() - first.since)))
                done, _ = await asyncio.wait(
                    self.running, timeout=timeout, return_when=asyncio.FIRST_COMPLETED
                )
                if not done:
                    if loop.time() < self.limits.deadline:
                        picked = await self._next(queue, deferred)
                        if picked is not None:
                            self._start(*picked)
                    continue
                for task in _successes_first(done):
                    outcome = await self._settle(task, queue)
                    if outcome is not None:
                        return outcome
        finally:
            await self._cancel_running()
        return self._exhausted()

    async def _next(
        self, queue: deque[Candidate], deferred: deque[Candidate]
    ) -> tuple[Candidate, bool] | None:
        """The next candidate to start, and whether the breaker let it through (else: forced, or
        a last resort)."""
        if self.started >= self.limits.max_attempts:
            return None
        while queue:
            candidate = queue.popleft()
            o = candidate.offering
            if self.forced:
                return candidate, False
            if await self.health.allow(o.provider, o.model_id):
                return candidate, True
            deferred.append(candidate)
        return (deferred.popleft(), False) if deferred else None

    def _start(self, candidate: Candidate, admitted: bool) -> None:
        self.started += 1
        task = asyncio.ensure_future(self.run(candidate))
        self.running[task] = Running(candidate, time.perf_counter(), admitted)

    async def _settle(self, task: asyncio.Task[ProviderOutput], queue: deque[Candidate]) -> Outcome | None:
        running = self.running.pop(task)
        candidate, o = running.candidate, running.candidate.offering
        latency = (time.perf_counter() - running.since) * 1000
        exc = task.exception()
        if exc is None:
            output = task.result()
            cost = await self._succeeded(running, output, latency)
            await self._cancel_running()
            return Outcome(candidate, output, cost)
        if not isinstance(exc, UpstreamError):
            await self._release(running)
            raise exc
        retries_left = self.retries.get(o.provider, 1)
        verdict = (
            "stop" if self.forced else classify_failure(exc, retries_left, self.limits.max_retry_after_s)
        )
        await self._failed(running, exc, latency, verdict)
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

    async def _succeeded(self, running: Running, output: ProviderOutput, latency: float) -> float:
        """Record a success (and the failed calls of an emulated `n` inside it); its cost."""
        o = running.candidate.offering
        cost = self.costing(running.candidate, output)
        for error in output.failures:  # made up by the router through failover
            if isinstance(error, UpstreamError):
                await self._failed(running, error, latency, "next")
        self._record(Attempt(o.provider, o.model_id, "success", latency, cost=cost))
        await self.health.record(o.provider, o.model_id, True, latency)
        return cost

    async def _failed(self, running: Running, exc: UpstreamError, latency: float, verdict: str) -> None:
        o = running.candidate.offering
        exc.message = self.redact(exc.message, o.provider)
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
        else:  # says nothing about the provider: not counted, but a probe slot it held is freed
            await self._release(running)

    async def _release(self, running: Running) -> None:
        if running.admitted:
            o = running.candidate.offering
            await self.health.release(o.provider, o.model_id)

    def _record(self, attempt: Attempt) -> None:
        self.attempts.append(attempt)
        self.on_attempt(attempt)

    async def _deadline_passed(self, queue: deque[Candidate]) -> Outcome:
        """The request deadline: an attempt that just finished still counts; the others are cut
        off and recorded as timeouts of their providers."""
        for task in _successes_first([t for t in self.running if t.done()]):
            outcome = await self._settle(task, queue)
            if outcome is not None:
                return outcome
        cut = list(self.running.items())
        self.running.clear()
        for task, _ in cut:
            task.cancel()
        await asyncio.gather(*(task for task, _ in cut), return_exceptions=True)
        for _, running in cut:
            o = running.candidate.offering
            latency = (time.perf_counter() - running.since) * 1000
            exc = UpstreamError(
                "timeout", f"the request deadline passed after {latency / 1000:.1f} s of this attempt"
            )
            verdict = "stop" if self.forced else classify_failure(exc, 0, self.limits.max_retry_after_s)
            await self._failed(running, exc, latency, verdict)
            self.last = (o.provider, exc)
        if self.forced and self.last is not None:
            raise self._with_attempts(final_error(*self.last))
        return self._exhausted()

    async def _cancel_running(self) -> None:
        """Stop the attempts still running; one that had finished meanwhile is recorded as it ended."""
        if not self.running:
            return
        running, self.running = self.running, {}
        finished = {task for task in running if task.done()}
        for task in running:
            task.cancel()
        await asyncio.gather(*running, return_exceptions=True)
        for task, run in running.items():
            o = run.candidate.offering
            latency = (time.perf_counter() - run.since) * 1000
            exc = task.exception() if task in finished and not task.cancelled() else None
            if task in finished and not task.cancelled() and exc is None:
                await self._succeeded(run, task.result(), latency)
            elif isinstance(exc, UpstreamError):
                verdict = "stop" if self.forced else classify_failure(exc, 0, self.limits.max_retry_after_s)
                await self._failed(run, exc, latency, verdict)
            else:
                self._record(Attempt(o.provider, o.model_id, "cancelled", latency, "CANCELLED"))
                await self._release(run)

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


def _successes_first(tasks: Iterable[asyncio.Task[ProviderOutput]]) -> list[asyncio.Task[ProviderOutput]]:
    """Finished tasks, those that delivered first: when two finish in one wake-up, a success wins."""
    return sorted(tasks, key=lambda t: t.cancelled() or t.exception() is not None)
