"""Routing behaviours pinned through the HTTP API: same-provider retry, hedging and rules from config,
upstream 403/404/413, and what GET /v1/providers shows after a failing run."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
import yaml

from harness import start_server

MODEL = "flux.1-dev"  # served by fal, replicate and runware
ORDER = {"order": ["fal", "replicate", "runware"]}
BASE_ENV = {"MEDIAROUTER_ROUTING_SEED": "1", "MEDIAROUTER_ROUTING_WEIGHT_PRICE": "0"}


def _serve(tmp: Path, env: dict[str, str]) -> Iterator[httpx.Client]:
    handle, server, thread = start_server(tmp, {**BASE_ENV, **env})
    with handle.client() as c:
        yield c
    server.should_exit = True
    thread.join(timeout=10)


@pytest.fixture
def client(tmp_path_factory: pytest.TempPathFactory) -> Iterator[httpx.Client]:
    yield from _serve(tmp_path_factory.mktemp("pins"), {})


def _fault(c: httpx.Client, **fields: object) -> None:
    c.post("/sandbox/_faults", json=fields).raise_for_status()


def _gen(c: httpx.Client, model: str = MODEL, **extra: object) -> httpx.Response:
    body = {"model": model, "prompt": "route me", "size": "1024x1024", "response_format": "b64_json", **extra}
    return c.post("/v1/images/generations", json=body, timeout=30)


def _counts(c: httpx.Client) -> dict[str, int]:
    return dict(c.get("/sandbox/_faults").json()["requests"])


def _trail(r: httpx.Response) -> list[tuple[str, str, str | None]]:
    return [(a["provider"], a["status"], a.get("verdict")) for a in r.json()["metadata"]["attempts"]]


# fal's 429 carries `Retry-After: 1`; routing.max_retry_after_s decides whether that is short.


def test_short_retry_after_retries_the_same_provider(client: httpx.Client) -> None:
    _fault(client, provider="fal", mode="error", status=429, count=1)  # default max_retry_after_s: 2
    r = _gen(client, provider=ORDER)
    assert r.status_code == 200, r.text
    trail = _trail(r)
    assert [(p, s) for p, s, _ in trail] == [("fal", "failed"), ("fal", "success")]
    assert trail[0][2] == "retry"
    assert _counts(client).get("replicate", 0) == 0 and _counts(client).get("runware", 0) == 0


@pytest.fixture
def impatient(tmp_path_factory: pytest.TempPathFactory) -> Iterator[httpx.Client]:
    yield from _serve(tmp_path_factory.mktemp("impatient"), {"MEDIAROUTER_ROUTING_MAX_RETRY_AFTER_S": "0.5"})


def test_long_retry_after_moves_to_the_next_provider(impatient: httpx.Client) -> None:
    _fault(impatient, provider="fal", mode="error", status=429, count=1)  # 1 s > max_retry_after_s 0.5
    r = _gen(impatient, provider=ORDER)
    assert r.status_code == 200, r.text
    trail = _trail(r)
    assert trail[0] == ("fal", "failed", "next")
    assert [p for p, _, _ in trail] == ["fal", "replicate"] and trail[-1][1] == "success"


def test_a_503_without_retry_after_moves_on(client: httpx.Client) -> None:
    _fault(client, provider="fal", mode="error", status=503, count=1)  # fal's 503 names no Retry-After
    r = _gen(client, provider=ORDER)
    assert r.status_code == 200, r.text
    assert _trail(r)[0] == ("fal", "failed", "next") and _trail(r)[1][0] != "fal"


@pytest.mark.parametrize("status", [403, 404])  # quota, not_found
def test_quota_and_not_found_move_on(client: httpx.Client, status: int) -> None:
    _fault(client, provider="fal", mode="error", status=status)
    r = _gen(client, provider=ORDER)
    assert r.status_code == 200, r.text
    trail = _trail(r)
    assert trail[0] == ("fal", "failed", "next")
    assert trail[-1][1] == "success" and trail[-1][0] != "fal"


def test_payload_too_large_stops(client: httpx.Client) -> None:
    _fault(client, provider="fal", mode="error", status=413)
    r = _gen(client, provider=ORDER)
    assert r.status_code == 400, r.text
    error = r.json()["error"]
    assert error["code"] == "UPSTREAM_ERROR" and "fal" in error["message"]
    assert [(a["provider"], a["verdict"]) for a in error["attempts"]] == [("fal", "stop")]
    assert _counts(client).get("replicate", 0) == 0 and _counts(client).get("runware", 0) == 0


def test_providers_show_status_page_and_health_after_failures(client: httpx.Client) -> None:
    model = "seedream-4"
    _fault(client, provider="fal", mode="error", status=500)
    for _ in range(5):  # default breaker_min_requests 5, failure rate 1.0: opens
        r = _gen(client, model=model, provider={"order": ["fal", "replicate"]})
        assert r.status_code == 200 and r.json()["metadata"]["provider"] == "replicate"
    providers = {p["id"]: p for p in client.get("/v1/providers").json()["data"]}
    for slug, p in providers.items():
        assert isinstance(p["status_page"], str) and p["status_page"].startswith("https://"), slug
    fal = {m["model"]: m for m in providers["fal"]["models"]}[model]
    assert fal["breaker"] == "open" and fal["success_rate"] == 0.0 and fal["samples"] == 5
    assert fal["status"] == "open_breaker" and providers["fal"]["status"] == "open_breaker"
    other = {m["model"]: m for m in providers["replicate"]["models"]}[model]
    assert other["breaker"] == "closed" and other["status"] == "healthy" and other["success_rate"] == 1.0
    assert other["samples"] == 5 and other["p50_ms"] is not None and other["p95_ms"] is not None


@pytest.fixture
def hedged(tmp_path_factory: pytest.TempPathFactory) -> Iterator[httpx.Client]:
    yield from _serve(tmp_path_factory.mktemp("hedged"), {"MEDIAROUTER_ROUTING_HEDGE_AFTER_MS": "200"})


def test_hedging_from_config_returns_the_faster_provider(hedged: httpx.Client) -> None:
    _fault(hedged, provider="fal", mode="slow", latency_ms=2500)
    started = time.monotonic()
    r = _gen(hedged, model="flux.2-pro", provider={"order": ["fal", "replicate"]})  # no hedge in the body
    took = time.monotonic() - started
    assert r.status_code == 200, r.text
    meta = r.json()["metadata"]
    assert meta["provider"] == "replicate" and took < 2.0
    by_provider = {a["provider"]: a for a in meta["attempts"]}
    assert {k: a["status"] for k, a in by_provider.items()} == {"fal": "cancelled", "replicate": "success"}
    assert by_provider["fal"]["cost"] == 0 and by_provider["replicate"]["cost"] > 0
    assert meta["cost"] == by_provider["replicate"]["cost"]
    row = hedged.get(f"/v1/requests/{r.json()['id']}").json()
    assert sorted(a["provider"] for a in row["attempts"]) == ["fal", "replicate"]


RULES = [
    {"match": "hidream*", "policy": "cheapest"},  # runware $0.0125/image < fal $0.05/MP x 1.05 MP
    {"match": "seedream*", "policy": "fastest"},
    {"match": "flux*", "policy": "priority", "groups": [["replicate"], ["fal", "runware"]],
     "weights": {"fal": 1, "runware": 1}},
]  # fmt: skip


@pytest.fixture
def ruled(tmp_path_factory: pytest.TempPathFactory) -> Iterator[httpx.Client]:
    data_dir = tmp_path_factory.mktemp("ruled")
    config = data_dir / "mediarouter.yaml"
    config.write_text(yaml.safe_dump({"routing": {"rules": RULES}}))
    yield from _serve(data_dir, {"MEDIAROUTER_CONFIG": str(config)})


def test_priority_rule_from_yaml_sends_traffic_to_the_first_group(ruled: httpx.Client) -> None:
    winners = {_gen(ruled, model=m).json()["metadata"]["provider"] for m in ("flux.1-dev", "flux.1-schnell")}
    assert winners == {"replicate"}
    _fault(ruled, provider="replicate", mode="error", status=500)
    r = _gen(ruled, model="flux.1-dev")
    assert r.status_code == 200 and _trail(r)[0][0] == "replicate"
    assert _trail(r)[-1][0] in ("fal", "runware")  # then the second group


def test_cheapest_rule_from_yaml_picks_the_lowest_price(ruled: httpx.Client) -> None:
    winners = {_gen(ruled, model="hidream-i1-full").json()["metadata"]["provider"] for _ in range(4)}
    assert winners == {"runware"}


def test_fastest_rule_from_yaml_picks_the_lowest_latency(ruled: httpx.Client) -> None:
    for slug in ("fal", "replicate"):
        _fault(ruled, provider=slug, mode="slow", latency_ms=300)
    for slug in ("fal", "replicate", "runware"):  # one observed latency each
        assert _gen(ruled, model="seedream-4", provider={"only": [slug]}).status_code == 200
    ruled.delete("/sandbox/_faults")
    winners = {_gen(ruled, model="seedream-4").json()["metadata"]["provider"] for _ in range(4)}
    assert winners == {"runware"}
