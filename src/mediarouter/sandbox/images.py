"""Real, deterministic pictures for the emulators: the prompt drawn with Pillow, cached.

Every emulator answers with an image that can be decoded and checked: exactly the requested size
and format, coloured from a hash of the prompt, with the prompt and the size written on it, so a
test (or a person) can see which request produced which picture. Edits start from the caller's
first input image, so an edit visibly derives from what was sent.

Cost matters because the sandbox serves load tests: colours and shapes are drawn on a small canvas
and scaled up, PNG uses `compress_level=1`, and results are kept in an LRU keyed by every argument.
Rendering is thread-safe; `render_async`/`render_edit_async` run misses in a worker thread so the
event loop keeps serving.
"""

from __future__ import annotations

import asyncio
import hashlib
import io
import threading
from collections import OrderedDict
from collections.abc import Callable, Hashable, Sequence
from dataclasses import dataclass
from functools import lru_cache

from PIL import Image, ImageDraw, ImageFont, ImageOps, features

MIME_TYPES: dict[str, str] = {
    "png": "image/png",
    "jpeg": "image/jpeg",
    "webp": "image/webp",
    "gif": "image/gif",
    "avif": "image/avif",
}
SUPPORTED_FORMATS: tuple[str, ...] = ("png", "jpeg", "webp", "gif") + (
    ("avif",) if features.check("avif") else ()
)
ALPHA_FORMATS = frozenset({"png", "webp", "avif"})
SKETCH_SIDE = 128  # long side of the small canvas that colours and shapes are drawn on


class InvalidImageError(ValueError):
    """An input image Pillow cannot decode (the emulator answers with its provider's 400)."""


@dataclass(frozen=True)
class ImageInfo:
    format: str  # lower-case Pillow format name: png, jpeg, webp, gif, ...
    width: int
    height: int
    mode: str  # Pillow mode: RGB, RGBA, L, LA, P, ...


def mime_for(fmt: str) -> str:
    try:
        return MIME_TYPES[fmt]
    except KeyError:
        raise ValueError(f"unknown image format {fmt!r}") from None


def inspect_image(data: bytes) -> ImageInfo | None:
    """Format and size from the header alone; None when the bytes are not an image Pillow knows."""
    try:
        with Image.open(io.BytesIO(data)) as img:
            return ImageInfo((img.format or "").lower(), img.width, img.height, img.mode)
    except (OSError, SyntaxError, ValueError, Image.DecompressionBombError):
        return None


class ImageRenderer:
    def __init__(self, cache_size: int) -> None:
        self._cache_size = cache_size
        self._cache: OrderedDict[Hashable, bytes] = OrderedDict()
        self._lock = threading.Lock()

    def render(
        self,
        prompt: str,
        width: int,
        height: int,
        fmt: str,
        quality: int | None = None,
        *,
        variant: int = 0,
        transparent: bool = False,
    ) -> bytes:
        """A picture of `prompt`; `variant` tells the images of one `n > 1` request apart."""
        _check_output(width, height, fmt, transparent)
        key = ("render", prompt, width, height, fmt, quality, variant, transparent)
        return self._cached(
            key, lambda: _encode(_picture(prompt, width, height, variant, transparent), fmt, quality)
        )

    def render_edit(
        self,
        sources: Sequence[bytes],
        prompt: str,
        width: int,
        height: int,
        fmt: str,
        quality: int | None = None,
        *,
        mask: bytes | None = None,
        variant: int = 0,
        transparent: bool = False,
    ) -> bytes:
        """The first source fitted to the output size, repainted where `mask` is transparent (or tinted
        all over without a mask), the other sources as thumbnails, and the prompt written on it."""
        if not sources:
            raise InvalidImageError("an edit needs at least one source image")
        _check_output(width, height, fmt, transparent)
        digests = tuple(hashlib.sha256(s).digest() for s in sources)
        mask_digest = hashlib.sha256(mask).digest() if mask is not None else None
        key = ("edit", digests, mask_digest, prompt, width, height, fmt, quality, variant, transparent)

        def draw() -> bytes:
            image = _edited(sources, mask, prompt, width, height, variant, transparent)
            return _encode(image, fmt, quality)

        return self._cached(key, draw)

    async def render_async(self, *args: object, **kwargs: object) -> bytes:
        """`render` in a worker thread (Pillow releases the GIL while encoding)."""
        return await asyncio.to_thread(self.render, *args, **kwargs)  # type: ignore[arg-type]

    async def render_edit_async(self, *args: object, **kwargs: object) -> bytes:
        return await asyncio.to_thread(self.render_edit, *args, **kwargs)  # type: ignore[arg-type]

    def _cached(self, key: Hashable, produce: Callable[[], bytes]) -> bytes:
        with self._lock:
            hit = self._cache.get(key)
            if hit is not None:
                self._cache.move_to_end(key)
                return hit
        data = produce()
        if self._cache_size > 0:
            with self._lock:
                self._cache[key] = data
                while len(self._cache) > self._cache_size:
                    self._cache.popitem(last=False)
        return data


