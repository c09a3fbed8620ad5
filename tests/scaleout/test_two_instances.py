"""Two gateway instances sharing PostgreSQL and Redis behave as one gateway."""

from __future__ import annotations

import secrets
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor

import httpx
import pytest

from harness import Server, start_server
from services import create_bucket, create_pg_database, drop_pg_database, redis_url, start_moto

CHEAP = {"model": "dall-e-2", "prompt": "x", "size": "256x256", "response_format": "b64_json"}  # $0.016 each


@pytest.fixture(scope="module")
def pair(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Server, Server]]:
    pg = create_pg_database()
    s3_url, moto = start_moto()
    create_bucket(s3_url, "media")
    env = {
        "MEDIAROUTER_MEDIA_BACKEND": "s3",
        "MEDIAROUTER_MEDIA_S3_ENDPOINT": s3_url,
        "MEDIAROUTER_MEDIA_S3_BUCKET": "media",
        "MEDIAROUTER_MEDIA_S3_ACCESS_KEY": "test",
        "MEDIAROUTER_MEDIA_S3_SECRET_KEY": "test",
        "MEDIAROUTER_DATABASE_URL": pg,
        "MEDIAROUTER_REDIS_URL": redis_url(),
        "MEDIAROUTER_REDIS_PREFIX": f"mrtest-{secrets.token_hex(4)}",
        "MEDIAROUTER_ROUTING_BREAKER_MIN_REQUESTS": "3",
        "MEDIAROUTER_ROUTING_BREAKER_COOLDOWN_S": "60",
        "MEDIAROUTER_MEDIA_SIGNING_KEY": "shared-signing-key",
    }
    a, server_a, thread_a = start_server(tmp_path_factory.mktemp("a"), env)
    b, server_b, thread_b = start_server(tmp_path_factory.mktemp("b"), env)
    yield a, b
    for server, thread in ((server_a, thread_a), (server_b, thread_b)):
        server.should_exit = True
        thread.join(timeout=10)
    drop_pg_database(pg)
    moto.kill()  # type: ignore[attr-defined]


def _burst(pair: tuple[Server, Server], key: str, count: int) -> list[int]:
    def one(i: int) -> int:
        url = pair[i % 2].url
        return httpx.post(
            f"{url}/v1/images/generations", json=CHEAP, headers={"Authorization": f"Bearer {key}"}, timeout=30
        ).status_code

    with ThreadPoolExecutor(count) as pool:
        return sorted(pool.map(one, range(count)))


def _clear_of_minute_boundary() -> None:
    """Per-minute windows reset on the minute: keep a burst inside one window."""
    if time.time() % 60 > 55:
        time.sleep(61 - time.time() % 60)


def _key(server: Server, **limits: object) -> str:
    r = httpx.post(
        f"{server.url}/v1/keys",
        json={"name": "shared", **limits},
        headers={"Authorization": f"Bearer {server.admin_key}"},
    )
    assert r.status_code == 201, r.text
    return str(r.json()["key"])


def test_rate_limit_holds_exactly_across_instances(pair: tuple[Server, Server]) -> None:
    key = _key(pair[0], rpm=5)
    _clear_of_minute_boundary()
    assert _burst(pair, key, 12) == [200] * 5 + [429] * 7


def test_budget_holds_exactly_across_instances(pair: tuple[Server, Server]) -> None:
    key = _key(pair[1], budget_usd=0.05, budget_period="total")
    assert _burst(pair, key, 10) == [200] * 3 + [402] * 7


def test_concurrency_limit_holds_exactly_across_instances(pair: tuple[Server, Server]) -> None:
    headers = {"Authorization": f"Bearer {pair[0].admin_key}"}
    slow = {"provider": "openai", "mode": "slow", "latency_ms": 1000}  # within attempt_s
    for server in pair:  # each instance calls its own sandbox: slow both down
        httpx.post(f"{server.url}/sandbox/_faults", json=slow, headers=headers).raise_for_status()
    try:
        key = _key(pair[0], max_concurrency=3)
        assert _burst(pair, key, 12) == [200] * 3 + [429] * 9
        assert _burst(pair, key, 4) == [200] * 3 + [429]  # every slot was given back
    finally:
        for server in pair:
            httpx.delete(f"{server.url}/sandbox/_faults", headers=headers)


def test_idempotency_holds_across_instances(pair: tuple[Server, Server]) -> None:
    a, b = pair
    headers = {"Authorization": f"Bearer {a.admin_key}", "Idempotency-Key": f"idem-{secrets.token_hex(4)}"}
    first = httpx.post(f"{a.url}/v1/images/generations", json=CHEAP, headers=headers, timeout=30)
    again = httpx.post(f"{b.url}/v1/images/generations", json=CHEAP, headers=headers, timeout=30)
    assert first.status_code == again.status_code == 200
    assert again.headers["idempotent-replayed"] == "true" and again.json()["id"] == first.json()["id"]
    other = httpx.post(
        f"{b.url}/v1/images/generations", json={**CHEAP, "prompt": "y"}, headers=headers, timeout=30
    )
    assert other.status_code == 409 and other.json()["error"]["code"] == "IDEMPOTENCY_CONFLICT"


