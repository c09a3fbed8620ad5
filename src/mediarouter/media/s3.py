"""S3-compatible media store (AWS S3, MinIO, R2, moto...): objects under a prefix, proxied by the gateway.

Requests are signed with AWS Signature Version 4 and sent with aiohttp, path-style
(`{endpoint}/{bucket}/{key}`), so any S3-compatible server works without an SDK and without
blocking the event loop. The gateway keeps handing out its own signed, expiring URLs and proxies
the bytes, so every instance can serve what any instance stored.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import re
import secrets
import time
from datetime import UTC, datetime
from urllib.parse import quote, urlsplit
from xml.etree import ElementTree
from xml.sax.saxutils import escape

import aiohttp

_NAME = re.compile(r"^[a-f0-9]{32}\.(png|jpeg|webp|gif|avif)$")
_EMPTY_SHA = hashlib.sha256(b"").hexdigest()


class S3Error(Exception):
    pass


class S3MediaStore:
    def __init__(
        self,
        endpoint: str,
        bucket: str,
        access_key: str,
        secret_key: str,
        region: str = "us-east-1",
        prefix: str = "media/",
        timeout_s: float = 60.0,
    ) -> None:
        self.endpoint = endpoint.rstrip("/")
        self.bucket = bucket
        self.access_key = access_key
        self.secret_key = secret_key
        self.region = region
        self.prefix = prefix
        self.timeout_s = timeout_s
        self._session: aiohttp.ClientSession | None = None

    def _http(self) -> aiohttp.ClientSession:
        if self._session is None or self._session.closed:
            self._session = aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=self.timeout_s))
        return self._session

    async def close(self) -> None:
        if self._session is not None:
            await self._session.close()

    def _signed(
        self, method: str, key: str, query: str = "", payload_hash: str = _EMPTY_SHA
    ) -> tuple[str, dict[str, str]]:
        """URL and headers for one SigV4-signed request."""
        path = f"/{self.bucket}/{quote(key, safe='/')}" if key else f"/{self.bucket}"
        url = f"{self.endpoint}{path}" + (f"?{query}" if query else "")
        host = urlsplit(self.endpoint).netloc
        now = datetime.now(UTC)
        stamp, day = now.strftime("%Y%m%dT%H%M%SZ"), now.strftime("%Y%m%d")
        headers = {"host": host, "x-amz-content-sha256": payload_hash, "x-amz-date": stamp}
        signed = ";".join(sorted(headers))
        canonical = "\n".join(
            [
                method,
                urlsplit(url).path,
                query,
                *(f"{k}:{headers[k]}" for k in sorted(headers)),
                "",
                signed,
                payload_hash,
            ]
        )
        scope = f"{day}/{self.region}/s3/aws4_request"
        to_sign = "\n".join(
            ["AWS4-HMAC-SHA256", stamp, scope, hashlib.sha256(canonical.encode()).hexdigest()]
        )
        key_bytes = f"AWS4{self.secret_key}".encode()
        for part in (day, self.region, "s3", "aws4_request"):
            key_bytes = hmac.new(key_bytes, part.encode(), hashlib.sha256).digest()
        signature = hmac.new(key_bytes, to_sign.encode(), hashlib.sha256).hexdigest()
        headers["Authorization"] = (
            f"AWS4-HMAC-SHA256 Credential={self.access_key}/{scope}, SignedHeaders={signed}, Signature={signature}"
        )
        del headers["host"]
        return url, headers

    async def put(self, data: bytes, fmt: str) -> str:
        name = f"{secrets.token_hex(16)}.{fmt}"
        url, headers = self._signed("PUT", self.prefix + name, payload_hash=hashlib.sha256(data).hexdigest())
        headers["Content-Type"] = f"image/{fmt}"
        async with self._http().put(url, data=data, headers=headers) as resp:
            if resp.status != 200:
                raise S3Error(f"S3 PUT failed with HTTP {resp.status}")
        return name

    async def fetch(self, name: str) -> bytes | None:
        if not _NAME.match(name):
            return None
        url, headers = self._signed("GET", self.prefix + name)
        async with self._http().get(url, headers=headers) as resp:
            if resp.status == 404:
                return None
            if resp.status != 200:
                raise S3Error(f"S3 GET failed with HTTP {resp.status}")
            return await resp.read()

    async def prune(self, older_than_s: float) -> int:
        """Delete objects under the prefix older than the media TTL: every page of the listing
        (S3 returns at most 1,000 keys per page), each page's old objects in one batch delete."""
        cutoff = time.time() - older_than_s
        removed = 0
        token: str | None = None
        while True:
            query = f"list-type=2&prefix={quote(self.prefix, safe='')}"
            if token:  # SigV4 wants the query sorted: continuation-token < list-type
                query = f"continuation-token={quote(token, safe='')}&{query}"
            url, headers = self._signed("GET", "", query)
            async with self._http().get(url, headers=headers) as resp:
                if resp.status != 200:
                    raise S3Error(f"S3 list failed with HTTP {resp.status}")
                page = ElementTree.fromstring(await resp.read())
            old = [key for key, modified in _listed(page) if modified < cutoff]
            if old:
                removed += await self._delete(old)
            token = _child_text(page, "NextContinuationToken")
            if _child_text(page, "IsTruncated") != "true" or not token:
                return removed

    async def _delete(self, keys: list[str]) -> int:
        """One DeleteObjects call (up to 1,000 keys); returns how many were deleted."""
        objects = "".join(f"<Object><Key>{escape(k)}</Key></Object>" for k in keys)
        body = f"<Delete><Quiet>true</Quiet>{objects}</Delete>".encode()
        url, headers = self._signed("POST", "", "delete=", hashlib.sha256(body).hexdigest())
        headers["Content-MD5"] = base64.b64encode(hashlib.md5(body).digest()).decode()  # required by S3
        headers["Content-Type"] = "application/xml"
        async with self._http().post(url, data=body, headers=headers) as resp:
            if resp.status != 200:
                raise S3Error(f"S3 batch delete failed with HTTP {resp.status}")
            result = ElementTree.fromstring(await resp.read())
        failed = sum(1 for item in result.iter() if item.tag.endswith("Error"))
        return len(keys) - failed


def _child_text(tree: ElementTree.Element, name: str) -> str | None:
    """The text of a direct child, whatever namespace the server puts its XML in."""
    return next((c.text for c in tree if c.tag.endswith(name)), None)


def _listed(page: ElementTree.Element) -> list[tuple[str, float]]:
    """(key, last modified) of each object in one ListObjectsV2 page."""
    out = []
    for item in page:
        if not item.tag.endswith("Contents"):
            continue
        key, modified = _child_text(item, "Key"), _child_text(item, "LastModified")
        if key and modified:
            out.append((key, datetime.fromisoformat(modified.replace("Z", "+00:00")).timestamp()))
    return out