def _check_output(width: int, height: int, fmt: str, transparent: bool) -> None:
    if fmt not in SUPPORTED_FORMATS:
        raise ValueError(f"cannot write {fmt!r}; supported: {', '.join(SUPPORTED_FORMATS)}")
    if width < 1 or height < 1:
        raise ValueError(f"size must be positive, got {width}x{height}")
    if transparent and fmt not in ALPHA_FORMATS:
        raise ValueError(f"{fmt} has no alpha channel")


def _palette(prompt: str, variant: int) -> list[tuple[int, int, int]]:
    digest = hashlib.sha256(f"{variant}:{prompt}".encode()).digest()
    return [(digest[i], digest[i + 1], digest[i + 2]) for i in range(0, 30, 3)]


def _picture(prompt: str, width: int, height: int, variant: int, transparent: bool) -> Image.Image:
    image = _scenery(prompt, width, height, variant)
    _caption(image, prompt, f"{width}x{height}" + (f"  #{variant + 1}" if variant else ""))
    if transparent:
        image.putalpha(_subject_mask(width, height))
    return image


def _scenery(prompt: str, width: int, height: int, variant: int) -> Image.Image:
    """A gradient with a few shapes, drawn small and scaled up (cheap at any output size)."""
    colours = _palette(prompt, variant)
    scale = SKETCH_SIDE / max(width, height)
    sw, sh = max(2, round(width * scale)), max(2, round(height * scale))
    corners = Image.new("RGB", (2, 2))
    corners.putdata(colours[:4])
    sketch = corners.resize((sw, sh), Image.Resampling.BILINEAR)
    draw = ImageDraw.Draw(sketch)
    seeds = hashlib.sha256(f"shapes:{variant}:{prompt}".encode()).digest()
    for i in range(6):
        x, y = seeds[3 * i] * sw // 255, seeds[3 * i + 1] * sh // 255
        r = max(2, (4 + seeds[3 * i + 2] // 16) * min(sw, sh) // 100)  # 4% to 19% of the short side
        box = (x - r, y - r, x + r, y + r)
        if i % 2:
            draw.ellipse(box, fill=colours[4 + i % 6])
        else:
            draw.rectangle(box, fill=colours[4 + i % 6])
    return sketch.resize((width, height), Image.Resampling.BILINEAR)


def _subject_mask(width: int, height: int) -> Image.Image:
    """Opaque ellipse on a transparent background, for `background: transparent`."""
    mask = Image.new("L", (width, height), 0)
    ImageDraw.Draw(mask).ellipse((width // 10, height // 10, width * 9 // 10, height * 9 // 10), fill=255)
    return mask


@lru_cache(maxsize=32)
def _font(size: int) -> ImageFont.FreeTypeFont | ImageFont.ImageFont:
    return ImageFont.load_default(size=size) if features.check("freetype2") else ImageFont.load_default()


def _caption(image: Image.Image, prompt: str, label: str) -> None:
    """The prompt (wrapped, at most three lines) and a label on a dark band across the lower third."""
    width, height = image.size
    font = _font(max(8, min(width, height) // 24))
    draw = ImageDraw.Draw(image)
    line_height = int(draw.textbbox((0, 0), "Hg", font=font)[3] * 1.3) or 1
    margin = max(2, width // 40)
    lines = _wrap(draw, prompt or " ", font, width - 2 * margin) + [label]
    top = max(0, height - line_height * len(lines) - 2 * margin)
    draw.rectangle((0, top, width, height), fill=(20, 20, 28))
    for i, line in enumerate(lines):
        draw.text((margin, top + margin + i * line_height), line, fill=(245, 245, 245), font=font)


def _wrap(
    draw: ImageDraw.ImageDraw, text: str, font: ImageFont.FreeTypeFont | ImageFont.ImageFont, width: int
) -> list[str]:
    """Greedy word wrap, at most three lines, "..." when the text goes on."""
    lines: list[str] = []
    current = ""
    for word in text[:400].split():
        candidate = f"{current} {word}".strip()
        if current and draw.textlength(candidate, font=font) > width:
            lines.append(current)
            current = word
            if len(lines) == 3:
                break
        else:
            current = candidate
    else:
        if current:
            lines.append(current)
        return lines or [text]
    lines[-1] += " ..."
    return lines


def _decode(data: bytes, size: tuple[int, int]) -> Image.Image:
    try:
        img = Image.open(io.BytesIO(data))
        img.draft("RGB", size)  # JPEG: decode at a reduced scale when the output is smaller
        img.load()
        return img
    except (OSError, SyntaxError, ValueError, Image.DecompressionBombError) as exc:
        raise InvalidImageError(f"cannot decode the input image: {exc}") from None


def _edited(
    sources: Sequence[bytes],
    mask: bytes | None,
    prompt: str,
    width: int,
    height: int,
    variant: int,
    transparent: bool,
) -> Image.Image:
    size = (width, height)
    base = ImageOps.fit(_decode(sources[0], size).convert("RGB"), size, Image.Resampling.BILINEAR)
    paint = _scenery(prompt, width, height, variant)
    if mask is not None:
        alpha = _decode(mask, size).convert("RGBA").getchannel("A").resize(size, Image.Resampling.NEAREST)
        base.paste(paint, mask=ImageOps.invert(alpha))  # transparent mask pixels mark the area to edit
    else:
        base = Image.blend(base, paint, 0.35)
    thumb_side = max(1, min(width, height) // 6)
    for i, extra in enumerate(sources[1:]):
        thumb = ImageOps.fit(
            _decode(extra, (thumb_side, thumb_side)).convert("RGB"), (thumb_side, thumb_side)
        )
        x = width - (i + 1) * (thumb_side + 2)
        if x < 0:
            break
        base.paste(thumb, (x, 2))
    _caption(base, prompt, f"edit of {len(sources)} image(s)  {width}x{height}")
    if transparent:
        base.putalpha(_subject_mask(width, height))
    return base


def _encode(image: Image.Image, fmt: str, quality: int | None) -> bytes:
    out = io.BytesIO()
    if fmt == "png":
        image.save(out, "PNG", compress_level=1)
    elif fmt == "jpeg":
        image.convert("RGB").save(out, "JPEG", quality=75 if quality is None else quality)
    elif fmt == "webp":
        image.save(out, "WEBP", quality=80 if quality is None else quality, method=0)
    elif fmt == "avif":
        image.save(out, "AVIF", quality=75 if quality is None else quality, speed=10)
    else:
        image.convert("RGB").quantize(64, method=Image.Quantize.FASTOCTREE).save(out, "GIF")
    return out.getvalue()
