"""What each DashScope model accepts, and the readers that check a request against it the way
DashScope does (its own error codes and messages)."""

from __future__ import annotations

import base64
import binascii
import re
from dataclasses import dataclass
from typing import Any

import orjson
from starlette.requests import Request

from mediarouter.sandbox.alibaba.errors import DashScopeError
from mediarouter.sandbox.files import FileShelf
from mediarouter.sandbox.images import ImageInfo, inspect_image


@dataclass(frozen=True)
class ModelRule:
    """What one model accepts. Sizes are a fixed list, or bounds per side, or bounds on the area."""

    apis: frozenset[str]  # the endpoints that serve it: text2image | image_generation | multimodal
    default_size: tuple[int, int]
    sizes: tuple[tuple[int, int], ...] = ()
    side: tuple[int, int] | None = None  # min, max pixels per side
    area: tuple[int, int] | None = None  # min, max total pixels (aspect at most MAX_ASPECT)
    max_n: int = 4
    max_images: int = 0  # input images an edit model takes (0: text-to-image only)
    max_prompt: int = 800


MAX_ASPECT = 4.0
ENDPOINTS = {
    "text2image": "text2image/image-synthesis",
    "image_generation": "image-generation/generation",
    "multimodal": "multimodal-generation/generation",
}
TEXT2IMAGE = frozenset({"text2image"})
MULTIMODAL = frozenset({"multimodal"})
WAN_SIDES = ModelRule(TEXT2IMAGE, (1024, 1024), side=(512, 1440))
WAN_AREA = ModelRule(TEXT2IMAGE, (1024, 1024), area=(768 * 768, 1440 * 1440), max_prompt=2000)
WAN_26 = ModelRule(
    frozenset({"image_generation", "multimodal"}),
    (1024, 1024),
    area=(768 * 768, 1440 * 1440),
    max_prompt=2100,
)
QWEN_SIZES = ((1664, 928), (1472, 1140), (1328, 1328), (1140, 1472), (928, 1664))
QWEN_IMAGE = ModelRule(MULTIMODAL, (1328, 1328), sizes=QWEN_SIZES, max_n=1)
MODELS: dict[str, ModelRule] = {
    "wanx2.1-t2i-turbo": WAN_SIDES,
    "wanx2.1-t2i-plus": WAN_SIDES,
    "wan2.2-t2i-flash": WAN_SIDES,
    "wan2.2-t2i-plus": WAN_SIDES,
    "wan2.5-t2i-preview": WAN_AREA,
    "wan2.6-t2i": WAN_26,
    "qwen-image": QWEN_IMAGE,
    "qwen-image-plus": QWEN_IMAGE,
    "qwen-image-edit": ModelRule(MULTIMODAL, (1024, 1024), side=(512, 2048), max_n=1, max_images=1),
    "qwen-image-edit-plus": ModelRule(MULTIMODAL, (1024, 1024), side=(512, 2048), max_n=6, max_images=3),
}
_SIZE = re.compile(r"^([1-9][0-9]{1,4})\*([1-9][0-9]{1,4})$")


def size_problem(width: int, height: int, rule: ModelRule) -> str | None:
    """Why `width*height` is refused by the model, or None when it is fine."""
    if rule.sizes and (width, height) not in rule.sizes:
        return "size must be one of " + ", ".join(f"{w}*{h}" for w, h in rule.sizes)
    if rule.side and not all(rule.side[0] <= v <= rule.side[1] for v in (width, height)):
        return f"width and height must each be between {rule.side[0]} and {rule.side[1]}"
    if rule.area:
        if not rule.area[0] <= width * height <= rule.area[1]:
            return f"the total pixels must be between {rule.area[0]} and {rule.area[1]}"
        if max(width, height) / min(width, height) > MAX_ASPECT:
            return "the aspect ratio must be between 1:4 and 4:1"
    return None


def read_size(value: Any, rule: ModelRule, first: ImageInfo | None = None) -> tuple[int, int]:
    """`parameters.size` ("W*H") checked against the model; without it, the model's default (edits:
    the first input's shape at about one megapixel)."""
    if value is None:
        if first is None:
            return rule.default_size
        scale = (1024 * 1024 / (first.width * first.height)) ** 0.5
        low, high = rule.side or (512, 2048)
        width, height = (min(high, max(low, round(v * scale / 16) * 16)) for v in (first.width, first.height))
        return width, height
    match = _SIZE.match(value) if isinstance(value, str) else None
    if match is None:
        raise DashScopeError(
            400, "InvalidParameter", f"parameters.size must look like 1024*1024, got {value!r}"
        )
    width, height = int(match[1]), int(match[2])
    problem = size_problem(width, height, rule)
    if problem:
        raise DashScopeError(400, "InvalidParameter", f"The size {value} is not supported: {problem}.")
    return width, height


