"""One contract for every database backend: SQLite and PostgreSQL behave the same."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from mediarouter.store.database import Database, open_database
from mediarouter.store.keys import KeyStore
from mediarouter.store.request_log import RequestLog, RequestQuery, RequestRecord
from services import create_pg_database, drop_pg_database


@pytest.fixture(scope="module")
def pg_url() -> Iterator[str]:
    url = create_pg_database()
    yield url
    drop_pg_database(url)


@pytest.fixture(params=["sqlite", "postgres"])
def db_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'c.db'}"
    return str(request.getfixturevalue("pg_url"))


async def _fresh(url: str) -> Database:
    db = open_database(url, Path("."))
    await db.open()
    await db.execute("DELETE FROM requests")
    await db.execute("DELETE FROM keys")
    return db


def test_keys(db_url: str) -> None:
    async def scenario() -> None:
        db = await _fresh(db_url)
        keys = KeyStore(db, admin_key="boot")
        record, secret = await keys.create("app", "user", rpm=10)
        assert secret.startswith("mr_") and (await keys.verify(secret)) == record
        assert (await keys.verify("boot")).is_admin  # type: ignore[union-attr]
        assert await keys.verify(secret + "x") is None
        assert await keys.verify("mr_nope.nope") is None
        updated = await keys.update(record.key_id, budget_usd=5.0, budget_period="day", rpm=None)
        assert updated is not None and (updated.budget_usd, updated.budget_period, updated.rpm) == (
            5.0,
            "day",
            None,
        )
        assert await keys.count() == 1 and [k.key_id for k in await keys.list()] == [record.key_id]
        assert await keys.revoke(record.key_id) and not await keys.revoke(record.key_id)
        assert await keys.verify(secret) is None
        await db.close()

    asyncio.run(scenario())


def test_request_log(db_url: str) -> None:
    async def scenario() -> None:
        db = await _fresh(db_url)
        log = RequestLog(db, 0.01)
        log.start()
        now = time.time()
        for i in range(5):
            log.record(
                RequestRecord(
                    f"req_{i:03d}",
                    now - 100 + i,
                    "/v1/images/generations",
                    "completed" if i % 2 else "upstream_failure",
                    200 if i % 2 else 502,
                    key_id="k1" if i < 3 else "k2",
                    model="m",
                    user="u",
                    attempts=[{"provider": "x"}],
                    image_sizes=["1x1"],
                    cost=0.5,
                )
            )
        row = await log.get("req_004")
        assert (
            row is not None
            and row["user"] == "u"
            and row["attempts"] == [{"provider": "x"}]
            and row["cost"] == 0.5
        )
        rows, more = await log.list(RequestQuery(limit=2))
        assert [r["id"] for r in rows] == ["req_004", "req_003"] and more
        rows, more = await log.list(RequestQuery(limit=2, starting_after="req_003"))
        assert [r["id"] for r in rows] == ["req_002", "req_001"] and more
        rows, _ = await log.list(RequestQuery(limit=10, ending_before="req_001"))
        assert [r["id"] for r in rows][-1] == "req_002"
        rows, _ = await log.list(RequestQuery(limit=10, key_id="k2"))
        assert {r["id"] for r in rows} == {"req_003", "req_004"}
        rows, _ = await log.list(RequestQuery(limit=10, status="upstream_failure"))
        assert {r["id"] for r in rows} == {"req_000", "req_002", "req_004"}
        rows, _ = await log.list(RequestQuery(limit=10, created_after=now - 98))
        assert {r["id"] for r in rows} == {"req_002", "req_003", "req_004"}
        assert await log.prune(98.5) == 2
        await log.close()
        await db.close()

    asyncio.run(scenario())


def test_migrations_are_idempotent_and_concurrent(db_url: str) -> None:
    async def scenario() -> None:
        dbs = [open_database(db_url, Path(".")) for _ in range(3)]
        await asyncio.gather(*(d.open() for d in dbs))
        for d in dbs:
            assert await d.fetchone("SELECT COUNT(*) AS n FROM keys") is not None
            await d.close()

    asyncio.run(scenario())


def test_bad_database_url() -> None:
    with pytest.raises(ValueError, match="unsupported database_url"):
        open_database("mysql://x", Path("."))
