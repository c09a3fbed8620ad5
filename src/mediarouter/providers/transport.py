"""All upstream HTTP I/O: one aiohttp session (connection pool) per provider.

aiohttp's client is used over httpx because it costs 4-10x less CPU per request under load
(see bench/RESULTS.md and shared/reference/python-floor.md). Transport failures become
`UpstreamError("timeout" | "transport")`; bodies are bounded by `limits.max_upstream_bytes`.
"""

from __future__ import annotations

import asyncio
import socket

import aiohttp
import orjson

from mediarouter.providers.base import FormPart, UpstreamError, UpstreamRequest, UpstreamResponse


class Transport:
    def __init__(self, max_connections: int, connect_timeout_s: float, max_body_bytes: int) -> None:
        self._max_connections = max_connections
        self._connect_timeout_s = connect_timeout_s
        self._max_body_bytes = max_body_bytes
        self._sessions: dict[str, aiohttp.ClientSession] = {}

    def session(self, provider: str) -> aiohttp.ClientSession:
        session = self._sessions.get(provider)
        if session is None or session.closed:
            connector = aiohttp.TCPConnector(
                limit=self._max_connections, limit_per_host=0, ttl_dns_cache=300, family=socket.AF_UNSPEC
            )
            session = aiohttp.ClientSession(
                connector=connector,
                json_serialize=lambda o: orjson.dumps(o).decode(),
                auto_decompress=True,
                skip_auto_headers=("User-Agent",),
                headers={"User-Agent": "mediarouter"},
            )
            self._sessions[provider] = session
        return session

    async def close(self) -> None:
        for session in self._sessions.values():
            await session.close()
        self._sessions.clear()

    async def send(self, provider: str, request: UpstreamRequest, timeout_s: float) -> UpstreamResponse:
        headers = dict(request.headers)
        data: bytes | aiohttp.FormData | None = request.body
        if request.json is not None:
            data = orjson.dumps(request.json)
            headers.setdefault("Content-Type", "application/json")
        elif request.form is not None:
            data = _form(request.form)
        timeout = aiohttp.ClientTimeout(total=max(timeout_s, 0.001), sock_connect=self._connect_timeout_s)
        try:
            async with self.session(provider).request(
                request.method,
                request.url,
                data=data,
                headers=headers,
                timeout=timeout,
                allow_redirects=False,
            ) as resp:
                body = await self._read(resp)
                return UpstreamResponse(resp.status, resp.headers, body)
        except TimeoutError:
            raise UpstreamError("timeout", f"no answer within {timeout_s:.1f} s") from None
        except aiohttp.ClientConnectorError as exc:
            raise UpstreamError("transport", f"connection failed: {exc.os_error.strerror or exc}") from None
        except aiohttp.ServerDisconnectedError:
            raise UpstreamError("transport", "the connection was closed before a response arrived") from None
        except aiohttp.ClientPayloadError:
            raise UpstreamError(
                "transport", "the connection dropped while the response was being read"
            ) from None
        except aiohttp.ClientError as exc:
            raise UpstreamError("transport", f"{type(exc).__name__}: {exc}") from None

    async def fetch(self, provider: str, url: str, timeout_s: float) -> tuple[bytes, str | None]:
        """GET an image URL the provider returned; the caller has already checked the host."""
        response = await self.send(provider, UpstreamRequest("GET", url), timeout_s)
        if response.status != 200:
            failure = "transport" if response.status >= 500 else "malformed"
            raise UpstreamError(
                failure, f"downloading the image failed with HTTP {response.status}", response.status
            )
        return response.body, response.headers.get("Content-Type")

    async def _read(self, resp: aiohttp.ClientResponse) -> bytes:
        length = resp.content_length
        if length is not None and length > self._max_body_bytes:
            raise UpstreamError(
                "malformed", f"response of {length} bytes exceeds the limit of {self._max_body_bytes}"
            )
        if length is not None:
            return await resp.read()
        chunks: list[bytes] = []
        total = 0
        async for chunk in resp.content.iter_any():
            total += len(chunk)
            if total > self._max_body_bytes:
                raise UpstreamError(
                    "malformed", f"response exceeds the limit of {self._max_body_bytes} bytes"
                )
            chunks.append(chunk)
        return b"".join(chunks)


def _form(parts: list[FormPart]) -> aiohttp.FormData:
    form = aiohttp.FormData(quote_fields=False)
    for part in parts:
        if isinstance(part.value, bytes):
            form.add_field(
                part.name, part.value, filename=part.filename or part.name, content_type=part.content_type
            )
        else:
            form.add_field(part.name, part.value)
    return form


async def sleep_until(deadline: float, seconds: float) -> None:
    loop = asyncio.get_running_loop()
    await asyncio.sleep(max(0.0, min(seconds, deadline - loop.time())))
