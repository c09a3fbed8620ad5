"""The failover loop: resolve the model, order its candidates, try each until one delivers images.

Each attempt rebuilds the upstream request from the canonical `ImageRequest` (nothing leaks
from one attempt to the next), runs under the per-attempt timeout and the request deadline,
and is recorded as an `Attempt` whatever its outcome.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

from mediarouter.catalog.models import Catalog, ModelSpec, Offering
from mediarouter.catalog.prices import cost_of, estimate_components, estimate_per_image, max_estimate
from mediarouter.errors import GatewayError
from mediarouter.observability.metrics import Metrics
from mediarouter.params.formats import sniff, sniff_b64
from mediarouter.params.requests import Resolved, resolve_params
from mediarouter.providers.base import Call, ImageAdapter, UpstreamError
from mediarouter.providers.driver import PollPolicy, run_attempt
from mediarouter.providers.transport import Transport
from mediarouter.routing.capabilities import unmet
from mediarouter.routing.failover import FailoverLoop, LoopLimits, Outcome
from mediarouter.routing.failures import redact_secret
from mediarouter.routing.health import Health, HealthStore
from mediarouter.routing.policy import Candidate, Policy, parse_preferences
from mediarouter.schemas.images import Attempt, ImageRequest, ProviderOutput

CLIENT_PREFIXES = ("mediarouter/", "lumenfall/")


@dataclass(frozen=True)
class ProviderRuntime:
    """A configured provider: its adapter and where/how to reach it (credentials stay here).

    `credentials`, when set, is awaited before each attempt for a fresh secret (e.g. a Vertex
    OAuth2 token minted from a service account and cached until expiry); otherwise `api_key`.
    `options` are the provider's extra config keys (project, location, second base URL...).
    """

    slug: str
    name: str
    adapter: ImageAdapter
    base_url: str
    api_key: str = field(repr=False)
    options: dict[str, Any] = field(default_factory=dict)
    credentials: Callable[[], Awaitable[str]] | None = field(default=None, repr=False)

    async def secret(self) -> str:
        return await self.credentials() if self.credentials is not None else self.api_key


@dataclass
class RouteResult:
    output: ProviderOutput
    model: ModelSpec
    offering: Offering
    provider_name: str
    attempts: list[Attempt]
    cost: float
    size: str | None
    notes: dict[str, Any]


@dataclass
class Plan:
    model: ModelSpec
    forced: str | None
    params: Resolved
    ordered: list[Candidate]
    hedge_s: float


@dataclass(frozen=True)
class RouterLimits:
    attempt_s: float  # one call, or a job until the provider accepts it
    request_s: float
    max_attempts: int
    poll: PollPolicy
    max_retry_after_s: float = 2.0
    hedge_after_ms: float = 0.0
    job_s: float = 300.0  # an accepted upstream job, polled until done (timeouts.job_s)


class Router:
    def __init__(
        self,
        catalog: Catalog,
        providers: dict[str, ProviderRuntime],
        transport: Transport,
        limits: RouterLimits,
        metrics: Metrics,
        health: HealthStore,
        policy: Policy,
    ) -> None:
        self.catalog = catalog
        self.providers = providers
        self.transport = transport
        self.limits = limits
        self.metrics = metrics
        self.health = health
        self.policy = policy

    def resolve_model(self, name: str) -> tuple[ModelSpec, str | None]:
        """The model and the forced provider slug (`vertex/gemini-3-pro-image`), if any."""
        for prefix in CLIENT_PREFIXES:
            if name.lower().startswith(prefix):
                name = name[len(prefix) :]
        model = self.catalog.get(name)
        if model is not None:
            return model, None
        slug, _, rest = name.partition("/")
        if rest and (
            slug in self.providers
            or any(o.provider == slug for m in self.catalog.models for o in m.offerings)
        ):
            model = self.catalog.get(rest)
            if model is not None:
                if model.offering(slug) is None:
                    served = ", ".join(o.provider for o in model.offerings)
                    raise GatewayError(
                        "MODEL_NOT_FOUND",
                        f"Provider '{slug}' does not serve model '{model.id}' (served by: {served})",
                        "model",
                    )
                return model, slug
        hint = self.catalog.suggest(rest or name)
        message = f"Model '{name}' not found" + (f". Did you mean '{hint}'?" if hint else "")
        raise GatewayError("MODEL_NOT_FOUND", message, "model")

    def available(self, model: ModelSpec) -> list[Offering]:
        return [o for o in model.offerings if o.provider in self.providers]

    def candidates(
        self, model: ModelSpec, forced: str | None, request: ImageRequest | None = None
    ) -> list[Offering]:
        """The configured providers of the model (the forced one only), and of those, when a request
        is given, the ones that can do it (an offering may take fewer input images than its model)."""
        offerings = self.available(model)
        if forced:
            offerings = [o for o in offerings if o.provider == forced]
        if not offerings:
            wanted = forced or ", ".join(o.provider for o in model.offerings)
            raise GatewayError(
                "MODEL_NOT_FOUND",
                f"Model '{model.id}' is not available: its provider ({wanted}) is not configured on this gateway",
                "model",
            )
        if request is None:
            return offerings
        unfit = {o.provider: why for o in offerings if (why := unmet(model, o, request))}
        fit = [o for o in offerings if o.provider not in unfit]
        if not fit:
            reasons = "; ".join(f"{slug} {why}" for slug, (_, why) in unfit.items())
            message = (
                f"Provider '{forced}' cannot serve this request for model '{model.id}': {forced} {unfit[forced][1]}"
                if forced
                else f"No provider of model '{model.id}' can serve this request: {reasons}"
            )
            raise GatewayError("INVALID_REQUEST", message, next(iter(unfit.values()))[0])
        return fit

    async def plan(self, request: ImageRequest) -> Plan:
        """Resolve the model, check the request against it, and order the providers to try."""
        hedge = request.extra.pop("hedge_after_ms", None)
        model, forced = self.resolve_model(request.model)
        params = resolve_params(request, model)
        offerings = self.candidates(model, forced, request)
        prefs = parse_preferences(request.extra.pop("provider", None))
        inputs = _input_sizes(request)
        candidates = [
            Candidate(
                o,
                estimate_per_image(o.price, params.quality, params.size, params.resolution, inputs),
                # one candidate: nothing to order, so skip the snapshot (~40 us in memory, I/O on Redis)
                await self.health.snapshot(o.provider, o.model_id) if len(offerings) > 1 else Health(),
            )
            for o in offerings
        ]
        ordered = candidates if forced else self.policy.order(model, candidates, prefs)
        if not ordered:
            unable = [
                f"{o.provider} {why[1]}" for o in self.available(model) if (why := unmet(model, o, request))
            ]
            raise GatewayError(
                "INVALID_REQUEST",
                f"No provider of '{model.id}' is left after the 'provider' preferences "
                f"(serving: {', '.join(o.provider for o in offerings)}"
                + (f"; not for this request: {'; '.join(unable)})" if unable else ")"),
                "provider",
            )
        hedge_ms = _hedge_ms(hedge) if hedge is not None else self.limits.hedge_after_ms
        return Plan(model, forced, params, ordered, 0.0 if forced else hedge_ms / 1000)

    @staticmethod
    def max_cost(plan: Plan, request: ImageRequest) -> float:
        """The most this request can cost (what a budget reserves): the dearest candidate's upper
        bound per image, times n, twice when hedging."""
        p = plan.params
        inputs = [(i.width, i.height) for i in (*request.images, *([request.mask] if request.mask else []))]
        dearest = max(
            max_estimate(
                c.offering.price, plan.model, p.quality, p.size, p.resolution, request.prompt, inputs
            )
            for c in plan.ordered
        )
        return dearest * request.n * (2 if plan.hedge_s else 1)

    async def estimate(self, request: ImageRequest) -> dict[str, Any]:
        """A dry run: validate, pick the provider the router would try first, price it; call nobody."""
        plan = await self.plan(request)
        model, params = plan.model, plan.params
        first = plan.ordered[0].offering
        components = estimate_components(
            first.price, params.quality, params.size, params.resolution, request.n, _input_sizes(request)
        )
        total_micros = sum(c["total_cost"] for c in components)
        return {
            "estimated": True,
            "model": model.id,
            "provider": first.provider,
            "executed_model": f"{first.provider}/{first.model_id}",
            "total_cost_micros": total_micros,
            "total_cost": round(total_micros / 1_000_000, 6),
            "currency": "USD",
            "components": components,
            "size": params.size,
            **params.notes,
        }

    async def run_image(
        self, request: ImageRequest, attempts: list[Attempt] | None = None, plan: Plan | None = None
    ) -> RouteResult:
        """Route one image request; `attempts` (when given) is filled even if the call is cancelled."""
        plan = plan or await self.plan(request)
        attempts = attempts if attempts is not None else []
        deadline = asyncio.get_running_loop().time() + self.limits.request_s
        outcome = await self._failover(request, plan, attempts, deadline)
        output = outcome.output
        if output.shortfall:  # some calls of an emulated `n` failed: make the rest up through failover
            try:
                extra = await self._failover(_with_n(request, output.shortfall), plan, attempts, deadline)
            except GatewayError as err:
                if err.code != "ALL_PROVIDERS_EXHAUSTED":
                    raise
                raise _short(request, len(output.images), attempts) from None
            output.images.extend(extra.output.images)
            output.shortfall = extra.output.shortfall
            if output.shortfall:
                raise _short(request, len(output.images), attempts)
        offering = outcome.candidate.offering
        total = round(sum(a.cost for a in attempts), 6)
        name = self.providers[offering.provider].name
        return RouteResult(
            output, plan.model, offering, name, attempts, total, plan.params.size, plan.params.notes
        )

    async def _failover(
        self, request: ImageRequest, plan: Plan, attempts: list[Attempt], deadline: float
    ) -> Outcome:
        model, params = plan.model, plan.params
        limits = LoopLimits(
            deadline=deadline,
            max_attempts=self.limits.max_attempts,
            max_retry_after_s=self.limits.max_retry_after_s,
            hedge_after_s=plan.hedge_s,
        )

        async def run(candidate: Candidate) -> ProviderOutput:
            runtime = self.providers[candidate.offering.provider]
            return await self._attempt(runtime, request, model, candidate.offering, params, deadline)

        def on_attempt(attempt: Attempt) -> None:
            self.metrics.attempt(
                attempt.provider, model.id, (attempt.error_code or attempt.status).lower(), attempt.latency_ms
            )

        inputs = _input_sizes(request)
        failover = FailoverLoop(
            run,
            lambda c, output: self._cost(c.offering, output, params, inputs),
            self.health,
            limits,
            attempts,
            plan.forced is not None,
            on_attempt,
            lambda message, slug: self._redact(message, self.providers[slug]),
        )
        return await failover.execute(plan.ordered)

    async def _attempt(
        self,
        runtime: ProviderRuntime,
        request: ImageRequest,
        model: ModelSpec,
        offering: Offering,
        params: Resolved,
        deadline: float,
    ) -> ProviderOutput:
        loop = asyncio.get_running_loop()
        attempt_deadline = min(deadline, loop.time() + self.limits.attempt_s)
        job_deadline = min(deadline, loop.time() + self.limits.job_s)
        model = model.served_by(offering)  # what this provider does: its max_n, output formats
        chunks = _split(request.n, model.max_n)
        secret = runtime.api_key
        if runtime.credentials is not None:  # a token endpoint that hangs must not outlive the attempt
            try:
                secret = await asyncio.wait_for(
                    runtime.credentials(), max(0.001, attempt_deadline - loop.time())
                )
            except TimeoutError:
                raise UpstreamError("timeout", "fetching the provider credentials timed out") from None
        calls = [
            Call(
                _with_n(request, n),
                model,
                offering,
                runtime.base_url,
                secret,
                params.size,
                params.quality,
                params.aspect_ratio,
                params.resolution,
                options=runtime.options,
            )
            for n in chunks
        ]
        policy = self.limits.poll
        if len(calls) == 1:
            return await run_attempt(
                runtime.adapter, calls[0], self.transport, attempt_deadline, policy, job_deadline
            )
        results = await asyncio.gather(
            *(
                run_attempt(runtime.adapter, c, self.transport, attempt_deadline, policy, job_deadline)
                for c in calls
            ),
            return_exceptions=True,
        )
        outputs = [r for r in results if isinstance(r, ProviderOutput)]
        failed = [(c, r) for c, r in zip(calls, results, strict=True) if not isinstance(r, ProviderOutput)]
        for _, error in failed:
            if not isinstance(error, UpstreamError):
                raise error
        if not outputs:
            raise failed[0][1]
        merged = outputs[0]
        merged.shortfall = sum(c.request.n for c, _ in failed)
        merged.failures = [error for _, error in failed]
        for extra in outputs[1:]:
            merged.images.extend(extra.images)
            if extra.usage and merged.usage:
                for k, v in extra.usage.items():
                    if isinstance(v, (int, float)) and isinstance(merged.usage.get(k), (int, float)):
                        merged.usage[k] += v
        return merged

    @staticmethod
    def _redact(message: str, runtime: ProviderRuntime) -> str:
        return redact_secret(message, runtime.api_key)

    @staticmethod
    def _cost(
        offering: Offering, output: ProviderOutput, params: Resolved, inputs: list[tuple[int, int]]
    ) -> float:
        pixels: list[tuple[int, int]] = []
        if offering.price.per == "megapixel":
            for img in output.images:
                found = sniff_b64(img.b64) if img.b64 else sniff(img.data) if img.data else None
                if found:
                    pixels.append((found[1], found[2]))
        size = output.size if output.size and output.size != "auto" else params.size
        return cost_of(
            offering.price,
            len(output.images),
            pixels,
            output.usage,
            params.quality,
            size,
            params.resolution,
            inputs,
        )


def _short(request: ImageRequest, made: int, attempts: list[Attempt]) -> GatewayError:
    """An emulated `n` that failover could not complete: what the provider last said, every attempt
    (their costs are what the request is billed: the images made were paid for)."""
    failed = [a for a in attempts if a.status == "failed"]
    last = ""
    if failed:
        a = failed[-1]
        last = f"; last: {a.provider} ({f'HTTP {a.http_status}' if a.http_status else (a.error_code or '').lower()}): {a.message}"
    return GatewayError(
        "ALL_PROVIDERS_EXHAUSTED",
        f"Only {made} of {request.n} images could be made{last}",
        extra={"attempts": [a.public() for a in attempts]},
    )


def _input_sizes(request: ImageRequest) -> list[tuple[int, int]]:
    return [(image.width, image.height) for image in request.images]


def _split(n: int, max_n: int) -> list[int]:
    max_n = max(1, max_n)
    return [min(max_n, n - i) for i in range(0, n, max_n)]


def _with_n(request: ImageRequest, n: int) -> ImageRequest:
    if n == request.n:
        return request
    from dataclasses import replace

    return replace(request, n=n)


def _hedge_ms(value: object) -> float:
    """`hedge_after_ms` from JSON (a number) or multipart (a numeric string)."""
    try:
        number = (
            float(value) if isinstance(value, (int, float, str)) and not isinstance(value, bool) else -1.0
        )
    except ValueError:
        number = -1.0
    if number < 0:
        raise GatewayError(
            "INVALID_REQUEST", "'hedge_after_ms' must be a non-negative number", "hedge_after_ms"
        )
    return number
