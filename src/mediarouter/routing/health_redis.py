"""Provider health kept in Redis, so every gateway instance sees the same breakers and latencies.

Same rules as `MemoryHealth` (see health.py). Samples are a capped list per (provider, model);
breaker state is a hash. Transitions are read-modify-write: two instances may both open a breaker
in the same instant, which is harmless. Half-open probe slots are a sorted set scored by expiry,
taken in one Lua script (the half-open transition included) so the probe limit holds across
instances, and a slot of an instance that died mid-probe expires. Timestamps are wall-clock
seconds, shared by all instances.
"""

from __future__ import annotations

import secrets
import time
from collections.abc import Callable
from typing import Any

from mediarouter.routing.health import CLOSED, HALF_OPEN, OPEN, BreakerPolicy, Health, _percentile

# KEYS: state hash, probe slots; ARGV: now, cooldown_s, half_open_probes, probe_ttl_s, slot id, key TTL.
ALLOW_SCRIPT = """
local state = redis.call('HGET', KEYS[1], 'state')
if not state or state == 'closed' then return 1 end
local now = tonumber(ARGV[1])
if state == 'open' then
  if now - tonumber(redis.call('HGET', KEYS[1], 'opened_at') or '0') < tonumber(ARGV[2]) then return 0 end
  redis.call('HSET', KEYS[1], 'state', 'half_open')
  redis.call('DEL', KEYS[2])
end
redis.call('ZREMRANGEBYSCORE', KEYS[2], '-inf', now)
if redis.call('ZCARD', KEYS[2]) >= tonumber(ARGV[3]) then return 0 end
redis.call('ZADD', KEYS[2], now + tonumber(ARGV[4]), ARGV[5])
redis.call('EXPIRE', KEYS[2], ARGV[6])
return 1
"""


class RedisHealth:
    def __init__(
        self, redis: Any, policy: BreakerPolicy, prefix: str = "mr", clock: Callable[[], float] = time.time
    ) -> None:
        self.redis = redis
        self.policy = policy
        self.prefix = prefix
        self.clock = clock
        self._allow = redis.register_script(ALLOW_SCRIPT)
        self._ttl = int(max(policy.window_s, policy.cooldown_s, policy.probe_ttl_s) * 4) + 60

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
        ttl = self._ttl
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
        if ok and current != CLOSED:  # a probe, or a last resort while open: the provider answers again
            updates.update(state=CLOSED)
            await self.redis.delete(f"{key}:samples", f"{key}:probes")
            await self.redis.lpush(f"{key}:samples", f"{now:.3f},1,{latency_ms:.1f}")
        elif current == HALF_OPEN:
            updates.update(state=OPEN, opened_at=now)
            await self.redis.delete(f"{key}:probes")
        elif current == CLOSED and not ok:
            samples = await self._samples(key, now)
            failures = sum(1 for _, good, _ in samples if not good)
            if (
                len(samples) >= self.policy.min_requests
                and failures / len(samples) >= self.policy.failure_rate
            ):
                updates.update(state=OPEN, opened_at=now)
        if updates:
            await self.redis.hset(f"{key}:state", mapping=updates)
            await self.redis.expire(f"{key}:state", ttl)

    async def allow(self, provider: str, model: str) -> bool:
        key = self._key(provider, model)
        p = self.policy
        args = (
            self.clock(),
            p.cooldown_s,
            p.half_open_probes,
            p.probe_ttl_s,
            secrets.token_hex(8),
            self._ttl,
        )
        return bool(await self._allow(keys=[f"{key}:state", f"{key}:probes"], args=args))

    async def release(self, provider: str, model: str) -> None:
        key = self._key(provider, model)
        if (await self.redis.hget(f"{key}:state", "state")) == HALF_OPEN.encode():
            await self.redis.zpopmin(f"{key}:probes", 1)

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
