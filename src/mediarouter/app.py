"""Composition root: builds settings-driven parts once and wires them into one Starlette app."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Mount

from mediarouter.api.auth import require_admin
from mediarouter.api.responses import error_response
from mediarouter.api.routes import routes
from mediarouter.catalog.models import Catalog, load_catalog
from mediarouter.errors import GatewayError
from mediarouter.media import MediaStore
from mediarouter.media.local import LocalMediaStore
from mediarouter.media.s3 import S3MediaStore
from mediarouter.media.signing import Signer, load_or_create_key
from mediarouter.observability.metrics import Metrics
from mediarouter.providers.custom import OpenAICompatibleAdapter, add_custom_offerings, is_custom
from mediarouter.providers.driver import PollPolicy
from mediarouter.providers.registry import ADAPTERS, CREDENTIALS, PROVIDERS, SANDBOX_API_KEY
from mediarouter.providers.transport import Transport
from mediarouter.routing.health import BreakerPolicy, HealthStore, MemoryHealth
from mediarouter.routing.health_redis import RedisHealth
from mediarouter.routing.policy import Policy, Rule, Weights
from mediarouter.routing.router import ProviderRuntime, Router, RouterLimits
from mediarouter.security.ssrf import UntrustedFetcher
from mediarouter.settings import Settings
from mediarouter.store.database import Database, open_database
from mediarouter.store.idempotency import Idempotency, MemoryIdempotency, RedisIdempotency
from mediarouter.store.keys import KeyStore
from mediarouter.store.limits import Limits, MemoryLimits, RedisLimits
from mediarouter.store.request_log import RequestLog
from mediarouter.ui import ui_routes

log = logging.getLogger("mediarouter")
DRAIN_S = 5.0  # most a shutdown waits for cancelled requests to log themselves


@dataclass
class Gateway:
    settings: Settings
    sandbox: bool
    router: Router
    keys: KeyStore
    log: RequestLog
    media: MediaStore
    signer: Signer
    metrics: Metrics
    db: Database
    limits: Limits
    idempotency: Idempotency
    untrusted: UntrustedFetcher
    redis: Any = None


def sandbox_base(settings: Settings) -> str:
    host = settings.server.host
    host = "127.0.0.1" if host in ("0.0.0.0", "", "::") else host
    host = f"[{host}]" if ":" in host else host
    return f"http://{host}:{settings.server.port}/sandbox"


def provider_runtimes(settings: Settings, catalog: Catalog) -> dict[str, ProviderRuntime]:
    """Every provider with credentials, or, in sandbox mode, every provider wired to its emulator."""
    runtimes: dict[str, ProviderRuntime] = {}
    for slug, adapter in ADAPTERS.items():
        info = PROVIDERS[slug]
        if settings.sandbox_mode:
            root = f"{sandbox_base(settings)}/{slug}"
            base, key = f"{root}{info.sandbox_path}", SANDBOX_API_KEY
            options = {
                k: v.replace("{sandbox}", root) if isinstance(v, str) else v
                for k, v in info.sandbox_options.items()
            }
        else:
            conf = settings.providers.get(slug)
            if conf is None or not conf.has_credentials:
                continue
            base, key, options = conf.base_url or info.base_url, conf.api_key or "", dict(conf.options)
        credentials = CREDENTIALS[slug](options, key) if slug in CREDENTIALS else None
        runtimes[slug] = ProviderRuntime(slug, info.name, adapter, base, key, options, credentials)
    for slug, conf in settings.providers.items():
        if not is_custom(conf) or slug in PROVIDERS:
            continue
        name = str(conf.options.get("name") or slug)
        if settings.sandbox_mode:  # they speak OpenAI's protocol: the OpenAI emulator stands in
            base, key = f"{sandbox_base(settings)}/openai/v1", SANDBOX_API_KEY
        else:
            base, key = conf.base_url or "", conf.api_key or ""
        runtimes[slug] = ProviderRuntime(slug, name, OpenAICompatibleAdapter(slug, name), base, key, {})
    return runtimes


def build_gateway(settings: Settings) -> Gateway:
    catalog = add_custom_offerings(
        load_catalog(settings.catalog, settings.source), settings.providers, settings.source
    )
    t = settings.timeouts
    transport = Transport(
        settings.limits.max_connections_per_provider, t.connect_s, settings.limits.max_upstream_bytes
    )
    metrics = Metrics()
    r = settings.routing
    limits = RouterLimits(
        attempt_s=t.attempt_s,
        job_s=t.job_s,
        request_s=t.request_s,
        max_attempts=r.max_attempts,
        poll=PollPolicy(t.poll_interval_s, t.poll_max_interval_s, t.fetch_s),
        max_retry_after_s=r.max_retry_after_s,
        hedge_after_ms=r.hedge_after_ms,
    )
    breaker = BreakerPolicy(
        r.breaker_window_s,
        r.breaker_min_requests,
        r.breaker_failure_rate,
        r.breaker_cooldown_s,
        r.breaker_half_open_probes,
        probe_ttl_s=max(t.attempt_s, t.job_s),  # a probe slot outlives no attempt
    )
    db = open_database(settings.core.database_url, settings.data_dir, settings.core.database_busy_timeout_s)
    commit = settings.log.commit_before_answer  # auto: only where other instances share the database
    commit_first = commit == "always" or (commit == "auto" and db.dialect == "postgres")
    request_log = RequestLog(db, settings.log.flush_interval_s, metrics.log_row_dropped, commit_first)
    redis = None
    prefix = settings.core.redis_prefix
    health: HealthStore
    limits_store: Limits
    idempotency: Idempotency
    if settings.core.redis_url:
        import redis.asyncio as aioredis

        redis = aioredis.from_url(settings.core.redis_url)
        health = RedisHealth(redis, breaker, prefix)
        limits_store = RedisLimits(redis, request_log.spent_since, prefix, hold_s=settings.in_flight_ttl_s)
        idempotency = RedisIdempotency(
            redis, settings.limits.idempotency_ttl_s, prefix, pending_s=settings.in_flight_ttl_s
        )
    else:
        health = MemoryHealth(breaker)
        limits_store = MemoryLimits(request_log.spent_since)
        idempotency = MemoryIdempotency(settings.limits.idempotency_ttl_s, settings.in_flight_ttl_s)
    rules = [
        Rule(
            x["match"],
            x.get("policy", "priority"),
            tuple(tuple(g) for g in x.get("groups", [])),
            dict(x.get("weights", {})),
        )
        for x in settings.routing_rules
    ]
    policy = Policy(r.policy, rules, Weights(r.weight_price, r.weight_latency, r.weight_success), r.seed)
    router = Router(catalog, provider_runtimes(settings, catalog), transport, limits, metrics, health, policy)
    return Gateway(
        settings=settings,
        sandbox=settings.sandbox_mode,
        router=router,
        keys=KeyStore(db, settings.core.admin_key, settings.server.key_cache_s),
        log=request_log,
        media=_media_store(settings),
        signer=Signer(load_or_create_key(settings.media.signing_key, settings.data_dir)),
        metrics=metrics,
        db=db,
        limits=limits_store,
        idempotency=idempotency,
        untrusted=UntrustedFetcher(settings.limits.max_image_bytes, settings.timeouts.fetch_s),
        redis=redis,
    )


def _media_store(settings: Settings) -> MediaStore:
    m = settings.media
    if m.backend == "s3":
        assert m.s3_endpoint and m.s3_bucket and m.s3_access_key and m.s3_secret_key
        return S3MediaStore(
            m.s3_endpoint,
            m.s3_bucket,
            m.s3_access_key,
            m.s3_secret_key,
            m.s3_region,
            m.s3_prefix,
            m.s3_timeout_s,
        )
    return LocalMediaStore(settings.data_dir / "media")


async def _every(seconds: float, job: object) -> None:
    while True:
        await asyncio.sleep(seconds)
        try:
            await job()  # type: ignore[operator]
        except Exception:
            log.exception("periodic job failed")


async def _drain(gw: Gateway, cap_s: float = DRAIN_S) -> None:
    """Wait for requests still finishing: those the server cancelled at its shutdown deadline answer
    and log themselves first (`in_flight` drops once a row is logged), then the log is flushed."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + cap_s
    while gw.metrics.in_flight > 0 and loop.time() < deadline:
        await asyncio.sleep(0.01)


