from collections import Counter

import pytest

from mediarouter.catalog.models import ModelSpec, Offering, Price
from mediarouter.errors import GatewayError
from mediarouter.routing.health import Health
from mediarouter.routing.policy import Candidate, Policy, Preferences, Rule, Weights, parse_preferences

MODEL = ModelSpec("flux.1-dev", "FLUX", "bfl", ("generate",), ())


def cand(
    slug: str, price: float, latency: float | None = None, success: float | None = None, state: str = "closed"
) -> Candidate:
    health = Health(
        state=state, success_rate=success, latency_ewma_ms=latency, samples=10 if success is not None else 0
    )
    return Candidate(Offering(slug, f"{slug}-id", Price("image", price)), price, health)


def slugs(cands: list[Candidate]) -> list[str]:
    return [c.offering.provider for c in cands]


POOL = [cand("fal", 0.025, 900, 1.0), cand("replicate", 0.03, 3000, 1.0), cand("runware", 0.004, 1500, 1.0)]


def test_cheapest_and_fastest() -> None:
    policy = Policy("cheapest", [], Weights(), 1)
    assert slugs(policy.order(MODEL, POOL, Preferences())) == ["runware", "fal", "replicate"]
    assert slugs(policy.order(MODEL, POOL, Preferences(sort="latency"))) == ["fal", "runware", "replicate"]


def test_balanced_varies_but_prefers_cheap_fast_and_healthy() -> None:
    policy = Policy("balanced", [], Weights(), 7)
    firsts = Counter(slugs(policy.order(MODEL, POOL, Preferences()))[0] for _ in range(400))
    assert len(firsts) >= 2  # the choice differs from request to request
    assert firsts["replicate"] < firsts["runware"] and firsts["replicate"] < firsts["fal"]
    failing = [cand("fal", 0.025, 900, 0.2), cand("runware", 0.025, 900, 1.0)]
    firsts = Counter(slugs(policy.order(MODEL, failing, Preferences()))[0] for _ in range(400))
    assert firsts["runware"] > 300


def test_priority_groups_with_weights() -> None:
    rule = Rule("flux*", "priority", (("replicate",), ("fal", "runware")), {"fal": 9, "runware": 1})
    policy = Policy("balanced", [rule], Weights(), 3)
    orders = [slugs(policy.order(MODEL, POOL, Preferences())) for _ in range(300)]
    assert all(o[0] == "replicate" for o in orders)
    seconds = Counter(o[1] for o in orders)
    assert seconds["fal"] > seconds["runware"] > 0


def test_preferences_narrow_and_order() -> None:
    policy = Policy("cheapest", [], Weights(), 1)
    assert slugs(policy.order(MODEL, POOL, Preferences(order=["replicate"]))) == [
        "replicate",
        "runware",
        "fal",
    ]
    assert slugs(policy.order(MODEL, POOL, Preferences(only=["fal", "replicate"]))) == ["fal", "replicate"]
    assert slugs(policy.order(MODEL, POOL, Preferences(ignore=["runware"]))) == ["fal", "replicate"]
    assert slugs(policy.order(MODEL, POOL, Preferences(allow_fallbacks=False))) == ["runware"]
    named = Preferences(order=["replicate", "fal"], allow_fallbacks=False)  # exactly those, as OpenRouter
    assert slugs(policy.order(MODEL, POOL, named)) == ["replicate", "fal"]
    assert slugs(policy.order(MODEL, POOL, Preferences(max_price=0.026))) == ["runware", "fal"]


def test_open_breaker_goes_last() -> None:
    policy = Policy("cheapest", [], Weights(), 1)
    pool = [cand("runware", 0.004, state="open"), cand("fal", 0.025)]
    assert slugs(policy.order(MODEL, pool, Preferences())) == ["fal", "runware"]


@pytest.mark.parametrize(
    "raw",
    [[], {"order": "fal"}, {"sort": "quality"}, {"max_price": -1}, {"allow_fallbacks": "no"}, {"weird": 1}],
)
def test_bad_preferences(raw: object) -> None:
    with pytest.raises(GatewayError) as info:
        parse_preferences(raw)
    assert info.value.code == "INVALID_REQUEST" and str(info.value.param).startswith("provider")
