"""`GET /v1/usage`: requests, images and spend per key (a user key sees only its own)."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response

from mediarouter.api.auth import authenticate
from mediarouter.api.request_log import _time
from mediarouter.api.responses import json_response
from mediarouter.errors import GatewayError


async def usage(request: Request) -> Response:
    key = await authenticate(request)
    gw = request.app.state.gw
    key_id = request.query_params.get("key_id")
    if not key.is_admin:
        if key_id and key_id != key.key_id:
            raise GatewayError("PERMISSION_DENIED", "A user key can only see its own usage", "key_id")
        key_id = key.key_id
    since = _time(request.query_params.get("created_after"), "created_after") or 0.0
    until = _time(request.query_params.get("created_before"), "created_before")
    rows = await gw.log.usage(key_id, since, until)
    return json_response({"object": "usage", "currency": "usd", "data": rows})
