"""Gateway API keys: `mr_<key_id>.<secret>`, stored as a SHA-256 of the secret, never in clear.

Secrets are 192 random bits, so a fast hash is enough (no password stretching needed); the
comparison is constant-time. Verified keys are cached briefly so the hot path skips the disk.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
import time
from dataclasses import dataclass
from typing import Any

from mediarouter.store.database import Database

KEY_PREFIX = "mr_"
ROLES = ("admin", "user")
CACHE_TTL_S = 5.0  # default of server.key_cache_s


@dataclass(frozen=True)
class KeyRecord:
    key_id: str
    name: str
    role: str
    created_at: float
    revoked_at: float | None = None
    secret_hash: str = ""
    rpm: int | None = None  # requests per minute
    max_concurrency: int | None = None
    budget_usd: float | None = None
    budget_period: str | None = None  # day | month | total

    @property
    def is_admin(self) -> bool:
        return self.role == "admin"

    def public(self) -> dict[str, Any]:
        return {
            "id": self.key_id,
            "object": "api_key",
            "name": self.name,
            "role": self.role,
            "created_at": int(self.created_at),
            "revoked": self.revoked_at is not None,
            "limits": {
                "rpm": self.rpm,
                "max_concurrency": self.max_concurrency,
                "budget_usd": self.budget_usd,
                "budget_period": self.budget_period,
            },
        }


ADMIN_FROM_SETTINGS = KeyRecord("admin", "MEDIAROUTER_ADMIN_KEY", "admin", 0.0)
LIMIT_FIELDS = ("rpm", "max_concurrency", "budget_usd", "budget_period")
BUDGET_PERIODS = ("day", "month", "total")


def _hash(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def split_key(key: str) -> tuple[str, str] | None:
    if not key.startswith(KEY_PREFIX):
        return None
    key_id, dot, secret = key[len(KEY_PREFIX) :].partition(".")
    if not dot or not key_id or not secret:
        return None
    return key_id, secret


def _record(row: dict[str, Any]) -> KeyRecord:
    return KeyRecord(**{k: row.get(k) for k in KeyRecord.__dataclass_fields__})  # type: ignore[arg-type]


class KeyStore:
    def __init__(self, db: Database, admin_key: str | None, cache_s: float = CACHE_TTL_S) -> None:
        self.db = db
        self.admin_key = admin_key
        self.cache_s = cache_s
        self._cache: dict[str, tuple[float, KeyRecord | None]] = {}

    async def create(self, name: str, role: str = "user", **limits: Any) -> tuple[KeyRecord, str]:
        assert role in ROLES
        if limits.get("budget_usd") and not limits.get("budget_period"):
            limits["budget_period"] = "total"  # a budget is always enforced over some period
        key_id = secrets.token_hex(6)
        secret = secrets.token_urlsafe(24)
        record = KeyRecord(key_id, name, role, time.time(), None, _hash(secret), **limits)
        await self.db.execute(
            "INSERT INTO keys (key_id, name, role, secret_hash, created_at, rpm, max_concurrency, budget_usd,"
            " budget_period) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (
                key_id,
                name,
                role,
                record.secret_hash,
                record.created_at,
                record.rpm,
                record.max_concurrency,
                record.budget_usd,
                record.budget_period,
            ),
        )
        return record, f"{KEY_PREFIX}{key_id}.{secret}"

    async def list(self) -> list[KeyRecord]:
        return [_record(r) for r in await self.db.fetchall("SELECT * FROM keys ORDER BY created_at")]

    async def get(self, key_id: str) -> KeyRecord | None:
        row = await self.db.fetchone("SELECT * FROM keys WHERE key_id = ?", (key_id,))
        return _record(row) if row else None

    async def revoke(self, key_id: str) -> bool:
        self._cache.pop(key_id, None)
        changed = await self.db.execute(
            "UPDATE keys SET revoked_at = ? WHERE key_id = ? AND revoked_at IS NULL", (time.time(), key_id)
        )
        return changed > 0

    async def update(self, key_id: str, **limits: Any) -> KeyRecord | None:
        """Set limit fields (None clears one); unknown fields are a programming error.

        A new budget without a period keeps the key's period, or gets `total` if it has none."""
        assert set(limits) <= set(LIMIT_FIELDS)
        if limits.get("budget_usd") and "budget_period" not in limits:
            current = await self.get(key_id)
            if current is not None and not current.budget_period:
                limits["budget_period"] = "total"
        if limits:
            columns = ", ".join(f"{name} = ?" for name in limits)
            await self.db.execute(f"UPDATE keys SET {columns} WHERE key_id = ?", (*limits.values(), key_id))
        self._cache.pop(key_id, None)
        return await self.get(key_id)

    async def count(self) -> int:
        row = await self.db.fetchone("SELECT COUNT(*) AS n FROM keys")
        return int(row["n"]) if row else 0

    async def verify(self, key: str) -> KeyRecord | None:
        """The active key record for a bearer value, or None."""
        if self.admin_key and hmac.compare_digest(key.encode(), self.admin_key.encode()):
            return ADMIN_FROM_SETTINGS
        parts = split_key(key)
        if parts is None:
            return None
        key_id, secret = parts
        now = time.monotonic()
        cached = self._cache.get(key_id)
        if cached is None or cached[0] < now:
            record = await self.get(key_id)
            self._cache[key_id] = (now + self.cache_s, record)
        else:
            record = cached[1]
        if record is None or record.revoked_at is not None:
            return None
        if not hmac.compare_digest(_hash(secret), record.secret_hash):
            return None
        return record
