"""Where generated images live when a URL is asked for: a local directory or an S3-compatible bucket."""

from __future__ import annotations

from pathlib import Path
from typing import Protocol


class MediaStore(Protocol):
    async def put(self, data: bytes, fmt: str) -> str: ...

    async def fetch(self, name: str) -> Path | bytes | None: ...

    async def prune(self, older_than_s: float) -> int: ...

    async def close(self) -> None: ...
