"""Reading request bodies: bounded JSON and multipart, input images checked by their bytes."""

from __future__ import annotations

import base64
import binascii
from typing import Any

import orjson
from starlette.datastructures import UploadFile
from starlette.requests import Request

from mediarouter.errors import GatewayError, invalid, too_large
from mediarouter.params.formats import sniff
from mediarouter.schemas.images import InputImage

INPUT_FORMATS = ("png", "jpeg", "webp", "gif")


async def read_body(request: Request, limit: int) -> bytes:
    length = request.headers.get("content-length")
    if length and length.isdigit() and int(length) > limit:
        raise too_large(f"Request body of {length} bytes exceeds the limit of {limit} bytes")
    chunks: list[bytes] = []
    total = 0
    async for chunk in request.stream():
        total += len(chunk)
        if total > limit:
            raise too_large(f"Request body exceeds the limit of {limit} bytes")
        chunks.append(chunk)
    body = b"".join(chunks)
    request._body = body  # lets request.form() parse what was already read
    return body


def parse_json_object(body: bytes) -> dict[str, Any]:
    if not body:
        raise invalid("Request body is empty; send a JSON object")
    try:
        data = orjson.loads(body)
    except orjson.JSONDecodeError as exc:
        raise invalid(f"Request body is not valid JSON: {exc}") from None
    if not isinstance(data, dict):
        raise invalid("Request body must be a JSON object")
    return data


MAX_INPUT_PIXELS = 64_000_000  # 8000 x 8000: beyond any model's input, far below a bomb


def check_image(data: bytes, param: str, filename: str | None, max_bytes: int) -> InputImage:
    if len(data) > max_bytes:
        raise too_large(f"Image '{filename or param}' is {len(data)} bytes; the limit is {max_bytes}", param)
    if not data:
        raise invalid(f"Image '{filename or param}' is empty", param)
    found = sniff(data)
    if found is None or found[0] not in INPUT_FORMATS:
        raise invalid(
            f"'{filename or param}' is not a supported image (PNG, JPEG, WebP or GIF expected)", param
        )
    fmt, width, height = found
    if width * height > MAX_INPUT_PIXELS:
        raise too_large(
            f"Image '{filename or param}' is {width}x{height} pixels; at most {MAX_INPUT_PIXELS} pixels are accepted",
            param,
        )
    return InputImage(data, f"image/{fmt}", width, height, filename)


def decode_data_uri(value: str, param: str) -> bytes:
    header, comma, payload = value.partition(",")
    if not comma or ";base64" not in header:
        raise invalid(
            f"'{param}' must be a base64 data URI (data:image/png;base64,...) or an http(s) URL", param
        )
    try:
        return base64.b64decode(payload, validate=True)
    except (binascii.Error, ValueError):
        raise invalid(f"'{param}' is not valid base64", param) from None


async def form_fields(
    request: Request, max_files: int, max_part: int
) -> tuple[dict[str, str], dict[str, list[UploadFile]]]:
    """Text fields and file parts of a multipart body (repeated names kept in order)."""
    try:
        form = await request.form(max_files=max_files, max_fields=200, max_part_size=max_part)
    except GatewayError:
        raise
    except Exception as exc:  # python-multipart and Starlette raise several types for bad bodies
        raise invalid(f"Malformed multipart body: {getattr(exc, 'detail', None) or exc}") from None
    fields: dict[str, str] = {}
    files: dict[str, list[UploadFile]] = {}
    for name, value in form.multi_items():
        if isinstance(value, UploadFile):
            files.setdefault(name, []).append(value)
        else:
            fields[name] = value
    return fields, files
