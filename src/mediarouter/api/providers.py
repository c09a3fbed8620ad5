"""`GET /v1/providers`: each provider's health, breaker state, success rate and latency per model."""

from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.responses import Response

from mediarouter.api.auth import authenticate
from mediarouter.api.responses import json_response
from mediarouter.providers.registry import PROVIDERS
from mediarouter.routing.health import Health

_RANK = {"healthy": 0, "probing": 1, "degraded": 2, "open_breaker": 3}


async def list_providers(request: Request) -> Response:
    await authenticate(request)
    router = request.app.state.gw.router
    snapshots: dict[tuple[str, str], Health] = await router.health.all()
    data: list[dict[str, Any]] = []
    for slug, runtime in sorted(router.providers.items()):
        models = []
        for model in router.catalog.models:
            offering = model.offering(slug)
            if offering is None:
                continue
            health = snapshots.get((slug, offering.model_id), Health())
            models.append({"model": model.id, "provider_model_id": offering.model_id, **health.public()})
        worst = max((m["status"] for m in models), key=lambda s: _RANK[s], default="healthy")
        info = PROVIDERS.get(slug)
        data.append(
            {
                "id": slug,
                "object": "provider",
                "name": runtime.name,
                "status": worst,
                "status_page": info.status_page if info else None,
                "models": models,
            }
        )
    return json_response({"object": "list", "data": data})
