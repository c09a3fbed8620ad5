"""A fast mock of the OpenAI Images API: fixed delay, configurable image size, no framework.

One asyncio protocol on uvloop with httptools' parser, answers prebuilt per `n`: the point is
to cost next to nothing so that whatever sits between the load generator and this mock shows
up in the numbers. `python bench/mock_upstream.py --port 9100` then:

  POST .../images/generations | .../images/edits   -> after `delay_ms`, `n` images (body's `n`)
  POST /_config {"delay_ms": 100, "image_bytes": 1500000}   -> reconfigure at run time
  GET  /_stats                                     -> {"requests": ..., "config": {...}}
  anything else                                    -> 404

`--hang-port P` also listens on P and never answers (an upstream that times out).
"""

from __future__ import annotations

import argparse
import asyncio
import os
import struct
import sys
import time
import zlib
from base64 import b64encode

import httptools
import orjson
import uvloop

_NOT_FOUND = b'{"error":{"message":"not found","type":"invalid_request_error","code":"not_found"}}'


def fake_png(size: int, width: int = 1024, height: int = 1024) -> bytes:
    """A PNG signature and a valid IHDR (so gateways can sniff format and size), then noise."""
    ihdr = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    chunk = b"IHDR" + ihdr
    head = b"\x89PNG\r\n\x1a\n" + struct.pack(">I", 13) + chunk + struct.pack(">I", zlib.crc32(chunk))
    pad = max(0, size - len(head))
    return head + os.urandom(pad)  # random bytes: incompressible, like real image data


class Config:
    def __init__(self, delay_ms: float, image_bytes: int) -> None:
        self.bodies: dict[int, bytes] = {}
        self.set(delay_ms, image_bytes)

    def set(self, delay_ms: float, image_bytes: int) -> None:
        self.delay_ms = float(delay_ms)
        self.image_bytes = int(image_bytes)
        self.b64 = b64encode(fake_png(self.image_bytes)).decode()
        self.bodies = {}

    def response(self, n: int) -> bytes:
        n = max(1, min(int(n), 10))
        cached = self.bodies.get(n)
        if cached is None:
            body = orjson.dumps(
                {
                    "created": int(time.time()),
                    "background": "opaque",
                    "data": [{"b64_json": self.b64} for _ in range(n)],
                    "output_format": "png",
                    "quality": "low",
                    "size": "1024x1024",
                    "usage": {
                        "input_tokens": 12,
                        "input_tokens_details": {"image_tokens": 0, "text_tokens": 12},
                        "output_tokens": 272 * n,
                        "total_tokens": 12 + 272 * n,
                    },
                }
            )
            cached = self.bodies[n] = _head(200, len(body)) + body
        return cached


def _head(status: int, length: int, close: bool = False) -> bytes:
    reason = {200: "OK", 404: "Not Found", 400: "Bad Request"}.get(status, "OK")
    conn = b"Connection: close\r\n" if close else b""
    return (
        f"HTTP/1.1 {status} {reason}\r\nContent-Type: application/json\r\nContent-Length: {length}\r\n".encode()
        + conn
        + b"\r\n"
    )


class Stats:
    requests = 0
    open_connections = 0
    peak_connections = 0


class MockProtocol(asyncio.Protocol):
    def __init__(self, config: Config) -> None:
        self.config = config
        self.parser = httptools.HttpRequestParser(self)
        self.transport: asyncio.Transport | None = None
        self.url = b""
        self.body: list[bytes] = []
        self.loop = asyncio.get_running_loop()

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport  # type: ignore[assignment]
        Stats.open_connections += 1
        Stats.peak_connections = max(Stats.peak_connections, Stats.open_connections)

    def connection_lost(self, exc: Exception | None) -> None:
        Stats.open_connections -= 1
        self.transport = None

    def data_received(self, data: bytes) -> None:
        try:
            self.parser.feed_data(data)
        except httptools.HttpParserError:
            if self.transport is not None:
                self.transport.close()

    # httptools callbacks
    def on_message_begin(self) -> None:
        self.url = b""
        self.body = []

    def on_url(self, url: bytes) -> None:
        self.url += url

    def on_body(self, body: bytes) -> None:
        self.body.append(body)

    def on_message_complete(self) -> None:
        path = self.url.split(b"?", 1)[0]
        method = self.parser.get_method()
        keep = self.parser.should_keep_alive()
        if method == b"POST" and (path.endswith(b"/images/generations") or path.endswith(b"/images/edits")):
            Stats.requests += 1
            n = 1
            if path.endswith(b"/generations"):
                try:
                    n = int(orjson.loads(b"".join(self.body)).get("n") or 1)
                except (orjson.JSONDecodeError, AttributeError, TypeError, ValueError):
                    n = 1
            payload = self.config.response(n)
            delay = self.config.delay_ms / 1000
            if delay > 0:
                self.loop.call_later(delay, self._send, payload, keep)
            else:
                self._send(payload, keep)
        elif path == b"/_config" and method == b"POST":
            conf = orjson.loads(b"".join(self.body) or b"{}")
            self.config.set(
                conf.get("delay_ms", self.config.delay_ms), conf.get("image_bytes", self.config.image_bytes)
            )
            self._json(self._state(), keep)
        elif path == b"/_stats":
            self._json(self._state(), keep)
        else:
            self._send(_head(404, len(_NOT_FOUND)) + _NOT_FOUND, keep)

    def _state(self) -> dict[str, object]:
        return {
            "requests": Stats.requests,
            "open_connections": Stats.open_connections,
            "peak_connections": Stats.peak_connections,
            "config": {"delay_ms": self.config.delay_ms, "image_bytes": self.config.image_bytes},
        }

    def _json(self, obj: object, keep: bool) -> None:
        body = orjson.dumps(obj)
        self._send(_head(200, len(body)) + body, keep)

    def _send(self, payload: bytes, keep: bool) -> None:
        if self.transport is None or self.transport.is_closing():
            return
        self.transport.write(payload)
        if not keep:
            self.transport.close()


class HangProtocol(asyncio.Protocol):
    """Accepts, reads, never answers: an upstream that times out."""

    def data_received(self, data: bytes) -> None:
        pass


async def main(args: argparse.Namespace) -> None:
    loop = asyncio.get_running_loop()
    config = Config(args.delay_ms, args.image_bytes)
    server = await loop.create_server(
        lambda: MockProtocol(config), args.host, args.port, backlog=8192, reuse_address=True
    )
    if args.hang_port:
        await loop.create_server(HangProtocol, args.host, args.hang_port, backlog=8192, reuse_address=True)
    print(f"mock upstream on http://{args.host}:{args.port}", file=sys.stderr, flush=True)
    async with server:
        await server.serve_forever()


if __name__ == "__main__":
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--host", default="127.0.0.1")
    p.add_argument("--port", type=int, default=9100)
    p.add_argument("--hang-port", type=int, default=0)
    p.add_argument("--delay-ms", type=float, default=0.0)
    p.add_argument("--image-bytes", type=int, default=100)
    uvloop.run(main(p.parse_args()))
