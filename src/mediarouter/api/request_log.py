"""`GET /v1/requests` (cursor pages, filters) and `GET /v1/requests/{id}`; users see only their own."""

from __future__ import annotations

import re
from datetime import datetime
from urllib.parse import urlencode

from starlette.requests import Request
from starlette.responses import Response

from mediarouter.api.auth import authenticate
from mediarouter.api.requests_context import public_base
from mediarouter.api.responses import json_response
from mediarouter.errors import GatewayError, invalid
from mediarouter.routing.router import Router
from mediarouter.store.request_log import STATUSES, RequestQuery

PROVIDER_SLUG = re.compile(r"[a-z0-9][a-z0-9_-]{0,63}")


def _time(value: str | None, name: str) -> float | None:
    if value is None:
        return None
    try:
        return float(value)
    except ValueError:
        pass
    try:
        return datetime.fromisoformat(value.replace("Z", "+00:00")).timestamp()
    except ValueError:
        raise invalid(f"'{name}' must be an ISO 8601 time or a Unix timestamp", name) from None


_CURSOR = re.compile(r"[A-Za-z0-9_-]{1,64}")  # a request id (`req_...`), as next_page_url gives it


def _cursor(value: str | None, name: str) -> str | None:
    if not value or _CURSOR.fullmatch(value):
        return value or None
    raise invalid(f"'{name}' must be a request id from a previous page", name)


def catalog_model_id(router: Router, name: str | None) -> str | None:
    """The catalog id a model name resolves to (alias, `openai/dall-e-2`...); None when it names
    no catalog model. Rows keep both, so `?model=` finds a model however it was asked for."""
    if not name:
        return None
    try:
        model, _ = router.resolve_model(name)
    except GatewayError:
        return None
    return model.id


def _query(request: Request, own_key: str | None) -> RequestQuery:
    params = request.query_params
    try:
        limit = int(params.get("limit", "20"))
    except ValueError:
        raise invalid("'limit' must be an integer between 1 and 100", "limit") from None
    if not 1 <= limit <= 100:
        raise invalid("'limit' must be an integer between 1 and 100", "limit")
    status = params.get("status")
    if status is not None and status not in STATUSES:
        raise invalid(f"'status' must be one of {', '.join(STATUSES)}", "status")
    provider = params.get("provider")
    if provider is not None and not PROVIDER_SLUG.fullmatch(provider):
        raise invalid("'provider' must be a provider slug such as 'fal' or 'vertex'", "provider")
    key_id = params.get("key_id")
    if own_key is not None:
        if key_id and key_id != own_key:
            raise GatewayError("PERMISSION_DENIED", "A user key can only list its own requests", "key_id")
        key_id = own_key
    return RequestQuery(
        limit=limit,
        starting_after=_cursor(params.get("starting_after"), "starting_after"),
        ending_before=_cursor(params.get("ending_before"), "ending_before"),
        created_after=_time(params.get("created_after"), "created_after"),
        created_before=_time(params.get("created_before"), "created_before"),
        key_id=key_id,
        status=status,
        model=params.get("model"),
        provider=provider,
        model_id=catalog_model_id(request.app.state.gw.router, params.get("model")),
    )


async def list_requests(request: Request) -> Response:
    key = await authenticate(request)
    gw = request.app.state.gw
    query = _query(request, None if key.is_admin else key.key_id)
    rows, has_more = await gw.log.list(query)
    body = {
        "object": "list",
        "data": rows,
        "has_more": has_more,
        "next_page_url": None,
        "previous_page_url": None,
    }
    keep = {k: v for k, v in request.query_params.items() if k not in ("starting_after", "ending_before")}
    base = f"{public_base(request, gw.settings)}{request.url.path}?"
    if rows and has_more:
        body["next_page_url"] = base + urlencode({**keep, "starting_after": rows[-1]["id"]})
    if rows and (query.starting_after or (query.ending_before and has_more)):
        body["previous_page_url"] = base + urlencode({**keep, "ending_before": rows[0]["id"]})
    return json_response(body)


async def get_request(request: Request) -> Response:
    key = await authenticate(request)
    row = await request.app.state.gw.log.get(request.path_params["request_id"])
    if row is None or (not key.is_admin and row.get("key_id") != key.key_id):
        raise GatewayError(
            "NOT_FOUND", f"Request '{request.path_params['request_id']}' not found", "request_id"
        )
    return json_response(row)
