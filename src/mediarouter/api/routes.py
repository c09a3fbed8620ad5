"""The route table: OpenAI-compatible paths under /v1, /openai/v1 and bare; native paths under /v1."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route

from mediarouter.api import chat, images, keys, models, providers, request_log, system, usage

# OpenAI-compatible endpoints, served under every prefix so a mis-set api_base still works.
_COMPAT = [
    ("/images/generations", images.generations, ["POST"]),
    ("/images/edits", images.edits, ["POST"]),
    ("/images/variations", images.variations, ["POST"]),
    ("/chat/completions", chat.completions, ["POST"]),
    ("/models", models.list_models, ["GET"]),
    ("/models/{model_id:path}", models.get_model, ["GET"]),
]
COMPAT_PREFIXES = ("/v1", "/openai/v1", "")

_NATIVE = [
    ("/v1/providers", providers.list_providers, ["GET"]),
    ("/v1/requests", request_log.list_requests, ["GET"]),
    ("/v1/requests/{request_id}", request_log.get_request, ["GET"]),
    ("/v1/keys", keys.list_keys, ["GET"]),
    ("/v1/keys", keys.create_key, ["POST"]),
    ("/v1/keys/{key_id}", keys.revoke_key, ["DELETE"]),
    ("/v1/keys/{key_id}", keys.update_key, ["PATCH"]),
    ("/v1/usage", usage.usage, ["GET"]),
    ("/v1/media/{name}", system.media, ["GET"]),
    ("/health", system.health, ["GET"]),
    ("/metrics", system.metrics, ["GET"]),
    ("/openapi.json", system.openapi, ["GET"]),
]


Endpoint = Callable[[Request], Awaitable[Response]]


def _by_method(handlers: dict[str, Endpoint]) -> Endpoint:
    async def dispatch(request: Request) -> Response:
        return await handlers[request.method if request.method != "HEAD" else "GET"](request)

    return dispatch


def _merged(rows: list[tuple[str, Endpoint, list[str]]]) -> list[BaseRoute]:
    """One route per path, so a 405 there lists every method the path has in `Allow`."""
    by_path: dict[str, dict[str, Endpoint]] = {}
    for path, fn, methods in rows:
        by_path.setdefault(path, {}).update(dict.fromkeys(methods, fn))
    table: list[BaseRoute] = []
    for path, handlers in by_path.items():
        only = set(handlers.values())
        endpoint = only.pop() if len(only) == 1 else _by_method(handlers)
        table.append(Route(path, endpoint, methods=list(handlers)))
    return table


def routes() -> list[BaseRoute]:
    table: list[BaseRoute] = []
    for prefix in COMPAT_PREFIXES:
        table += [Route(prefix + path, fn, methods=methods) for path, fn, methods in _COMPAT]
    return table + _merged(_NATIVE)
