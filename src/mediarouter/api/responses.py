"""Rendering: orjson bodies and the one OpenAI-style error shape."""

from __future__ import annotations

from typing import Any

import orjson
from starlette.responses import Response

from mediarouter.errors import GatewayError

JSON_TYPE = "application/json"


class JSONResponse(Response):
    media_type = JSON_TYPE

    def render(self, content: Any) -> bytes:
        return orjson.dumps(content)


def json_response(content: Any, status: int = 200, headers: dict[str, str] | None = None) -> Response:
    return Response(orjson.dumps(content), status_code=status, headers=headers, media_type=JSON_TYPE)


def error_response(err: GatewayError, headers: dict[str, str] | None = None) -> Response:
    """Render a GatewayError; terminal errors say `x-should-retry: false` so SDKs do not retry."""
    merged = {"x-should-retry": "true" if err.should_retry else "false", **err.headers}
    if headers:
        merged.update(headers)
    return Response(
        orjson.dumps(err.body()), status_code=err.http_status, headers=merged, media_type=JSON_TYPE
    )
