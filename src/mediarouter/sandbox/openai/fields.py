"""Typed reads of request fields, failing with OpenAI's own validation messages.

JSON bodies carry typed values; multipart forms carry only strings (`n` arrives as `"2"`), so
readers convert text when `textual` is set. Null counts as absent, as in the API.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from mediarouter.sandbox.openai.errors import OpenAIError, invalid_request

JSON_TYPES = {
    str: "a string",
    bool: "a boolean",
    int: "an integer",
    float: "a number",
    list: "an array",
    dict: "an object",
}


def listing(values: Sequence[str]) -> str:
    """'a', 'b', and 'c' (how OpenAI lists supported values)."""
    quoted = [f"'{v}'" for v in values]
    if len(quoted) <= 2:
        return " and ".join(quoted)
    return ", ".join(quoted[:-1]) + f", and {quoted[-1]}"


def unsupported_value(name: str, value: object, supported: Sequence[str]) -> OpenAIError:
    return invalid_request(f"Invalid value: '{value}'. Supported values are: {listing(supported)}.", name)


class RequestFields:
    def __init__(self, values: Mapping[str, Any], textual: bool) -> None:
        self.values = {k: v for k, v in values.items() if v is not None}
        self.textual = textual

    def names(self) -> set[str]:
        return set(self.values)

    def string(self, name: str, required: bool = False, max_length: int | None = None) -> str | None:
        value = self.values.get(name)
        if value is None:
            if required:
                raise invalid_request(
                    f"Missing required parameter: '{name}'.", name, "missing_required_parameter"
                )
            return None
        if not isinstance(value, str):
            raise _wrong_type(name, "a string", value)
        if required and not value:
            message = (
                f"Invalid '{name}': empty string. "
                "Expected a string with minimum length 1, but got an empty string instead."
            )
            raise invalid_request(message, name, "empty_string")
        if max_length is not None and len(value) > max_length:
            message = (
                f"Invalid '{name}': string too long. Expected a string with maximum length {max_length}, "
                f"but got a string with length {len(value)} instead."
            )
            raise invalid_request(message, name, "string_above_max_length")
        return value

    def choice(self, name: str, supported: Sequence[str]) -> str | None:
        value = self.string(name)
        if value is not None and value not in supported:
            raise unsupported_value(name, value, supported)
        return value

    def integer(self, name: str, low: int, high: int) -> int | None:
        value = self.values.get(name)
        if value is None:
            return None
        if self.textual and isinstance(value, str):
            try:
                value = int(value.strip())
            except ValueError:
                raise _wrong_type(name, "an integer", value) from None
        if isinstance(value, bool) or not isinstance(value, int):
            raise _wrong_type(name, "an integer", value)
        if value < low:
            message = (
                f"Invalid '{name}': integer below minimum value. "
                f"Expected a value >= {low}, but got {value} instead."
            )
            raise invalid_request(message, name, "integer_below_min_value")
        if value > high:
            message = (
                f"Invalid '{name}': integer above maximum value. "
                f"Expected a value <= {high}, but got {value} instead."
            )
            raise invalid_request(message, name, "integer_above_max_value")
        return value

    def boolean(self, name: str) -> bool | None:
        value = self.values.get(name)
        if value is None:
            return None
        if self.textual and isinstance(value, str) and value.strip().lower() in ("true", "false"):
            return value.strip().lower() == "true"
        if not isinstance(value, bool):
            raise _wrong_type(name, "a boolean", value)
        return value


def _wrong_type(name: str, expected: str, value: object) -> OpenAIError:
    got = JSON_TYPES.get(type(value), "a value of another type")
    if isinstance(value, str) and expected != "a string":
        got = f"a string ('{value[:40]}')"
    message = f"Invalid type for '{name}': expected {expected}, but got {got} instead."
    return invalid_request(message, name, "invalid_type")
