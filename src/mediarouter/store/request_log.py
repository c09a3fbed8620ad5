"""The request log: every accepted request with its outcome, written in batches off the hot path.

`record()` only appends to a buffer; a background task writes the buffer every
`log.flush_interval_s`. Reads flush first, so a request is readable as soon as its response
has been sent; `close()` flushes, so a graceful shutdown loses nothing.
"""

from __future__ import annotations

import asyncio
import sqlite3
import time
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from typing import Any

import orjson

from mediarouter.store.database import Database

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


_COLUMNS = tuple(RequestRecord.__dataclass_fields__)
_INSERT = (
    f"INSERT OR REPLACE INTO requests ({', '.join(_COLUMNS)}) VALUES ({', '.join('?' for _ in _COLUMNS)})"
)
_JSON_COLUMNS = ("attempts", "image_sizes")


def _values(record: RequestRecord) -> tuple[Any, ...]:
    row = asdict(record)
    for name in _JSON_COLUMNS:
        row[name] = orjson.dumps(row[name]).decode()
    return tuple(row[c] for c in _COLUMNS)


def public(row: sqlite3.Row) -> dict[str, Any]:
    item = dict(row)
    for name in _JSON_COLUMNS:
        item[name] = orjson.loads(item[name]) if item[name] else []
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
        self._lock = asyncio.Lock()

    def start(self) -> None:
        self._task = asyncio.create_task(self._loop())

    def record(self, record: RequestRecord) -> None:
        self._buffer.append(record)

    async def _loop(self) -> None:
        while True:
            await asyncio.sleep(self.flush_interval_s)
            if self._buffer:
                await self.flush()

    async def flush(self) -> None:
        async with self._lock:
            if not self._buffer:
                return
            batch, self._buffer = self._buffer, []
            rows = [_values(r) for r in batch]
            await self.db.run(lambda conn: conn.executemany(_INSERT, rows))

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

        def read(conn: sqlite3.Connection) -> dict[str, Any] | None:
            row = conn.execute("SELECT * FROM requests WHERE id = ?", (request_id,)).fetchone()
            return public(row) if row else None

        return await self.db.run(read)

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

        def read(conn: sqlite3.Connection) -> list[dict[str, Any]]:
            return [public(r) for r in conn.execute(sql, args)]

        rows = await self.db.run(read)
        has_more = len(rows) > query.limit
        rows = rows[: query.limit]
        if order == "ASC":
            rows.reverse()
        return rows, has_more

    async def prune(self, retention_s: float) -> int:
        cutoff = time.time() - retention_s
        return await self.db.run(
            lambda conn: conn.execute("DELETE FROM requests WHERE created_at < ?", (cutoff,)).rowcount
        )
