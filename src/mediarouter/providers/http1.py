"""A lean HTTP/1.1 client for the upstream calls on the hot path (`Transport.send`).

Why not aiohttp here: its client costs ~65-100 us of CPU per request on the benchmark machine and
this one ~10-15 us (bench/RESULTS.md, "The upstream client"); at 1,500 req/s on one core that is a
tenth of the gateway. It does what provider APIs need and no more: keep-alive connections pooled
per origin (at most `max_connections` open, callers queue beyond that), one request per connection
at a time, bodies delimited by Content-Length, chunked or the server's close, gzip and deflate
inflated and counted against the body limit as they arrive, TLS with the system's trust store. No
redirects, cookies or proxies: none belongs between a gateway and its providers. aiohttp still
serves streamed answers (server-sent events) and the SSRF-guarded downloads.
"""

from __future__ import annotations

import asyncio
import ssl
import zlib
from collections import deque
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from functools import lru_cache
from urllib.parse import quote, urlsplit

import httptools
from multidict import CIMultiDict, CIMultiDictProxy

from mediarouter.providers.base import UpstreamResponse

_DEFAULT_HEADERS = {
    "accept-encoding": b"Accept-Encoding: gzip, deflate\r\n",
    "user-agent": b"User-Agent: mediarouter\r\n",
}
_FRAMING = frozenset(("host", "content-length", "transfer-encoding", "connection"))  # ours to set
_WRITE_JOINED_BELOW = 64 * 1024  # smaller requests go out in one buffer, larger ones without a copy
_READ_INTO_BODY_FROM = 64 * 1024  # a declared body this large is read by the kernel straight into its buffer
_READ_BUFFER_BYTES = 256 * 1024
_PATH_SAFE = "/?&=%:@!$'()*+,;~#[]-._"


class ConnectFailed(Exception):
    """No connection could be made (refused, unreachable, DNS, TLS); the message says which."""


class Disconnected(Exception):
    """The server closed the connection before the answer was complete."""

    def __init__(self, before_response: bool) -> None:
        super().__init__("closed before a response" if before_response else "closed mid-response")
        self.before_response = before_response


class BodyTooLarge(Exception):
    def __init__(self, limit: int, declared: int | None = None) -> None:
        super().__init__(f"response of {declared} bytes" if declared else "response")
        self.limit = limit
        self.declared = declared


class BadResponse(Exception):
    """The bytes the server sent are not an HTTP/1.1 answer."""


@dataclass(frozen=True, slots=True)
class _Target:
    origin: tuple[str, str, int]  # scheme, host, port: what a pooled connection is good for
    head: bytes  # "METHOD" is prepended per request: b" /path?query HTTP/1.1\r\nHost: ...\r\n"


@lru_cache(maxsize=4096)
def _target(url: str) -> _Target:
    """Parsed once per URL: the providers' endpoints repeat, and a poll URL per job is cheap."""
    parts = urlsplit(url)
    scheme = parts.scheme.lower()
    host = parts.hostname
    if scheme not in ("http", "https") or not host:
        raise ValueError(f"not an http(s) URL: {url[:200]}")
    port = parts.port or (443 if scheme == "https" else 80)
    path = quote(parts.path or "/", safe=_PATH_SAFE)
    if parts.query:
        path += "?" + quote(parts.query, safe=_PATH_SAFE)
    netloc = parts.netloc.rpartition("@")[2]  # never send userinfo
    if not netloc.isascii():
        netloc = host.encode("idna").decode() + (f":{parts.port}" if parts.port else "")
    return _Target((scheme, host, port), f" {path} HTTP/1.1\r\nHost: {netloc}\r\n".encode())


