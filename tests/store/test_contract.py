"""One contract for every database backend: SQLite and PostgreSQL behave the same."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Iterator
from datetime import UTC, datetime
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
        dbs = [open_database(db_url, Path(".")) for _ in range(6)]
        await asyncio.gather(*(d.open() for d in dbs))
        for d in dbs:
            assert await d.fetchone("SELECT COUNT(*) AS n FROM keys") is not None
            await d.close()

    asyncio.run(scenario())


def test_bad_database_url() -> None:
    with pytest.raises(ValueError, match="unsupported database_url"):
        open_database("mysql://x", Path("."))


def test_nul_characters_are_stored_and_queried_safely(db_url: str) -> None:
    """PostgreSQL refuses NUL in text: user input with one must neither fail nor differ by backend."""

    async def scenario() -> None:
        db = await _fresh(db_url)
        log = RequestLog(db, 0.01)
        log.start()
        now = time.time()
        await log.write(
            RequestRecord(
                "req_nul",
                now,
                "/v1/images/generations",
                "completed",
                200,
                key_id="k\x00",
                model="m\x00odel",
                user="bad\x00user",
                prompt="a\x00cat",
                error_message="\x00",
                params={"style": "\x00"},
            )
        )
        row = await log.get("req_nul")
        assert row is not None
        assert (row["user"], row["model"], row["prompt"], row["key_id"]) == (
            "bad\ufffduser",
            "m\ufffdodel",
            "a\ufffdcat",
            "k\ufffd",
        )
        assert row["params"] == {"style": "\x00"}  # JSON columns keep it, escaped
        assert await log.get("req_\x00") is None
        rows, _ = await log.list(RequestQuery(limit=5, starting_after="\x00", model="\x00"))
        assert rows == []
        keys = KeyStore(db, admin_key=None)
        record, _ = await keys.create("team\x00a", "user")
        assert (await keys.get(record.key_id)).name == "team\ufffda"  # type: ignore[union-attr]
        await log.close()
        await db.close()

    asyncio.run(scenario())


def test_a_row_the_database_refuses_never_holds_up_the_others(db_url: str) -> None:
    """One unstorable row (here an integer too large for the column) is dropped and counted; the
    rows batched with it, and every later row, are written."""

    async def scenario() -> None:
        db = await _fresh(db_url)
        dropped: list[int] = []
        log = RequestLog(db, 0.01, on_drop=lambda: dropped.append(1))
        now = time.time()
        for i in range(3):
            log.record(RequestRecord(f"req_ok{i}", now, "/v1/images/generations", "completed", 200))
        log.record(
            RequestRecord("req_bad", now, "/v1/images/generations", "completed", 200, image_count=2**70)
        )
        log.record(RequestRecord("req_ok3", now, "/v1/images/generations", "completed", 200))
        await log.flush()
        assert dropped == [1]
        rows, _ = await log.list(RequestQuery(limit=10))
        assert {r["id"] for r in rows} == {"req_ok0", "req_ok1", "req_ok2", "req_ok3"}
        log.start()
        await log.write(RequestRecord("req_later", now, "/v1/images/generations", "completed", 200))
        assert await log.get("req_later") is not None
        await log.close()
        await db.close()

    asyncio.run(scenario())


def test_usage_counts_each_utc_day_and_spent_since_sums_costs(db_url: str) -> None:
    async def scenario() -> None:
        db = await _fresh(db_url)
        log = RequestLog(db, 0.01)
        evening = datetime(2025, 3, 10, 18, 0, tzinfo=UTC).timestamp()  # rounds to 11 March
        rows = [
            ("req_u0", datetime(2025, 3, 10, 0, 0, 1, tzinfo=UTC).timestamp(), "k1", "completed", 0.25, 1),
            ("req_u1", evening, "k1", "completed", 0.5, 2),
            (
                "req_u2",
                datetime(2025, 3, 10, 23, 59, 59, tzinfo=UTC).timestamp(),
                "k1",
                "upstream_failure",
                0.0,
                0,
            ),
            ("req_u3", datetime(2025, 3, 11, 12, 0, tzinfo=UTC).timestamp(), "k1", "completed", 1.0, 1),
            ("req_u4", evening, "k2", "completed", 2.0, 4),
        ]
        for rid, at, key, status, cost, images in rows:
            log.record(
                RequestRecord(
                    rid, at, "/v1/images/generations", status, 200, key_id=key, cost=cost, image_count=images
                )
            )
        since = datetime(2025, 3, 1, tzinfo=UTC).timestamp()
        assert await log.usage("k1", since, None) == [
            {"key_id": "k1", "date": "2025-03-10", "requests": 3, "failed": 1, "images": 3, "cost": 0.75},
            {"key_id": "k1", "date": "2025-03-11", "requests": 1, "failed": 0, "images": 1, "cost": 1.0},
        ]
        every = await log.usage(None, since, datetime(2025, 3, 11, tzinfo=UTC).timestamp())
        assert [(u["key_id"], u["date"], u["cost"]) for u in every] == [
            ("k1", "2025-03-10", 0.75),
            ("k2", "2025-03-10", 2.0),
        ]
        assert await log.spent_since("k1", since) == 1.75
        assert await log.spent_since("k1", evening) == 1.5
        assert await log.spent_since("k3", since) == 0.0
        await log.close()
        await db.close()

    asyncio.run(scenario())


def test_model_filter_matches_the_resolved_model_and_the_name_as_typed(db_url: str) -> None:
    async def scenario() -> None:
        db = await _fresh(db_url)
        log = RequestLog(db, 0.01)
        now = time.time()
        typed = [
            ("dall-e-2", "dall-e-2"),
            ("openai/dall-e-2", "dall-e-2"),
            ("dalle-2", "dall-e-2"),
            ("chat-x", None),
        ]
        for i, (model, model_id) in enumerate(typed):
            await log.write(
                RequestRecord(
                    f"req_m{i}",
                    now,
                    "/v1/images/generations",
                    "completed",
                    200,
                    model=model,
                    model_id=model_id,
                )
            )
        rows, _ = await log.list(RequestQuery(limit=10, model="dalle-2", model_id="dall-e-2"))
        assert [(r["model"], r["model_id"]) for r in rows] == [(m, i) for m, i in reversed(typed[:3])]
        rows, _ = await log.list(RequestQuery(limit=10, model="chat-x"))  # names no catalog model
        assert [r["id"] for r in rows] == ["req_m3"]
        await log.close()
        await db.close()

    asyncio.run(scenario())


def test_provider_filter_matches_the_server_and_every_attempt(db_url: str) -> None:
    async def scenario() -> None:
        db = await _fresh(db_url)
        log = RequestLog(db, 0.01)
        now = time.time()
        rows = [  # (served by, attempts' providers)
            ("fal", ["fal"]),
            ("replicate", ["fal", "replicate"]),  # failed over from fal
            (None, ["my_host"]),  # a custom slug with an underscore, failed
            ("vertex", ["vertex"]),
        ]
        for i, (provider, tried) in enumerate(rows):
            attempts = [{"provider": p, "status": "failed" if p != provider else "success"} for p in tried]
            await log.write(
                RequestRecord(f"req_p{i}", now, "/v1/images/generations", "completed", 200,
                              provider=provider, attempts=attempts)
            )  # fmt: skip
        found = {}
        for slug in ("fal", "replicate", "my_host", "myxhost", "vertex", "openai"):
            listed, _ = await log.list(RequestQuery(limit=10, provider=slug))
            found[slug] = [r["id"] for r in listed]
        assert found == {
            "fal": ["req_p1", "req_p0"],
            "replicate": ["req_p1"],
            "my_host": ["req_p2"],
            "myxhost": [],  # `_` is not a LIKE wildcard here
            "vertex": ["req_p3"],
            "openai": [],
        }
        await log.close()
        await db.close()

    asyncio.run(scenario())


class _GatedDatabase:
    """A database whose batch writes wait for a gate: shows who waits for the commit."""

    def __init__(self, db: Database) -> None:
        self.db, self.gate = db, asyncio.Event()

    async def executemany(self, sql: str, rows: list[tuple[object, ...]]) -> None:
        await self.gate.wait()
        await self.db.executemany(sql, rows)

    def __getattr__(self, name: str) -> object:
        return getattr(self.db, name)


@pytest.mark.parametrize("commit_before_answer", [True, False])
def test_finish_waits_for_the_commit_only_when_asked(db_url: str, commit_before_answer: bool) -> None:
    async def scenario() -> None:
        db = await _fresh(db_url)
        gated = _GatedDatabase(db)
        log = RequestLog(gated, 0.05, commit_before_answer=commit_before_answer)  # type: ignore[arg-type]
        log.start()
        finish = asyncio.create_task(
            log.finish(RequestRecord("req_fin", time.time(), "/v1/x", "completed", 200))
        )
        await asyncio.sleep(0.05)
        assert finish.done() is not commit_before_answer  # the answer waits for the commit, or not
        assert await db.fetchone("SELECT id FROM requests WHERE id = ?", ("req_fin",)) is None
        gated.gate.set()
        await finish
        assert (await log.get("req_fin")) is not None  # this instance reads it at once either way
        await log.close()
        await db.close()

    asyncio.run(scenario())


def test_close_waits_for_a_batch_being_written(db_url: str) -> None:
    """A shutdown that comes while the writer is mid-batch must not cut that batch off."""

    async def scenario() -> None:
        db = await _fresh(db_url)
        gated = _GatedDatabase(db)
        log = RequestLog(gated, 0.05, commit_before_answer=False)  # type: ignore[arg-type]
        log.start()
        await log.finish(RequestRecord("req_mid", time.time(), "/v1/x", "completed", 200))
        await asyncio.sleep(0.05)  # the writer has taken the row and waits on the database
        closing = asyncio.create_task(log.close())
        await asyncio.sleep(0.05)
        gated.gate.set()
        await closing
        assert await db.fetchone("SELECT id FROM requests WHERE id = ?", ("req_mid",)) is not None
        await db.close()

    asyncio.run(scenario())
