"""Reading proto-JSON request fields the way Google's front end does.

Google's REST APIs accept a field under its camelCase JSON name or its snake_case proto name
(`inlineData` / `inline_data`), and enum values in any case for Imagen's string parameters.
Wrong types get the "Invalid value at ..." messages of the real API.
"""

from __future__ import annotations

import base64
import binascii
import re
from typing import Any

from mediarouter.sandbox.google.errors import invalid_argument

_CAPITALS = re.compile(r"(?<!^)(?=[A-Z])")


def snake(camel: str) -> str:
    return _CAPITALS.sub("_", camel).lower()


def pick(obj: Any, camel: str) -> Any:
    """`obj[camel]`, else `obj[snake_case(camel)]`, else None."""
    if not isinstance(obj, dict):
        return None
    value = obj.get(camel)
    return obj.get(snake(camel)) if value is None else value


def object_at(obj: Any, camel: str, where: str) -> dict[str, Any]:
    value = pick(obj, camel)
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise invalid_argument(f"Invalid value at '{where}' ({_json_type(value)}), expected an object")
    return value


def list_at(obj: Any, camel: str, where: str) -> list[Any]:
    value = pick(obj, camel)
    if value is None:
        return []
    if not isinstance(value, list):
        raise invalid_argument(f"Invalid value at '{where}' ({_json_type(value)}), expected a list")
    return value


def integer_at(obj: Any, camel: str, where: str) -> int | None:
    value = pick(obj, camel)
    if value is None:
        return None
    if isinstance(value, str) and value.strip().lstrip("-").isdigit():
        return int(value)  # proto-JSON allows int64 as strings
    if isinstance(value, bool) or not isinstance(value, int):
        raise invalid_argument(f"Invalid value at '{where}' (TYPE_INT32), \"{value}\"")
    return value


def string_at(obj: Any, camel: str, where: str) -> str | None:
    value = pick(obj, camel)
    if value is None:
        return None
    if not isinstance(value, str):
        raise invalid_argument(f"Invalid value at '{where}' (TYPE_STRING), {value}")
    return value


def boolean_at(obj: Any, camel: str, where: str) -> bool | None:
    value = pick(obj, camel)
    if value is None:
        return None
    if not isinstance(value, bool):
        raise invalid_argument(f"Invalid value at '{where}' (TYPE_BOOL), {value}")
    return value


def decode_bytes(value: Any, where: str) -> bytes:
    """A proto `bytes` field: standard or URL-safe base64."""
    if not isinstance(value, str) or not value:
        raise invalid_argument(f"Invalid value at '{where}' (TYPE_BYTES), expected base64 data")
    try:
        standard = value.replace("-", "+").replace("_", "/")
        return base64.b64decode(standard + "=" * (-len(standard) % 4), validate=True)
    except (binascii.Error, ValueError):
        shown = value[:20] + ("..." if len(value) > 20 else "")
        raise invalid_argument(
            f"Invalid value at '{where}' (TYPE_BYTES), Base64 decoding failed for \"{shown}\""
        ) from None


def encode_bytes(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


def _json_type(value: Any) -> str:
    return {
        str: "TYPE_STRING",
        bool: "TYPE_BOOL",
        int: "TYPE_INT32",
        float: "TYPE_DOUBLE",
        list: "TYPE_LIST",
    }.get(type(value), "TYPE_MESSAGE")
