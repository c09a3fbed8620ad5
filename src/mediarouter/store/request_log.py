"""The request log: every accepted request with its outcome, written in batches off the hot path.

`record()` only appends to a buffer and wakes a background writer, which writes whatever has
accumulated as one batch: under load rows are grouped, at rest each is written within a
millisecond or two, so every instance sees a finished request at once. Reads on the same instance
flush first; `close()` flushes, so a graceful shutdown loses nothing.
"""

from __future__ import annotations

import asyncio
import logging
import time
from dataclasses import dataclass, field, fields
from datetime import UTC, datetime
from typing import Any

import orjson

from mediarouter.store.database import Database

log = logging.getLogger("mediarouter")

STATUSES = ("completed", "upstream_failure", "rejected", "cancelled")


@dataclass
class RequestRecord:
    id: str
    created_at: float
    endpoint: str
    status: str
    http_status: int
    key_id: str | None = None
    model: str | None = None
    executed_model: str | None = None
    provider: str | None = None
    error_code: str | None = None
    error_message: str | None = None
    attempts: list[dict[str, Any]] = field(default_factory=list)
    duration_ms: float = 0.0
    overhead_ms: float = 0.0
    cost: float = 0.0
    image_count: int = 0
    image_sizes: list[str] = field(default_factory=list)
    user: str | None = None
    trace_id: str | None = None
    request_size_bytes: int = 0
    response_size_bytes: int = 0
    prompt: str | None = None
    params: dict[str, Any] = field(default_factory=dict)  # what was asked, minus prompt and image bytes
    upstream_ms: float = field(default=0.0, metadata={"stored": False})  # only to compute overhead_ms


_FIELDS = tuple(f.name for f in fields(RequestRecord) if f.metadata.get("stored", True))
_COLUMN_OF = {"user": "end_user"}  # `user` is reserved in PostgreSQL
_COLUMNS = tuple(_COLUMN_OF.get(f, f) for f in _FIELDS)
_INSERT = (
    f"INSERT INTO requests ({', '.join(_COLUMNS)}) VALUES ({', '.join('?' for _ in _COLUMNS)})"
    " ON CONFLICT (id) DO NOTHING"
)
_JSON_COLUMNS = ("attempts", "image_sizes", "params")


def _values(record: RequestRecord) -> tuple[Any, ...]:
    row = {f: getattr(record, f) for f in _FIELDS}  # not asdict(): its deep copy cost ~7x more
    for name in _JSON_COLUMNS:
        row[name] = orjson.dumps(row[name]).decode()
    return tuple(row[f] for f in _FIELDS)


def public(row: dict[str, Any]) -> dict[str, Any]:
    item = dict(row)
    item["user"] = item.pop("end_user", None)
    for name in _JSON_COLUMNS:
        item[name] = orjson.loads(item[name]) if item[name] else ({} if name == "params" else [])
    created = item.pop("created_at")
    return {
        "id": item.pop("id"),
        "object": "request",
        "created_at": datetime.fromtimestamp(created, UTC).isoformat().replace("+00:00", "Z"),
        "created": int(created),
        "currency": "usd",
        "modality": "image" if str(item.get("endpoint", "")).startswith("/v1/images") else "text",
        **item,
    }


@dataclass
class RequestQuery:
    limit: int = 20
    starting_after: str | None = None
    ending_before: str | None = None
    created_after: float | None = None
    created_before: float | None = None
    key_id: str | None = None
    status: str | None = None
    model: str | None = None


