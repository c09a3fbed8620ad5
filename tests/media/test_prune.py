"""Expired media is deleted: the local directory, and an S3 bucket (moto's server) past one listing page."""

from __future__ import annotations

import asyncio
import os
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from mediarouter.media.local import LocalMediaStore
from mediarouter.media.s3 import S3MediaStore

from services import create_bucket, start_moto

PNG = b"\x89PNG\r\n\x1a\n" + bytes(8)


@pytest.fixture(scope="module")
def s3_url() -> Iterator[str]:
    url, proc = start_moto()
    yield url
    proc.kill()  # type: ignore[attr-defined]


def test_s3_prune_follows_every_listing_page(s3_url: str) -> None:
    """1,005 expired objects: more than the 1,000 keys of one ListObjectsV2 page and of one batch delete."""
    create_bucket(s3_url, "prune")

    async def scenario() -> None:
        store = S3MediaStore(s3_url, "prune", "test", "test")
        gate = asyncio.Semaphore(32)

        async def put() -> str:
            async with gate:
                return await store.put(PNG, "png")

        old = await asyncio.gather(*(put() for _ in range(1005)))
        await asyncio.sleep(2.1)  # moto's LastModified has whole seconds
        fresh = [await store.put(PNG, "png") for _ in range(3)]
        assert await store.prune(1.5) == 1005
        assert [await store.fetch(name) for name in old[::100]] == [None] * 11
        assert [await store.fetch(name) for name in fresh] == [PNG] * 3
        assert await store.prune(60) == 0
        await store.close()

    asyncio.run(scenario())


def test_local_prune_deletes_only_expired_files(tmp_path: Path) -> None:
    async def scenario() -> None:
        store = LocalMediaStore(tmp_path / "media")
        old = [await store.put(PNG, "png") for _ in range(3)]
        fresh = await store.put(PNG, "webp")
        hour_ago = time.time() - 3600
        for name in old:
            os.utime(tmp_path / "media" / name, (hour_ago, hour_ago))
        assert await store.prune(60) == 3
        assert [await store.fetch(name) for name in old] == [None] * 3
        assert await store.fetch(fresh) == tmp_path / "media" / fresh
        assert await store.prune(60) == 0

    asyncio.run(scenario())
