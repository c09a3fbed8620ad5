"""Issue 4 end to end: routing and failover through the HTTP API against the sandbox emulators."""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Iterator

import httpx
import pytest

from harness import start_server

MODEL = "flux.1-dev"  # served by fal, replicate and runware
ORDER = {"order": ["fal", "replicate", "runware"]}


@pytest.fixture
def client(tmp_path_factory: pytest.TempPathFactory) -> Iterator[httpx.Client]:
    """A fresh gateway per test: health and breakers start empty, so tests cannot leak into each other."""
    env = {
        "MEDIAROUTER_ROUTING_SEED": "1",
        "MEDIAROUTER_ROUTING_WEIGHT_PRICE": "0",
        "MEDIAROUTER_ROUTING_BREAKER_MIN_REQUESTS": "3",
        "MEDIAROUTER_ROUTING_BREAKER_COOLDOWN_S": "1",
        "MEDIAROUTER_ROUTING_BREAKER_WINDOW_S": "30",
    }
    handle, server, thread = start_server(tmp_path_factory.mktemp("routing"), env)
    with handle.client() as c:
        yield c
    server.should_exit = True
    thread.join(timeout=10)


def _fault(c: httpx.Client, **fields: object) -> None:
    c.post("/sandbox/_faults", json=fields).raise_for_status()


def _gen(c: httpx.Client, model: str = MODEL, **extra: object) -> httpx.Response:
    body = {"model": model, "prompt": "route me", "size": "1024x1024", "response_format": "b64_json", **extra}
    return c.post("/v1/images/generations", json=body, timeout=30)


def _counts(c: httpx.Client) -> dict[str, int]:
    return dict(c.get("/sandbox/_faults").json()["requests"])


@pytest.mark.parametrize(
    "fault",
    [
        {"mode": "error", "status": 500},
        {"mode": "error", "status": 503},
        {"mode": "error", "status": 401},
        {"mode": "error", "status": 429},
        {"mode": "timeout"},
        {"mode": "reset"},
        {"mode": "malformed"},
        {"mode": "empty"},
        {"mode": "job_failed"},
        {"mode": "job_stuck"},
    ],
)
def test_each_fault_mode_fails_over(client: httpx.Client, fault: dict[str, object]) -> None:
    _fault(client, provider="fal", **fault)
    r = _gen(client, provider=ORDER)
    assert r.status_code == 200, r.text
    attempts = r.json()["metadata"]["attempts"]
    assert attempts[0]["provider"] == "fal" and attempts[0]["status"] == "failed"
    assert attempts[0]["verdict"] in ("next", "retry")
    assert attempts[-1]["status"] == "success" and attempts[-1]["provider"] != "fal"
    assert r.headers["x-mediarouter-attempts"] == str(len(attempts))
    assert r.json()["metadata"]["cost"] == attempts[-1]["cost"]  # failed attempts cost nothing
    row = client.get(f"/v1/requests/{r.json()['id']}").json()
    assert [a["provider"] for a in row["attempts"]] == [a["provider"] for a in attempts]


def test_stop_class_failures_are_not_retried_elsewhere(client: httpx.Client) -> None:
    _fault(client, provider="fal", mode="content_policy")
    r = _gen(client, provider=ORDER)
    assert r.status_code == 400 and r.json()["error"]["code"] == "CONTENT_POLICY_VIOLATION"
    assert [a["provider"] for a in r.json()["error"]["attempts"]] == ["fal"]
    assert _counts(client).get("replicate", 0) == 0 and _counts(client).get("runware", 0) == 0


def test_forced_provider_does_not_fail_over(client: httpx.Client) -> None:
    _fault(client, provider="fal", mode="error", status=500)
    r = _gen(client, model=f"fal/{MODEL}")
    assert r.status_code == 502 and r.json()["error"]["code"] == "UPSTREAM_ERROR"
    assert "fal" in r.json()["error"]["message"]
    assert set(_counts(client)) == {"fal"}


def test_all_failing_is_all_providers_exhausted(client: httpx.Client) -> None:
    for slug in ("fal", "replicate", "runware"):
        _fault(client, provider=slug, mode="error", status=500)
    r = _gen(client, model="flux1.1-pro")  # fal and replicate only: fresh breakers
    assert r.status_code == 502
    err = r.json()["error"]
    assert err["code"] == "ALL_PROVIDERS_EXHAUSTED" and "last:" in err["message"]
    assert {a["provider"] for a in err["attempts"]} == {"fal", "replicate"}


def test_breaker_skips_a_failing_provider_and_lets_it_back(client: httpx.Client) -> None:
    model = "seedream-4"  # fal, replicate, runware; untouched by other tests
    _fault(client, provider="fal", mode="error", status=500)
    for _ in range(3):  # three failures open fal's breaker
        assert _gen(client, model=model, provider={"order": ["fal"]}).status_code == 200
    before = _counts(client)["fal"]
    for _ in range(6):
        r = _gen(client, model=model, provider={"order": ["fal"]})
        assert r.status_code == 200 and r.json()["metadata"]["provider"] != "fal"
    assert _counts(client)["fal"] == before  # the emulator saw no more traffic
    providers = client.get("/v1/providers").json()["data"]
    fal = next(p for p in providers if p["id"] == "fal")
    assert next(m for m in fal["models"] if m["model"] == model)["breaker"] in ("open", "half_open")
    client.delete("/sandbox/_faults")
    time.sleep(1.1)  # cooldown: the next request is a half-open probe
    r = _gen(client, model=model, provider={"order": ["fal"]})
    assert r.status_code == 200 and r.json()["metadata"]["provider"] == "fal"
    fal = next(p for p in client.get("/v1/providers").json()["data"] if p["id"] == "fal")
    assert next(m for m in fal["models"] if m["model"] == model)["breaker"] == "closed"


