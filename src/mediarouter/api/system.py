"""Health, Prometheus metrics, signed media, and the OpenAPI document."""

from __future__ import annotations

import time

from starlette.requests import Request
from starlette.responses import FileResponse, Response

from mediarouter import __version__
from mediarouter.api.auth import require_admin
from mediarouter.api.openapi import openapi_document
from mediarouter.api.responses import json_response
from mediarouter.errors import GatewayError
from mediarouter.params.formats import MIME


async def health(request: Request) -> Response:
    gw = request.app.state.gw
    return json_response(
        {
            "status": "ok",
            "version": __version__,
            "sandbox": gw.sandbox,
            "providers": sorted(gw.router.providers),
        }
    )


async def metrics(request: Request) -> Response:
    if request.app.state.gw.settings.server.protect_metrics:
        await require_admin(request)
    return Response(request.app.state.gw.metrics.render(), media_type="text/plain; version=0.0.4")


async def media(request: Request) -> Response:
    gw = request.app.state.gw
    name = request.path_params["name"]
    params = request.query_params
    if not gw.signer.valid(name, params.get("expires", ""), params.get("signature", "")):
        raise GatewayError("NOT_FOUND", "Media link is invalid or has expired", status=404)
    found = await gw.media.fetch(name)
    if found is None:
        raise GatewayError("NOT_FOUND", "Media not found (it may have expired)", status=404)
    media_type = MIME.get(name.rsplit(".", 1)[-1], "application/octet-stream")
    # Cacheable for as long as the link is valid, never past it (valid() checked `expires` is a number).
    left = max(0, int(params["expires"]) - int(time.time()))
    headers = {"Cache-Control": f"private, max-age={left}"}
    if isinstance(found, bytes):
        return Response(found, media_type=media_type, headers=headers)
    return FileResponse(found, media_type=media_type, headers=headers)


async def openapi(request: Request) -> Response:
    return json_response(openapi_document())
