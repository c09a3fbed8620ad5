"""Provider health per (provider, model): a rolling window, latency EWMA and a circuit breaker.

The breaker opens when, within `window_s`, at least `min_requests` attempts were seen and the
failure rate reached `failure_rate`; after `cooldown_s` it lets `half_open_probes` attempts through
(half-open); a failure of a probe re-opens it, and any success closes it (a probe's, or a
last-resort attempt's while it is open: the provider answers again). Stop-class failures (invalid
request, content policy) say nothing about the provider and are not counted.

A probe slot is held until its attempt is recorded or `release`d (cancelled: a hedge loser, a
client gone, the deadline; or ended by a stop-class failure); a slot neither recorded nor released
(an instance that died mid-probe) expires after `probe_ttl_s`, so a breaker never stays half-open
with no probe running.

`HealthStore` is the seam: `MemoryHealth` here; a Redis-backed store shares one view between
gateway instances. Methods are async so a shared store can do I/O.
"""

from __future__ import annotations

import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Protocol

CLOSED, OPEN, HALF_OPEN = "closed", "open", "half_open"


@dataclass(frozen=True)
class BreakerPolicy:
    window_s: float = 60.0
    min_requests: int = 5
    failure_rate: float = 0.5
    cooldown_s: float = 30.0
    half_open_probes: int = 1
    ewma_alpha: float = 0.3
    max_samples: int = 200
    probe_ttl_s: float = 180.0  # the longest a probe attempt runs (timeouts.attempt_s)


@dataclass
class Health:
    """A snapshot for routing and for `GET /v1/providers`."""

    state: str = CLOSED
    success_rate: float | None = None
    latency_ewma_ms: float | None = None
    p50_ms: float | None = None
    p95_ms: float | None = None
    samples: int = 0

    @property
    def label(self) -> str:
        if self.state != CLOSED:
            return "open_breaker" if self.state == OPEN else "probing"
        if self.success_rate is not None and self.success_rate < 0.9 and self.samples >= 3:
            return "degraded"
        return "healthy"

    def public(self) -> dict[str, Any]:
        return {
            "status": self.label,
            "breaker": self.state,
            "success_rate": None if self.success_rate is None else round(self.success_rate, 4),
            "latency_ewma_ms": None if self.latency_ewma_ms is None else round(self.latency_ewma_ms, 1),
            "p50_ms": self.p50_ms,
            "p95_ms": self.p95_ms,
            "samples": self.samples,
        }


class HealthStore(Protocol):
    async def record(self, provider: str, model: str, ok: bool, latency_ms: float) -> None: ...

    async def allow(self, provider: str, model: str) -> bool: ...

    async def release(self, provider: str, model: str) -> None:
        """An attempt `allow` let through ended unrecorded: free the probe slot it may hold."""

    async def snapshot(self, provider: str, model: str) -> Health: ...

    async def all(self) -> dict[tuple[str, str], Health]: ...


@dataclass
class _Track:
    samples: deque[tuple[float, bool, float]] = field(default_factory=deque)
    ewma: float | None = None
    state: str = CLOSED
    opened_at: float = 0.0
    probes: list[float] = field(default_factory=list)  # when each held probe slot expires


class MemoryHealth:
    def __init__(self, policy: BreakerPolicy, clock: Callable[[], float] = time.monotonic) -> None:
        self.policy = policy
        self.clock = clock
        self._tracks: dict[tuple[str, str], _Track] = {}

    def _track(self, provider: str, model: str) -> _Track:
        key = (provider, model)
        track = self._tracks.get(key)
        if track is None:
            track = self._tracks[key] = _Track()
        return track

    def _trim(self, track: _Track, now: float) -> None:
        horizon = now - self.policy.window_s
        while track.samples and (
            track.samples[0][0] < horizon or len(track.samples) > self.policy.max_samples
        ):
            track.samples.popleft()

    async def record(self, provider: str, model: str, ok: bool, latency_ms: float) -> None:
        now = self.clock()
        track = self._track(provider, model)
        track.samples.append((now, ok, latency_ms))
        self._trim(track, now)
        if ok:
            alpha = self.policy.ewma_alpha
            track.ewma = latency_ms if track.ewma is None else alpha * latency_ms + (1 - alpha) * track.ewma
        if ok and track.state != CLOSED:
            track.state, track.samples, track.probes = CLOSED, deque([(now, True, latency_ms)]), []
            return
        if track.state == HALF_OPEN:
            track.state, track.opened_at, track.probes = OPEN, now, []
            return
        if track.state == CLOSED and not ok:
            total = len(track.samples)
            failures = sum(1 for _, good, _ in track.samples if not good)
            if total >= self.policy.min_requests and failures / total >= self.policy.failure_rate:
                track.state, track.opened_at = OPEN, now

    async def allow(self, provider: str, model: str) -> bool:
        """Whether the breaker lets an attempt through now (a half-open probe counts as let through)."""
        track = self._tracks.get((provider, model))
        if track is None or track.state == CLOSED:
            return True
        now = self.clock()
        if track.state == OPEN and now - track.opened_at >= self.policy.cooldown_s:
            track.state, track.probes = HALF_OPEN, []
        if track.state != HALF_OPEN:
            return False
        track.probes = [t for t in track.probes if t > now]
        if len(track.probes) >= self.policy.half_open_probes:
            return False
        track.probes.append(now + self.policy.probe_ttl_s)
        return True

    async def release(self, provider: str, model: str) -> None:
        track = self._tracks.get((provider, model))
        if track is not None and track.state == HALF_OPEN and track.probes:
            track.probes.pop(0)

    async def snapshot(self, provider: str, model: str) -> Health:
        track = self._tracks.get((provider, model))
        if track is None:
            return Health()
        self._trim(track, self.clock())
        samples = list(track.samples)
        state = track.state
        if state == OPEN and self.clock() - track.opened_at >= self.policy.cooldown_s:
            state = HALF_OPEN
        if not samples:
            return Health(state=state, latency_ewma_ms=track.ewma)
        latencies = sorted(lat for _, ok, lat in samples if ok)
        return Health(
            state=state,
            success_rate=sum(1 for _, ok, _ in samples if ok) / len(samples),
            latency_ewma_ms=track.ewma,
            p50_ms=_percentile(latencies, 0.5),
            p95_ms=_percentile(latencies, 0.95),
            samples=len(samples),
        )

    async def all(self) -> dict[tuple[str, str], Health]:
        return {key: await self.snapshot(*key) for key in list(self._tracks)}


def _percentile(sorted_values: list[float], q: float) -> float | None:
    if not sorted_values:
        return None
    index = min(len(sorted_values) - 1, max(0, round(q * (len(sorted_values) - 1))))
    return round(sorted_values[index], 1)
