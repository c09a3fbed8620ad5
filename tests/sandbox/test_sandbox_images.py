from __future__ import annotations

import asyncio
import io

import pytest
from PIL import Image

from mediarouter.sandbox.images import (
    SUPPORTED_FORMATS,
    ImageRenderer,
    InvalidImageError,
    inspect_image,
    mime_for,
)

PIL_FORMATS = {"png": "PNG", "jpeg": "JPEG", "webp": "WEBP", "gif": "GIF", "avif": "AVIF"}


def decode(data: bytes) -> Image.Image:
    image = Image.open(io.BytesIO(data))
    image.load()
    return image


def solid_png(size: tuple[int, int], colour: tuple[int, ...], mode: str = "RGB") -> bytes:
    out = io.BytesIO()
    Image.new(mode, size, colour).save(out, "PNG")
    return out.getvalue()


@pytest.mark.parametrize("fmt", SUPPORTED_FORMATS)
def test_renders_exact_size_in_each_format(fmt: str) -> None:
    image = decode(ImageRenderer(0).render("a red bicycle", 320, 192, fmt))
    assert image.size == (320, 192)
    assert image.format == PIL_FORMATS[fmt]
    assert mime_for(fmt) == f"image/{fmt}"


def test_core_formats_are_always_supported() -> None:
    assert {"png", "jpeg", "webp", "gif"} <= set(SUPPORTED_FORMATS)
    with pytest.raises(ValueError):
        mime_for("bmp")


def test_is_deterministic_and_depends_on_every_argument() -> None:
    first, second = ImageRenderer(0), ImageRenderer(0)
    picture = first.render("a cat", 128, 128, "png")
    assert picture == second.render("a cat", 128, 128, "png")
    assert picture != first.render("a dog", 128, 128, "png")
    assert picture != first.render("a cat", 128, 128, "png", variant=1)


def test_cache_returns_the_same_bytes_and_evicts_the_oldest() -> None:
    renderer = ImageRenderer(1)
    picture = renderer.render("a cat", 64, 64, "png")
    assert renderer.render("a cat", 64, 64, "png") is picture
    renderer.render("a dog", 64, 64, "png")
    assert renderer.render("a cat", 64, 64, "png") is not picture


def test_quality_changes_lossy_output() -> None:
    renderer = ImageRenderer(0)
    low = renderer.render("a cat", 256, 256, "jpeg", 5)
    high = renderer.render("a cat", 256, 256, "jpeg", 95)
    assert len(low) < len(high)


def test_transparent_background_has_alpha_where_possible() -> None:
    renderer = ImageRenderer(0)
    image = decode(renderer.render("a logo", 100, 100, "png", transparent=True))
    assert image.mode == "RGBA"
    assert image.getpixel((0, 0))[3] == 0  # type: ignore[index]
    assert image.getpixel((50, 30))[3] == 255  # type: ignore[index]
    with pytest.raises(ValueError):
        renderer.render("a logo", 100, 100, "jpeg", transparent=True)


def test_rejects_unknown_format_and_empty_size() -> None:
    with pytest.raises(ValueError):
        ImageRenderer(0).render("x", 10, 10, "bmp")
    with pytest.raises(ValueError):
        ImageRenderer(0).render("x", 0, 10, "png")


def test_edit_keeps_the_source_outside_the_mask() -> None:
    red = solid_png((64, 64), (255, 0, 0))
    mask = Image.new("RGBA", (64, 64), (0, 0, 0, 255))
    mask.paste((0, 0, 0, 0), (0, 0, 32, 64))  # left half transparent: the area to edit
    out = io.BytesIO()
    mask.save(out, "PNG")
    edited = decode(ImageRenderer(0).render_edit([red], "a hat", 64, 64, "png", mask=out.getvalue()))
    assert edited.size == (64, 64)
    assert edited.getpixel((48, 8)) == (255, 0, 0)
    assert edited.getpixel((8, 8)) != (255, 0, 0)


def test_edit_fits_sources_to_the_output_size_and_uses_all_of_them() -> None:
    renderer = ImageRenderer(0)
    sources = [solid_png((300, 200), (0, 0, 255)), solid_png((50, 50), (0, 255, 0))]
    one = decode(renderer.render_edit(sources[:1], "sky", 256, 128, "webp"))
    two = decode(renderer.render_edit(sources, "sky", 256, 128, "webp"))
    assert one.size == two.size == (256, 128)
    assert one.tobytes() != two.tobytes()


def test_edit_rejects_bytes_that_are_not_an_image() -> None:
    with pytest.raises(InvalidImageError):
        ImageRenderer(0).render_edit([b"not an image"], "x", 64, 64, "png")
    with pytest.raises(InvalidImageError):
        ImageRenderer(0).render_edit([], "x", 64, 64, "png")


def test_inspect_reads_the_header() -> None:
    info = inspect_image(solid_png((30, 20), (1, 2, 3, 4), "RGBA"))
    assert info is not None
    assert (info.format, info.width, info.height, info.mode) == ("png", 30, 20, "RGBA")
    assert inspect_image(b"garbage") is None


def test_async_rendering_matches_sync() -> None:
    renderer = ImageRenderer(4)
    picture = asyncio.run(renderer.render_async("a cat", 64, 64, "png", variant=2))
    assert picture == renderer.render("a cat", 64, 64, "png", variant=2)
