"""Which providers to try, in which order: the configured policy, the request's `provider` object,
and health.

Policies (config `routing.policy`, or per model glob in `routing.rules`):
- `balanced` (default): a weighted random order favouring lower price, lower latency (EWMA) and
  higher recent success rate, with `routing.weight_*` as the weights; the order may differ per request.
- `priority`: ordered groups of providers, a weighted random split inside each group.
- `cheapest`, `fastest`: sorted by estimated price or by latency EWMA.
A request may narrow this with `provider: {order, only, ignore, allow_fallbacks, sort, max_price}`;
`allow_fallbacks: false` keeps exactly the providers named in `order` (the first ranked without it).
"""

from __future__ import annotations

import fnmatch
import math
import random
from dataclasses import dataclass, field
from typing import Any

from mediarouter.catalog.models import ModelSpec, Offering
from mediarouter.errors import invalid
from mediarouter.routing.health import CLOSED, Health

POLICIES = ("balanced", "priority", "cheapest", "fastest")


@dataclass(frozen=True)
class Rule:
    match: str  # glob over model ids, e.g. "flux*"
    policy: str
    groups: tuple[tuple[str, ...], ...] = ()
    weights: dict[str, float] = field(default_factory=dict)


@dataclass(frozen=True)
class Weights:
    price: float = 1.0
    latency: float = 1.0
    success: float = 2.0


@dataclass
class Preferences:
    """The request's `provider` object."""

    order: list[str] = field(default_factory=list)
    only: list[str] = field(default_factory=list)
    ignore: list[str] = field(default_factory=list)
    allow_fallbacks: bool = True
    sort: str | None = None
    max_price: float | None = None


def parse_preferences(raw: Any) -> Preferences:
    if raw is None:
        return Preferences()
    if not isinstance(raw, dict):
        raise invalid(
            "'provider' must be an object with order, only, ignore, allow_fallbacks, sort, max_price",
            "provider",
        )
    prefs = Preferences()
    for name in ("order", "only", "ignore"):
        value = raw.get(name)
        if value is None:
            continue
        if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
            raise invalid(f"'provider.{name}' must be a list of provider slugs", f"provider.{name}")
        setattr(prefs, name, value)
    if "allow_fallbacks" in raw:
        if not isinstance(raw["allow_fallbacks"], bool):
            raise invalid("'provider.allow_fallbacks' must be true or false", "provider.allow_fallbacks")
        prefs.allow_fallbacks = raw["allow_fallbacks"]
    if raw.get("sort") is not None:
        if raw["sort"] not in ("price", "latency"):
            raise invalid("'provider.sort' must be 'price' or 'latency'", "provider.sort")
        prefs.sort = raw["sort"]
    if raw.get("max_price") is not None:
        value = raw["max_price"]
        if isinstance(value, bool) or not isinstance(value, (int, float)) or value < 0:
            raise invalid(
                "'provider.max_price' must be a non-negative number (USD per image)", "provider.max_price"
            )
        prefs.max_price = float(value)
    unknown = set(raw) - {"order", "only", "ignore", "allow_fallbacks", "sort", "max_price"}
    if unknown:
        raise invalid(f"Unknown 'provider' field(s): {', '.join(sorted(unknown))}", "provider")
    return prefs


@dataclass
class Candidate:
    offering: Offering
    price: float  # estimated USD per image
    health: Health


class Policy:
    def __init__(self, default: str, rules: list[Rule], weights: Weights, seed: int | None) -> None:
        self.default = default
        self.rules = rules
        self.weights = weights
        self.rng = random.Random(seed)

    def rule_for(self, model: ModelSpec) -> Rule:
        for rule in self.rules:
            if fnmatch.fnmatch(model.id, rule.match) or any(
                fnmatch.fnmatch(a, rule.match) for a in model.aliases
            ):
                return rule
        return Rule("*", self.default)

    def order(self, model: ModelSpec, candidates: list[Candidate], prefs: Preferences) -> list[Candidate]:
        """Healthy candidates in policy order, then those with an open breaker (last resort)."""
        pool = [c for c in candidates if self._admitted(c, prefs)]
        if not pool:
            return []
        rule = self.rule_for(model)
        policy = {"price": "cheapest", "latency": "fastest"}.get(prefs.sort or "", rule.policy)
        ranked = self._rank(policy, rule, pool)
        first = [c for slug in prefs.order for c in ranked if c.offering.provider == slug]
        if not prefs.allow_fallbacks:  # as OpenRouter: the providers named in `order`, else the top one
            ranked = first or ranked[:1]
        elif first:
            ranked = first + [c for c in ranked if c not in first]
        healthy = [c for c in ranked if c.health.state == CLOSED or c.health.state == "half_open"]
        return healthy + [c for c in ranked if c not in healthy]

    @staticmethod
    def _admitted(c: Candidate, prefs: Preferences) -> bool:
        slug = c.offering.provider
        if prefs.only and slug not in prefs.only:
            return False
        if slug in prefs.ignore:
            return False
        return prefs.max_price is None or c.price <= prefs.max_price

    def _rank(self, policy: str, rule: Rule, pool: list[Candidate]) -> list[Candidate]:
        if policy == "cheapest":
            return sorted(pool, key=lambda c: c.price)
        if policy == "fastest":
            return sorted(
                pool,
                key=lambda c: c.health.latency_ewma_ms if c.health.latency_ewma_ms is not None else math.inf,
            )
        if policy == "priority":
            out: list[Candidate] = []
            for group in rule.groups:
                members = [c for c in pool if c.offering.provider in group and c not in out]
                out += self._shuffle(members, [rule.weights.get(c.offering.provider, 1.0) for c in members])
            rest = [c for c in pool if c not in out]
            return out + sorted(rest, key=lambda c: c.price)
        return self._balanced(pool)

    def _balanced(self, pool: list[Candidate]) -> list[Candidate]:
        cheapest = min((c.price for c in pool if c.price > 0), default=1.0)
        known = [c.health.latency_ewma_ms for c in pool if c.health.latency_ewma_ms]
        fastest = min(known, default=1.0)
        scores = []
        for c in pool:
            price = math.log(max(c.price, cheapest) / cheapest) if cheapest > 0 else 0.0
            latency = (
                math.log(c.health.latency_ewma_ms / fastest) if c.health.latency_ewma_ms and fastest else 0.0
            )
            failure = 1.0 - c.health.success_rate if c.health.success_rate is not None else 0.0
            w = self.weights
            scores.append(w.price * price + w.latency * latency + w.success * failure * 3)
        return self._shuffle(pool, [math.exp(-2.0 * s) for s in scores])

    def _shuffle(self, items: list[Candidate], weights: list[float]) -> list[Candidate]:
        """Weighted random order without replacement (seeded, so runs are repeatable)."""
        keyed = [(self.rng.random() ** (1.0 / max(w, 1e-9)), i) for i, w in enumerate(weights)]
        return [items[i] for _, i in sorted(keyed, reverse=True)]
