"""Signed media URLs: `/v1/media/<name>?expires=<unix>&signature=<hmac>`; cannot be forged or extended."""

from __future__ import annotations

import hashlib
import hmac
import secrets
import time
from pathlib import Path


def load_or_create_key(configured: str | None, data_dir: Path) -> bytes:
    if configured:
        return configured.encode()
    path = data_dir / "media-signing.key"
    if path.exists():
        return path.read_bytes().strip()
    data_dir.mkdir(parents=True, exist_ok=True)
    key = secrets.token_hex(32).encode()
    path.write_bytes(key)
    path.chmod(0o600)
    return key


class Signer:
    def __init__(self, key: bytes) -> None:
        self.key = key

    def sign(self, name: str, expires: int) -> str:
        return hmac.new(self.key, f"{name}:{expires}".encode(), hashlib.sha256).hexdigest()[:32]

    def query(self, name: str, ttl_s: int) -> str:
        expires = int(time.time()) + ttl_s
        return f"expires={expires}&signature={self.sign(name, expires)}"

    def valid(self, name: str, expires: str, signature: str) -> bool:
        try:
            when = int(expires)
        except ValueError:
            return False
        if when < time.time():
            return False
        return hmac.compare_digest(self.sign(name, when), signature)
