"""SSRF guard: URLs from callers (input images) or from providers (results) are fetched only over
http(s) and never to loopback, private, link-local, multicast or cloud-metadata addresses.

The check runs inside the HTTP client's DNS resolver, so it applies to every connection the
fetch makes, including each redirect hop, and to the address actually connected to (no window
for DNS rebinding between a check and the connect). Operator-configured hosts (provider base
URLs, the sandbox) are trusted and use the provider sessions instead.
"""

from __future__ import annotations

import ipaddress
import socket
from typing import Any
from urllib.parse import urlsplit

import aiohttp
from aiohttp.abc import AbstractResolver, ResolveResult
from yarl import URL

from mediarouter.errors import GatewayError

METADATA_HOSTS = frozenset({"metadata.google.internal", "metadata", "instance-data", "metadata.azure.com"})


class BlockedAddressError(aiohttp.ClientConnectorError):
    pass


def address_allowed(address: str) -> bool:
    ip = ipaddress.ip_address(address.split("%", 1)[0])
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    return not (
        ip.is_private
        or ip.is_loopback
        or ip.is_link_local
        or ip.is_multicast
        or ip.is_reserved
        or ip.is_unspecified
        or (isinstance(ip, ipaddress.IPv4Address) and ip in ipaddress.ip_network("100.64.0.0/10"))
    )


def check_url(url: str, param: str) -> None:
    """Reject what can be rejected before any DNS lookup: scheme, credentials, metadata names, IP literals."""
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise GatewayError("INVALID_REQUEST", f"'{param}' must be an http(s) URL or a data URI", param)
    host = parts.hostname.lower().rstrip(".")
    if parts.username or parts.password:
        raise GatewayError("INVALID_REQUEST", f"'{param}' must not carry credentials", param)
    if host in METADATA_HOSTS or host == "localhost" or host.endswith(".localhost"):
        raise GatewayError("INVALID_REQUEST", f"'{param}' points at a host that may not be fetched", param)
    try:
        literal = ipaddress.ip_address(host.strip("[]"))
    except ValueError:
        return
    if not address_allowed(str(literal)):
        raise GatewayError("INVALID_REQUEST", f"'{param}' points at a private or local address", param)


class SafeResolver(AbstractResolver):
    """Resolves like the default resolver, then drops every address that may not be reached."""

    def __init__(self) -> None:
        self._inner = aiohttp.ThreadedResolver()

    async def resolve(
        self, host: str, port: int = 0, family: socket.AddressFamily = socket.AF_INET
    ) -> list[ResolveResult]:
        if host.lower().rstrip(".") in METADATA_HOSTS:
            raise OSError(f"refusing to connect to {host}")
        results = [r for r in await self._inner.resolve(host, port, family) if address_allowed(r["host"])]
        if not results:
            raise OSError(f"refusing to connect to {host}: it resolves only to private or local addresses")
        return results

    async def close(self) -> None:
        await self._inner.close()


def safe_session(**kwargs: Any) -> aiohttp.ClientSession:
    connector = aiohttp.TCPConnector(resolver=SafeResolver(), limit=256, ttl_dns_cache=0)
    return aiohttp.ClientSession(connector=connector, **kwargs)


MAX_REDIRECTS = 5


async def fetch_untrusted(
    session: aiohttp.ClientSession, url: str, max_bytes: int, timeout_s: float, param: str = "url"
) -> tuple[bytes, str | None]:
    """GET a URL nobody vetted: every hop is checked (IP literals never reach the resolver)."""
    for _ in range(MAX_REDIRECTS + 1):
        check_url(url, param)
        try:
            async with session.get(
                url, allow_redirects=False, timeout=aiohttp.ClientTimeout(total=timeout_s)
            ) as resp:
                if resp.status in (301, 302, 303, 307, 308) and resp.headers.get("Location"):
                    url = str(resp.url.join(URL(resp.headers["Location"])))
                    continue
                if resp.status != 200:
                    raise GatewayError(
                        "INVALID_REQUEST", f"Fetching '{param}' failed with HTTP {resp.status}", param
                    )
                if resp.content_length is not None and resp.content_length > max_bytes:
                    raise GatewayError(
                        "PAYLOAD_TOO_LARGE", f"'{param}' is larger than {max_bytes} bytes", param
                    )
                chunks, total = [], 0
                async for chunk in resp.content.iter_any():
                    total += len(chunk)
                    if total > max_bytes:
                        raise GatewayError(
                            "PAYLOAD_TOO_LARGE", f"'{param}' is larger than {max_bytes} bytes", param
                        )
                    chunks.append(chunk)
                return b"".join(chunks), resp.headers.get("Content-Type")
        except TimeoutError:
            raise GatewayError("INVALID_REQUEST", f"Fetching '{param}' timed out", param) from None
        except aiohttp.ClientError as exc:
            raise GatewayError("INVALID_REQUEST", f"Fetching '{param}' failed: {exc}", param) from None
    raise GatewayError("INVALID_REQUEST", f"Fetching '{param}' followed too many redirects", param)


class UntrustedFetcher:
    """One guarded session for the whole gateway, opened on first use."""

    def __init__(self, max_bytes: int, timeout_s: float) -> None:
        self.max_bytes = max_bytes
        self.timeout_s = timeout_s
        self._session: aiohttp.ClientSession | None = None

    async def fetch(self, url: str, param: str) -> tuple[bytes, str | None]:
        if self._session is None or self._session.closed:
            self._session = safe_session(headers={"User-Agent": "mediarouter"})
        return await fetch_untrusted(self._session, url, self.max_bytes, self.timeout_s, param)

    async def close(self) -> None:
        if self._session is not None:
            await self._session.close()
