"""The sandbox as one Starlette app: every emulator under `/<slug>`, fault injection at `/_faults`.

The gateway mounts `build_sandbox_app(...)` at `/sandbox` in sandbox mode; `mediarouter sandbox`
serves `build_standalone_app(...)`, which adds `/health`. Adding an emulator is one row in
`EMULATORS`: a function from `EmulatorContext` to a Starlette app.

Fault endpoints (admin only), answered in the gateway's error shape:
  GET    /_faults   {"faults": [...], "requests": {provider: count}}
  POST   /_faults   one fault (see `faults.Fault`), adding it or replacing the one for its
                    (provider, model); a "seed" key reseeds the `rate` draws (alone, it only reseeds)
  DELETE /_faults   clear every fault and the request counts
"""

from __future__ import annotations

import hmac
from collections.abc import Awaitable, Callable
from typing import Any

import orjson
from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Mount, Route

from mediarouter.api.responses import error_response, json_response
from mediarouter.errors import GatewayError, invalid, not_found, unauthenticated
from mediarouter.sandbox.alibaba import build_alibaba_emulator
from mediarouter.sandbox.context import EmulatorBuilder, EmulatorContext
from mediarouter.sandbox.fal import build_fal_emulator
from mediarouter.sandbox.faults import FaultBook, parse_fault, parse_seed
from mediarouter.sandbox.fireworks import build_fireworks_emulator
from mediarouter.sandbox.google import build_gemini_emulator, build_vertex_emulator
from mediarouter.sandbox.images import ImageRenderer
from mediarouter.sandbox.openai import build_openai_emulator
from mediarouter.sandbox.openrouter import build_openrouter_emulator
from mediarouter.sandbox.replicate import build_replicate_emulator
from mediarouter.sandbox.runware import build_runware_emulator
from mediarouter.sandbox.xai import build_xai_emulator
from mediarouter.settings import EmulatorSettings

AdminCheck = Callable[[Request], Awaitable[None]]

EMULATORS: dict[str, EmulatorBuilder] = {
    "openai": build_openai_emulator,
    "gemini": build_gemini_emulator,
    "vertex": build_vertex_emulator,
    "alibaba": build_alibaba_emulator,
    "openrouter": build_openrouter_emulator,
    "fireworks": build_fireworks_emulator,
    "runware": build_runware_emulator,
    "xai": build_xai_emulator,
    "replicate": build_replicate_emulator,
    "fal": build_fal_emulator,
}


def build_sandbox_app(
    book: FaultBook, renderer: ImageRenderer, settings: EmulatorSettings, authorize_admin: AdminCheck
) -> Starlette:
    """`authorize_admin` raises GatewayError for a caller who may not touch the faults."""
    context = EmulatorContext(book, renderer, settings)

    async def faults(request: Request) -> Response:
        await authorize_admin(request)
        if request.method == "POST":
            _update(book, await _json_object(request))
        elif request.method == "DELETE":
            book.clear()
        return json_response(book.snapshot())

    routes: list[Route | Mount] = [Route("/_faults", faults, methods=["GET", "POST", "DELETE"])]
    routes += [Mount(f"/{slug}", app=build(context)) for slug, build in EMULATORS.items()]
    return Starlette(routes=routes, exception_handlers=_gateway_handlers())


def build_standalone_app(settings: EmulatorSettings, admin_key: str | None) -> Starlette:
    """The sandbox alone, at `/sandbox`; with no admin key the fault endpoints are open."""

    async def authorize_admin(request: Request) -> None:
        if admin_key is None:
            return
        scheme, _, key = request.headers.get("authorization", "").partition(" ")
        if scheme.lower() != "bearer" or not hmac.compare_digest(key.strip().encode(), admin_key.encode()):
            raise unauthenticated("The fault endpoints need 'Authorization: Bearer <admin key>'")

    async def health(request: Request) -> Response:
        return json_response({"status": "ok", "emulators": sorted(EMULATORS)})

    sandbox = build_sandbox_app(FaultBook(), ImageRenderer(settings.image_cache), settings, authorize_admin)
    routes = [Route("/health", health, methods=["GET"]), Mount("/sandbox", app=sandbox)]
    return Starlette(routes=routes, exception_handlers=_gateway_handlers())


def _update(book: FaultBook, body: dict[str, Any]) -> None:
    """Validate everything before changing anything: a bad fault must not leave a new seed behind."""
    has_seed = "seed" in body
    seed = parse_seed(body.pop("seed", None))
    fault = parse_fault(body) if body or not has_seed else None
    if has_seed:
        book.seed(seed)
    if fault is not None:
        book.set(fault)


async def _json_object(request: Request) -> dict[str, Any]:
    try:
        body = orjson.loads(await request.body())
    except orjson.JSONDecodeError:
        raise invalid("The body is not valid JSON") from None
    if not isinstance(body, dict):
        raise invalid("The body must be a JSON object describing one fault")
    return body


def _gateway_handlers() -> dict[Any, Callable[[Request, Exception], Awaitable[Response]]]:
    async def gateway_error(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, GatewayError)
        return error_response(exc)

    async def http_error(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, HTTPException)
        if exc.status_code == 404:
            known = ", ".join(f"/sandbox/{slug}" for slug in sorted(EMULATORS))
            return error_response(
                not_found(f"No such sandbox endpoint: {request.url.path} (emulators: {known})")
            )
        if exc.status_code == 405:
            message = f"Method {request.method} is not allowed on {request.url.path}"
            return error_response(GatewayError("METHOD_NOT_ALLOWED", message))
        return error_response(GatewayError("INVALID_REQUEST", str(exc.detail), status=exc.status_code))

    return {GatewayError: gateway_error, HTTPException: http_error}
