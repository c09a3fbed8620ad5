"""OpenAPI paths of the native endpoints (keys, usage, providers, media) and chat completions.

Kept apart from `openapi.py` (the image endpoints and the document's frame) so each stays readable;
the shapes follow the handlers in `api/keys.py`, `api/usage.py`, `api/providers.py`, `api/system.py`
and `api/chat.py`.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from mediarouter.api.keys import MAX_LIMIT
from mediarouter.store.keys import BUDGET_PERIODS

Schema = dict[str, Any]
Ok = Callable[..., Schema]
Errors = Callable[..., Schema]

_NULLABLE_POSITIVE_INT = {"type": ["integer", "null"], "minimum": 1, "maximum": MAX_LIMIT}
_LIMITS_BODY: dict[str, Schema] = {
    "rpm": _NULLABLE_POSITIVE_INT,
    "max_concurrency": _NULLABLE_POSITIVE_INT,
    "budget_usd": {"type": ["number", "null"], "exclusiveMinimum": 0},
    "budget_period": {"enum": [*BUDGET_PERIODS, None]},
}

KEY: Schema = {
    "type": "object",
    "required": ["id", "object", "name", "role", "created_at", "revoked", "limits"],
    "properties": {
        "id": {"type": "string"},
        "object": {"const": "api_key"},
        "name": {"type": "string"},
        "role": {"enum": ["admin", "user"]},
        "created_at": {"type": "integer"},
        "revoked": {"type": "boolean"},
        "limits": {
            "type": "object",
            "required": ["rpm", "max_concurrency", "budget_usd", "budget_period"],
            "properties": {
                "rpm": {"type": ["integer", "null"]},
                "max_concurrency": {"type": ["integer", "null"]},
                "budget_usd": {"type": ["number", "null"]},
                "budget_period": {"type": ["string", "null"]},
            },
        },
    },
}

_HEALTH_FIELDS: dict[str, Schema] = {
    "status": {"enum": ["healthy", "probing", "degraded", "open_breaker"]},
    "breaker": {"type": "string"},
    "success_rate": {"type": ["number", "null"]},
    "latency_ewma_ms": {"type": ["number", "null"]},
    "p50_ms": {"type": ["number", "null"]},
    "p95_ms": {"type": ["number", "null"]},
    "samples": {"type": "integer"},
}

PROVIDERS: Schema = {
    "type": "object",
    "required": ["object", "data"],
    "properties": {
        "object": {"const": "list"},
        "data": {
            "type": "array",
            "items": {
                "type": "object",
                "required": ["id", "object", "name", "status", "models"],
                "properties": {
                    "id": {"type": "string"},
                    "object": {"const": "provider"},
                    "name": {"type": "string"},
                    "status": _HEALTH_FIELDS["status"],
                    "status_page": {"type": ["string", "null"]},
                    "models": {
                        "type": "array",
                        "items": {
                            "type": "object",
                            "required": ["model", "provider_model_id", "status"],
                            "properties": {
                                "model": {"type": "string"},
                                "provider_model_id": {"type": "string"},
                                **_HEALTH_FIELDS,
                            },
                        },
                    },
                },
            },
        },
    },
}

USAGE: Schema = {
    "type": "object",
    "required": ["object", "currency", "data"],
    "properties": {
        "object": {"const": "usage"},
        "currency": {"type": "string"},
        "data": {
            "type": "array",
            "items": {
                "type": "object",
                "required": ["key_id", "date", "requests", "failed", "images", "cost"],
                "properties": {
                    "key_id": {"type": ["string", "null"]},
                    "date": {"type": "string", "format": "date"},
                    "requests": {"type": "integer"},
                    "failed": {"type": "integer"},
                    "images": {"type": "integer"},
                    "cost": {"type": "number"},
                },
            },
        },
    },
}

# The gateway checks only `model` and `messages`; every other field goes to OpenRouter as sent (its
# own 400s come back as UPSTREAM_ERROR), so the schema does not promise stricter checks than that.
_CHAT_BODY: Schema = {
    "type": "object",
    "required": ["model", "messages"],
    "description": "The OpenAI chat body (`stream`, `max_tokens`, `temperature`, `n`, `tools`, ...), "
    "relayed to OpenRouter unchanged; `stream: true` answers OpenRouter's server-sent events.",
    "properties": {
        "model": {
            "type": "string",
            "minLength": 1,
            "pattern": "\\S",
            "description": "An OpenRouter model id (`openai/gpt-5.4`); the prefix names the maker.",
        },
        "messages": {
            "type": "array",
            "minItems": 1,
            "description": "OpenAI chat messages, checked by OpenRouter",
        },
    },
}

_CHAT_RESPONSE: Schema = {
    "type": "object",
    "required": ["choices", "mediarouter"],
    "properties": {
        "id": {"type": "string"},
        "object": {"type": "string"},
        "model": {"type": "string"},
        "choices": {"type": "array"},
        "usage": {"type": ["object", "null"]},
        "mediarouter": {
            "type": "object",
            "required": ["model", "executed_model", "provider", "attempts"],
            "properties": {
                "model": {"type": "string"},
                "executed_model": {"type": "string"},
                "provider": {"const": "openrouter"},
                "provider_name": {"type": "string"},
                "cost": {"type": ["number", "null"]},
                "cost_currency": {"type": "string"},
                "attempts": {"type": "array", "items": {"type": "object"}},
            },
        },
    },
}

ESTIMATE: Schema = {
    "type": "object",
    "required": ["estimated", "model", "provider", "total_cost", "currency", "components"],
    "properties": {
        "estimated": {"const": True},
        "model": {"type": "string"},
        "provider": {"type": "string"},
        "executed_model": {"type": "string"},
        "total_cost_micros": {"type": ["integer", "null"]},
        "total_cost": {"type": ["number", "null"]},
        "currency": {"type": "string"},
        "components": {"type": "array", "items": {"type": "object"}},
    },
}

_DRY_RUN = {
    "name": "dryRun",
    "in": "query",
    "description": "true: validate and price the request without calling OpenRouter",
    "schema": {"type": "boolean"},
}

_TIME_PARAM = {
    "type": "string",
    "description": "ISO 8601 time or Unix timestamp",
    "pattern": "^(\\d+(\\.\\d+)?|\\d{4}-\\d{2}-\\d{2}.*)$",
}


def _json_body(schema: Schema) -> Schema:
    return {"required": True, "content": {"application/json": {"schema": schema}}}


def _key_id() -> Schema:
    return {"name": "key_id", "in": "path", "required": True, "schema": {"type": "string"}}


def native_paths(ok: Ok, errors: Errors) -> dict[str, Schema]:
    """The paths of the native endpoints, with `ok`/`errors` from openapi.py building responses."""
    create_body = {
        "type": "object",
        "required": ["name"],
        "properties": {
            "name": {"type": "string", "minLength": 1, "pattern": "\\S"},
            "role": {"enum": ["admin", "user"]},
            **_LIMITS_BODY,
        },
    }
    update_body = {"type": "object", "additionalProperties": False, "properties": _LIMITS_BODY}
    created = {
        "201": {
            "description": "Created; `key` is the secret, shown only this once",
            "content": {
                "application/json": {
                    "schema": {
                        **KEY,
                        "required": [*KEY["required"], "key"],
                        "properties": {**KEY["properties"], "key": {"type": "string"}},
                    }
                }
            },
        }
    }
    key_list = {
        "type": "object",
        "required": ["object", "data"],
        "properties": {"object": {"const": "list"}, "data": {"type": "array", "items": KEY}},
    }
    revoked = {
        "type": "object",
        "required": ["id", "object", "revoked"],
        "properties": {"id": {"type": "string"}, "object": {"const": "api_key"}, "revoked": {"const": True}},
    }
    return {
        "/v1/chat/completions": {
            "post": {
                "operationId": "createChatCompletion",
                "parameters": [_DRY_RUN],
                "requestBody": _json_body(_CHAT_BODY),
                "responses": {
                    "200": {
                        "description": "The completion (JSON), or with `stream: true` OpenRouter's "
                        "server-sent events relayed chunk by chunk; a dry run answers the estimate",
                        "content": {
                            "application/json": {"schema": {"anyOf": [_CHAT_RESPONSE, ESTIMATE]}},
                            "text/event-stream": {"schema": {"type": "string"}},
                        },
                    },
                    **errors(400, 401, 402, 404, 413, 415, 429, 502, 504),
                },
            }
        },
        "/v1/providers": {
            "get": {"operationId": "listProviders", "responses": {**ok(PROVIDERS), **errors(401)}}
        },
        "/v1/usage": {
            "get": {
                "operationId": "getUsage",
                "parameters": [
                    {"name": "key_id", "in": "query", "schema": {"type": "string"}},
                    *(
                        {"name": n, "in": "query", "schema": _TIME_PARAM}
                        for n in ("created_after", "created_before")
                    ),
                ],
                "responses": {**ok(USAGE), **errors(400, 401, 403)},
            }
        },
        "/v1/keys": {
            "get": {"operationId": "listKeys", "responses": {**ok(key_list), **errors(401, 403)}},
            "post": {
                "operationId": "createKey",
                "requestBody": _json_body(create_body),
                "responses": {**created, **errors(400, 401, 403, 413, 415)},
            },
        },
        "/v1/keys/{key_id}": {
            "patch": {
                "operationId": "updateKey",
                "parameters": [_key_id()],
                "requestBody": _json_body(update_body),
                "responses": {**ok(KEY), **errors(400, 401, 403, 404, 413, 415)},
            },
            "delete": {
                "operationId": "revokeKey",
                "parameters": [_key_id()],
                "responses": {**ok(revoked), **errors(401, 403, 404)},
            },
        },
        "/v1/media/{name}": {
            "get": {
                "operationId": "getMedia",
                "security": [],
                "description": "A generated image handed out as a signed, expiring URL.",
                "parameters": [
                    {"name": "name", "in": "path", "required": True, "schema": {"type": "string"}},
                    {"name": "expires", "in": "query", "required": True, "schema": {"type": "string"}},
                    {"name": "signature", "in": "query", "required": True, "schema": {"type": "string"}},
                ],
                "responses": {
                    "200": {
                        "description": "The image",
                        "content": {"image/*": {"schema": {"type": "string", "format": "binary"}}},
                    },
                    **errors(404),
                },
            }
        },
        "/openapi.json": {
            "get": {
                "operationId": "openapi",
                "security": [],
                "responses": ok({"type": "object", "required": ["openapi", "paths"]}),
            }
        },
    }
