"""Runs one provider attempt: send, poll jobs with backoff, fetch image URLs, cancel on the way out.

Adapters stay pure; every sleep and every socket lives here and in `transport.py`. A job that
outlives the attempt deadline, or whose caller goes away, is cancelled upstream when the
adapter knows how (`adapter.cancel`).

Image URLs in an answer are downloaded only from the provider's configured base URL host, the
adapter's `media_hosts`, or the offering's own `media_hosts` option (custom providers' model
rows set it), each with its subdomains; any other host fails the attempt as malformed before a
byte is fetched. Downloads are bounded by `PollPolicy.fetch_s` and by the transport's body limit.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
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


def url_allowed(url: str, adapter: ImageAdapter, base_url: str, extra_hosts: Sequence[str] = ()) -> bool:
    """Image URLs are fetched only from the provider's own media hosts or its configured base URL host."""
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        return False
    host = parts.hostname.lower()
    if host == (urlsplit(base_url).hostname or "").lower():
        return True
    hosts = (*getattr(adapter, "media_hosts", ()), *extra_hosts)
    return any(host == h or host.endswith("." + h) for h in hosts)


async def run_attempt(
    adapter: ImageAdapter,
    call: Call,
    transport: Transport,
    deadline: float,
    policy: PollPolicy,
    job_deadline: float | None = None,
) -> ProviderOutput:
    """One attempt until `deadline`; once the provider has accepted a job (its first Poll), the job
    may run until `job_deadline` (a later one: jobs are slow by nature, a hung call is not)."""
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
            if not polled and job_deadline is not None:
                deadline = max(deadline, job_deadline)
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
    extra = tuple(call.offering.options.get("media_hosts", ()))
    for img in pending:
        assert img.url is not None
        if not url_allowed(img.url, adapter, call.base_url, extra):
            raise UpstreamError("malformed", _refusal(img.url, adapter, call, extra))
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


def _refusal(url: str, adapter: ImageAdapter, call: Call, extra: tuple[str, ...]) -> str:
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        return f"{adapter.slug} answered with an image link that is not an http(s) URL"
    base = urlsplit(call.base_url).hostname or ""
    allowed = ", ".join(dict.fromkeys((base, *getattr(adapter, "media_hosts", ()), *extra)))
    return (
        f"refusing to download an image from {parts.hostname}: not one of {adapter.slug}'s media hosts"
        f" ({allowed})"
    )


async def _cancel(adapter: ImageAdapter, call: Call, transport: Transport) -> None:
    request = adapter.cancel(call)
    if request is None:
        return
    try:
        await asyncio.shield(transport.send(adapter.slug, request, 5.0))
    except (UpstreamError, asyncio.CancelledError):
        pass
