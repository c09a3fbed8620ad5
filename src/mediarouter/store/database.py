"""One data-access seam, two engines: SQLite (embedded default) and PostgreSQL (`database_url`).

Stores write portable SQL with `?` placeholders; the PostgreSQL backend numbers them (`$1`...).
Text values pass through `text_safe` on both engines: PostgreSQL refuses NUL in text and SQLite's
text functions stop at it, so a NUL becomes U+FFFD and every backend stores the same thing.
SQLite runs on one dedicated thread that owns the connection, so the event loop never blocks on
disk; PostgreSQL uses an asyncpg pool. Migrations are one numbered list, applied at open (or by
`mediarouter db upgrade`) inside a lock so several instances can start together.
"""

from __future__ import annotations

import asyncio
import re
import sqlite3
import sys
import time
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any, Protocol

MIGRATIONS: list[str] = [
    """
    CREATE TABLE IF NOT EXISTS keys (
        key_id TEXT PRIMARY KEY,
        name TEXT NOT NULL,
        role TEXT NOT NULL,
        secret_hash TEXT NOT NULL,
        created_at DOUBLE PRECISION NOT NULL,
        revoked_at DOUBLE PRECISION
    );
    CREATE TABLE IF NOT EXISTS requests (
        id TEXT PRIMARY KEY,
        created_at DOUBLE PRECISION NOT NULL,
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
        duration_ms DOUBLE PRECISION,
        overhead_ms DOUBLE PRECISION,
        cost DOUBLE PRECISION,
        image_count INTEGER,
        image_sizes TEXT,
        end_user TEXT,
        trace_id TEXT,
        request_size_bytes INTEGER,
        response_size_bytes INTEGER,
        prompt TEXT
    );
    CREATE INDEX IF NOT EXISTS requests_created ON requests (created_at);
    CREATE INDEX IF NOT EXISTS requests_key ON requests (key_id, id);
    """,
    """
    ALTER TABLE keys ADD COLUMN rpm INTEGER;
    ALTER TABLE keys ADD COLUMN max_concurrency INTEGER;
    ALTER TABLE keys ADD COLUMN budget_usd DOUBLE PRECISION;
    ALTER TABLE keys ADD COLUMN budget_period TEXT;
    """,
    """
    ALTER TABLE requests ADD COLUMN params TEXT;
    """,
    """
    ALTER TABLE requests ADD COLUMN model_id TEXT;
    """,
]

Row = dict[str, Any]


class Database(Protocol):
    """What stores need: statements with `?` placeholders, rows as dicts."""

    dialect: str

    async def open(self) -> None: ...

    async def close(self) -> None: ...

    async def execute(self, sql: str, args: Sequence[Any] = ()) -> int: ...

    async def executemany(self, sql: str, rows: Sequence[Sequence[Any]]) -> None: ...

    async def fetchall(self, sql: str, args: Sequence[Any] = ()) -> list[Row]: ...

    async def fetchone(self, sql: str, args: Sequence[Any] = ()) -> Row | None: ...


NUL_REPLACEMENT = "\ufffd"


def text_safe(args: Sequence[Any]) -> tuple[Any, ...]:
    """The values with every NUL in a string replaced (user input reaches every text column)."""
    return tuple(a.replace("\x00", NUL_REPLACEMENT) if type(a) is str and "\x00" in a else a for a in args)


def rejects_values(exc: BaseException) -> bool:
    """Whether a statement failed on the values it was given (retrying cannot help), rather than
    because the database is down or busy: such a row is dropped, the others are kept."""
    if isinstance(exc, (ValueError, TypeError, OverflowError)):  # binding (and asyncpg's client side)
        return True
    if isinstance(
        exc, (sqlite3.IntegrityError, sqlite3.DataError, sqlite3.InterfaceError, sqlite3.ProgrammingError)
    ):
        return True
    asyncpg = sys.modules.get("asyncpg")
    return asyncpg is not None and isinstance(
        exc, (asyncpg.DataError, asyncpg.IntegrityConstraintViolationError)
    )


def _statements(script: str) -> list[str]:
    return [s.strip() for s in script.split(";") if s.strip()]