def _header_lines(headers: Mapping[str, str]) -> bytes:
    """The caller's headers, then the defaults it did not set; framing headers are the client's."""
    lines = []
    defaults = dict(_DEFAULT_HEADERS)
    for name, value in headers.items():
        lower = name.lower()
        if lower in _FRAMING:
            continue
        defaults.pop(lower, None)
        line = f"{name}: {value}\r\n"
        if "\n" in line[:-2] or "\r" in line[:-2]:  # the value may be a secret: never echo it
            raise ValueError(f"header {name[:64]!r} holds a line break")
        lines.append(line)
    return "".join(lines).encode("latin-1", "strict") + b"".join(defaults.values())


class _Connection(asyncio.BufferedProtocol):
    """One keep-alive connection; `exchange()` sends a request and resolves with its answer.

    Reads land in the pool's shared buffer (the loop fills it and hands it over at once, so one
    per pool is enough) and go to httptools' parser from there. A large body with a declared length
    (a base64 image answer) is read instead by the kernel straight into a buffer of that size: no
    chunk objects, no join, one copy into the `bytes` the caller gets.
    """

    def __init__(self, pool: _Pool, origin: tuple[str, str, int]) -> None:
        self._pool = pool
        self.origin = origin
        self._parser = httptools.HttpResponseParser(self)
        self._transport: asyncio.Transport | None = None
        self._answer: asyncio.Future[UpstreamResponse] | None = None
        self.alive = True
        self.idle_since = 0.0
        self._reset(0)

    def _reset(self, limit: int) -> None:
        self._limit = limit
        self._headers: list[tuple[str, str]] = []
        self._chunks: list[bytes] = []
        self._size = 0
        self._inflater: zlib._Decompress | None = None
        self._got_headers = False
        self._status = 0
        self._close_delimited = False
        self._keep_alive = True
        self._direct: bytearray | None = None  # the declared body being read into, and how far
        self._filled = 0

    def exchange(self, data: Sequence[bytes], limit: int) -> asyncio.Future[UpstreamResponse]:
        assert self._transport is not None
        self._reset(limit)
        self._answer = asyncio.get_running_loop().create_future()
        if len(data) == 1:
            self._transport.write(data[0])
        else:
            self._transport.writelines(data)
        return self._answer

    def close(self) -> None:
        self.alive = False
        if self._transport is not None:
            self._transport.close()

    # asyncio.Protocol

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self._transport = transport  # type: ignore[assignment]  # uvloop's is not an asyncio.Transport subclass

    def get_buffer(self, sizehint: int) -> memoryview:
        if self._direct is not None:
            return memoryview(self._direct)[self._filled :]
        return self._pool.read_buffer

    def buffer_updated(self, nbytes: int) -> None:
        if self._answer is None or self._answer.done():
            self.close()  # bytes nobody asked for: this connection's framing cannot be trusted
            return
        if self._direct is not None:
            self._filled += nbytes
            if self._filled == len(self._direct):
                self._parser = httptools.HttpResponseParser(self)  # it still waits for the body we took
                self._complete(bytes(self._direct))
            return
        try:
            self._parser.feed_data(self._pool.read_buffer[:nbytes])
        except httptools.HttpParserError as exc:
            self._fail(BadResponse(str(exc) or type(exc).__name__))

    def connection_lost(self, exc: Exception | None) -> None:
        self.alive = False
        answer = self._answer
        if answer is not None and not answer.done():
            if self._close_delimited:
                self.on_message_complete()  # the body ran to the close, as the server said it would
            else:
                answer.set_exception(Disconnected(before_response=not self._got_headers))
        self._pool.lost(self)

    # httptools callbacks

    def on_header(self, name: bytes, value: bytes) -> None:
        self._headers.append((name.decode("latin-1"), value.decode("latin-1")))

    def on_headers_complete(self) -> None:
        if self._answer is None or self._answer.done():
            return
        self._got_headers = True
        status = self._status = self._parser.get_status_code()
        if status < 200:
            return  # an interim answer (100 Continue): the real one follows
        length: int | None = None
        chunked = False
        for name, value in self._headers:
            lower = name.lower()
            if lower == "content-length":
                length = int(value) if value.strip().isdigit() else None
            elif lower == "transfer-encoding":
                chunked = "chunked" in value.lower()
            elif lower == "content-encoding":
                encoding = value.strip().lower()
                if encoding in ("gzip", "x-gzip"):
                    self._inflater = zlib.decompressobj(16 + zlib.MAX_WBITS)
                elif encoding == "deflate":
                    self._inflater = zlib.decompressobj(zlib.MAX_WBITS)
        if length is not None and length > self._limit:
            self._fail(BodyTooLarge(self._limit, length))
            return
        self._keep_alive = self._parser.should_keep_alive()
        self._close_delimited = length is None and not chunked and status not in (204, 304)
        if length is not None and length >= _READ_INTO_BODY_FROM and self._inflater is None:
            self._direct = bytearray(length)  # on_body fills it from this read, get_buffer hands it out

    def on_body(self, body: bytes) -> None:
        if self._answer is None or self._answer.done():
            return
        if self._inflater is not None:
            try:  # never inflate more than the limit allows: a small bomb must not fill memory
                body = self._inflater.decompress(body, self._limit - self._size + 1)
            except zlib.error:
                self._fail(BadResponse("the compressed body is corrupt"))
                return
            if self._inflater.unconsumed_tail:
                self._fail(BodyTooLarge(self._limit))
                return
        if self._direct is not None:
            self._direct[self._filled : self._filled + len(body)] = body
            self._filled += len(body)
            return
        self._size += len(body)
        if self._size > self._limit:
            self._fail(BodyTooLarge(self._limit))
            return
        self._chunks.append(body)

    def on_message_complete(self) -> None:
        if self._parser.get_status_code() < 200 and not self._close_delimited:
            self._reset(self._limit)
            return
        answer = self._answer
        if answer is None or answer.done():
            return
        if self._inflater is not None:
            self.on_body(b"")  # anything the inflater still holds
            if answer.done():
                return
        self._close_delimited = False
        if self._direct is not None:
            body = bytes(self._direct)
        else:
            body = self._chunks[0] if len(self._chunks) == 1 else b"".join(self._chunks)
        self._complete(body)

    def _complete(self, body: bytes) -> None:
        answer = self._answer
        if answer is None or answer.done():
            return
        self._direct = None
        if not self._keep_alive:
            self.alive = False
        headers = CIMultiDictProxy(CIMultiDict(self._headers))
        answer.set_result(UpstreamResponse(self._status, headers, body))

    def _fail(self, exc: Exception) -> None:
        if self._answer is not None and not self._answer.done():
            self._answer.set_exception(exc)
        self.close()  # what else arrives is dropped (data_received sees the answer settled)


