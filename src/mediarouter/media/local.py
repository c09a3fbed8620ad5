"""Local-directory media store: generated images handed out as signed, expiring URLs.

File writes run in a thread so the event loop never waits on the disk. Names are random and
carry the extension, so serving needs no lookup table.
"""

from __future__ import annotations

import asyncio
import re
import secrets
import time
from pathlib import Path

_NAME = re.compile(r"^[a-f0-9]{32}\.(png|jpeg|webp|gif|avif)$")


class LocalMediaStore:
    def __init__(self, root: Path) -> None:
        self.root = root
        self.root.mkdir(parents=True, exist_ok=True)

    async def put(self, data: bytes, fmt: str) -> str:
        name = f"{secrets.token_hex(16)}.{fmt}"
        await asyncio.get_running_loop().run_in_executor(None, (self.root / name).write_bytes, data)
        return name

    def path(self, name: str) -> Path | None:
        if not _NAME.match(name):
            return None
        path = self.root / name
        return path if path.is_file() else None

    async def fetch(self, name: str) -> Path | bytes | None:
        """A path (served with sendfile) or None; S3 stores return bytes instead."""
        return self.path(name)

    async def close(self) -> None:
        return None

    def prune_sync(self, older_than_s: float) -> int:
        cutoff = time.time() - older_than_s
        removed = 0
        for path in self.root.iterdir():
            try:
                if path.stat().st_mtime < cutoff:
                    path.unlink()
                    removed += 1
            except FileNotFoundError:
                continue
        return removed

    async def prune(self, older_than_s: float) -> int:
        return await asyncio.get_running_loop().run_in_executor(None, self.prune_sync, older_than_s)
