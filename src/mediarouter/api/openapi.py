"""The OpenAPI 3.1 document served at `/openapi.json` (hand-written: the API is small and stable)."""

from __future__ import annotations

from functools import cache
from typing import Any

from mediarouter import __version__
from mediarouter.api.openapi_native import native_paths
from mediarouter.store.request_log import STATUSES

_ERROR = {
    "type": "object",
    "required": ["error"],
    "properties": {
        "error": {
            "type": "object",
            "required": ["message", "type", "code"],
            "properties": {
                "message": {"type": "string"},
                "type": {"type": "string"},
                "code": {"type": "string"},
                "param": {"type": ["string", "null"]},
            },
        }
    },
}

_IMAGE_FIELDS: dict[str, Any] = {
    "model": {
        "type": "string",
        "minLength": 1,
        "pattern": "\\S",
        "description": "Model id or alias; `<provider>/<model>` forces a provider.",
    },
    "prompt": {"type": "string", "minLength": 1, "pattern": "\\S"},
    "n": {"type": "integer", "minimum": 1, "maximum": 10},
    "size": {
        "type": "string",
        "pattern": "^\\s*(auto|\\d{1,5}\\s*[xX×*]\\s*\\d{1,5}|\\d{1,3}(\\.\\d{1,2})?\\s*:\\s*\\d{1,3}(\\.\\d{1,2})?)\\s*$",
        "description": "WIDTHxHEIGHT, W:H or auto.",
    },
    "quality": {"type": "string"},
    "style": {"type": "string"},
    "background": {"type": "string"},
    "output_format": {"type": "string", "enum": ["png", "jpeg", "jpg", "webp", "gif", "avif"]},
    "output_compression": {"type": "integer", "minimum": 0, "maximum": 100},
    "moderation": {"type": "string"},
    "response_format": {"type": "string", "enum": ["url", "b64_json"]},
    "user": {"type": "string"},
}

_IMAGES_RESPONSE = {
    "type": "object",
    "required": ["id", "created", "data", "metadata"],
    "properties": {
        "id": {"type": "string"},
        "created": {"type": "integer"},
        "size": {"type": ["string", "null"]},
        "output_format": {"type": ["string", "null"]},
        "data": {
            "type": "array",
            "minItems": 1,
            "items": {
                "type": "object",
                "properties": {
                    "url": {"type": "string"},
                    "b64_json": {"type": "string"},
                    "revised_prompt": {"type": "string"},
                },
            },
        },
        "usage": {"type": "object"},
        "metadata": {
            "type": "object",
            "properties": {
                "model": {"type": "string"},
                "executed_model": {"type": "string"},
                "provider": {"type": "string"},
                "provider_name": {"type": "string"},
                "cost": {"type": "number"},
                "cost_currency": {"type": "string"},
                "attempts": {"type": "array", "items": {"type": "object"}},
            },
        },
    },
}


def _errors(*statuses: int) -> dict[str, Any]:
    return {
        str(s): {
            "description": "Error",
            "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}},
        }
        for s in statuses
    }


def _ok(schema: dict[str, Any], description: str = "OK") -> dict[str, Any]:
    return {"200": {"description": description, "content": {"application/json": {"schema": schema}}}}


