"""Gateway API keys: `mr_<key_id>.<secret>`, stored as a SHA-256 of the secret, never in clear.

Secrets are 192 random bits, so a fast hash is enough (no password stretching needed); the
comparison is constant-time. Verified keys are cached briefly so the hot path skips the disk.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
import sqlite3
import time
from dataclasses import dataclass
from typing import Any

from mediarouter.store.database import Database

KEY_PREFIX = "mr_"
ROLES = ("admin", "user")
CACHE_TTL_S = 5.0


@dataclass(frozen=True)
class KeyRecord:
    key_id: str
    name: str
    role: str
    created_at: float
    revoked_at: float | None = None
    secret_hash: str = ""

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
        }


ADMIN_FROM_SETTINGS = KeyRecord("admin", "MEDIAROUTER_ADMIN_KEY", "admin", 0.0)


def _hash(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def split_key(key: str) -> tuple[str, str] | None:
    if not key.startswith(KEY_PREFIX):
        return None
    key_id, dot, secret = key[len(KEY_PREFIX) :].partition(".")
    if not dot or not key_id or not secret:
        return None
    return key_id, secret


def _row(row: sqlite3.Row) -> KeyRecord:
    return KeyRecord(
        row["key_id"], row["name"], row["role"], row["created_at"], row["revoked_at"], row["secret_hash"]
    )


class KeyStore:
    def __init__(self, db: Database, admin_key: str | None) -> None:
        self.db = db
        self.admin_key = admin_key
        self._cache: dict[str, tuple[float, KeyRecord | None]] = {}

    @staticmethod
    def _create(conn: sqlite3.Connection, name: str, role: str) -> tuple[KeyRecord, str]:
        key_id = secrets.token_hex(6)
        secret = secrets.token_urlsafe(24)
        record = KeyRecord(key_id, name, role, time.time(), None, _hash(secret))
        conn.execute(
            "INSERT INTO keys (key_id, name, role, secret_hash, created_at) VALUES (?, ?, ?, ?, ?)",
            (record.key_id, name, role, record.secret_hash, record.created_at),
        )
        return record, f"{KEY_PREFIX}{key_id}.{secret}"

    async def create(self, name: str, role: str = "user") -> tuple[KeyRecord, str]:
        assert role in ROLES
        return await self.db.run(self._create, name, role)

    def create_sync(self, name: str, role: str = "user") -> tuple[KeyRecord, str]:
        return self.db.run_sync(self._create, name, role)

    @staticmethod
    def _list(conn: sqlite3.Connection) -> list[KeyRecord]:
        return [_row(r) for r in conn.execute("SELECT * FROM keys ORDER BY created_at")]

    async def list(self) -> list[KeyRecord]:
        return await self.db.run(self._list)

    def list_sync(self) -> list[KeyRecord]:
        return self.db.run_sync(self._list)

    @staticmethod
    def _revoke(conn: sqlite3.Connection, key_id: str) -> bool:
        cur = conn.execute(
            "UPDATE keys SET revoked_at = ? WHERE key_id = ? AND revoked_at IS NULL", (time.time(), key_id)
        )
        return cur.rowcount > 0

    async def revoke(self, key_id: str) -> bool:
        self._cache.pop(key_id, None)
        return await self.db.run(self._revoke, key_id)

    def revoke_sync(self, key_id: str) -> bool:
        return self.db.run_sync(self._revoke, key_id)

    @staticmethod
    def _count(conn: sqlite3.Connection) -> int:
        return int(conn.execute("SELECT COUNT(*) FROM keys").fetchone()[0])

    async def count(self) -> int:
        return await self.db.run(self._count)

    @staticmethod
    def _get(conn: sqlite3.Connection, key_id: str) -> KeyRecord | None:
        row = conn.execute("SELECT * FROM keys WHERE key_id = ?", (key_id,)).fetchone()
        return _row(row) if row else None

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
            record = await self.db.run(self._get, key_id)
            self._cache[key_id] = (now + CACHE_TTL_S, record)
        else:
            record = cached[1]
        if record is None or record.revoked_at is not None:
            return None
        if not hmac.compare_digest(_hash(secret), record.secret_hash):
            return None
        return record
