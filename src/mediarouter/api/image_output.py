"""From provider output to the OpenAI-shaped `data[]`: convert formats, store URLs, keep base64 as is.

Base64 from a provider is passed through untouched when the caller wants `b64_json` in the
format it came in: no decode, no re-encode. Bytes are decoded once only when they must be
stored (URL output) or converted: a format the model cannot produce natively, or lossy output
when `output_compression` was asked and the provider could not apply it (`compression_applied`).
Compression asked for lossless output (PNG, GIF) is reported in `ignored`.
"""

from __future__ import annotations

import asyncio
import base64
from dataclasses import dataclass, field
from typing import Any

from mediarouter.media import MediaStore
from mediarouter.media.signing import Signer
from mediarouter.params.formats import convert, sniff, sniff_b64
from mediarouter.schemas.images import GeneratedImage, ImageRequest, ProviderOutput

LOSSY = frozenset({"jpeg", "webp", "avif"})  # the formats `output_compression` applies to


@dataclass
class Rendered:
    data: list[dict[str, Any]]
    size: str | None
    output_format: str | None
    sizes: list[str]
    converted: bool
    notes: dict[str, Any] = field(default_factory=dict)  # for `metadata`: what the gateway re-encoded
    ignored: list[str] = field(default_factory=list)  # asked but not applicable to the output


def _detect(img: GeneratedImage) -> tuple[str, int, int] | None:
    if img.b64 is not None:
        return sniff_b64(img.b64)
    if img.data is not None:
        return sniff(img.data)
    return None


def _encoding(fmt: str, wanted: str | None, compression: int | None, applied: bool) -> str | None:
    """The format the gateway must encode to; None when the provider's bytes are already right."""
    if wanted and wanted != fmt:
        return wanted
    if compression is not None and fmt in LOSSY and not applied:
        return fmt
    return None


async def render_images(
    request: ImageRequest,
    output: ProviderOutput,
    media: MediaStore,
    signer: Signer,
    media_base: str,
    url_ttl_s: int,
) -> Rendered:
    loop = asyncio.get_running_loop()
    wanted = request.output_format
    data: list[dict[str, Any]] = []
    sizes: list[str] = []
    compression = request.output_compression
    converted = encoded = False
    fmt_out: str | None = None
    for img in output.images:
        found = _detect(img)
        fmt = found[0] if found else (output.output_format or "png")
        if found:
            sizes.append(f"{found[1]}x{found[2]}")
        raw: bytes | None = img.data
        b64: str | None = img.b64
        target = _encoding(fmt, wanted, compression, output.compression_applied)
        if target is not None:
            raw = raw if raw is not None else base64.b64decode(b64 or "")
            raw = await loop.run_in_executor(None, convert, raw, target, compression)
            converted, encoded = converted or target != fmt, True
            b64, fmt = None, target
        fmt_out = fmt
        item: dict[str, Any] = {}
        if request.response_format == "b64_json":
            item["b64_json"] = b64 if b64 is not None else base64.b64encode(raw or b"").decode()
        else:
            raw = raw if raw is not None else base64.b64decode(b64 or "")
            name = await media.put(raw, fmt)
            item["url"] = f"{media_base}/v1/media/{name}?{signer.query(name, url_ttl_s)}"
        if img.revised_prompt:
            item["revised_prompt"] = img.revised_prompt
        data.append(item)
    size = output.size if output.size and output.size != "auto" else (sizes[0] if sizes else output.size)
    rendered = Rendered(data, size, fmt_out, sizes, converted)
    if encoded and compression is not None and fmt_out in LOSSY:
        rendered.notes["output_compression"] = {"value": compression, "applied_by": "gateway"}
    if compression is not None and fmt_out not in LOSSY:
        rendered.ignored.append("output_compression")  # lossless output has no quality setting
    return rendered
