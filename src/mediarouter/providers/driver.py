"""Runs one provider attempt: send, poll jobs with backoff, fetch image URLs, cancel on the way out.

Adapters stay pure; every sleep and every socket lives here and in `transport.py`. A job that
outlives the attempt deadline, or whose caller goes away, is cancelled upstream when the
adapter knows how (`adapter.cancel`).
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from urllib.parse import urlsplit

from mediarouter.providers.base import Call, Done, ImageAdapter, Poll, UpstreamError
from mediarouter.providers.transport import Transport, sleep_until
from mediarouter.schemas.images import ProviderOutput


@dataclass(frozen=True, slots=True)
class PollPolicy:
    first_s: float
    max_s: float
    fetch_s: float


def url_allowed(url: str, adapter: ImageAdapter, base_url: str) -> bool:
    """Image URLs are fetched only from the provider's own media hosts or its configured base URL host."""
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        return False
    host = parts.hostname.lower()
    if host == (urlsplit(base_url).hostname or "").lower():
        return True
    return any(host == h or host.endswith("." + h) for h in getattr(adapter, "media_hosts", ()))


async def run_attempt(
    adapter: ImageAdapter, call: Call, transport: Transport, deadline: float, policy: PollPolicy
) -> ProviderOutput:
    loop = asyncio.get_running_loop()
    call.time_left_s = deadline - loop.time()
    request = adapter.build(call)
    delay = policy.first_s
    polled = False
    try:
        while True:
            remaining = deadline - loop.time()
            if remaining <= 0:
                raise UpstreamError("timeout", "the attempt deadline passed")
            response = await transport.send(adapter.slug, request, remaining)
            result = adapter.parse(call, response)
            if isinstance(result, Done):
                output = result.output
                break
            assert isinstance(result, Poll)
            polled = True
            call.state.update(result.state)
            await sleep_until(deadline, result.after_s if result.after_s is not None else delay)
            delay = min(delay * 1.5, policy.max_s)
            request = result.request
    except (UpstreamError, asyncio.CancelledError):
        if polled:
            await _cancel(adapter, call, transport)
        raise
    await _fetch_urls(adapter, call, output, transport, deadline, policy)
    return output


async def _fetch_urls(
    adapter: ImageAdapter,
    call: Call,
    output: ProviderOutput,
    transport: Transport,
    deadline: float,
    policy: PollPolicy,
) -> None:
    pending = [img for img in output.images if img.b64 is None and img.data is None and img.url]
    if not pending:
        return
    for img in pending:
        assert img.url is not None
        if not url_allowed(img.url, adapter, call.base_url):
            raise UpstreamError("malformed", f"image URL host is not one of {adapter.slug}'s media hosts")
    loop = asyncio.get_running_loop()
    timeout = max(0.001, min(policy.fetch_s, deadline - loop.time()))
    base_host = (urlsplit(call.base_url).hostname or "").lower()
    results = await asyncio.gather(
        *(
            transport.fetch(
                adapter.slug, img.url or "", timeout, (urlsplit(img.url or "").hostname or "") == base_host
            )
            for img in pending
        )
    )
    for img, (data, content_type) in zip(pending, results, strict=True):
        img.data = data
        if content_type and content_type.startswith("image/"):
            img.mime = content_type.split(";")[0]


async def _cancel(adapter: ImageAdapter, call: Call, transport: Transport) -> None:
    request = adapter.cancel(call)
    if request is None:
        return
    try:
        await asyncio.shield(transport.send(adapter.slug, request, 5.0))
    except (UpstreamError, asyncio.CancelledError):
        pass
