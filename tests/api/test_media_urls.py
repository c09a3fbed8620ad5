"""Media URLs handed out under a configured `public_base_url`, cached no longer than they live, and
gone (link and file) once `media.url_ttl_s` has passed."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlsplit

import httpx
import pytest

from harness import Server, start_server

PUBLIC = "https://images.example.com/gw"


@pytest.fixture(scope="module")
def short_lived(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    env = {
        "MEDIAROUTER_PUBLIC_BASE_URL": PUBLIC + "/",
        "MEDIAROUTER_MEDIA_URL_TTL_S": "2",
        "MEDIAROUTER_MEDIA_PRUNE_INTERVAL_S": "0.2",
    }
    handle, server, thread = start_server(tmp_path_factory.mktemp("media"), env)
    yield handle
    server.should_exit = True
    thread.join(timeout=10)


def _local(url: str, gateway: Server) -> str:
    """The same path and query, asked of the test server (the public host is a proxy in production)."""
    parts = urlsplit(url)
    return f"{gateway.url}{parts.path.removeprefix('/gw')}?{parts.query}"


def _media_files(data_dir: Path) -> list[Path]:
    return [p for p in (data_dir / "media").rglob("*") if p.is_file()]


def test_urls_use_the_public_base_url_and_expire(short_lived: Server) -> None:
    with short_lived.client() as client:
        r = client.post(
            "/v1/images/generations", json={"model": "dall-e-2", "prompt": "a kite", "size": "256x256"}
        )
        assert r.status_code == 200, r.text
        url = r.json()["data"][0]["url"]
        assert url.startswith(f"{PUBLIC}/v1/media/"), url
        first = httpx.get(_local(url, short_lived))
        assert first.status_code == 200 and first.content[:8] == b"\x89PNG\r\n\x1a\n"
        max_age = int(first.headers["cache-control"].rsplit("=", 1)[1])
        assert 0 <= max_age <= 2  # a cache never keeps the image past its link
        assert _media_files(short_lived.data_dir)
        deadline = time.monotonic() + 6
        while time.monotonic() < deadline and _media_files(short_lived.data_dir):
            time.sleep(0.1)
        assert not _media_files(short_lived.data_dir)  # pruned on schedule
        gone = httpx.get(_local(url, short_lived))
        assert gone.status_code == 404 and gone.json()["error"]["message"].startswith("Media link")
