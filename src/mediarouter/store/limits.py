"""Per-key limits that hold exactly under concurrency and across instances.

- requests per minute: a counter per key and clock minute, incremented atomically; over the
  limit -> `RATE_LIMITED` with `Retry-After` (seconds to the next minute);
- concurrent requests: each admitted request holds a slot until it is released; in Redis a slot is
  a member of a sorted set scored by its expiry (`Settings.in_flight_ttl_s`, longer than a request
  can run), so the slots of a crashed instance expire instead of blocking the key forever;
- spend budget per day, month or total: each request first *reserves* its maximum estimated cost
  (admitted only if spent + reserved + this stays within the budget), then *settles* to its actual
  cost, so concurrent requests can never overspend.

`MemoryLimits` serves one instance; `RedisLimits` does each check-and-add as one Lua script, so
N instances share exact counters. Money is counted in micro-dollars (integers) to stay exact.
"""

from __future__ import annotations

import asyncio
import secrets
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Protocol

from mediarouter.errors import GatewayError
from mediarouter.store.keys import KeyRecord

# How much a key has spent since a time, from the request log (seeds a budget counter once).
SpentSince = Callable[[str, float], Awaitable[float]]


def period_start(period: str, now: float) -> float:
    when = datetime.fromtimestamp(now, UTC)
    if period == "day":
        return when.replace(hour=0, minute=0, second=0, microsecond=0).timestamp()
    if period == "month":
        return when.replace(day=1, hour=0, minute=0, second=0, microsecond=0).timestamp()
    return 0.0


def budget_period(key: KeyRecord) -> str:
    """A budget stored without a period (keys made before periods defaulted) counts in total."""
    return key.budget_period or "total"


def micros(usd: float) -> int:
    return round(usd * 1_000_000)


@dataclass
class Lease:
    key_id: str
    concurrency: bool  # a concurrency slot is held
    budget_slot: str | None  # the budget counter holding the reservation
    reserved: int  # micro-dollars
    token: str = ""  # this request's concurrency slot (Redis)


def rate_limited(message: str, retry_after: float) -> GatewayError:
    return GatewayError(
        "RATE_LIMITED", message, headers={"Retry-After": str(max(1, int(retry_after + 0.999)))}
    )


def budget_exceeded(key: KeyRecord, spent: int, reserve: int) -> GatewayError:
    return GatewayError(
        "BUDGET_EXCEEDED",
        f"Budget exceeded for key {key.key_id}: ${spent / 1e6:.4f} spent or reserved this {budget_period(key)}, "
        f"${reserve / 1e6:.4f} needed, budget ${key.budget_usd:.4f}",
    )


class Limits(Protocol):
    async def admit(self, key: KeyRecord) -> Lease: ...

    async def reserve(self, key: KeyRecord, lease: Lease, usd: float) -> None: ...

    async def release(self, lease: Lease, actual_usd: float) -> None: ...


