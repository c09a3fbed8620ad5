"""Provider health kept in Redis, so every gateway instance sees the same breakers and latencies.

Same rules as `MemoryHealth` (see health.py). Samples are a capped list per (provider, model);
breaker state is a hash. Transitions are read-modify-write: two instances may both open a breaker
in the same instant, which is harmless; half-open probes are counted atomically (HINCRBY) so the
probe limit holds across instances. Timestamps are wall-clock seconds, shared by all instances.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

from mediarouter.routing.health import CLOSED, HALF_OPEN, OPEN, BreakerPolicy, Health, _percentile


class RedisHealth:
    def __init__(
        self, redis: Any, policy: BreakerPolicy, prefix: str = "mr", clock: Callable[[], float] = time.time
    ) -> None:
        self.redis = redis
        self.policy = policy
        self.prefix = prefix
        self.clock = clock

    def _key(self, provider: str, model: str) -> str:
        return f"{self.prefix}:health:{provider}|{model}"

    async def _samples(self, key: str, now: float) -> list[tuple[float, bool, float]]:
        raw = await self.redis.lrange(f"{key}:samples", 0, self.policy.max_samples - 1)
        horizon = now - self.policy.window_s
        out = []
        for item in raw:
            ts, ok, latency = item.decode().split(",")
            if float(ts) >= horizon:
                out.append((float(ts), ok == "1", float(latency)))
        return out

    async def _state(self, key: str) -> dict[str, str]:
        raw = await self.redis.hgetall(f"{key}:state")
        return {k.decode(): v.decode() for k, v in raw.items()}

    async def record(self, provider: str, model: str, ok: bool, latency_ms: float) -> None:
        now = self.clock()
        key = self._key(provider, model)
        ttl = int(max(self.policy.window_s, self.policy.cooldown_s) * 4) + 60
        async with self.redis.pipeline(transaction=False) as pipe:
            pipe.lpush(f"{key}:samples", f"{now:.3f},{int(ok)},{latency_ms:.1f}")
            pipe.ltrim(f"{key}:samples", 0, self.policy.max_samples - 1)
            pipe.expire(f"{key}:samples", ttl)
            await pipe.execute()
        state = await self._state(key)
        updates: dict[str, Any] = {}
        if ok:
            alpha = self.policy.ewma_alpha
            old = float(state["ewma"]) if "ewma" in state else None
            updates["ewma"] = latency_ms if old is None else alpha * latency_ms + (1 - alpha) * old
        current = state.get("state", CLOSED)
        if current == HALF_OPEN:
            if ok:
                updates.update(state=CLOSED, probes=0)
                await self.redis.delete(f"{key}:samples")
                await self.redis.lpush(f"{key}:samples", f"{now:.3f},1,{latency_ms:.1f}")
            else:
                updates.update(state=OPEN, opened_at=now, probes=0)
        elif current == CLOSED and not ok:
            samples = await self._samples(key, now)
            failures = sum(1 for _, good, _ in samples if not good)
            if (
                len(samples) >= self.policy.min_requests
                and failures / len(samples) >= self.policy.failure_rate
            ):
                updates.update(state=OPEN, opened_at=now, probes=0)
        if updates:
            await self.redis.hset(f"{key}:state", mapping=updates)
            await self.redis.expire(f"{key}:state", ttl)

    async def allow(self, provider: str, model: str) -> bool:
        key = self._key(provider, model)
        state = await self._state(key)
        current = state.get("state", CLOSED)
        if current == CLOSED:
            return True
        if current == OPEN:
            if self.clock() - float(state.get("opened_at", 0)) < self.policy.cooldown_s:
                return False
            await self.redis.hset(f"{key}:state", mapping={"state": HALF_OPEN, "probes": 0})
        probes = await self.redis.hincrby(f"{key}:state", "probes", 1)
        return int(probes) <= self.policy.half_open_probes

    async def snapshot(self, provider: str, model: str) -> Health:
        key = self._key(provider, model)
        now = self.clock()
        state = await self._state(key)
        samples = await self._samples(key, now)
        current = state.get("state", CLOSED)
        if current == OPEN and now - float(state.get("opened_at", 0)) >= self.policy.cooldown_s:
            current = HALF_OPEN
        ewma = float(state["ewma"]) if "ewma" in state else None
        if not samples:
            return Health(state=current, latency_ewma_ms=ewma)
        latencies = sorted(lat for _, ok, lat in samples if ok)
        return Health(
            state=current,
            success_rate=sum(1 for _, ok, _ in samples if ok) / len(samples),
            latency_ewma_ms=ewma,
            p50_ms=_percentile(latencies, 0.5),
            p95_ms=_percentile(latencies, 0.95),
            samples=len(samples),
        )

    async def all(self) -> dict[tuple[str, str], Health]:
        out: dict[tuple[str, str], Health] = {}
        async for raw in self.redis.scan_iter(match=f"{self.prefix}:health:*:samples", count=500):
            name = raw.decode()[len(f"{self.prefix}:health:") : -len(":samples")]
            provider, _, model = name.partition("|")
            out[(provider, model)] = await self.snapshot(provider, model)
        return out
