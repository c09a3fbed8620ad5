"""The endpoints the emulator knows (the catalog's fal rows) and their input validation.

An endpoint id is `{owner}/{app}[/{path}]`; each catalog row gives its `model_id` and, for edits,
its `edit_model_id`. What an endpoint would draw (size, format, count, sources) is decided here
from the input: `image_size` presets or `{width, height}`, `aspect_ratio` (+ `resolution`), or
the input image's size for edits and upscales.
"""

from __future__ import annotations

import base64
import binascii
from dataclasses import dataclass
from typing import Any

from mediarouter.catalog.models import ModelSpec, Offering, load_catalog
from mediarouter.params.sizes import Requested, choose_size, nominal_pixels
from mediarouter.sandbox.fal.errors import validation_error
from mediarouter.sandbox.images import ImageInfo, inspect_image

NAMESPACES = ("workflows", "comfy")  # `{namespace}/{owner}/{app}/...` endpoint ids
IMAGE_SIZES = {
    "square_hd": (1024, 1024),
    "square": (512, 512),
    "portrait_4_3": (768, 1024),
    "portrait_16_9": (576, 1024),
    "landscape_4_3": (1024, 768),
    "landscape_16_9": (1024, 576),
}
ASPECT_RATIOS = ("21:9", "16:9", "4:3", "3:2", "1:1", "2:3", "3:4", "9:16", "9:21", "auto")
OUTPUT_FORMATS = ("jpeg", "png", "webp")
IMAGE_FIELDS = ("image_urls", "image_url")
MAX_SIDE = 4096


@dataclass(frozen=True)
class Endpoint:
    id: str
    spec: ModelSpec
    offering: Offering
    edit: bool  # an edit endpoint: input images required

    @property
    def upscaler(self) -> bool:
        return "scale_field" in self.offering.options


@dataclass(frozen=True)
class Task:
    """What one request will draw."""

    prompt: str
    sources: list[bytes]
    width: int
    height: int
    fmt: str  # jpeg | png | webp
    count: int
    inline: bool  # `sync_mode`: data URIs instead of CDN URLs


def app_path(endpoint_id: str) -> str:
    """`fal-ai/flux/dev` -> `fal-ai/flux`: what the queue's job URLs are built on."""
    parts = endpoint_id.split("/")
    return "/".join(parts[:3] if parts[0] in NAMESPACES else parts[:2])


def load_endpoints() -> dict[str, Endpoint]:
    """The catalog's fal rows: each `model_id`, and each `edit_model_id` as an edit endpoint."""
    endpoints: dict[str, Endpoint] = {}
    for spec in load_catalog().models:
        for offering in spec.offerings:
            if offering.provider != "fal":
                continue
            edit_id = offering.options.get("edit_model_id")
            endpoints[offering.model_id] = Endpoint(
                offering.model_id, spec, offering, edit_id == offering.model_id
            )
            if edit_id:
                endpoints[str(edit_id)] = Endpoint(str(edit_id), spec, offering, True)
    return endpoints


def parse_input(endpoint: Endpoint, given: Any) -> Task:
    if not isinstance(given, dict):
        raise validation_error("body", "Input should be a valid dictionary", "dict_type", given)
    prompt = given.get("prompt")
    if not endpoint.upscaler and not (isinstance(prompt, str) and prompt.strip()):
        raise validation_error("prompt", "Field required", "missing", given)
    sources, infos = _images(given)
    if (endpoint.edit or endpoint.upscaler) and not any(given.get(name) for name in IMAGE_FIELDS):
        raise validation_error(
            "image_url" if endpoint.upscaler else "image_urls", "Field required", "missing", given
        )
    fmt = given.get("output_format", "png" if endpoint.upscaler else "jpeg")
    if fmt not in OUTPUT_FORMATS:
        raise validation_error("output_format", "Input should be 'jpeg', 'png' or 'webp'", "enum", fmt)
    count = given.get("num_images", 1)
    if isinstance(count, bool) or not isinstance(count, int) or not 1 <= count <= max(4, endpoint.spec.max_n):
        raise validation_error("num_images", "Input should be between 1 and 4", "less_than_equal", count)
    width, height = _dimensions(endpoint, given, infos)
    return Task(str(prompt or ""), sources, width, height, fmt, count, given.get("sync_mode") is True)


def _dimensions(endpoint: Endpoint, given: dict[str, Any], infos: list[ImageInfo]) -> tuple[int, int]:
    spec = endpoint.spec
    if endpoint.upscaler:
        scale = given.get(str(endpoint.offering.options["scale_field"]), 2)
        factor = float(scale) if isinstance(scale, int | float) and not isinstance(scale, bool) else 2.0
        base = infos[0] if infos else ImageInfo("png", 512, 512, False)  # a URL we cannot fetch
        return min(MAX_SIDE, round(base.width * factor)), min(MAX_SIDE, round(base.height * factor))
    size = given.get("image_size")
    if isinstance(size, str):
        if size not in IMAGE_SIZES:
            raise validation_error(
                "image_size", f"Input should be one of {', '.join(IMAGE_SIZES)}", "enum", size
            )
        return IMAGE_SIZES[size]
    if isinstance(size, dict):
        return _side(size, "width"), _side(size, "height")
    ratio = given.get("aspect_ratio")
    if ratio is not None and ratio not in (*ASPECT_RATIOS, *spec.aspect_ratios):
        raise validation_error(
            "aspect_ratio", f"Input should be one of {', '.join(ASPECT_RATIOS)}", "enum", ratio
        )
    if infos and ratio in (None, "auto"):
        return infos[0].width, infos[0].height
    if ratio in (None, "auto"):
        default = spec.default_size or "1024x1024"
        return _dims(default if "x" in default else nominal_pixels(default, "1K"))
    pixel_sizes = tuple(s for s in spec.sizes if s != "auto")
    if pixel_sizes:  # the model's own size for that shape
        a, b = (float(x) for x in str(ratio).split(":"))
        return _dims(choose_size(Requested(ratio=a / b), pixel_sizes, spec.default_size) or "1024x1024")
    resolution = given.get("resolution") if given.get("resolution") in spec.resolutions else None
    return _dims(nominal_pixels(str(ratio), resolution or "1K"))


def _images(given: dict[str, Any]) -> tuple[list[bytes], list[ImageInfo]]:
    """Decoded data-URI inputs; other URLs cannot be fetched here, so they are not drawn from."""
    sources: list[bytes] = []
    infos: list[ImageInfo] = []
    for name in IMAGE_FIELDS:
        value = given.get(name)
        for item in value if isinstance(value, list) else [value] if value is not None else []:
            if not isinstance(item, str):
                raise validation_error(name, "Input should be a valid string", "string_type", item)
            if not item.startswith("data:"):
                continue
            try:
                data = base64.b64decode(item.partition(",")[2], validate=True)
            except (binascii.Error, ValueError):
                raise validation_error(name, "Could not decode the data URI", "file_download_error") from None
            info = inspect_image(data)
            if info is None:
                raise validation_error(name, "Unsupported or corrupt image", "image_load_error")
            sources.append(data)
            infos.append(info)
    return sources, infos


def _side(size: dict[str, Any], name: str) -> int:
    value = size.get(name)
    if isinstance(value, bool) or not isinstance(value, int) or not 64 <= value <= MAX_SIDE:
        raise validation_error(
            f"image_size.{name}", f"Input should be between 64 and {MAX_SIDE}", "value_error", value
        )
    return value


def _dims(size: str) -> tuple[int, int]:
    w, h = size.lower().split("x")
    return int(w), int(h)
