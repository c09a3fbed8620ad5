"""`POST /images/generations` and `/images/edits`: parse, route, render, log. Knows no provider."""

from __future__ import annotations

import asyncio
import hashlib
import logging
import time
from typing import Any

import orjson
from starlette.requests import Request
from starlette.responses import Response

from mediarouter.api.auth import authenticate
from mediarouter.api.image_input import read_image_request
from mediarouter.api.image_output import render_images
from mediarouter.api.request_log import catalog_model_id
from mediarouter.api.requests_context import new_request_id, public_base, trace_id, until_disconnect
from mediarouter.api.responses import error_response, json_response
from mediarouter.errors import GatewayError
from mediarouter.providers.registry import ACCEPTED_EXTRAS
from mediarouter.routing.router import Plan, RouteResult
from mediarouter.schemas.images import ImageRequest, Mode
from mediarouter.store.idempotency import Stored
from mediarouter.store.keys import KeyRecord
from mediarouter.store.limits import Lease
from mediarouter.store.request_log import RequestRecord

log = logging.getLogger("mediarouter")
# Response metadata that says what the gateway changed; the log keeps it under params.applied.
_APPLIED = ("size_mapping", "ignored_params", "format_conversion", "output_compression")


async def generations(request: Request) -> Response:
    return await _handle(request, "generate", "/v1/images/generations")


async def edits(request: Request) -> Response:
    return await _handle(request, "edit", "/v1/images/edits")


async def variations(request: Request) -> Response:
    await authenticate(request)
    raise GatewayError(  # a 400 from the error table, so SDKs raise BadRequestError and never retry
        "INVALID_REQUEST",
        "/images/variations is not supported: use /images/edits with a prompt describing the variation",
    )


async def _handle(request: Request, mode: Mode, endpoint: str) -> Response:
    """Authenticate, then serve; whatever happens after authentication is logged."""
    gw = request.app.state.gw
    started = time.perf_counter()
    key = await authenticate(request)
    rid = new_request_id()
    record = RequestRecord(
        rid, time.time(), endpoint, "rejected", 0, key_id=key.key_id, trace_id=trace_id(request)
    )
    gw.metrics.in_flight += 1
    lease: Lease | None = None
    try:
        lease = await gw.limits.admit(key)
        response = await _serve(request, gw, mode, record, started, key, lease)
    except GatewayError as err:
        response = _fail(record, err, rid)
    except asyncio.CancelledError:  # cut off at the shutdown deadline: still answered and logged
        asyncio.current_task().uncancel()  # type: ignore[union-attr]
        err = GatewayError("SHUTTING_DOWN", "The gateway shut down before this request finished; retry it")
        err.extra["attempts"] = record.attempts
        response = _fail(record, err, rid)
    except Exception:
        log.exception("internal error in request %s", rid)
        err = GatewayError("INTERNAL_ERROR", f"Internal error; quote request id {rid} when reporting it")
        response = _fail(record, err, rid)
    finally:
        if lease is not None:
            await gw.limits.release(lease, record.cost)
    record.duration_ms = (time.perf_counter() - started) * 1000
    record.overhead_ms = _overhead(started, record.upstream_ms)
    gw.metrics.request(
        endpoint, record.model or "", record.http_status, record.duration_ms, record.overhead_ms
    )
    try:
        await gw.log.finish(record)  # on PostgreSQL committed first: readable on every instance at once
    finally:
        gw.metrics.in_flight -= 1  # only now: a shutdown waits for the rows of cut-off requests
    return response


async def _serve(
    request: Request, gw: Any, mode: Mode, record: RequestRecord, started: float, key: KeyRecord, lease: Lease
) -> Response:
    canonical, record.request_size_bytes = await read_image_request(
        request, mode, gw.settings, gw.untrusted.fetch
    )
    record.model, record.user = canonical.model, canonical.user
    record.model_id = catalog_model_id(gw.router, canonical.model)
    record.params = canonical.logged_params()
    if gw.settings.log.store_prompts:
        record.prompt = canonical.prompt
    if request.query_params.get("dryRun", "").lower() in ("1", "true", "yes"):
        estimate = await gw.router.estimate(canonical)
        record.status, record.http_status, record.provider = "completed", 200, estimate["provider"]
        return json_response(estimate, headers={"X-MediaRouter-Request-Id": record.id})
    idem_key = request.headers.get("idempotency-key")
    if idem_key:
        if len(idem_key) > 255:
            raise GatewayError(
                "INVALID_REQUEST", "Idempotency-Key is longer than 255 characters", "Idempotency-Key"
            )
        stored = await gw.idempotency.begin(key.key_id, idem_key, fingerprint(canonical))
        if stored is not None:
            record.status, record.http_status = "completed", stored.status
            record.error_message = "replayed from Idempotency-Key"
            headers = {
                **stored.headers,
                "Idempotent-Replayed": "true",
                "X-MediaRouter-Replay-Of": stored.headers.get("x-mediarouter-request-id", ""),
            }
            return Response(stored.body, stored.status, headers=headers, media_type="application/json")
    try:
        response = await _generate(request, gw, canonical, record, started, key, lease)
    except BaseException:
        if idem_key:
            await gw.idempotency.abandon(key.key_id, idem_key)
        raise
    if idem_key:
        headers = {k: v for k, v in response.headers.items() if k.startswith("x-mediarouter")}
        await gw.idempotency.finish(
            key.key_id, idem_key, Stored(response.status_code, headers, bytes(response.body))
        )
    return response