class SQLiteDatabase:
    dialect = "sqlite"

    def __init__(self, path: Path, busy_timeout_s: float = 30.0) -> None:
        self.path = path
        self.busy_timeout_s = busy_timeout_s  # how long a write waits for another process's lock
        self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="mediarouter-db")
        self._conn: sqlite3.Connection | None = None

    async def _run(self, fn: Any, *args: Any) -> Any:
        return await asyncio.get_running_loop().run_in_executor(self._executor, fn, *args)

    def _open(self) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        conn = sqlite3.connect(
            self.path, check_same_thread=False, isolation_level=None, timeout=self.busy_timeout_s
        )
        conn.row_factory = sqlite3.Row
        self._enter_wal(conn)
        conn.execute("PRAGMA synchronous=NORMAL")
        conn.execute("BEGIN IMMEDIATE")
        try:
            conn.execute("CREATE TABLE IF NOT EXISTS schema_version (version INTEGER NOT NULL)")
            current = conn.execute("SELECT MAX(version) FROM schema_version").fetchone()[0] or 0
            for number, script in enumerate(MIGRATIONS, start=1):
                if number > current:
                    for statement in _statements(script):
                        conn.execute(statement)
                    conn.execute("INSERT INTO schema_version (version) VALUES (?)", (number,))
            conn.execute("COMMIT")
        except BaseException:
            conn.execute("ROLLBACK")
            raise
        self._conn = conn

    def _enter_wal(self, conn: sqlite3.Connection) -> None:
        """Switch to WAL, retrying while another process does the same: SQLite answers that race
        with SQLITE_BUSY at once, without its busy handler (runs in the executor thread)."""
        deadline = time.monotonic() + self.busy_timeout_s
        while True:
            try:
                conn.execute("PRAGMA journal_mode=WAL")
                return
            except sqlite3.OperationalError as exc:
                if "locked" not in str(exc) or time.monotonic() > deadline:
                    raise
                time.sleep(0.01)

    async def open(self) -> None:
        if self._conn is None:
            await self._run(self._open)

    async def close(self) -> None:
        if self._conn is not None:
            await self._run(self._conn.close)
            self._conn = None
        self._executor.shutdown(wait=True)

    def _conn_or_fail(self) -> sqlite3.Connection:
        assert self._conn is not None, "database is not open"
        return self._conn

    async def execute(self, sql: str, args: Sequence[Any] = ()) -> int:
        return int(await self._run(lambda: self._conn_or_fail().execute(sql, text_safe(args)).rowcount))

    async def executemany(self, sql: str, rows: Sequence[Sequence[Any]]) -> None:
        def write() -> None:
            conn = self._conn_or_fail()
            conn.execute("BEGIN")
            try:
                conn.executemany(sql, [text_safe(r) for r in rows])
                conn.execute("COMMIT")
            except BaseException:
                conn.execute("ROLLBACK")
                raise

        await self._run(write)

    async def fetchall(self, sql: str, args: Sequence[Any] = ()) -> list[Row]:
        return await self._run(lambda: [dict(r) for r in self._conn_or_fail().execute(sql, text_safe(args))])  # type: ignore[no-any-return]

    async def fetchone(self, sql: str, args: Sequence[Any] = ()) -> Row | None:
        row = await self._run(lambda: self._conn_or_fail().execute(sql, text_safe(args)).fetchone())
        return dict(row) if row is not None else None


_PLACEHOLDER = re.compile(r"\?")
_MIGRATION_LOCK = 7_413_551  # pg_advisory_lock key: one instance migrates at a time


def _numbered(sql: str) -> str:
    counter = iter(range(1, 10_000))
    return _PLACEHOLDER.sub(lambda _: f"${next(counter)}", sql)


class PostgresDatabase:
    dialect = "postgres"

    def __init__(self, url: str) -> None:
        self.url = url
        self._pool: Any = None

    async def open(self) -> None:
        if self._pool is not None:
            return
        import asyncpg

        self._pool = await asyncpg.create_pool(self.url, min_size=1, max_size=10)
        async with self._pool.acquire() as conn, conn.transaction():
            await conn.execute(f"SELECT pg_advisory_xact_lock({_MIGRATION_LOCK})")
            await conn.execute("CREATE TABLE IF NOT EXISTS schema_version (version INTEGER NOT NULL)")
            current = await conn.fetchval("SELECT MAX(version) FROM schema_version") or 0
            for number, script in enumerate(MIGRATIONS, start=1):
                if number > current:
                    for statement in _statements(script):
                        await conn.execute(statement)
                    await conn.execute("INSERT INTO schema_version (version) VALUES ($1)", number)

    async def close(self) -> None:
        if self._pool is not None:
            await self._pool.close()
            self._pool = None

    async def execute(self, sql: str, args: Sequence[Any] = ()) -> int:
        status = await self._pool.execute(_numbered(sql), *text_safe(args))
        tail = str(status).rsplit(" ", 1)[-1]
        return int(tail) if tail.isdigit() else 0

    async def executemany(self, sql: str, rows: Sequence[Sequence[Any]]) -> None:
        await self._pool.executemany(_numbered(sql), [text_safe(r) for r in rows])

    async def fetchall(self, sql: str, args: Sequence[Any] = ()) -> list[Row]:
        return [dict(r) for r in await self._pool.fetch(_numbered(sql), *text_safe(args))]

    async def fetchone(self, sql: str, args: Sequence[Any] = ()) -> Row | None:
        row = await self._pool.fetchrow(_numbered(sql), *text_safe(args))
        return dict(row) if row is not None else None


def open_database(url: str | None, data_dir: Path, busy_timeout_s: float = 30.0) -> Database:
    """`postgresql://...` -> PostgreSQL; `sqlite:///path` or nothing -> SQLite (default in data_dir)."""
    if url and url.startswith(("postgres://", "postgresql://")):
        return PostgresDatabase(url)
    if url and url.startswith("sqlite:///"):
        return SQLiteDatabase(Path(url[len("sqlite:///") :]), busy_timeout_s)
    if url:
        raise ValueError(
            f"unsupported database_url scheme: {url.split(':', 1)[0]} (use postgresql:// or sqlite:///)"
        )
    return SQLiteDatabase(data_dir / "mediarouter.db", busy_timeout_s)
