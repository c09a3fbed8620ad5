"""A load run with injected faults loses no request: each succeeded or got a documented error, all are logged."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

import httpx

from harness import Server

DOCUMENTED = {"ALL_PROVIDERS_EXHAUSTED", "UPSTREAM_ERROR", "CONTENT_POLICY_VIOLATION", "RATE_LIMITED"}
MODELS = ["flux.1-dev", "gpt-image-1-mini", "flux.1-schnell", "gemini-2.5-flash-image"]


def test_no_request_is_lost(gateway: Server, faults: httpx.Client, admin: httpx.Client) -> None:
    faults.post("/sandbox/_faults", json={"seed": 7}).raise_for_status()
    for fault in (
        {"provider": "fal", "mode": "error", "status": 500, "rate": 0.3},
        {"provider": "replicate", "mode": "reset", "rate": 0.3},
        {"provider": "runware", "mode": "malformed", "rate": 0.3},
        {"provider": "openai", "mode": "error", "status": 503, "rate": 0.3},
        {"provider": "gemini", "mode": "empty", "rate": 0.3},
        {"provider": "vertex", "mode": "content_policy", "rate": 0.1},
    ):
        faults.post("/sandbox/_faults", json=fault).raise_for_status()

    def one(i: int) -> httpx.Response:
        body = {
            "model": MODELS[i % len(MODELS)],
            "prompt": f"load {i}",
            "size": "1024x1024",
            "response_format": "b64_json",
        }
        return httpx.post(
            f"{gateway.url}/v1/images/generations", json=body, headers=admin.headers, timeout=30
        )

    with ThreadPoolExecutor(8) as pool:
        responses = list(pool.map(one, range(60)))
    ids = set()
    for r in responses:
        ids.add(r.headers["x-mediarouter-request-id"])
        if r.status_code == 200:
            assert r.json()["data"] and all(d.get("b64_json") for d in r.json()["data"])
        else:
            assert r.json()["error"]["code"] in DOCUMENTED, r.text
    assert sum(r.status_code == 200 for r in responses) >= 40  # failover saves most of them
    logged: set[str] = set()
    page = admin.get("/v1/requests", params={"limit": 100}).json()
    logged |= {row["id"] for row in page["data"]}
    while page["has_more"] and not ids <= logged:
        page = httpx.get(page["next_page_url"], headers=admin.headers).json()
        logged |= {row["id"] for row in page["data"]}
    assert ids <= logged
