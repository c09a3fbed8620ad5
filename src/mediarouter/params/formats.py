"""Image formats: sniff what bytes really are (never trust filenames or content types)."""

from __future__ import annotations

import base64
import binascii
import io

from PIL import Image, UnidentifiedImageError

OUTPUT_FORMATS = ("png", "jpeg", "webp", "gif", "avif")
MIME = {
    "png": "image/png",
    "jpeg": "image/jpeg",
    "webp": "image/webp",
    "gif": "image/gif",
    "avif": "image/avif",
}
_PIL_TO_FORMAT = {"PNG": "png", "JPEG": "jpeg", "WEBP": "webp", "GIF": "gif", "AVIF": "avif"}

# Headers are read without Pillow's bomb check so oversized inputs get a clear "too many pixels"
# error (api/uploads.py); the only decode, `convert`, checks the pixel count itself first.
Image.MAX_IMAGE_PIXELS = None
MAX_DECODE_PIXELS = 100_000_000


def sniff(data: bytes) -> tuple[str, int, int] | None:
    """(format, width, height) read from the header only; None when the bytes are no known image."""
    try:
        with Image.open(io.BytesIO(data)) as im:
            fmt = _PIL_TO_FORMAT.get(im.format or "")
            if fmt is None:
                return None
            return fmt, im.width, im.height
    except (UnidentifiedImageError, OSError, ValueError, Image.DecompressionBombError):
        return None


def sniff_b64(text: str) -> tuple[str, int, int] | None:
    """Sniff base64 image text, decoding only as much as the header needs when possible."""
    head = text[:1024]
    try:
        raw = base64.b64decode(head[: len(head) - len(head) % 4])
    except (binascii.Error, ValueError):
        return None
    found = sniff_header(raw)
    if found is not None:
        return found
    try:
        return sniff(base64.b64decode(text))
    except (binascii.Error, ValueError):
        return None


def sniff_header(raw: bytes) -> tuple[str, int, int] | None:
    """PNG, GIF and WebP sizes sit in the first bytes; others need the whole file."""
    if raw[:8] == b"\x89PNG\r\n\x1a\n" and len(raw) >= 24:
        return "png", int.from_bytes(raw[16:20], "big"), int.from_bytes(raw[20:24], "big")
    if raw[:6] in (b"GIF87a", b"GIF89a") and len(raw) >= 10:
        return "gif", int.from_bytes(raw[6:8], "little"), int.from_bytes(raw[8:10], "little")
    return None


def convert(data: bytes, fmt: str, compression: int | None = None) -> bytes:
    """Re-encode an image (CPU-bound: call it in a thread). Transparency is flattened for JPEG."""
    with Image.open(io.BytesIO(data)) as im:
        if im.width * im.height > MAX_DECODE_PIXELS:
            raise ValueError(f"refusing to decode a {im.width}x{im.height} image")
        im.load()
        if fmt == "jpeg" and im.mode not in ("RGB", "L"):
            im = im.convert("RGB")
        elif fmt == "gif" and im.mode not in ("P", "L"):
            im = im.convert("RGBA") if "A" in im.mode else im.convert("RGB")
        out = io.BytesIO()
        options: dict[str, object] = {}
        if fmt in ("jpeg", "webp", "avif"):
            options["quality"] = compression if compression is not None else 90
        im.save(out, format=fmt.upper(), **options)
        return out.getvalue()