class MemoryLimits:
    """Exact for one instance: the event loop runs each check-and-add without interruption."""

    def __init__(self, spent_since: SpentSince, clock: Callable[[], float] = time.time) -> None:
        self.spent_since = spent_since
        self.clock = clock
        self.minutes: dict[tuple[str, int], int] = {}
        self.running: dict[str, int] = {}
        self.spend: dict[str, int] = {}
        self._seeding: dict[str, asyncio.Lock] = {}

    async def admit(self, key: KeyRecord) -> Lease:
        now = self.clock()
        if key.rpm:
            minute = int(now // 60)
            count = self.minutes.get((key.key_id, minute), 0)
            if count >= key.rpm:
                raise rate_limited(
                    f"Rate limit of {key.rpm} requests per minute reached for key {key.key_id}", 60 - now % 60
                )
            self.minutes = {k: v for k, v in self.minutes.items() if k[1] >= minute - 1}
            self.minutes[(key.key_id, minute)] = count + 1
        if key.max_concurrency:
            if self.running.get(key.key_id, 0) >= key.max_concurrency:
                raise rate_limited(
                    f"Key {key.key_id} already has {key.max_concurrency} requests in flight", 1
                )
            self.running[key.key_id] = self.running.get(key.key_id, 0) + 1
        return Lease(key.key_id, bool(key.max_concurrency), None, 0)

    async def reserve(self, key: KeyRecord, lease: Lease, usd: float) -> None:
        if not key.budget_usd:
            return
        period = budget_period(key)
        since = period_start(period, self.clock())
        slot = f"{key.key_id}:{period}:{int(since)}"
        if slot not in self.spend:
            lock = self._seeding.setdefault(slot, asyncio.Lock())
            async with lock:
                if slot not in self.spend:
                    self.spend[slot] = micros(await self.spent_since(key.key_id, since))
        amount = micros(usd)
        if self.spend[slot] + amount > micros(key.budget_usd):
            raise budget_exceeded(key, self.spend[slot], amount)
        self.spend[slot] += amount
        lease.budget_slot, lease.reserved = slot, amount

    async def release(self, lease: Lease, actual_usd: float) -> None:
        if lease.concurrency:
            self.running[lease.key_id] = max(0, self.running.get(lease.key_id, 1) - 1)
        if lease.budget_slot is not None:
            self.spend[lease.budget_slot] += micros(actual_usd) - lease.reserved


# KEYS[1] counter; ARGV[1] limit, ARGV[2] ttl seconds. Returns the new value, or -1 when over.
_INCR_UNDER = """
local v = tonumber(redis.call('GET', KEYS[1]) or '0')
if v >= tonumber(ARGV[1]) then return -1 end
v = redis.call('INCR', KEYS[1])
redis.call('EXPIRE', KEYS[1], ARGV[2])
return v
"""
# KEYS[1] sorted set of running requests scored by expiry (ms); ARGV[1] limit, ARGV[2] hold ms,
# ARGV[3] this request's token. Expired slots go first; returns 1 when admitted, -1 when full.
# Redis's own clock, so instances with skewed clocks agree on what has expired.
_TAKE_SLOT = """
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now)
if redis.call('ZCARD', KEYS[1]) >= tonumber(ARGV[1]) then return -1 end
redis.call('ZADD', KEYS[1], now + tonumber(ARGV[2]), ARGV[3])
redis.call('PEXPIRE', KEYS[1], ARGV[2])
return 1
"""
# KEYS[1] spend counter (micros); ARGV[1] amount, ARGV[2] budget, ARGV[3] ttl. -1 = missing, -2 = over.
_RESERVE = """
local v = redis.call('GET', KEYS[1])
if not v then return -1 end
v = tonumber(v)
if v + tonumber(ARGV[1]) > tonumber(ARGV[2]) then return -2 - v end
redis.call('INCRBY', KEYS[1], ARGV[1])
if tonumber(ARGV[3]) > 0 then redis.call('EXPIRE', KEYS[1], ARGV[3]) end
return v + tonumber(ARGV[1])
"""


class RedisLimits:
    def __init__(
        self,
        redis: Any,
        spent_since: SpentSince,
        prefix: str = "mr",
        clock: Callable[[], float] = time.time,
        hold_s: float = 3600.0,
    ) -> None:
        self.redis = redis
        self.spent_since = spent_since
        self.prefix = prefix
        self.clock = clock
        self.hold_ms = max(1, int(hold_s * 1000))
        self._incr = redis.register_script(_INCR_UNDER)
        self._take_slot = redis.register_script(_TAKE_SLOT)
        self._reserve = redis.register_script(_RESERVE)

    async def admit(self, key: KeyRecord) -> Lease:
        now = self.clock()
        if key.rpm:
            minute = int(now // 60)
            if await self._incr(keys=[f"{self.prefix}:rpm:{key.key_id}:{minute}"], args=[key.rpm, 120]) < 0:
                raise rate_limited(
                    f"Rate limit of {key.rpm} requests per minute reached for key {key.key_id}", 60 - now % 60
                )
        token = ""
        if key.max_concurrency:
            token = secrets.token_hex(8)
            slots = f"{self.prefix}:slots:{key.key_id}"
            if await self._take_slot(keys=[slots], args=[key.max_concurrency, self.hold_ms, token]) < 0:
                raise rate_limited(
                    f"Key {key.key_id} already has {key.max_concurrency} requests in flight", 1
                )
        return Lease(key.key_id, bool(key.max_concurrency), None, 0, token)

    async def reserve(self, key: KeyRecord, lease: Lease, usd: float) -> None:
        if not key.budget_usd:
            return
        period = budget_period(key)
        since = period_start(period, self.clock())
        slot = f"{self.prefix}:spend:{key.key_id}:{period}:{int(since)}"
        ttl = {"day": 2 * 86400, "month": 62 * 86400}.get(period, 0)
        amount = micros(usd)
        result = await self._reserve(keys=[slot], args=[amount, micros(key.budget_usd), ttl])
        if result == -1:  # first use in this period: seed from the request log, once, atomically
            await self.redis.set(slot, micros(await self.spent_since(key.key_id, since)), nx=True)
            result = await self._reserve(keys=[slot], args=[amount, micros(key.budget_usd), ttl])
        if result <= -2:
            raise budget_exceeded(key, -2 - result, amount)
        lease.budget_slot, lease.reserved = slot, amount

    async def release(self, lease: Lease, actual_usd: float) -> None:
        if lease.concurrency:
            await self.redis.zrem(f"{self.prefix}:slots:{lease.key_id}", lease.token)
        if lease.budget_slot is not None:
            await self.redis.incrby(lease.budget_slot, micros(actual_usd) - lease.reserved)
