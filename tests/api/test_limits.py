"""Per-key limits, budgets, idempotency and usage on one instance (in-memory counters)."""

from __future__ import annotations

import time
from concurrent.futures import ThreadPoolExecutor

import httpx

from harness import Server

CHEAP = {"model": "dall-e-2", "prompt": "x", "size": "256x256", "response_format": "b64_json"}  # $0.016 each


def _clear_of_minute_boundary() -> None:
    """Per-minute windows reset on the minute: keep a burst inside one window."""
    if time.time() % 60 > 55:
        time.sleep(61 - time.time() % 60)


def _key(admin: httpx.Client, **limits: object) -> str:
    r = admin.post("/v1/keys", json={"name": "limited", **limits})
    assert r.status_code == 201, r.text
    return str(r.json()["key"])


def _burst(
    gateway: Server, key: str, count: int, body: dict[str, object] | None = None
) -> list[httpx.Response]:
    def one(_: int) -> httpx.Response:
        return httpx.post(
            f"{gateway.url}/v1/images/generations",
            json=body or CHEAP,
            headers={"Authorization": f"Bearer {key}"},
            timeout=30,
        )

    with ThreadPoolExecutor(count) as pool:
        return list(pool.map(one, range(count)))


def test_requests_per_minute_hold_exactly(gateway: Server, admin: httpx.Client) -> None:
    key = _key(admin, rpm=4)
    _clear_of_minute_boundary()
    results = _burst(gateway, key, 10)
    assert sorted(r.status_code for r in results) == [200] * 4 + [429] * 6
    limited = next(r for r in results if r.status_code == 429)
    assert limited.json()["error"]["code"] == "RATE_LIMITED" and int(limited.headers["retry-after"]) >= 1


def test_concurrency_limit(gateway: Server, admin: httpx.Client, faults: httpx.Client) -> None:
    faults.post(
        "/sandbox/_faults", json={"provider": "openai", "mode": "slow", "latency_ms": 400}
    ).raise_for_status()
    key = _key(admin, max_concurrency=2)
    results = _burst(gateway, key, 6)
    assert sum(r.status_code == 200 for r in results) >= 2
    assert sum(r.status_code == 429 for r in results) >= 1
    assert all(r.status_code in (200, 429) for r in results)


def test_budget_reserves_before_calling_and_never_overspends(gateway: Server, admin: httpx.Client) -> None:
    key = _key(admin, budget_usd=0.05, budget_period="day")  # room for three $0.016 images
    results = _burst(gateway, key, 8)
    assert sorted(r.status_code for r in results) == [200] * 3 + [402] * 5
    refused = next(r for r in results if r.status_code == 402)
    assert refused.json()["error"]["code"] == "BUDGET_EXCEEDED"
    usage = httpx.get(f"{gateway.url}/v1/usage", headers={"Authorization": f"Bearer {key}"}).json()
    assert round(sum(row["cost"] for row in usage["data"]), 6) == 0.048


def test_update_limits_through_the_admin_api(gateway: Server, admin: httpx.Client) -> None:
    created = admin.post("/v1/keys", json={"name": "to-update"}).json()
    r = admin.patch(f"/v1/keys/{created['id']}", json={"rpm": 1})
    _clear_of_minute_boundary()
    assert r.status_code == 200 and r.json()["limits"]["rpm"] == 1
    gateway.app.state.gw.keys._cache.clear()  # type: ignore[attr-defined]
    statuses = [r.status_code for r in _burst(gateway, created["key"], 2)]
    assert sorted(statuses) == [200, 429]
    assert admin.patch(f"/v1/keys/{created['id']}", json={"rpm": -1}).status_code == 400
    assert admin.patch("/v1/keys/nope", json={"rpm": 3}).status_code == 404


def test_a_new_budget_keeps_the_keys_period(admin: httpx.Client) -> None:
    daily = admin.post("/v1/keys", json={"name": "daily", "budget_usd": 1, "budget_period": "day"}).json()
    r = admin.patch(f"/v1/keys/{daily['id']}", json={"budget_usd": 10})
    assert r.status_code == 200
    assert (r.json()["limits"]["budget_usd"], r.json()["limits"]["budget_period"]) == (10.0, "day")
    total = admin.post("/v1/keys", json={"name": "total", "budget_usd": 1}).json()
    assert total["limits"]["budget_period"] == "total"
    bare = admin.post("/v1/keys", json={"name": "bare"}).json()
    r = admin.patch(f"/v1/keys/{bare['id']}", json={"budget_usd": 2})
    assert r.json()["limits"]["budget_period"] == "total"


def test_idempotency_key_replays_instead_of_paying_twice(
    gateway: Server, admin: httpx.Client, faults: httpx.Client
) -> None:
    headers = {"Idempotency-Key": "order-42"}
    first = admin.post("/v1/images/generations", json=CHEAP, headers=headers)
    second = admin.post("/v1/images/generations", json=CHEAP, headers=headers)
    assert first.status_code == second.status_code == 200
    assert first.json() == second.json() and second.headers["idempotent-replayed"] == "true"
    assert faults.get("/sandbox/_faults").json()["requests"]["openai"] == 1
    other = admin.post("/v1/images/generations", json={**CHEAP, "prompt": "different"}, headers=headers)
    assert other.status_code == 409 and other.json()["error"]["code"] == "IDEMPOTENCY_CONFLICT"


def test_failed_first_try_is_not_replayed(admin: httpx.Client, faults: httpx.Client) -> None:
    faults.post(
        "/sandbox/_faults", json={"provider": "openai", "mode": "error", "status": 500, "count": 1}
    ).raise_for_status()
    headers = {"Idempotency-Key": "retry-me"}
    assert admin.post("/v1/images/generations", json=CHEAP, headers=headers).status_code == 502
    assert admin.post("/v1/images/generations", json=CHEAP, headers=headers).status_code == 200


def test_usage_scope(gateway: Server, user: httpx.Client, admin: httpx.Client) -> None:
    user.post("/v1/images/generations", json=CHEAP).raise_for_status()
    mine = user.get("/v1/usage").json()["data"]
    assert mine and {row["key_id"] for row in mine} == {gateway.user_key[3:].split(".")[0]}
    assert user.get("/v1/usage", params={"key_id": "admin"}).status_code == 403
    everyone = admin.get("/v1/usage").json()["data"]
    assert len({row["key_id"] for row in everyone}) >= 2