@cache
def openapi_document() -> dict[str, Any]:
    image_errors = _errors(400, 401, 404, 413, 415, 429, 502, 504)
    generation_body = {"type": "object", "required": ["model", "prompt"], "properties": _IMAGE_FIELDS}
    edit_body = {
        "type": "object",
        "required": ["model", "prompt", "image"],
        "properties": {
            **_IMAGE_FIELDS,
            "image": {"type": "string", "format": "binary"},
            "image[]": {"type": "array", "items": {"type": "string", "format": "binary"}},
            "mask": {"type": "string", "format": "binary"},
        },
    }
    list_schema = {"type": "object", "properties": {"object": {"type": "string"}, "data": {"type": "array"}}}
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "mediarouter",
            "version": __version__,
            "description": "OpenAI-compatible gateway for image (and text) models across providers.",
        },
        "components": {
            "schemas": {"Error": _ERROR, "ImagesResponse": _IMAGES_RESPONSE},
            "securitySchemes": {"bearer": {"type": "http", "scheme": "bearer"}},
        },
        "security": [{"bearer": []}],
        "paths": {
            "/v1/images/generations": {
                "post": {
                    "operationId": "createImage",
                    "requestBody": {
                        "required": True,
                        "content": {"application/json": {"schema": generation_body}},
                    },
                    "responses": {**_ok({"$ref": "#/components/schemas/ImagesResponse"}), **image_errors},
                }
            },
            "/v1/images/edits": {
                "post": {
                    "operationId": "editImage",
                    "requestBody": {
                        "required": True,
                        "content": {"multipart/form-data": {"schema": edit_body}},
                    },
                    "responses": {**_ok({"$ref": "#/components/schemas/ImagesResponse"}), **image_errors},
                }
            },
            "/v1/models": {
                "get": {"operationId": "listModels", "responses": {**_ok(list_schema), **_errors(401)}}
            },
            "/v1/models/{model_id}": {
                "get": {
                    "operationId": "getModel",
                    "parameters": [
                        {"name": "model_id", "in": "path", "required": True, "schema": {"type": "string"}},
                        {"name": "schema", "in": "query", "schema": {"type": "boolean"}},
                    ],
                    "responses": {**_ok({"type": "object"}), **_errors(401, 404)},
                }
            },
            "/v1/requests": {
                "get": {
                    "operationId": "listRequests",
                    "parameters": [
                        {
                            "name": "limit",
                            "in": "query",
                            "schema": {"type": "integer", "minimum": 1, "maximum": 100},
                        },
                        {
                            "name": "status",
                            "in": "query",
                            "schema": {"type": "string", "enum": list(STATUSES)},
                        },
                        *(
                            {
                                "name": n,
                                "in": "query",
                                "description": "a request id from a previous page",
                                "schema": {"type": "string", "pattern": "^[A-Za-z0-9_-]{0,64}$"},
                            }
                            for n in ("starting_after", "ending_before")
                        ),
                        *(
                            {"name": n, "in": "query", "schema": {"type": "string"}}
                            for n in ("key_id", "model")
                        ),
                        {
                            "name": "provider",
                            "in": "query",
                            "description": "requests served by, or with an attempt at, this provider",
                            "schema": {"type": "string", "pattern": "^[a-z0-9][a-z0-9_-]{0,63}$"},
                        },
                        *(
                            {
                                "name": n,
                                "in": "query",
                                "description": "ISO 8601 time or Unix timestamp",
                                "schema": {
                                    "type": "string",
                                    "pattern": "^(\\d+(\\.\\d+)?|\\d{4}-\\d{2}-\\d{2}.*)$",
                                },
                            }
                            for n in ("created_after", "created_before")
                        ),
                    ],
                    "responses": {**_ok(list_schema), **_errors(400, 401, 403)},
                }
            },
            "/v1/requests/{request_id}": {
                "get": {
                    "operationId": "getRequest",
                    "parameters": [
                        {"name": "request_id", "in": "path", "required": True, "schema": {"type": "string"}}
                    ],
                    "responses": {**_ok({"type": "object"}), **_errors(401, 404)},
                }
            },
            "/v1/images/variations": {
                "post": {
                    "operationId": "createImageVariation",
                    "description": "Not offered: always a 400 INVALID_REQUEST (use /v1/images/edits).",
                    "requestBody": {
                        "content": {"multipart/form-data": {"schema": {"type": "object"}}},
                    },
                    "responses": _errors(400, 401),
                }
            },
            **native_paths(_ok, _errors),
            "/health": {
                "get": {"operationId": "health", "security": [], "responses": _ok({"type": "object"})}
            },
            "/metrics": {
                "get": {
                    "operationId": "metrics",
                    "security": [],
                    "responses": {"200": {"description": "Prometheus text format"}},
                }
            },
        },
    }
