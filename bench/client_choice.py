"""The upstream client, chosen by measurement: CPU per request of each candidate against the mock.

`python bench/client_choice.py` (main venv; `--client-cpu 0 --mock-cpu 1` pin them apart) starts
`bench/mock_upstream.py`, then sends the benchmark's generation body through each client, one
request at a time and 32 at once over a keep-alive pool, and prints a Markdown table of CPU
microseconds per request (the client process's utime + stime ÷ requests; best of 3 rounds).

Candidates: aiohttp's `ClientSession` configured as mediarouter's transport configured it before
providers/http1.py, that lean client alone, and mediarouter's `Transport.send` (the lean client
plus request building and error mapping: what the router pays). httpx is included when installed.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import resource
import sys
import tempfile
from collections.abc import Awaitable, Callable
from pathlib import Path

import orjson

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "src"))
sys.path.insert(0, str(ROOT))
from bench.gateways import free_port, start_mock  # noqa: E402
from mediarouter.providers import http1  # noqa: E402
from mediarouter.providers.base import UpstreamRequest  # noqa: E402
from mediarouter.providers.transport import Transport  # noqa: E402

BODY = {"model": "gpt-image-1-mini", "prompt": "a lighthouse at dusk", "n": 1, "size": "1024x1024"}
HEADERS = {"Authorization": "Bearer sk-bench", "Content-Type": "application/json"}

Send = Callable[[], Awaitable[int]]


def _cpu_s() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


async def _per_request_us(send: Send, concurrency: int, requests: int) -> float:
    async def worker(count: int) -> None:
        for _ in range(count):
            assert await send() == 200

    await asyncio.gather(*[worker(50) for _ in range(concurrency)])  # warm the pool
    best = float("inf")
    for _ in range(3):
        start = _cpu_s()
        await asyncio.gather(*[worker(requests // concurrency) for _ in range(concurrency)])
        best = min(best, (_cpu_s() - start) / requests * 1e6)
    return best


async def _candidates(url: str) -> dict[str, tuple[Send, Callable[[], Awaitable[None]]]]:
    import aiohttp

    body = orjson.dumps(BODY)
    session = aiohttp.ClientSession(
        connector=aiohttp.TCPConnector(limit=4096, limit_per_host=0, ttl_dns_cache=300),
        skip_auto_headers=("User-Agent",),
        headers={"User-Agent": "mediarouter"},
    )

    async def via_aiohttp() -> int:
        timeout = aiohttp.ClientTimeout(total=30, sock_connect=10)
        async with session.request("POST", url, data=body, headers=HEADERS, timeout=timeout) as resp:
            await resp.read()
            return resp.status

    client = http1.Client(4096, 10)

    async def via_http1() -> int:
        return (await client.request("POST", url, HEADERS, [body], 30, 1 << 26)).status

    transport = Transport(4096, 10, 1 << 26)
    request = UpstreamRequest("POST", url, {"Authorization": "Bearer sk-bench"}, json=BODY)

    async def via_transport() -> int:
        return (await transport.send("openai", request, 30)).status

    async def close_client() -> None:
        client.close()

    found: dict[str, tuple[Send, Callable[[], Awaitable[None]]]] = {
        "aiohttp ClientSession (the transport before http1.py)": (via_aiohttp, session.close),
        "http1.Client (the lean client alone)": (via_http1, close_client),
        "Transport.send (what the router calls)": (via_transport, transport.close),
    }
    try:
        import httpx
    except ImportError:
        return found
    limits = httpx.Limits(max_connections=4096, max_keepalive_connections=4096)
    httpx_client = httpx.AsyncClient(limits=limits, timeout=30)

    async def via_httpx() -> int:
        return (await httpx_client.post(url, content=body, headers=HEADERS)).status_code

    found["httpx AsyncClient (what the openai SDK uses)"] = (via_httpx, httpx_client.aclose)
    return found


async def _measure(url: str, requests: int) -> list[tuple[str, float, float]]:
    rows = []
    for name, (send, close) in (await _candidates(url)).items():
        sequential = await _per_request_us(send, 1, requests)
        concurrent = await _per_request_us(send, 32, requests)
        rows.append((name, sequential, concurrent))
        await close()
    return rows


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--requests", type=int, default=6000)
    p.add_argument("--client-cpu", default="0")
    p.add_argument("--mock-cpu", default="1")
    args = p.parse_args()
    with tempfile.TemporaryDirectory() as out:
        port = free_port()
        mock = start_mock(Path(out), port, free_port(), args.mock_cpu)
        try:
            os.sched_setaffinity(0, {int(args.client_cpu)})
            import uvloop

            url = f"http://127.0.0.1:{port}/v1/images/generations"
            rows = uvloop.run(_measure(url, args.requests))
        finally:
            mock.stop()
    print("| upstream client | CPU µs/request, one at a time | CPU µs/request, 32 at once |")
    print("|---|---:|---:|")
    for name, sequential, concurrent in rows:
        print(f"| {name} | {sequential:.1f} | {concurrent:.1f} |")


if __name__ == "__main__":
    main()
