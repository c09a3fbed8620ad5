"""Admin API for gateway keys: list, create, update limits, revoke."""

from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.responses import Response

from mediarouter.api.auth import require_admin
from mediarouter.api.responses import json_response
from mediarouter.api.uploads import parse_json_object, read_body
from mediarouter.errors import GatewayError, invalid
from mediarouter.store.keys import BUDGET_PERIODS

MAX_LIMIT = 2**31 - 1  # the store's integer column (PostgreSQL INTEGER)


def _limits(body: dict[str, Any]) -> dict[str, Any]:
    """Limit fields present in the body (null clears one), validated."""
    limits: dict[str, Any] = {}
    for name in ("rpm", "max_concurrency"):
        if name in body:
            value = body[name]
            if value is not None and (
                isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= MAX_LIMIT
            ):
                raise invalid(f"'{name}' must be an integer from 1 to {MAX_LIMIT}, or null", name)
            limits[name] = value
    if "budget_usd" in body:
        value = body["budget_usd"]
        if value is not None and (
            isinstance(value, bool) or not isinstance(value, (int, float)) or value <= 0
        ):
            raise invalid("'budget_usd' must be a positive number or null", "budget_usd")
        limits["budget_usd"] = float(value) if value is not None else None
    if "budget_period" in body:
        if body["budget_period"] is not None and body["budget_period"] not in BUDGET_PERIODS:
            raise invalid("'budget_period' must be day, month or total", "budget_period")
        limits["budget_period"] = body["budget_period"]
    return limits  # a budget without a period: `total` on create, the key's own period on update


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
    record, secret = await request.app.state.gw.keys.create(name.strip(), role, **_limits(body))
    return json_response({**record.public(), "key": secret}, status=201)


async def update_key(request: Request) -> Response:
    await require_admin(request)
    body = parse_json_object(await read_body(request, 64 * 1024))
    unknown = set(body) - {"rpm", "max_concurrency", "budget_usd", "budget_period"}
    if unknown:
        raise invalid(f"Unknown field(s): {', '.join(sorted(unknown))}", sorted(unknown)[0])
    key_id = request.path_params["key_id"]
    record = await request.app.state.gw.keys.update(key_id, **_limits(body))
    if record is None:
        raise GatewayError("NOT_FOUND", f"Key '{key_id}' not found", "key_id")
    return json_response(record.public())


async def revoke_key(request: Request) -> Response:
    await require_admin(request)
    key_id = request.path_params["key_id"]
    if not await request.app.state.gw.keys.revoke(key_id):
        raise GatewayError("NOT_FOUND", f"Key '{key_id}' not found or already revoked", "key_id")
    return json_response({"id": key_id, "object": "api_key", "revoked": True})
