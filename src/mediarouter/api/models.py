"""`GET /models` and `GET /models/{id}` (with `?schema=true`: the parameters the model accepts)."""

from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.responses import Response

from mediarouter.api.auth import authenticate
from mediarouter.api.responses import json_response
from mediarouter.catalog.models import CAPABILITIES, ModelSpec, Offering
from mediarouter.catalog.schema import model_schema
from mediarouter.providers.registry import ACCEPTED_EXTRAS

CREATED = 1_767_225_600  # catalog epoch: models carry no creation date of their own


def _narrowed(offering: Offering) -> dict[str, Any]:
    limits = {name: getattr(offering, name) for name in CAPABILITIES}
    return {k: list(v) if isinstance(v, tuple) else v for k, v in limits.items() if v is not None}


def describe(model: ModelSpec, offerings: list[Any], provider_names: dict[str, str]) -> dict[str, Any]:
    return {
        "id": model.id,
        "object": "model",
        "created": CREATED,
        "owned_by": model.creator,
        "name": model.name,
        "description": model.description,
        "aliases": list(model.aliases),
        "modality": model.kind,
        "capabilities": {
            "modes": list(model.modes),
            "sizes": list(model.sizes),
            "aspect_ratios": list(model.aspect_ratios),
            "resolutions": list(model.resolutions),
            "max_n": model.max_n,
            "output_formats": list(model.output_formats),
            "max_input_images": model.max_input_images,
            "mask": model.mask,
        },
        "providers": [
            {
                "provider": o.provider,
                "provider_name": provider_names.get(o.provider, o.provider),
                "model_id": o.model_id,
                "config_key": f"{o.provider}/{model.id}",
                "price": {
                    "per": o.price.per,
                    "usd": o.price.usd,
                    "input_per_million": o.price.input,
                    "output_per_million": o.price.output,
                    "variants": o.price.variants,
                    **({"extra_megapixel_usd": o.price.extra_usd} if o.price.extra_usd is not None else {}),
                    **({"input_images_billed": True} if o.price.inputs else {}),
                },
                "price_source": o.source,
                # Only where this provider does less than the model (e.g. one input image on fal).
                "limits": _narrowed(o),
            }
            for o in offerings
        ],
    }


async def list_models(request: Request) -> Response:
    await authenticate(request)
    router = request.app.state.gw.router
    names = {slug: p.name for slug, p in router.providers.items()}
    data = [describe(m, router.available(m), names) for m in router.catalog.models if router.available(m)]
    return json_response({"object": "list", "data": data})


async def get_model(request: Request) -> Response:
    await authenticate(request)
    router = request.app.state.gw.router
    model, forced = router.resolve_model(request.path_params["model_id"])
    names = {slug: p.name for slug, p in router.providers.items()}
    offerings = router.candidates(model, forced)
    body = describe(model, offerings, names)
    if request.query_params.get("schema", "").lower() in ("1", "true", "yes"):
        extras = {o.provider: ACCEPTED_EXTRAS.get(o.provider, frozenset()) for o in offerings}
        body["schema"] = model_schema(model, request.app.state.gw.settings.limits.max_n, extras)
    return json_response(body)