class RequestLog:
    def __init__(self, db: Database, flush_interval_s: float) -> None:
        self.db = db
        self.flush_interval_s = flush_interval_s
        self._buffer: list[RequestRecord] = []
        self._task: asyncio.Task[None] | None = None
        self._wake: asyncio.Event | None = None
        self._lock = asyncio.Lock()

    def start(self) -> None:
        self._wake = asyncio.Event()
        self._task = asyncio.create_task(self._loop())

    def record(self, record: RequestRecord) -> None:
        """Buffer a row; the writer wakes at once, so rows written together form one batch."""
        self._buffer.append(record)
        if self._wake is not None:
            self._wake.set()

    async def _loop(self) -> None:
        assert self._wake is not None
        while True:
            await self._wake.wait()
            self._wake.clear()
            try:
                await self.flush()
            except Exception:
                log.exception("request log write failed; retrying")
                await asyncio.sleep(self.flush_interval_s)
                self._wake.set()

    async def flush(self) -> None:
        async with self._lock:
            if not self._buffer:
                return
            batch, self._buffer = self._buffer, []
            try:
                await self.db.executemany(_INSERT, [_values(r) for r in batch])
            except Exception:
                self._buffer[:0] = batch  # keep them for the next flush rather than lose them
                raise

    async def close(self) -> None:
        if self._task is not None:
            self._task.cancel()
            try:
                await self._task
            except asyncio.CancelledError:
                pass
        await self.flush()

    async def get(self, request_id: str) -> dict[str, Any] | None:
        await self.flush()
        row = await self.db.fetchone("SELECT * FROM requests WHERE id = ?", (request_id,))
        return public(row) if row else None

    async def list(self, query: RequestQuery) -> tuple[list[dict[str, Any]], bool]:
        """Newest first; `starting_after` pages towards older rows, `ending_before` towards newer."""
        await self.flush()
        where: list[str] = []
        args: list[Any] = []
        for column, value in (("key_id", query.key_id), ("status", query.status), ("model", query.model)):
            if value is not None:
                where.append(f"{column} = ?")
                args.append(value)
        if query.created_after is not None:
            where.append("created_at >= ?")
            args.append(query.created_after)
        if query.created_before is not None:
            where.append("created_at < ?")
            args.append(query.created_before)
        order = "DESC"
        if query.starting_after:
            where.append("id < ?")
            args.append(query.starting_after)
        elif query.ending_before:
            where.append("id > ?")
            args.append(query.ending_before)
            order = "ASC"
        sql = "SELECT * FROM requests" + (" WHERE " + " AND ".join(where) if where else "")
        sql += f" ORDER BY id {order} LIMIT ?"
        args.append(query.limit + 1)

        rows = [public(r) for r in await self.db.fetchall(sql, args)]
        has_more = len(rows) > query.limit
        rows = rows[: query.limit]
        if order == "ASC":
            rows.reverse()
        return rows, has_more

    async def usage(self, key_id: str | None, since: float, until: float | None) -> list[dict[str, Any]]:
        """Per key and UTC day: requests, failures, images and cost."""
        await self.flush()
        where, args = ["created_at >= ?"], [since]
        if until is not None:
            where.append("created_at < ?")
            args.append(until)
        if key_id is not None:
            where.append("key_id = ?")
            args.append(key_id)
        rows = await self.db.fetchall(
            "SELECT key_id, CAST(created_at / 86400 AS INTEGER) AS day, COUNT(*) AS requests,"
            " SUM(CASE WHEN status = 'completed' THEN 0 ELSE 1 END) AS failed,"
            " COALESCE(SUM(image_count), 0) AS images, COALESCE(SUM(cost), 0) AS cost"
            f" FROM requests WHERE {' AND '.join(where)} GROUP BY key_id, CAST(created_at / 86400 AS INTEGER)"
            " ORDER BY day, key_id",
            args,
        )
        return [
            {
                "key_id": r["key_id"],
                "date": datetime.fromtimestamp(int(r["day"]) * 86400, UTC).date().isoformat(),
                "requests": int(r["requests"]),
                "failed": int(r["failed"]),
                "images": int(r["images"]),
                "cost": round(float(r["cost"]), 6),
            }
            for r in rows
        ]

    async def spent_since(self, key_id: str, since: float) -> float:
        """What a key's requests cost since a time (seeds budget counters)."""
        await self.flush()
        row = await self.db.fetchone(
            "SELECT COALESCE(SUM(cost), 0) AS spent FROM requests WHERE key_id = ? AND created_at >= ?",
            (key_id, since),
        )
        return float(row["spent"]) if row else 0.0

    async def prune(self, retention_s: float) -> int:
        return await self.db.execute(
            "DELETE FROM requests WHERE created_at < ?", (time.time() - retention_s,)
        )