async def read_images(sources: list[str], shelf: FileShelf) -> list[bytes]:
    """Input images: data URIs, or links to this emulator's own files (other hosts cannot be reached)."""
    images: list[bytes] = []
    for source in sources:
        if source.startswith("data:"):
            try:
                data = base64.b64decode(source.partition(",")[2], validate=True)
            except (binascii.Error, ValueError):
                raise DashScopeError(400, "InvalidParameter", "An input image is not valid base64.") from None
        else:
            found = await shelf.read(source.rsplit("/files/", 1)[-1]) if "/files/" in source else None
            if found is None:
                message = f"The sandbox cannot download {source[:100]}; send images as data URIs."
                raise DashScopeError(400, "InvalidParameter.DataInspection", message)
            data = found[0]
        if inspect_image(data) is None:
            raise DashScopeError(400, "InvalidParameter", "An input image is not in a supported format.")
        images.append(data)
    return images


def api_key(request: Request) -> str:
    scheme, _, key = request.headers.get("authorization", "").partition(" ")
    if scheme.lower() != "bearer" or not key.strip():
        raise DashScopeError(401, "InvalidApiKey", "No API-key provided.")
    return key.strip()


async def read_body(request: Request) -> dict[str, Any]:
    try:
        body = orjson.loads(await request.body() or b"{}")
    except orjson.JSONDecodeError:
        raise DashScopeError(400, "InvalidParameter", "The request body is not valid JSON.") from None
    if not isinstance(body, dict):
        raise DashScopeError(400, "InvalidParameter", "The request body must be a JSON object.")
    return body


def model_rule(model: str | None, api: str) -> ModelRule:
    if not model:
        raise DashScopeError(400, "BadRequest.EmptyModel", 'Required parameter "model" missing from request.')
    rule = MODELS.get(model)
    if rule is None:
        raise DashScopeError(404, "ModelNotFound", f"Model not exist: {model}")
    if api not in rule.apis:
        endpoints = " or ".join(ENDPOINTS[a] for a in sorted(rule.apis))
        raise DashScopeError(
            400, "InvalidParameter", f"Model {model} does not support this API; use {endpoints}."
        )
    return rule


def check_image_count(count: int, model: str, rule: ModelRule) -> None:
    if rule.max_images and not count:
        raise DashScopeError(400, "InvalidParameter", f"Model {model} needs at least one input image.")
    if count > rule.max_images:
        raise DashScopeError(
            400, "InvalidParameter", f"Model {model} accepts at most {rule.max_images} image(s)."
        )


def read_prompt(value: Any, rule: ModelRule) -> str:
    if not isinstance(value, str) or not value.strip():
        raise DashScopeError(
            400, "BadRequest.EmptyInput", 'Required parameter "input.prompt" missing from request.'
        )
    if len(value) > rule.max_prompt:
        raise DashScopeError(
            400, "InvalidParameter", f"The prompt is longer than {rule.max_prompt} characters."
        )
    return value


def read_message(given: dict[str, Any], rule: ModelRule) -> tuple[str, list[str]]:
    """The prompt and the image references of `input.messages[0].content`."""
    messages = given.get("messages")
    content = (
        messages[0].get("content")
        if isinstance(messages, list) and messages and isinstance(messages[0], dict)
        else None
    )
    if not isinstance(content, list):
        raise DashScopeError(
            400, "InvalidParameter", "input.messages[0].content must be a list of {image}/{text} items."
        )
    texts = [p["text"] for p in content if isinstance(p, dict) and isinstance(p.get("text"), str)]
    images = [p["image"] for p in content if isinstance(p, dict) and isinstance(p.get("image"), str)]
    return read_prompt(" ".join(texts), rule), images


def read_count(value: Any, rule: ModelRule) -> int:
    if value is None:
        return 1
    if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= rule.max_n:
        raise DashScopeError(
            400, "InvalidParameter", f"parameters.n must be an integer between 1 and {rule.max_n}."
        )
    return value
