"""What a crashed instance leaves in Redis expires: concurrency slots and Idempotency-Key claims."""

from __future__ import annotations

import asyncio
import secrets

import pytest
import redis.asyncio as aioredis

from mediarouter.errors import GatewayError
from mediarouter.store.idempotency import RedisIdempotency, Stored
from mediarouter.store.keys import KeyRecord
from mediarouter.store.limits import RedisLimits

from services import redis_url

KEY = KeyRecord("k1", "t", "user", 0.0, max_concurrency=3)


async def _no_spend(key_id: str, since: float) -> float:
    return 0.0


def test_slots_of_requests_never_released_expire() -> None:
    async def scenario() -> None:
        redis = aioredis.from_url(redis_url())
        prefix = f"mrtest-{secrets.token_hex(4)}"
        crashed = RedisLimits(redis, _no_spend, prefix, hold_s=1.0)  # an instance that dies mid-request
        alive = RedisLimits(redis, _no_spend, prefix, hold_s=1.0)
        await crashed.admit(KEY)
        await crashed.admit(KEY)
        for _ in range(3):  # traffic in the meantime must not keep the dead slots alive
            lease = await alive.admit(KEY)
            with pytest.raises(GatewayError) as caught:
                await alive.admit(KEY)
            assert caught.value.code == "RATE_LIMITED"
            await alive.release(lease, 0.0)  # a released slot is free at once
            await asyncio.sleep(0.25)
        await asyncio.sleep(0.4)
        leases = [await alive.admit(KEY) for _ in range(3)]  # the crashed instance's two are gone
        with pytest.raises(GatewayError):
            await alive.admit(KEY)
        for lease in leases:
            await alive.release(lease, 0.0)
        await redis.aclose()

    asyncio.run(scenario())


def test_a_claim_left_by_a_crash_frees_after_the_pending_ttl_and_answers_keep_the_full_ttl() -> None:
    async def scenario() -> None:
        redis = aioredis.from_url(redis_url())
        idem = RedisIdempotency(redis, 60, f"mrtest-{secrets.token_hex(4)}", pending_s=0.5)
        assert await idem.begin("k1", "crashed", "h") is None  # claimed, never finished
        with pytest.raises(GatewayError, match="still in progress"):
            await idem.begin("k1", "crashed", "h")
        await asyncio.sleep(0.6)
        assert await idem.begin("k1", "crashed", "h") is None  # the retry goes ahead
        await idem.finish("k1", "crashed", Stored(200, {"x-mediarouter-request-id": "req_1"}, b"{}"))
        await asyncio.sleep(0.6)
        replay = await idem.begin("k1", "crashed", "h")
        assert replay is not None and replay.body == b"{}"
        with pytest.raises(GatewayError, match="different request body"):
            await idem.begin("k1", "crashed", "other")
        await redis.aclose()

    asyncio.run(scenario())