def create_app(settings: Settings) -> Starlette:
    gw = build_gateway(settings)

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        await gw.db.open()
        gw.log.start()
        jobs = [
            asyncio.create_task(
                _every(settings.media.prune_interval_s, lambda: gw.media.prune(settings.media.url_ttl_s))
            ),
            asyncio.create_task(
                _every(
                    settings.log.prune_interval_s, lambda: gw.log.prune(settings.log.retention_days * 86400)
                )
            ),
        ]
        try:
            yield
        finally:
            for job in jobs:
                job.cancel()
            await _drain(gw)
            await gw.log.close()
            await gw.router.transport.close()
            await gw.media.close()
            await gw.untrusted.close()
            await gw.db.close()
            if gw.redis is not None:
                await gw.redis.aclose()

    mounts = list(routes()) + ui_routes()
    if gw.sandbox:
        mounts.append(Mount("/sandbox", app=_sandbox_app(settings, gw.keys)))
    app = Starlette(
        routes=mounts,
        lifespan=lifespan,
        exception_handlers={
            GatewayError: _gateway_error,
            HTTPException: _http_error,
            Exception: _internal_error,
        },
    )
    app.state.gw = gw
    return app


def _sandbox_app(settings: Settings, keys: KeyStore) -> Starlette:
    from mediarouter.sandbox.app import build_sandbox_app
    from mediarouter.sandbox.faults import FaultBook
    from mediarouter.sandbox.images import ImageRenderer

    async def authorize_admin(request: Request) -> None:
        await require_admin(request, keys)

    return build_sandbox_app(
        FaultBook(), ImageRenderer(settings.emulator.image_cache), settings.emulator, authorize_admin
    )


async def _gateway_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, GatewayError)
    return error_response(exc)


async def _http_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, HTTPException)
    if exc.status_code == 404:
        err = GatewayError("NOT_FOUND", f"No such endpoint: {request.method} {request.url.path}")
    elif exc.status_code == 405:
        err = GatewayError(
            "METHOD_NOT_ALLOWED",
            f"Method {request.method} is not allowed on {request.url.path}",
            headers=dict(exc.headers or {}),  # keeps Starlette's `Allow` header (RFC 9110)
        )
    else:
        err = GatewayError("INVALID_REQUEST", str(exc.detail), status=exc.status_code)
    return error_response(err)


async def _internal_error(request: Request, exc: Exception) -> Response:
    log.error("unhandled error on %s %s", request.method, request.url.path, exc_info=exc)
    return error_response(GatewayError("INTERNAL_ERROR", "Internal error"))
