"""The real PostgreSQL and Redis servers on this machine; tests fail (never skip) when they are down."""

from __future__ import annotations

import asyncio
import os
import secrets

PG_ADMIN_URL = os.environ.get("MEDIAROUTER_TEST_PG", "postgresql://postgres@127.0.0.1:5432/test")
REDIS_URL = os.environ.get("MEDIAROUTER_TEST_REDIS", "redis://127.0.0.1:6379")


def create_pg_database() -> str:
    """A fresh database for one test session (parallel-safe); returns its URL."""
    import asyncpg

    name = f"mr_test_{secrets.token_hex(6)}"

    async def create() -> None:
        conn = await asyncpg.connect(PG_ADMIN_URL, timeout=10)
        try:
            await conn.execute(f'CREATE DATABASE "{name}"')
        finally:
            await conn.close()

    asyncio.run(create())
    return PG_ADMIN_URL.rsplit("/", 1)[0] + f"/{name}"


def drop_pg_database(url: str) -> None:
    import asyncpg

    name = url.rsplit("/", 1)[1]

    async def drop() -> None:
        conn = await asyncpg.connect(PG_ADMIN_URL, timeout=10)
        try:
            await conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        finally:
            await conn.close()

    asyncio.run(drop())


def redis_url() -> str:
    """A Redis database index unlikely to be shared, plus a random key prefix is used by tests."""
    return f"{REDIS_URL}/{secrets.randbelow(14) + 1}"


def start_moto() -> tuple[str, object]:
    """A local S3-compatible server (moto) on a free port; returns its URL and the process."""
    import socket
    import subprocess
    import sys
    import time
    from pathlib import Path

    import httpx

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    server = Path(sys.executable).parent / "moto_server"
    proc = subprocess.Popen(
        [str(server), "-H", "127.0.0.1", "-p", str(port)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 30
    while True:
        try:
            httpx.get(url, timeout=1)
            return url, proc
        except httpx.HTTPError:
            if time.monotonic() > deadline or proc.poll() is not None:
                proc.kill()
                raise RuntimeError("moto_server did not start") from None
            time.sleep(0.1)


def create_bucket(endpoint: str, bucket: str) -> None:
    from mediarouter.media.s3 import S3MediaStore

    store = S3MediaStore(endpoint, bucket, "test", "test")
    url, headers = store._signed("PUT", "")
    import httpx

    httpx.put(url, headers=headers).raise_for_status()