def test_hedging_returns_the_faster_provider(client: httpx.Client) -> None:
    _fault(client, provider="fal", mode="slow", latency_ms=2500)
    started = time.monotonic()
    r = _gen(client, model="flux.2-pro", provider={"order": ["fal", "replicate"]}, hedge_after_ms=200)
    took = time.monotonic() - started
    assert r.status_code == 200, r.text
    meta = r.json()["metadata"]
    assert meta["provider"] == "replicate" and took < 2.0
    statuses = {a["provider"]: a["status"] for a in meta["attempts"]}
    assert statuses == {"fal": "cancelled", "replicate": "success"}
    assert meta["cost"] == next(a["cost"] for a in meta["attempts"] if a["status"] == "success")


def test_balanced_policy_shifts_traffic_away_from_a_slow_provider(client: httpx.Client) -> None:
    _fault(client, provider="runware", mode="slow", latency_ms=700)  # runware answers in one request
    winners = [_gen(client, model="hidream-i1-full").json()["metadata"]["provider"] for _ in range(24)]
    early, late = Counter(winners[:8]), Counter(winners[12:])
    assert early["runware"] >= 1  # it was tried while its latency was unknown
    assert late["runware"] <= 1  # then traffic moved to the fast provider


def _breaker(c: httpx.Client, slug: str, model: str) -> str:
    provider = next(p for p in c.get("/v1/providers").json()["data"] if p["id"] == slug)
    return str(next(m for m in provider["models"] if m["model"] == model)["breaker"])


def _open_fal(c: httpx.Client, model: str) -> None:
    _fault(c, provider="fal", mode="error", status=500)
    for _ in range(3):  # three failures open fal's breaker (min_requests 3)
        _gen(c, model=model, provider={"order": ["fal"]})
    assert _breaker(c, "fal", model) == "open"


def test_a_probe_stopped_by_an_invalid_request_frees_its_slot(client: httpx.Client) -> None:
    model = "flux.1-schnell"  # fal, replicate, runware
    _open_fal(client, model)
    time.sleep(1.1)  # cooldown: the next request is fal's half-open probe
    _fault(client, provider="fal", mode="content_policy")
    assert _gen(client, model=model, provider={"order": ["fal"]}).status_code == 400  # stop: not recorded
    client.delete("/sandbox/_faults")
    r = _gen(client, model=model, provider={"order": ["fal"]})  # the slot was given back: probe again
    assert r.status_code == 200 and r.json()["metadata"]["provider"] == "fal"
    assert _breaker(client, "fal", model) == "closed"


def test_a_last_resort_success_closes_the_breaker(client: httpx.Client) -> None:
    model = "hidream-i1-full"  # fal and runware
    _open_fal(client, model)
    client.delete("/sandbox/_faults")
    r = _gen(client, model=model, provider={"only": ["fal"]})  # open and cooling down: tried last
    assert r.status_code == 200 and r.json()["metadata"]["provider"] == "fal"
    assert _breaker(client, "fal", model) == "closed"


def test_no_fallbacks_keeps_every_provider_named_in_order(client: httpx.Client) -> None:
    _fault(client, provider="fal", mode="error", status=500)
    prefs = {"order": ["fal", "replicate"], "allow_fallbacks": False}
    r = _gen(client, model="flux.1-dev", provider=prefs)
    assert r.status_code == 200, r.text
    assert [a["provider"] for a in r.json()["metadata"]["attempts"]] == ["fal", "replicate"]
    assert _counts(client).get("runware", 0) == 0
    _fault(client, provider="replicate", mode="error", status=500)
    r = _gen(client, model="flux.1-dev", provider=prefs)  # runware is not named: not tried
    assert r.status_code == 502 and _counts(client).get("runware", 0) == 0


@pytest.fixture
def short_deadline(tmp_path_factory: pytest.TempPathFactory) -> Iterator[httpx.Client]:
    """A request deadline (1 s) shorter than one attempt's timeout (3 s): the deadline cuts it off."""
    env = {"MEDIAROUTER_TIMEOUTS_ATTEMPT_S": "3", "MEDIAROUTER_TIMEOUTS_REQUEST_S": "1"}
    handle, server, thread = start_server(tmp_path_factory.mktemp("deadline"), env)
    with handle.client() as c:
        yield c
    server.should_exit = True
    thread.join(timeout=10)


def test_the_request_deadline_is_a_timeout(short_deadline: httpx.Client) -> None:
    c = short_deadline
    _fault(c, provider="fal", mode="timeout")
    forced = _gen(c, model=f"fal/{MODEL}")
    assert forced.status_code == 504, forced.text
    error = forced.json()["error"]
    assert error["code"] == "UPSTREAM_ERROR" and error["message"].startswith("Provider fal (timeout)")
    assert [(a["status"], a["error_code"]) for a in error["attempts"]] == [("failed", "TIMEOUT")]
    row = c.get(f"/v1/requests/{error['request_id']}").json()
    assert row["status"] == "upstream_failure" and row["attempts"][0]["error_code"] == "TIMEOUT"
    routed = _gen(c, model="flux1.1-pro", provider={"only": ["fal"]})
    assert routed.status_code == 502 and routed.json()["error"]["code"] == "ALL_PROVIDERS_EXHAUSTED"
    assert "last: fal (timeout)" in routed.json()["error"]["message"]
    fal = next(p for p in c.get("/v1/providers").json()["data"] if p["id"] == "fal")
    health = {m["model"]: m for m in fal["models"]}
    assert health["flux1.1-pro"]["samples"] == 1 and health["flux1.1-pro"]["success_rate"] == 0.0
