"""From HTTP body to canonical `ImageRequest`: JSON for generations, multipart or JSON for edits."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from starlette.requests import Request

from mediarouter.api.uploads import check_image, decode_data_uri, form_fields, parse_json_object, read_body
from mediarouter.errors import GatewayError, invalid
from mediarouter.params.formats import OUTPUT_FORMATS
from mediarouter.schemas.images import CLIENT_BOOKKEEPING, KNOWN_FIELDS, ImageRequest, InputImage, Mode
from mediarouter.settings import Settings

_STRING_FIELDS = (
    "size",
    "aspect_ratio",
    "resolution",
    "quality",
    "style",
    "background",
    "moderation",
    "input_fidelity",
    "user",
)
_FORMAT_ALIASES = {"jpg": "jpeg"}


Fetch = Callable[[str, str], Awaitable[tuple[bytes, str | None]]]


async def read_image_request(
    request: Request, mode: Mode, settings: Settings, fetch: Fetch | None = None
) -> tuple[ImageRequest, int]:
    """The canonical request and the body size in bytes."""
    limits = settings.limits
    content_type = request.headers.get("content-type", "").lower()
    body = await read_body(request, limits.max_body_bytes)
    if content_type.startswith("multipart/form-data"):
        if mode == "generate":
            raise invalid("Send image generations as JSON (Content-Type: application/json), not multipart")
        fields, files = await form_fields(request, limits.max_input_images + 1, limits.max_image_bytes)
        images = []
        for name in ("image", "image[]"):
            for upload in files.get(name, []):
                images.append(
                    check_image(await upload.read(), "image", upload.filename, limits.max_image_bytes)
                )
        for name in files:
            if name.startswith("image[") and name not in ("image[]",):
                for upload in files[name]:
                    images.append(
                        check_image(await upload.read(), "image", upload.filename, limits.max_image_bytes)
                    )
        mask = None
        if files.get("mask"):
            upload = files["mask"][0]
            mask = check_image(await upload.read(), "mask", upload.filename, limits.max_image_bytes)
        return build_request(mode, dict(fields), images, mask, settings), len(body)
    if (
        content_type
        and not content_type.startswith("application/json")
        and not content_type.startswith("text/plain")
    ):
        raise GatewayError(
            "INVALID_REQUEST",
            f"Unsupported Content-Type '{content_type}'; send application/json"
            + (" or multipart/form-data" if mode == "edit" else ""),
            status=415,
        )
    fields = parse_json_object(body)
    images, mask = [], None
    if mode == "edit":
        images = [await _json_image(v, "image", settings, fetch) for v in _json_image_values(fields)]
        if fields.get("mask") is not None:
            mask = await _json_image(fields["mask"], "mask", settings, fetch)
    return build_request(mode, fields, images, mask, settings), len(body)


def _json_image_values(fields: dict[str, Any]) -> list[Any]:
    values: list[Any] = []
    for name in ("image", "image[]", "images", "image_url"):
        value = fields.get(name)
        if value is None:
            continue
        values.extend(value if isinstance(value, list) else [value])
    return values


async def _json_image(value: Any, param: str, settings: Settings, fetch: Fetch | None) -> InputImage:
    if isinstance(value, dict):
        value = value.get("image_url") or value.get("url")
        if isinstance(value, dict):
            value = value.get("url")
    if not isinstance(value, str):
        raise invalid(f"'{param}' must be a data URI or an http(s) URL", param)
    if value.startswith("data:"):
        return check_image(decode_data_uri(value, param), param, None, settings.limits.max_image_bytes)
    if fetch is None:
        raise invalid(f"'{param}' must be a data URI here; send URLs to the HTTP API", param)
    data, _ = await fetch(value, param)
    return check_image(data, param, value.rsplit("/", 1)[-1][:100], settings.limits.max_image_bytes)


def _int(fields: dict[str, Any], name: str, low: int, high: int) -> int | None:
    value = fields.get(name)
    if value is None or value == "":
        return None
    if isinstance(value, bool):
        raise invalid(f"'{name}' must be an integer between {low} and {high}", name)
    try:
        number = int(value) if not isinstance(value, float) or value.is_integer() else None
    except (TypeError, ValueError):
        number = None
    if number is None or not low <= number <= high:
        raise invalid(f"'{name}' must be an integer between {low} and {high}, got {value!r}", name)
    return number


def _str(fields: dict[str, Any], name: str) -> str | None:
    value = fields.get(name)
    if value is None:
        return None
    if not isinstance(value, str):
        raise invalid(f"'{name}' must be a string", name)
    return value


def build_request(
    mode: Mode, fields: dict[str, Any], images: list[InputImage], mask: InputImage | None, settings: Settings
) -> ImageRequest:
    extra_body = fields.pop("extra_body", None)
    if isinstance(extra_body, dict):  # LiteLLM proxy passes the SDK's extra_body through literally
        fields = {**fields, **extra_body}
    model = fields.get("model")
    if not isinstance(model, str) or not model.strip():
        raise invalid("'model' is required (a model id such as 'gpt-image-1.5')", "model")
    prompt = fields.get("prompt")
    scale_factor = _int(fields, "scale_factor", 1, 16)
    if prompt is None and mode == "edit" and scale_factor is not None:
        prompt = ""  # upscalers take a scale factor instead of a prompt
    elif not isinstance(prompt, str) or not prompt.strip():
        raise invalid("'prompt' is required and must be a non-empty string", "prompt")
    if len(prompt) > settings.limits.max_prompt_chars:
        raise invalid(
            f"'prompt' is {len(prompt)} characters; the limit is {settings.limits.max_prompt_chars}", "prompt"
        )
    if fields.get("stream") in (True, "true", "True", "1"):
        raise invalid(
            "Streaming is not supported for image requests; omit 'stream' or set it to false", "stream"
        )
    if mode == "edit" and not images:
        raise invalid("An edit needs at least one input image ('image' or 'image[]')", "image")
    if len(images) > settings.limits.max_input_images:
        raise invalid(f"At most {settings.limits.max_input_images} input images are accepted", "image")
    response_format = _str(fields, "response_format") or settings.images.default_response_format
    if response_format not in ("url", "b64_json"):
        raise invalid(
            f"'response_format' must be 'url' or 'b64_json', got '{response_format}'", "response_format"
        )
    output_format = _str(fields, "output_format")
    if output_format is not None:
        output_format = _FORMAT_ALIASES.get(output_format.lower(), output_format.lower())
        if output_format not in OUTPUT_FORMATS:
            raise invalid(f"'output_format' must be one of {', '.join(OUTPUT_FORMATS)}", "output_format")
    request = ImageRequest(
        mode=mode,
        model=model.strip(),
        prompt=prompt,
        n=_int(fields, "n", 1, settings.limits.max_n) or 1,
        output_format=output_format,
        output_compression=_int(fields, "output_compression", 0, 100),
        scale_factor=scale_factor,
        partial_images=_int(fields, "partial_images", 0, 3),
        response_format=response_format,
        images=images,
        mask=mask,
        extra={k: v for k, v in fields.items() if k not in KNOWN_FIELDS and k not in CLIENT_BOOKKEEPING},
    )
    for name in _STRING_FIELDS:
        setattr(request, name, _str(fields, name))
    return request
