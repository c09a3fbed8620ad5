"""Admin API for gateway keys: `GET/POST /v1/keys`, `DELETE /v1/keys/{key_id}`."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response

from mediarouter.api.auth import require_admin
from mediarouter.api.responses import json_response
from mediarouter.api.uploads import parse_json_object, read_body
from mediarouter.errors import GatewayError, invalid


async def list_keys(request: Request) -> Response:
    await require_admin(request)
    keys = await request.app.state.gw.keys.list()
    return json_response({"object": "list", "data": [k.public() for k in keys]})


async def create_key(request: Request) -> Response:
    await require_admin(request)
    body = parse_json_object(await read_body(request, 64 * 1024))
    name = body.get("name")
    if not isinstance(name, str) or not name.strip():
        raise invalid("'name' is required", "name")
    role = body.get("role", "user")
    if role not in ("admin", "user"):
        raise invalid("'role' must be 'admin' or 'user'", "role")
    record, secret = await request.app.state.gw.keys.create(name.strip(), role)
    return json_response({**record.public(), "key": secret}, status=201)


async def revoke_key(request: Request) -> Response:
    await require_admin(request)
    key_id = request.path_params["key_id"]
    if not await request.app.state.gw.keys.revoke(key_id):
        raise GatewayError("NOT_FOUND", f"Key '{key_id}' not found or already revoked", "key_id")
    return json_response({"id": key_id, "object": "api_key", "revoked": True})
