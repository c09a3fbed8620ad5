"""Small test images and decoding helpers shared by tests."""

from __future__ import annotations

import base64
import io

import httpx
from PIL import Image


def png(width: int = 64, height: int = 64, color: tuple[int, int, int, int] = (200, 30, 30, 255)) -> bytes:
    out = io.BytesIO()
    Image.new("RGBA", (width, height), color).save(out, format="PNG")
    return out.getvalue()


def mask_png(width: int = 64, height: int = 64) -> bytes:
    """Transparent left half (the area to edit), opaque right half."""
    im = Image.new("RGBA", (width, height), (0, 0, 0, 255))
    for x in range(width // 2):
        for y in range(height):
            im.putpixel((x, y), (0, 0, 0, 0))
    out = io.BytesIO()
    im.save(out, format="PNG")
    return out.getvalue()


def decode(item: object) -> Image.Image:
    """An image from an SDK `data[i]` item (b64_json or url)."""
    b64 = getattr(item, "b64_json", None) if not isinstance(item, dict) else item.get("b64_json")
    url = getattr(item, "url", None) if not isinstance(item, dict) else item.get("url")
    raw = base64.b64decode(b64) if b64 else httpx.get(url, timeout=10).raise_for_status().content  # type: ignore[arg-type]
    im = Image.open(io.BytesIO(raw))
    im.load()
    return im
