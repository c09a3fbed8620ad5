"""`GET /v1/requests` over HTTP: cursor pages both ways, time windows, the admin's key filter."""

from __future__ import annotations

import time

import httpx

from harness import Server


def _new_key(admin: httpx.Client) -> tuple[str, str]:
    created = admin.post("/v1/keys", json={"name": "log-queries"}).json()
    return created["id"], created["key"]


def _generate(gateway: Server, key: str, count: int) -> list[str]:
    ids = []
    with gateway.client(key) as client:
        for i in range(count):
            r = client.post(
                "/v1/images/generations", json={"model": "dall-e-2", "prompt": f"p{i}", "size": "256x256"}
            )
            assert r.status_code == 200, r.text
            ids.append(r.json()["id"])
    return ids


def test_pages_forward_and_back(gateway: Server, admin: httpx.Client) -> None:
    key_id, key = _new_key(admin)
    ids = _generate(gateway, key, 5)
    newest_first = list(reversed(ids))
    first = admin.get("/v1/requests", params={"key_id": key_id, "limit": 2}).json()
    assert [r["id"] for r in first["data"]] == newest_first[:2] and first["has_more"]
    assert first["previous_page_url"] is None
    second = admin.get(first["next_page_url"]).json()
    assert [r["id"] for r in second["data"]] == newest_first[2:4]
    back = admin.get(
        "/v1/requests", params={"key_id": key_id, "limit": 2, "ending_before": newest_first[2]}
    ).json()
    assert [r["id"] for r in back["data"]] == newest_first[:2]
    last = admin.get(
        "/v1/requests", params={"key_id": key_id, "limit": 2, "starting_after": newest_first[3]}
    ).json()
    assert [r["id"] for r in last["data"]] == newest_first[4:] and not last["has_more"]
    assert last["next_page_url"] is None and last["previous_page_url"]


def test_time_window_and_key_filter(gateway: Server, admin: httpx.Client) -> None:
    key_id, key = _new_key(admin)
    ids = _generate(gateway, key, 1)
    between = time.time()  # Unix seconds with a fraction are accepted beside ISO 8601
    time.sleep(0.05)
    ids += _generate(gateway, key, 1)
    rows = {r["id"]: r for r in admin.get("/v1/requests", params={"key_id": key_id}).json()["data"]}
    assert set(rows) == set(ids) and {r["key_id"] for r in rows.values()} == {key_id}
    after = admin.get("/v1/requests", params={"key_id": key_id, "created_after": between}).json()["data"]
    assert [r["id"] for r in after] == ids[1:]
    before = admin.get("/v1/requests", params={"key_id": key_id, "created_before": between}).json()["data"]
    assert [r["id"] for r in before] == ids[:1]
    iso = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(time.time() + 3600))
    future = admin.get("/v1/requests", params={"key_id": key_id, "created_after": iso}).json()
    assert future["data"] == [] and not future["has_more"]


def test_bad_query_values_are_400_naming_the_param(admin: httpx.Client) -> None:
    for params, param in (
        ({"limit": "0"}, "limit"),
        ({"limit": "many"}, "limit"),
        ({"status": "fine"}, "status"),
        ({"created_after": "yesterday"}, "created_after"),
    ):
        r = admin.get("/v1/requests", params=params)
        assert r.status_code == 400 and r.json()["error"]["param"] == param, (params, r.text)


def test_model_filter_finds_forced_and_alias_requests(gateway: Server, admin: httpx.Client) -> None:
    key_id, key = _new_key(admin)
    typed = ["dall-e-2", "openai/dall-e-2", "DALLE-2"]
    with gateway.client(key) as client:
        for model in typed:
            r = client.post("/v1/images/generations", json={"model": model, "prompt": "p", "size": "256x256"})
            assert r.status_code == 200, r.text
        refused = client.post(
            "/v1/images/generations", json={"model": "openai/dall-e-2", "prompt": "p", "size": "big"}
        )
        assert refused.status_code == 400
        client.post("/v1/images/generations", json={"model": "dall-e-3", "prompt": "p"}).raise_for_status()
    for wanted in ("dall-e-2", "dalle-2", "openai/dall-e-2"):
        rows = admin.get("/v1/requests", params={"key_id": key_id, "model": wanted}).json()["data"]
        assert [r["model"] for r in rows] == ["openai/dall-e-2", *reversed(typed)]  # as typed, newest first
        assert {r["model_id"] for r in rows} == {"dall-e-2"}
    nothing = admin.get("/v1/requests", params={"key_id": key_id, "model": "no-such-model"}).json()
    assert nothing["data"] == []


def test_provider_filter_finds_the_server_and_failed_over_attempts(
    gateway: Server, admin: httpx.Client, faults: httpx.Client
) -> None:
    key_id, key = _new_key(admin)
    faults.post(
        "/sandbox/_faults", json={"provider": "fal", "mode": "error", "status": 500}
    ).raise_for_status()
    with gateway.client(key) as client:
        body = {"model": "flux.1-schnell", "prompt": "a kite", "provider": {"order": ["fal", "replicate"]}}
        moved = client.post("/v1/images/generations", json=body).json()
        assert [a["provider"] for a in moved["metadata"]["attempts"]] == ["fal", "replicate"], moved
        faults.delete("/sandbox/_faults").raise_for_status()
        served = client.post(
            "/v1/images/generations", json={"model": "runware/flux.1-schnell", "prompt": "a kite"}
        ).json()

    def listed(provider: str) -> list[str]:
        r = admin.get("/v1/requests", params={"key_id": key_id, "provider": provider})
        assert r.status_code == 200, r.text
        return [row["id"] for row in r.json()["data"]]

    assert listed("fal") == [moved["id"]]  # only an attempt went there
    assert listed("replicate") == [moved["id"]]
    assert listed("runware") == [served["id"]]
    assert listed("vertex") == []
    bad = admin.get("/v1/requests", params={"provider": "Fal'; --"})
    assert bad.status_code == 400 and bad.json()["error"]["param"] == "provider"
