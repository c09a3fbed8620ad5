"""The request log: every accepted request with its outcome, readable at once, filtered and paged."""

from __future__ import annotations

import httpx

from harness import Server


def _gen(client: httpx.Client, **fields: object) -> httpx.Response:
    body = {"model": "gpt-image-1-mini", "prompt": "log me", "response_format": "b64_json", **fields}
    return client.post(
        "/v1/images/generations",
        json=body,
        headers={"traceparent": "00-" + "ab" * 16 + "-" + "cd" * 8 + "-01"},
    )


def test_success_is_logged_with_its_details(admin: httpx.Client) -> None:
    r = _gen(admin, user="end-user-7", n=2)
    rid = r.json()["id"]
    row = admin.get(f"/v1/requests/{rid}").json()  # readable as soon as the response arrived
    assert row["id"] == rid and row["object"] == "request" and row["status"] == "completed"
    assert row["provider"] == "openai" and row["executed_model"] == "openai/gpt-image-1-mini"
    assert row["model"] == "gpt-image-1-mini" and row["http_status"] == 200
    assert row["image_count"] == 2 and row["image_sizes"] == ["1024x1024", "1024x1024"]
    assert row["user"] == "end-user-7" and row["trace_id"] == "ab" * 16
    assert row["cost"] == r.json()["metadata"]["cost"] > 0
    assert row["attempts"][0]["status"] == "success"
    assert row["duration_ms"] > 0 and row["key_id"] == "admin"
    assert row["prompt"] is None  # prompts are not stored by default


def test_failures_and_rejections_are_logged(admin: httpx.Client, faults: httpx.Client) -> None:
    faults.post(
        "/sandbox/_faults", json={"provider": "openai", "mode": "error", "status": 500}
    ).raise_for_status()
    failed = _gen(admin).json()["error"]["request_id"]
    row = admin.get(f"/v1/requests/{failed}").json()
    assert row["status"] == "upstream_failure" and row["error_code"] == "ALL_PROVIDERS_EXHAUSTED"
    assert row["http_status"] == 502 and row["attempts"][0]["error_code"] == "SERVER"
    rejected = admin.post(
        "/v1/images/generations", json={"model": "gpt-image-1-mini", "prompt": "x", "size": "?"}
    )
    row = admin.get(f"/v1/requests/{rejected.headers['x-mediarouter-request-id']}").json()
    assert row["status"] == "rejected" and row["error_code"] == "INVALID_REQUEST"


def test_filters_and_pagination(admin: httpx.Client) -> None:
    ids = [_gen(admin, model="dall-e-2").json()["id"] for _ in range(3)]
    page = admin.get("/v1/requests", params={"model": "dall-e-2", "limit": 2}).json()
    assert page["object"] == "list" and page["has_more"] and len(page["data"]) == 2
    assert [row["id"] for row in page["data"]] == ids[::-1][:2]  # newest first
    rest = httpx.get(page["next_page_url"], headers=admin.headers).json()
    assert ids[0] in [row["id"] for row in rest["data"]]
    statuses = {
        row["status"] for row in admin.get("/v1/requests", params={"status": "completed"}).json()["data"]
    }
    assert statuses == {"completed"}
    assert admin.get("/v1/requests", params={"status": "bogus"}).status_code == 400
    assert admin.get("/v1/requests", params={"limit": 0}).status_code == 400


def test_user_key_sees_only_its_own_requests(
    gateway: Server, user: httpx.Client, admin: httpx.Client
) -> None:
    mine = _gen(user).json()["id"]
    theirs = _gen(admin).json()["id"]
    rows = user.get("/v1/requests", params={"limit": 100}).json()["data"]
    assert mine in {r["id"] for r in rows} and theirs not in {r["id"] for r in rows}
    assert user.get(f"/v1/requests/{theirs}").status_code == 404
    assert user.get("/v1/requests", params={"key_id": "admin"}).status_code == 403
    assert admin.get(f"/v1/requests/{mine}").status_code == 200


def test_metrics_and_health(gateway: Server, admin: httpx.Client) -> None:
    _gen(admin)
    text = httpx.get(f"{gateway.url}/metrics").text
    assert (
        'mediarouter_requests_total{endpoint="/v1/images/generations",model="gpt-image-1-mini",status="200"}'
        in text
    )
    assert "mediarouter_attempts_total" in text and "mediarouter_in_flight_requests" in text
    assert "mediarouter_request_duration_ms_bucket" in text
    health = httpx.get(f"{gateway.url}/health").json()
    assert health["status"] == "ok" and health["sandbox"] is True
    spec = httpx.get(f"{gateway.url}/openapi.json").json()
    assert "/v1/images/generations" in spec["paths"]


def test_media_urls_are_signed(admin: httpx.Client) -> None:
    url = admin.post(
        "/v1/images/generations", json={"model": "dall-e-2", "prompt": "x", "response_format": "url"}
    ).json()["data"][0]["url"]
    assert httpx.get(url).status_code == 200
    assert httpx.get(url.replace("signature=", "signature=0")).status_code == 404
    expires = url.split("expires=")[1].split("&")[0]
    assert httpx.get(url.replace(f"expires={expires}", f"expires={int(expires) + 1000}")).status_code == 404