class _Pool:
    """Keep-alive connections of one provider: idle ones per origin, at most `limit` open."""

    def __init__(self, limit: int, connect_timeout_s: float, keepalive_s: float) -> None:
        self._limit = limit
        self._connect_timeout_s = connect_timeout_s
        self._keepalive_s = keepalive_s
        self._idle: dict[tuple[str, str, int], list[_Connection]] = {}
        self._open: set[_Connection] = set()
        self._waiters: deque[asyncio.Future[None]] = deque()
        self._ssl: ssl.SSLContext | None = None
        self.read_buffer = memoryview(bytearray(_READ_BUFFER_BYTES))

    async def acquire(self, origin: tuple[str, str, int], deadline: float) -> _Connection:
        loop = asyncio.get_running_loop()
        while True:
            idle = self._idle.get(origin)
            now = loop.time()
            while idle:
                if not idle[0].alive or idle[0].idle_since < now - self._keepalive_s:
                    idle.pop(0).close()  # the oldest first: a stale one is dropped, not tried
                    continue
                conn = idle.pop()
                if conn.alive:
                    return conn
            if self._limit <= 0 or len(self._open) < self._limit:
                return await self._connect(origin, deadline)
            waiter = loop.create_future()
            self._waiters.append(waiter)
            try:
                await asyncio.wait_for(waiter, max(0.0, deadline - now))
            finally:
                if waiter in self._waiters:
                    self._waiters.remove(waiter)

    async def _connect(self, origin: tuple[str, str, int], deadline: float) -> _Connection:
        scheme, host, port = origin
        loop = asyncio.get_running_loop()
        conn = _Connection(self, origin)
        self._open.add(conn)
        tls: ssl.SSLContext | None = None
        if scheme == "https":
            tls = self._ssl = self._ssl or ssl.create_default_context()
        timeout = max(0.001, min(self._connect_timeout_s, deadline - loop.time()))
        try:
            await asyncio.wait_for(
                loop.create_connection(
                    lambda: conn, host, port, ssl=tls, server_hostname=host if tls else None
                ),
                timeout,
            )
        except BaseException as exc:
            conn.close()  # a connection that completed as the wait gave up is not left open
            self.lost(conn)
            if isinstance(exc, ssl.SSLError):
                raise ConnectFailed(f"TLS handshake failed: {exc.reason or exc}") from None
            if isinstance(exc, OSError):
                raise ConnectFailed(exc.strerror or str(exc) or type(exc).__name__) from None
            raise
        return conn

    def release(self, conn: _Connection) -> None:
        if not conn.alive:
            conn.close()
            self.lost(conn)
            return
        conn.idle_since = asyncio.get_running_loop().time()
        self._idle.setdefault(conn.origin, []).append(conn)
        self._wake_one()

    def lost(self, conn: _Connection) -> None:
        if conn in self._open:
            self._open.discard(conn)
            idle = self._idle.get(conn.origin)
            if idle and conn in idle:
                idle.remove(conn)
            self._wake_one()

    def _wake_one(self) -> None:
        while self._waiters:
            waiter = self._waiters.popleft()
            if not waiter.done():
                waiter.set_result(None)
                return

    def close(self) -> None:
        for conn in list(self._open):
            conn.close()
        self._idle.clear()


