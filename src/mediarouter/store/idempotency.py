"""`Idempotency-Key`: a retried request (same key, same body, within the TTL) gets the first answer.

Only successful answers are kept: a failed first try leaves nothing behind, so the client's retry
really retries. A second request with the key while the first is still running, or with the key
and a different body, gets 409. Keys are scoped to the caller's API key.

A running request's claim lasts `pending_s` (`Settings.in_flight_ttl_s`, longer than a request
can run), not the replay TTL: if the instance holding it crashes, retries may go ahead after that
instead of getting 409 for a day.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any, Protocol

import orjson

from mediarouter.errors import GatewayError


@dataclass
class Stored:
    status: int
    headers: dict[str, str]
    body: bytes


def conflict(message: str) -> GatewayError:
    return GatewayError("IDEMPOTENCY_CONFLICT", message, "Idempotency-Key")


class Idempotency(Protocol):
    async def begin(self, scope: str, key: str, body_hash: str) -> Stored | None:
        """Claim the key (None: go ahead) or return the stored answer; raise 409 on conflicts."""

    async def finish(self, scope: str, key: str, answer: Stored) -> None: ...

    async def abandon(self, scope: str, key: str) -> None: ...


class MemoryIdempotency:
    def __init__(self, ttl_s: float, pending_s: float | None = None) -> None:
        self.ttl_s = ttl_s
        self.pending_s = pending_s or ttl_s
        self._entries: dict[tuple[str, str], tuple[float, str, Stored | None]] = {}

    async def begin(self, scope: str, key: str, body_hash: str) -> Stored | None:
        now = time.monotonic()
        if len(self._entries) > 10_000:
            self._entries = {k: v for k, v in self._entries.items() if v[0] > now}
        entry = self._entries.get((scope, key))
        if entry is not None and entry[0] > now:
            _, stored_hash, answer = entry
            if stored_hash != body_hash:
                raise conflict("This Idempotency-Key was used with a different request body")
            if answer is None:
                raise conflict("A request with this Idempotency-Key is still in progress")
            return answer
        self._entries[(scope, key)] = (now + self.pending_s, body_hash, None)
        return None

    async def finish(self, scope: str, key: str, answer: Stored) -> None:
        entry = self._entries.get((scope, key))
        if entry is not None:
            self._entries[(scope, key)] = (time.monotonic() + self.ttl_s, entry[1], answer)

    async def abandon(self, scope: str, key: str) -> None:
        self._entries.pop((scope, key), None)


class RedisIdempotency:
    def __init__(self, redis: Any, ttl_s: float, prefix: str = "mr", pending_s: float | None = None) -> None:
        self.redis = redis
        self.ttl_s = int(ttl_s)
        self.pending_ms = max(1, int((pending_s or ttl_s) * 1000))
        self.prefix = prefix

    def _keys(self, scope: str, key: str) -> tuple[str, str]:
        base = f"{self.prefix}:idem:{scope}:{key}"
        return f"{base}:meta", f"{base}:body"

    async def begin(self, scope: str, key: str, body_hash: str) -> Stored | None:
        meta_key, body_key = self._keys(scope, key)
        claim = orjson.dumps({"hash": body_hash, "state": "pending"})
        if await self.redis.set(meta_key, claim, nx=True, px=self.pending_ms):
            return None
        raw = await self.redis.get(meta_key)
        if raw is None:  # expired between the two calls: claim again
            return await self.begin(scope, key, body_hash)
        meta = orjson.loads(raw)
        if meta["hash"] != body_hash:
            raise conflict("This Idempotency-Key was used with a different request body")
        if meta["state"] != "done":
            raise conflict("A request with this Idempotency-Key is still in progress")
        body = await self.redis.get(body_key) or b""
        return Stored(meta["status"], meta["headers"], body)

    async def finish(self, scope: str, key: str, answer: Stored) -> None:
        meta_key, body_key = self._keys(scope, key)
        raw = await self.redis.get(meta_key)
        if raw is None:
            return
        meta = orjson.loads(raw)
        meta.update({"state": "done", "status": answer.status, "headers": answer.headers})
        async with self.redis.pipeline(transaction=True) as pipe:
            pipe.set(body_key, answer.body, ex=self.ttl_s)
            pipe.set(meta_key, orjson.dumps(meta), ex=self.ttl_s)
            await pipe.execute()

    async def abandon(self, scope: str, key: str) -> None:
        await self.redis.delete(*self._keys(scope, key))
