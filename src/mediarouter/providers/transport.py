"""All upstream HTTP I/O: one connection pool per provider.

Whole request/answer exchanges (every image call, job polls, non-streamed chat) go through the
lean client in `http1.py`; streamed answers and the SSRF-guarded downloads through aiohttp, whose
client costs 4-10x less CPU than httpx's under load but still ~6x more than the lean one (see
bench/RESULTS.md). Transport failures become `UpstreamError("timeout" | "transport")`; bodies are
bounded by `limits.max_upstream_bytes`.
"""

from __future__ import annotations

import asyncio
import os
import socket
from collections.abc import AsyncIterator

import aiohttp
import orjson

from mediarouter.errors import GatewayError
from mediarouter.providers import http1
from mediarouter.providers.base import FormPart, UpstreamError, UpstreamRequest, UpstreamResponse
from mediarouter.security.ssrf import check_url, safe_session

_GUARDED = "_guarded"  # the session whose resolver refuses private and local addresses


class Transport:
    def __init__(self, max_connections: int, connect_timeout_s: float, max_body_bytes: int) -> None:
        self._max_connections = max_connections
        self._connect_timeout_s = connect_timeout_s
        self._max_body_bytes = max_body_bytes
        self._sessions: dict[str, aiohttp.ClientSession] = {}
        self._clients: dict[str, http1.Client] = {}

    def client(self, provider: str) -> http1.Client:
        client = self._clients.get(provider)
        if client is None:
            client = self._clients[provider] = http1.Client(self._max_connections, self._connect_timeout_s)
        return client

    def session(self, provider: str) -> aiohttp.ClientSession:
        session = self._sessions.get(provider)
        if provider == _GUARDED and (session is None or session.closed):
            session = self._sessions[provider] = safe_session(headers={"User-Agent": "mediarouter"})
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
        for client in self._clients.values():
            client.close()
        self._clients.clear()

    async def send(self, provider: str, request: UpstreamRequest, timeout_s: float) -> UpstreamResponse:
        if provider == _GUARDED:
            return await self._send_guarded(request, timeout_s)
        headers = request.headers
        body: list[bytes] = []
        if request.json is not None:
            body.append(orjson.dumps(request.json))
            if not any(name.lower() == "content-type" for name in headers):
                headers = {**headers, "Content-Type": "application/json"}
        elif request.form is not None:
            content_type, body = _multipart(request.form)
            headers = {name: v for name, v in headers.items() if name.lower() != "content-type"}
            headers["Content-Type"] = content_type
        elif request.body is not None:
            body.append(request.body)
        try:
            return await self.client(provider).request(
                request.method, request.url, headers, body, timeout_s, self._max_body_bytes
            )
        except TimeoutError:
            raise UpstreamError("timeout", f"no answer within {timeout_s:.1f} s") from None
        except http1.ConnectFailed as exc:
            raise UpstreamError("transport", f"connection failed: {exc}") from None
        except http1.Disconnected as exc:
            if exc.before_response:
                raise UpstreamError(
                    "transport", "the connection was closed before a response arrived"
                ) from None
            raise UpstreamError(
                "transport", "the connection dropped while the response was being read"
            ) from None
        except http1.BodyTooLarge as exc:
            if exc.declared is not None:
                raise UpstreamError(
                    "malformed", f"response of {exc.declared} bytes exceeds the limit of {exc.limit}"
                ) from None
            raise UpstreamError("malformed", f"response exceeds the limit of {exc.limit} bytes") from None
        except http1.BadResponse as exc:
            raise UpstreamError("transport", f"the answer is not valid HTTP/1.1: {exc}") from None
        except ValueError as exc:  # a URL or header the client cannot send
            raise UpstreamError("transport", f"cannot send the request: {exc}") from None

    async def _send_guarded(self, request: UpstreamRequest, timeout_s: float) -> UpstreamResponse:
        """A download from a host the provider named (through aiohttp: its resolver is the guard)."""
        if request.json is not None or request.form is not None:
            raise ValueError("the guarded session only downloads")
        timeout = aiohttp.ClientTimeout(total=max(timeout_s, 0.001), sock_connect=self._connect_timeout_s)
        try:
            async with self.session(_GUARDED).request(
                request.method,
                request.url,
                data=request.body,
                headers=request.headers,
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

    async def fetch(
        self, provider: str, url: str, timeout_s: float, trusted: bool = True
    ) -> tuple[bytes, str | None]:
        """GET an image URL the provider returned (the caller checked the host is the provider's).

        Untrusted hosts (a provider's CDN rather than its configured base URL) go through the SSRF
        guard: never to private, loopback, link-local or metadata addresses, whatever DNS says.
        """
        if trusted:
            response = await self.send(provider, UpstreamRequest("GET", url), timeout_s)
        else:
            try:
                check_url(url, "url")
            except GatewayError as exc:
                raise UpstreamError("malformed", f"refusing to download the image: {exc.message}") from None
            response = await self.send(_GUARDED, UpstreamRequest("GET", url), timeout_s)
        if response.status != 200:
            failure = "transport" if response.status >= 500 else "malformed"
            raise UpstreamError(
                failure, f"downloading the image failed with HTTP {response.status}", response.status
            )
        return response.body, response.headers.get("Content-Type")

    async def open_stream(self, provider: str, request: UpstreamRequest, idle_s: float) -> UpstreamStream:
        """Send `request` and return once the response headers are in, leaving the body to be read
        piece by piece (`UpstreamStream.chunks`), for relaying server-sent events as they arrive.

        `idle_s` bounds the wait for the headers and for each next piece of the body, not the whole
        stream, which may rightly run for minutes. The caller must `close()` the stream.
        """
        headers = dict(request.headers)
        data = orjson.dumps(request.json) if request.json is not None else request.body
        if request.json is not None:
            headers.setdefault("Content-Type", "application/json")
        timeout = aiohttp.ClientTimeout(
            total=None, sock_connect=self._connect_timeout_s, sock_read=max(idle_s, 0.001)
        )
        try:
            resp = await self.session(provider).request(
                request.method,
                request.url,
                data=data,
                headers=headers,
                timeout=timeout,
                allow_redirects=False,
            )
        except TimeoutError:
            raise UpstreamError("timeout", f"no answer within {idle_s:.1f} s") from None
        except aiohttp.ClientConnectorError as exc:
            raise UpstreamError("transport", f"connection failed: {exc.os_error.strerror or exc}") from None
        except aiohttp.ClientError as exc:
            raise UpstreamError("transport", f"{type(exc).__name__}: {exc}") from None
        return UpstreamStream(resp, idle_s, self)

    async def _read(self, resp: aiohttp.ClientResponse) -> bytes:
        """The body, counted as it is decompressed: Content-Length is the size on the wire, and a
        gzip or brotli answer a thousand times smaller than what it inflates to must not get past."""
        length = resp.content_length
        if length is not None and length > self._max_body_bytes:
            raise UpstreamError(
                "malformed", f"response of {length} bytes exceeds the limit of {self._max_body_bytes}"
            )
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


class UpstreamStream:
    """An upstream answer whose body is still arriving (see `Transport.open_stream`)."""

    def __init__(self, response: aiohttp.ClientResponse, idle_s: float, transport: Transport) -> None:
        self._response = response
        self._idle_s = idle_s
        self._transport = transport
        self.status = response.status
        self.headers = response.headers

    async def chunks(self) -> AsyncIterator[bytes]:
        """The body in the pieces the network delivers; a stall or a dropped connection raises UpstreamError."""
        try:
            async for chunk in self._response.content.iter_any():
                yield chunk
        except TimeoutError:
            raise UpstreamError("timeout", f"the stream stalled for {self._idle_s:.1f} s") from None
        except aiohttp.ClientError as exc:
            raise UpstreamError("transport", f"the stream broke off: {type(exc).__name__}") from None

    async def read(self) -> UpstreamResponse:
        """The whole (bounded) body at once, e.g. for an error answer."""
        try:
            body = await self._transport._read(self._response)
        except TimeoutError:
            raise UpstreamError("timeout", f"no body within {self._idle_s:.1f} s") from None
        except aiohttp.ClientError as exc:
            raise UpstreamError("transport", f"{type(exc).__name__}: {exc}") from None
        return UpstreamResponse(self.status, self.headers, body)

    def close(self) -> None:
        """Give the connection back to the pool when the body was read to the end, else drop it."""
        if self._response.content.at_eof():
            self._response.release()
        else:
            self._response.close()


def _multipart(parts: list[FormPart]) -> tuple[str, list[bytes]]:
    """multipart/form-data as pieces to write one after the other: file parts are not copied."""
    boundary = os.urandom(16).hex()
    pieces: list[bytes] = []
    for part in parts:
        disposition = f'--{boundary}\r\nContent-Disposition: form-data; name="{_quoted(part.name)}"'
        if isinstance(part.value, bytes):
            filename = _quoted(part.filename or part.name)
            content_type = part.content_type or "application/octet-stream"
            head = f'{disposition}; filename="{filename}"\r\nContent-Type: {_quoted(content_type)}\r\n\r\n'
            pieces += [head.encode(), part.value, b"\r\n"]
        else:
            pieces.append(f"{disposition}\r\n\r\n{part.value}\r\n".encode())
    pieces.append(f"--{boundary}--\r\n".encode())
    return f"multipart/form-data; boundary={boundary}", pieces


def _quoted(value: str) -> str:
    """A name inside a multipart header: quotes and line breaks escaped as browsers do."""
    return value.replace("\r", "%0D").replace("\n", "%0A").replace('"', "%22")


async def sleep_until(deadline: float, seconds: float) -> None:
    loop = asyncio.get_running_loop()
    await asyncio.sleep(max(0.0, min(seconds, deadline - loop.time())))
