"""The route table: OpenAI-compatible paths under /v1, /openai/v1 and bare; native paths under /v1."""

from __future__ import annotations

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


def routes() -> list[BaseRoute]:
    table: list[BaseRoute] = []
    for prefix in COMPAT_PREFIXES:
        table += [Route(prefix + path, fn, methods=methods) for path, fn, methods in _COMPAT]
    table += [Route(path, fn, methods=methods) for path, fn, methods in _NATIVE]
    return table
