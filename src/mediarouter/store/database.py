"""SQLite behind one worker thread: the event loop never blocks on disk.

All statements run on a single dedicated thread that owns the connection, so SQLite needs no
locking of its own and writes are serialised. Migrations are a numbered list applied at open.
"""

from __future__ import annotations

import asyncio
import sqlite3
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any, TypeVar

T = TypeVar("T")

MIGRATIONS: list[str] = [
    """
    CREATE TABLE IF NOT EXISTS keys (
        key_id TEXT PRIMARY KEY,
        name TEXT NOT NULL,
        role TEXT NOT NULL,
        secret_hash TEXT NOT NULL,
        created_at REAL NOT NULL,
        revoked_at REAL
    );
    CREATE TABLE IF NOT EXISTS requests (
        id TEXT PRIMARY KEY,
        created_at REAL NOT NULL,
        key_id TEXT,
        endpoint TEXT NOT NULL,
        model TEXT,
        executed_model TEXT,
        provider TEXT,
        status TEXT NOT NULL,
        http_status INTEGER NOT NULL,
        error_code TEXT,
        error_message TEXT,
        attempts TEXT,
        duration_ms REAL,
        overhead_ms REAL,
        cost REAL,
        image_count INTEGER,
        image_sizes TEXT,
        user TEXT,
        trace_id TEXT,
        request_size_bytes INTEGER,
        response_size_bytes INTEGER,
        prompt TEXT
    );
    CREATE INDEX IF NOT EXISTS requests_created ON requests (created_at);
    CREATE INDEX IF NOT EXISTS requests_key ON requests (key_id, id);
    """,
]


class Database:
    def __init__(self, path: Path) -> None:
        self.path = path
        self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="mediarouter-db")
        self._conn: sqlite3.Connection | None = None

    async def open(self) -> None:
        await self.run(self._open)

    def _open(self, _: Any = None) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        conn = sqlite3.connect(self.path, check_same_thread=False, isolation_level=None)
        conn.row_factory = sqlite3.Row
        conn.execute("PRAGMA journal_mode=WAL")
        conn.execute("PRAGMA synchronous=NORMAL")
        conn.execute("CREATE TABLE IF NOT EXISTS schema_version (version INTEGER NOT NULL)")
        row = conn.execute("SELECT MAX(version) FROM schema_version").fetchone()
        current = row[0] or 0
        for number, script in enumerate(MIGRATIONS, start=1):
            if number > current:
                conn.executescript(script)
                conn.execute("INSERT INTO schema_version (version) VALUES (?)", (number,))
        self._conn = conn

    async def run(self, fn: Callable[..., T], *args: Any) -> T:
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(self._executor, self._call, fn, args)

    def _call(self, fn: Callable[..., T], args: tuple[Any, ...]) -> T:
        if fn == self._open:
            return fn()
        assert self._conn is not None, "database is not open"
        return fn(self._conn, *args)

    def run_sync(self, fn: Callable[..., T], *args: Any) -> T:
        """For the CLI: run on the database thread and wait."""
        return self._executor.submit(self._call, fn, args).result()

    def open_sync(self) -> None:
        self._executor.submit(self._open).result()

    async def close(self) -> None:
        if self._conn is not None:
            await self.run(lambda conn: conn.close())
            self._conn = None
        self._executor.shutdown(wait=True)
