"""The request log: every accepted request with its outcome, written in batches off the hot path.

`record()` only appends to a buffer and wakes a background writer, which writes whatever has
accumulated as one batch (group commit): under load rows are grouped, at rest each is written
within a millisecond. `write()` also waits for that batch to commit, so a request that awaits it
before answering is readable on every instance as soon as its caller has the answer. Reads on the
same instance flush first; `close()` flushes, so a graceful shutdown loses nothing.

A row the database refuses (a value it cannot store) never holds up the others: a failed batch is
written again row by row, and the refused row is logged and dropped (`on_drop` counts it).
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field, fields
from datetime import UTC, datetime
from typing import Any

import orjson

from mediarouter.store.database import Database, rejects_values

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
    model: str | None = None  # as the client typed it (an alias, `openai/dall-e-2`...)
    model_id: str | None = None  # the catalog model it resolved to; None when it resolved to none
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


# Days since the epoch, rounded down: PostgreSQL's CAST rounds to nearest (an evening would count as
# the next day), SQLite's truncates, which is the floor for every timestamp after 1970.
_UTC_DAY = {"postgres": "FLOOR(created_at / 86400)", "sqlite": "CAST(created_at / 86400 AS INTEGER)"}


@dataclass
class RequestQuery:
    limit: int = 20
    starting_after: str | None = None
    ending_before: str | None = None
    created_after: float | None = None
    created_before: float | None = None
    key_id: str | None = None
    status: str | None = None
    model: str | None = None  # the filter as given
    model_id: str | None = None  # the catalog model it names, when it names one
    provider: str | None = None  # the provider that served it, or that any of its attempts went to


class RequestLog:
    def __init__(
        self,
        db: Database,
        flush_interval_s: float,
        on_drop: Callable[[], None] | None = None,
        commit_before_answer: bool = True,
    ) -> None:
        self.db = db
        self.flush_interval_s = flush_interval_s
        self.commit_before_answer = commit_before_answer
        self.on_drop = on_drop
        self._buffer: list[RequestRecord] = []
        self._written: asyncio.Event | None = None  # set once the rows now in the buffer are written
        self._task: asyncio.Task[None] | None = None
        self._wake: asyncio.Event | None = None
        self._lock = asyncio.Lock()

    def start(self) -> None:
        self._wake = asyncio.Event()
        self._task = asyncio.create_task(self._loop())

    def record(self, record: RequestRecord) -> asyncio.Event:
        """Buffer a row; the writer wakes at once, so rows written together form one batch.

        The event returned is set when the batch holding the row has been written (or its write
        failed: then the row stays buffered for the retry, and nobody waits on a broken database).
        """
        self._buffer.append(record)
        if self._written is None:
            self._written = asyncio.Event()
        if self._wake is not None:
            self._wake.set()
        return self._written

    async def write(self, record: RequestRecord) -> None:
        """Record a row and wait until it is committed (readable by every instance)."""
        written = self.record(record)
        if self._task is None:  # no writer running (tools, tests): write it here
            await self.flush()
        await written.wait()

    async def finish(self, record: RequestRecord) -> None:
        """Log a finished request the way the deployment needs: committed before the answer where
        other instances read the same database, else buffered (this instance's reads flush first)."""
        if self.commit_before_answer:
            await self.write(record)
        else:
            self.record(record)

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
            written, self._written = self._written, None
            try:
                try:
                    await self.db.executemany(_INSERT, [_values(r) for r in batch])
                except Exception:
                    await self._write_one_by_one(batch)
            finally:
                if written is not None:
                    written.set()

    async def _write_one_by_one(self, batch: list[RequestRecord]) -> None:
        """After a failed batch: write each row alone, dropping those the database refuses."""
        for i, record in enumerate(batch):
            try:
                await self.db.execute(_INSERT, _values(record))
            except Exception as exc:
                if not rejects_values(exc):  # the database itself is failing: keep the rest
                    self._buffer[:0] = batch[i:]
                    raise
                log.error("request log row %s cannot be stored and is dropped: %s", record.id, exc)
                if self.on_drop is not None:
                    self.on_drop()

    async def close(self) -> None:
        if self._task is not None:
            async with self._lock:  # never while the writer is mid-batch: that batch would be lost
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
        for column, value in (("key_id", query.key_id), ("status", query.status)):
            if value is not None:
                where.append(f"{column} = ?")
                args.append(value)
        if query.model is not None:  # the resolved model, or the name as typed (chat, older rows)
            where.append("(model_id = ? OR model = ?)")
            args += [query.model_id or query.model, query.model]
        if query.provider is not None:  # a slug (the API checks); `_` is escaped for LIKE
            where.append("(provider = ? OR attempts LIKE ? ESCAPE '!')")
            escaped = query.provider.replace("!", "!!").replace("_", "!_").replace("%", "!%")
            args += [query.provider, f'%"provider":"{escaped}"%']
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
        day = _UTC_DAY[self.db.dialect]
        rows = await self.db.fetchall(
            f"SELECT key_id, {day} AS day, COUNT(*) AS requests,"
            " SUM(CASE WHEN status = 'completed' THEN 0 ELSE 1 END) AS failed,"
            " COALESCE(SUM(image_count), 0) AS images, COALESCE(SUM(cost), 0) AS cost"
            f" FROM requests WHERE {' AND '.join(where)} GROUP BY key_id, {day}"
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