def test_requests_logged_by_either_are_listed_by_both(pair: tuple[Server, Server]) -> None:
    """A finished request is readable on the other instance at once: no polling, no sleep."""
    a, b = pair
    headers = {"Authorization": f"Bearer {a.admin_key}"}

    def finish_then_read(i: int) -> tuple[str, int]:
        writer, reader = (a, b) if i % 2 else (b, a)
        with httpx.Client(timeout=30, headers=headers) as client:
            rid = client.post(f"{writer.url}/v1/images/generations", json=CHEAP).json()["id"]
            return rid, client.get(f"{reader.url}/v1/requests/{rid}").status_code

    with ThreadPoolExecutor(8) as pool:
        results = list(pool.map(finish_then_read, range(40)))
    assert [status for _, status in results] == [200] * 40
    rid = results[-1][0]
    r = httpx.get(f"{b.url}/v1/requests/{rid}", headers=headers)
    assert r.status_code == 200 and r.json()["status"] == "completed"
    listed = httpx.get(f"{b.url}/v1/requests", params={"limit": 100}, headers=headers).json()["data"]
    assert rid in {row["id"] for row in listed}


def test_nul_characters_never_break_the_log_on_postgresql(pair: tuple[Server, Server]) -> None:
    a, b = pair
    headers = {"Authorization": f"Bearer {a.admin_key}"}
    r = httpx.post(
        f"{a.url}/v1/images/generations", json={**CHEAP, "user": "bad\u0000user"}, headers=headers, timeout=30
    )
    assert r.status_code == 200
    row = httpx.get(f"{b.url}/v1/requests/{r.json()['id']}", headers=headers)
    assert row.status_code == 200 and row.json()["user"] == "bad\ufffduser"
    after = httpx.post(f"{a.url}/v1/images/generations", json=CHEAP, headers=headers, timeout=30).json()["id"]
    assert httpx.get(f"{b.url}/v1/requests/{after}", headers=headers).status_code == 200
    assert httpx.get(f"{a.url}/v1/requests", headers=headers).status_code == 200
    for param in ("starting_after", "ending_before"):
        bad = httpx.get(f"{a.url}/v1/requests", params={param: "\x00"}, headers=headers)
        assert bad.status_code == 400 and bad.json()["error"]["param"] == param
    assert httpx.get(f"{a.url}/v1/requests/%00", headers=headers).status_code == 404
    assert httpx.get(f"{a.url}/v1/requests", params={"model": "\x00"}, headers=headers).json()["data"] == []


def test_one_instance_sees_the_other_open_a_breaker(pair: tuple[Server, Server]) -> None:
    a, b = pair
    headers = {"Authorization": f"Bearer {a.admin_key}"}
    httpx.post(
        f"{a.url}/sandbox/_faults",
        json={"provider": "openai", "model": "dall-e-3", "mode": "error", "status": 500},
        headers=headers,
    ).raise_for_status()
    for _ in range(3):
        body = {"model": "dall-e-3", "prompt": "x", "response_format": "b64_json"}
        assert (
            httpx.post(f"{a.url}/v1/images/generations", json=body, headers=headers, timeout=30).status_code
            == 502
        )
    providers = httpx.get(f"{b.url}/v1/providers", headers=headers).json()["data"]
    openai = next(p for p in providers if p["id"] == "openai")
    dalle3 = next(m for m in openai["models"] if m["model"] == "dall-e-3")
    assert dalle3["breaker"] == "open" and dalle3["success_rate"] == 0.0
    assert openai["status"] == "open_breaker"
    httpx.delete(f"{a.url}/sandbox/_faults", headers=headers)


def test_media_stored_in_s3_by_one_is_served_by_the_other(pair: tuple[Server, Server]) -> None:
    a, b = pair
    headers = {"Authorization": f"Bearer {a.admin_key}"}
    body = {**CHEAP, "response_format": "url"}
    url = httpx.post(f"{a.url}/v1/images/generations", json=body, headers=headers, timeout=30).json()["data"][
        0
    ]["url"]
    assert url.startswith(a.url)
    served = httpx.get(url.replace(a.url, b.url))
    assert served.status_code == 200 and served.headers["content-type"] == "image/png"
    assert served.content[:8] == b"\x89PNG\r\n\x1a\n"
    assert not list((a.data_dir / "media").glob("*")) if (a.data_dir / "media").exists() else True
