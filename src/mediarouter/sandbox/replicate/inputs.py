"""The models the emulator knows (the catalog's Replicate rows) and their input validation.

Each model takes its own `input`; the catalog row's options say which dialect (`size_style`,
`image_field`, `n_field`, `scale_field`), so a new model is a catalog row, not code here. What a
model would draw (size, format, count) is decided here from the input, as Replicate's model would.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import re
from dataclasses import dataclass
from typing import Any

from mediarouter.catalog.models import ModelSpec, Offering, load_catalog
from mediarouter.params.sizes import Requested, choose_size, nominal_pixels
from mediarouter.sandbox.images import ImageInfo, inspect_image
from mediarouter.sandbox.replicate.errors import invalid_input

ASPECT_RATIOS = ("1:1", "16:9", "21:9", "3:2", "2:3", "4:5", "5:4", "3:4", "4:3", "9:16", "9:21")
EXTRA_RATIOS = ("custom", "match_input_image")
OUTPUT_FORMATS = {"webp": "webp", "jpg": "jpeg", "png": "png"}  # Replicate's name -> the renderer's
IMAGE_FIELDS = ("image_input", "input_images", "input_image", "image")
MAX_SIDE = 4096  # custom and upscaled outputs stay within this many pixels per side
MAX_WAIT_S = 60
_WAIT = re.compile(r"^\s*wait\s*(?:=\s*(\d+))?\s*$", re.IGNORECASE)


@dataclass(frozen=True)
class ModelEntry:
    spec: ModelSpec
    offering: Offering
    version: str  # a stable 64-hex version id

    @property
    def id(self) -> str:
        return self.offering.model_id

    @property
    def is_upscaler(self) -> bool:
        return "scale_field" in self.offering.options

    @property
    def many_outputs(self) -> bool:
        """Models that draw several images answer a list of URLs, the others one URL."""
        return bool(self.offering.options.get("n_field"))


@dataclass(frozen=True)
class Job:
    """What one prediction will draw."""

    prompt: str
    sources: list[bytes]
    width: int
    height: int
    fmt: str  # png | jpeg | webp
    count: int


def load_models() -> dict[str, ModelEntry]:
    """The catalog's Replicate rows, by `owner/name`."""
    entries = {}
    for spec in load_catalog().models:
        for offering in spec.offerings:
            if offering.provider == "replicate":
                version = hashlib.sha256(offering.model_id.encode()).hexdigest()
                entries[offering.model_id] = ModelEntry(spec, offering, version)
    return entries


def parse_input(entry: ModelEntry, given: Any) -> Job:
    if not isinstance(given, dict):
        raise invalid_input("", "type", f"Invalid type. Expected: object, given: {_json_type(given)}")
    prompt = given.get("prompt")
    if not entry.is_upscaler and not (isinstance(prompt, str) and prompt.strip()):
        raise invalid_input("prompt", "required", "prompt is required")
    ratio = given.get("aspect_ratio")
    allowed = tuple(dict.fromkeys((*ASPECT_RATIOS, *entry.spec.aspect_ratios, *EXTRA_RATIOS)))
    if ratio is not None and ratio not in allowed:
        raise invalid_input(
            "aspect_ratio", "enum", f"aspect_ratio must be one of the following: {', '.join(allowed)}"
        )
    fmt = given.get("output_format", "png" if entry.is_upscaler else "webp")
    if fmt not in OUTPUT_FORMATS:
        raise invalid_input(
            "output_format", "enum", "output_format must be one of the following: webp, jpg, png"
        )
    n_field = entry.offering.options.get("n_field")
    count = given.get(n_field, 1) if n_field else 1
    if isinstance(count, bool) or not isinstance(count, int) or not 1 <= count <= max(4, entry.spec.max_n):
        raise invalid_input(str(n_field), "number", f"{n_field} must be between 1 and 4")
    sources, infos = _images(given)
    if entry.is_upscaler and not sources:
        raise invalid_input("image", "required", "image is required")
    width, height = _dimensions(entry, given, infos)
    return Job(str(prompt or ""), sources, width, height, OUTPUT_FORMATS[fmt], count)


def prefer_wait(header: str | None) -> int | None:
    """Seconds of `Prefer: wait[=N]` (1-60), or None when the client does not want to wait."""
    for part in (header or "").split(","):
        if match := _WAIT.match(part):
            return min(MAX_WAIT_S, max(1, int(match.group(1)))) if match.group(1) else MAX_WAIT_S
    return None


def _dimensions(entry: ModelEntry, given: dict[str, Any], infos: list[ImageInfo]) -> tuple[int, int]:
    """The pixels this model would draw for this input."""
    spec = entry.spec
    if entry.is_upscaler:
        scale = given.get(str(entry.offering.options["scale_field"]), 4)
        factor = float(scale) if isinstance(scale, int | float) and not isinstance(scale, bool) else 4.0
        return min(MAX_SIDE, round(infos[0].width * factor)), min(MAX_SIDE, round(infos[0].height * factor))
    if given.get("size") == "custom" or ("width" in given and "height" in given):
        return _side(given, "width"), _side(given, "height")
    ratio = given.get("aspect_ratio")
    if ratio == "match_input_image" and infos:
        return infos[0].width, infos[0].height
    if ratio in (None, "custom", "match_input_image"):
        default = spec.default_size or "1024x1024"
        return _dims(default if "x" in default else nominal_pixels(default, "1K"))
    pixel_sizes = tuple(s for s in spec.sizes if s != "auto")
    if pixel_sizes:  # the model's own size for that shape
        a, b = (float(x) for x in str(ratio).split(":"))
        return _dims(choose_size(Requested(ratio=a / b), pixel_sizes, spec.default_size) or "1024x1024")
    resolution = given.get("resolution") if given.get("resolution") in spec.resolutions else None
    return _dims(nominal_pixels(str(ratio), resolution or "1K"))


def _images(given: dict[str, Any]) -> tuple[list[bytes], list[ImageInfo]]:
    """Decoded data-URI inputs (URLs elsewhere cannot be fetched here, so they are not drawn from)."""
    sources: list[bytes] = []
    infos: list[ImageInfo] = []
    for name in IMAGE_FIELDS:
        value = given.get(name)
        for item in value if isinstance(value, list) else [value] if value is not None else []:
            if not isinstance(item, str):
                raise invalid_input(name, "format", f"{name} must be a URI")
            if not item.startswith("data:"):
                continue
            try:
                data = base64.b64decode(item.partition(",")[2], validate=True)
            except (binascii.Error, ValueError):
                raise invalid_input(name, "format", f"{name} is not a valid data URI") from None
            info = inspect_image(data)
            if info is None:
                raise invalid_input(name, "format", f"{name} is not an image this model can read")
            sources.append(data)
            infos.append(info)
    return sources, infos


def _side(given: dict[str, Any], name: str) -> int:
    value = given.get(name)
    if isinstance(value, bool) or not isinstance(value, int) or not 64 <= value <= MAX_SIDE:
        raise invalid_input(name, "number", f"{name} must be an integer between 64 and {MAX_SIDE}")
    return value


def _dims(size: str) -> tuple[int, int]:
    w, h = size.lower().split("x")
    return int(w), int(h)


def _json_type(value: Any) -> str:
    names = {dict: "object", list: "array", str: "string", bool: "boolean", type(None): "null"}
    return names.get(type(value), "number")
