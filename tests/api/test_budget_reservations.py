"""Budgets reserve what a request can cost at most, so concurrent requests never overspend, even
when the cost is billed per token and depends on the prompt and the answer."""

from __future__ import annotations

from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import httpx
import pytest
import yaml

from harness import Server, start_server

LONG_PROMPT = "x " * 15000  # ~7,500 tokens as the sandbox counts them, 15,000 as the bound counts them


def _key(server: Server, budget: float) -> dict[str, str]:
    r = httpx.post(
        f"{server.url}/v1/keys",
        json={"name": "budgeted", "budget_usd": budget, "budget_period": "total"},
        headers={"Authorization": f"Bearer {server.admin_key}"},
    )
    assert r.status_code == 201, r.text
    return {"Authorization": f"Bearer {r.json()['key']}"}


def _burst(url: str, headers: dict[str, str], body: dict[str, Any], count: int = 8) -> list[httpx.Response]:
    def one(_: int) -> httpx.Response:
        return httpx.post(url, json=body, headers=headers, timeout=60)

    with ThreadPoolExecutor(count) as pool:
        return list(pool.map(one, range(count)))


def _spent(server: Server, headers: dict[str, str]) -> float:
    usage = httpx.get(f"{server.url}/v1/usage", headers=headers).json()["data"]
    return round(sum(row["cost"] for row in usage), 6)


@pytest.mark.parametrize(
    "extra",
    [{"quality": "medium", "size": "1024x1024"}, {}],  # a fixed tier, and quality and size left to the model
    ids=["medium-1024", "auto"],
)
def test_token_billed_images_with_a_long_prompt_never_overspend(
    gateway: Server, extra: dict[str, str]
) -> None:
    budget = 0.5  # each image costs ~$0.12 here; a 50-token estimate reserved $0.04 and let all 8 run
    headers = _key(gateway, budget)
    body = {"model": "gpt-image-1", "prompt": LONG_PROMPT, "response_format": "b64_json", **extra}
    results = _burst(f"{gateway.url}/v1/images/generations", headers, body)
    statuses = sorted(r.status_code for r in results)
    assert statuses[0] == 200 and set(statuses) <= {200, 402}, [r.text[:200] for r in results]
    logged = sum(float(r.headers["x-mediarouter-cost"]) for r in results if r.status_code == 200)
    assert logged > 0 and _spent(gateway, headers) == round(logged, 6) <= budget


TEXT = "openai/gpt-5.4"  # the sandbox bills $1.25 in / $10 out per million tokens, as the row below says


@pytest.fixture(scope="module")
def priced_chat(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    """A gateway whose catalog prices the text model, as an operator's config would."""
    data_dir = tmp_path_factory.mktemp("priced-chat")
    row = {
        "id": TEXT,
        "kind": "text",
        "modes": ["chat"],
        "providers": [
            {
                "provider": "openrouter",
                "model_id": TEXT,
                "price": {"per": "token", "input": 1.25, "output": 10.0},
            }
        ],
    }
    config = data_dir / "config.yaml"
    config.write_text(yaml.safe_dump({"catalog": {"models": [row]}}))
    handle, server, thread = start_server(data_dir, {"MEDIAROUTER_CONFIG": str(config)})
    yield handle
    server.should_exit = True
    thread.join(timeout=10)


def test_chat_reserves_prompt_and_max_tokens_and_never_overspends(priced_chat: Server) -> None:
    budget = 0.01  # each answer (it echoes the prompt) costs ~$0.0023; a $0 reservation let all 8 run
    headers = _key(priced_chat, budget)
    messages = [{"role": "user", "content": "word " * 200}]
    url = f"{priced_chat.url}/v1/chat/completions"
    results = _burst(url, headers, {"model": TEXT, "messages": messages, "max_tokens": 300})
    statuses = sorted(r.status_code for r in results)
    assert statuses[0] == 200 and set(statuses) <= {200, 402}, [r.text[:200] for r in results]
    assert 0 < _spent(priced_chat, headers) <= budget


def test_chat_without_max_tokens_reserves_the_default_cap(priced_chat: Server) -> None:
    headers = _key(priced_chat, 0.01)  # 4,096 output tokens at $10/M would be $0.04
    body = {"model": TEXT, "messages": [{"role": "user", "content": "hello"}]}
    r = httpx.post(f"{priced_chat.url}/v1/chat/completions", json=body, headers=headers, timeout=30)
    assert r.status_code == 402 and r.json()["error"]["code"] == "BUDGET_EXCEEDED"
    small = httpx.post(
        f"{priced_chat.url}/v1/chat/completions", json={**body, "max_tokens": 50}, headers=headers, timeout=30
    )
    assert small.status_code == 200