async def _generate(
    request: Request,
    gw: Any,
    canonical: ImageRequest,
    record: RequestRecord,
    started: float,
    key: KeyRecord,
    lease: Lease,
) -> Response:
    plan = await gw.router.plan(canonical)
    await gw.limits.reserve(key, lease, gw.router.max_cost(plan, canonical))
    result = await _route(request, gw, canonical, record, plan)
    record.attempts = [a.public() for a in result.attempts]
    rendered = await render_images(
        canonical,
        result.output,
        gw.media,
        gw.signer,
        public_base(request, gw.settings) if canonical.response_format == "url" else "",  # URLs only
        gw.settings.media.url_ttl_s,
    )
    executed = f"{result.offering.provider}/{result.offering.model_id}"
    metadata: dict[str, Any] = {
        "model": result.model.id,
        "executed_model": executed,
        "provider": result.offering.provider,
        "provider_name": result.provider_name,
        "cost": result.cost,
        "cost_currency": "USD",
        "attempts": record.attempts,
        **result.notes,
    }
    ignored = sorted(
        set(metadata.get("ignored_params", []))
        | _unsent_extras(canonical, result.offering.provider)
        | set(rendered.ignored)
    )
    if ignored:
        metadata["ignored_params"] = ignored
    if rendered.converted:
        metadata["format_conversion"] = {"from": result.output.output_format, "to": rendered.output_format}
    metadata.update(rendered.notes)
    # What the gateway did to the request, kept in the log so any client's request shows it later.
    applied = {k: metadata[k] for k in _APPLIED if k in metadata}
    if applied:
        record.params = {**record.params, "applied": applied}
    body: dict[str, Any] = {
        "id": record.id,
        "created": int(record.created_at),
        "data": rendered.data,
        "size": rendered.size,
        "output_format": rendered.output_format,
    }
    if result.output.usage:
        body["usage"] = result.output.usage
    body.update({k: v for k, v in result.output.echo.items() if k not in body})
    body["metadata"] = metadata
    headers = {
        "X-MediaRouter-Request-Id": record.id,
        "X-MediaRouter-Provider": result.offering.provider,
        "X-MediaRouter-Model": executed,
        "X-MediaRouter-Cost": f"{result.cost:.6f}",
        "X-MediaRouter-Attempts": str(len(result.attempts)),
        "X-MediaRouter-Overhead-Ms": f"{_overhead(started, record.upstream_ms):.2f}",
    }
    response = json_response(body, headers=headers)
    record.status, record.http_status = "completed", 200
    record.executed_model, record.provider, record.cost = executed, result.offering.provider, result.cost
    record.image_count, record.image_sizes = len(rendered.data), rendered.sizes
    record.response_size_bytes = len(response.body)
    return response


async def _route(request: Request, gw: Any, canonical: Any, record: RequestRecord, plan: Plan) -> RouteResult:
    """Run the router, cancelling its attempts if the client goes away first."""
    attempts: list[Any] = []
    entered = time.perf_counter()
    try:
        return await _route_until_disconnect(request, gw, canonical, attempts, plan)
    except asyncio.CancelledError:
        record.attempts = [a.public() for a in attempts]  # for the log row of the cut-off request
        raise
    finally:
        record.upstream_ms = (time.perf_counter() - entered) * 1000  # overhead = everything but this


async def _route_until_disconnect(
    request: Request, gw: Any, canonical: Any, attempts: list[Any], plan: Plan
) -> RouteResult:
    try:
        return await until_disconnect(
            request,
            gw.router.run_image(canonical, attempts, plan),
            "The client closed the connection; in-flight attempts were cancelled",
        )
    except GatewayError as err:
        if err.code == "CANCELLED":
            err.extra["attempts"] = [a.public() for a in attempts]
        raise


def _fail(record: RequestRecord, err: GatewayError, rid: str) -> Response:
    """Log and render a failed request. Its cost is what its attempts were billed (a failed emulated
    `n` paid for the images it made, a hedge's other success too): logged and settled on the budget."""
    attempts = err.extra.get("attempts") or []
    record.http_status = err.http_status
    record.error_code, record.error_message = err.code, err.message
    record.attempts = attempts
    record.cost = round(sum(a.get("cost") or 0.0 for a in attempts), 6)
    if err.code in ("CANCELLED", "SHUTTING_DOWN"):
        record.status = "cancelled"
    elif attempts or err.code in ("ALL_PROVIDERS_EXHAUSTED", "UPSTREAM_ERROR"):
        record.status = "upstream_failure"
    else:
        record.status = "rejected"
    headers = {"X-MediaRouter-Request-Id": rid, "X-MediaRouter-Attempts": str(len(attempts))}
    if record.cost:
        headers["X-MediaRouter-Cost"] = f"{record.cost:.6f}"
    err.extra.setdefault("request_id", rid)
    return error_response(err, headers)


def _unsent_extras(canonical: ImageRequest, provider: str) -> set[str]:
    """Extra fields the serving provider's adapter does not forward: reported, never silently lost."""
    return set(canonical.extra) - ACCEPTED_EXTRAS.get(provider, frozenset())


def fingerprint(canonical: ImageRequest) -> str:
    """What makes two requests the same for Idempotency-Key, whatever their multipart boundaries."""
    digest = hashlib.sha256()
    fields = {f: getattr(canonical, f) for f in canonical.__slots__ if f not in ("images", "mask")}
    digest.update(orjson.dumps(fields, option=orjson.OPT_SORT_KEYS | orjson.OPT_NON_STR_KEYS, default=str))
    for image in (*canonical.images, canonical.mask):
        digest.update(hashlib.sha256(image.data).digest() if image is not None else b"-")
    return digest.hexdigest()


def _overhead(started: float, upstream_ms: float) -> float:
    return max(0.0, (time.perf_counter() - started) * 1000 - upstream_ms)