class Client:
    """The pooled client one provider's requests go through."""

    def __init__(self, max_connections: int, connect_timeout_s: float, keepalive_s: float = 15.0) -> None:
        self._pool = _Pool(max_connections, connect_timeout_s, keepalive_s)

    async def request(
        self,
        method: str,
        url: str,
        headers: Mapping[str, str],
        body: Sequence[bytes],
        timeout_s: float,
        max_body_bytes: int,
    ) -> UpstreamResponse:
        """Send one request and read the whole answer; `body` is the payload in pieces (none for
        no body). Raises TimeoutError past `timeout_s`, else one of this module's exceptions."""
        target = _target(url)
        length = sum(len(piece) for piece in body)
        head = b"".join(
            (
                method.encode("ascii"),
                target.head,
                _header_lines(headers),
                b"Content-Length: %d\r\n\r\n" % length
                if length or method in ("POST", "PUT", "PATCH")
                else b"\r\n",
            )
        )
        data = [head + b"".join(body)] if length < _WRITE_JOINED_BELOW else [head, *body]
        loop = asyncio.get_running_loop()
        deadline = loop.time() + max(timeout_s, 0.001)
        conn = await self._pool.acquire(target.origin, deadline)
        answer = conn.exchange(data, max_body_bytes)
        timer = loop.call_at(deadline, _expire, answer, conn)
        try:
            response = await answer
        except BaseException:
            conn.close()  # mid-exchange (timeout, cancelled, broken): the connection cannot be reused
            self._pool.release(conn)
            raise
        finally:
            timer.cancel()
        self._pool.release(conn)
        return response

    def close(self) -> None:
        self._pool.close()


def _expire(answer: asyncio.Future[UpstreamResponse], conn: _Connection) -> None:
    if not answer.done():
        answer.set_exception(TimeoutError())
        conn.close()
