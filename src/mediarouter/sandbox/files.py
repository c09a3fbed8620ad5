"""The emulators' "CDN": images handed out by URL, downloadable until they expire.

Providers that answer with URLs (DALL·E, Replicate, fal, xAI, DashScope...) need somewhere to serve
them from. A shelf keeps, per file name, either the bytes or a recipe that renders them again (a
generation is a few arguments, re-rendered from the renderer's cache), so a load test that asks for
thousands of URLs holds arguments in memory rather than pictures. Every file lives `ttl_s` seconds,
then answers 404, like the real expiring links.
"""

from __future__ import annotations

import secrets
import time
from collections import OrderedDict
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response
from starlette.routing import Route

Recipe = Callable[[], Awaitable[bytes]]


@dataclass(frozen=True)
class ShelvedFile:
    expires_at: float  # time.monotonic() deadline
    content: bytes | Recipe
    mime: str


class FileShelf:
    def __init__(self, ttl_s: float, clock: Callable[[], float] = time.monotonic) -> None:
        self._ttl_s = ttl_s
        self._clock = clock
        self._files: OrderedDict[str, ShelvedFile] = OrderedDict()  # insertion order = expiry order

    def put(self, content: bytes | Recipe, mime: str, extension: str) -> str:
        """Keep a file; returns its name (unguessable, with `extension`) for `/files/{name}`."""
        self._prune()
        name = f"img-{secrets.token_urlsafe(18)}.{extension}"
        self._files[name] = ShelvedFile(self._clock() + self._ttl_s, content, mime)
        return name

    async def read(self, name: str) -> tuple[bytes, str] | None:
        """(bytes, mime) of a live file, None once it has expired or never existed."""
        self._prune()
        shelved = self._files.get(name)
        if shelved is None:
            return None
        content = shelved.content if isinstance(shelved.content, bytes) else await shelved.content()
        return content, shelved.mime

    def __len__(self) -> int:
        return len(self._files)

    def _prune(self) -> None:
        now = self._clock()
        while self._files:
            name, oldest = next(iter(self._files.items()))
            if oldest.expires_at > now:
                return
            del self._files[name]


def files_route(shelf: FileShelf) -> Route:
    """`GET /files/{name}`, served as a blob store would: the bytes, or a plain 404."""

    async def serve(request: Request) -> Response:
        found = await shelf.read(request.path_params["name"])
        if found is None:
            return PlainTextResponse("The file does not exist or its link has expired.", status_code=404)
        content, mime = found
        return Response(content, media_type=mime, headers={"cache-control": "private, max-age=60"})

    return Route("/files/{name}", serve, methods=["GET"])


def file_url(request: Request, name: str) -> str:
    """Absolute URL of a shelved file, for a request handled by the emulator that owns the shelf.

    Inside a mounted app, `root_path` is the mount prefix (`/sandbox/openai`, or deeper behind a
    proxy's root path) and the host is the one the client used, so the URL works from anywhere.
    """
    prefix = request.scope.get("root_path", "")
    return str(request.url.replace(path=f"{prefix}/files/{name}", query="", fragment=""))
