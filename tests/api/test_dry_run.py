"""`?dryRun=true`: an estimate with its components, and no provider is called."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest
import yaml

from harness import Server, start_server
from imaging import mask_png, png


def test_dry_run_prices_without_calling_anyone(admin: httpx.Client, faults: httpx.Client) -> None:
    r = admin.post(
        "/v1/images/generations",
        params={"dryRun": "true"},
        json={"model": "dall-e-3", "prompt": "estimate me", "n": 2, "size": "1792x1024", "quality": "hd"},
    )
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["estimated"] is True and body["model"] == "dall-e-3" and body["provider"] == "openai"
    assert body["currency"] == "USD"
    assert body["total_cost_micros"] == 240_000  # 2 x $0.12 (hd, 1792x1024) by hand from the catalog
    (component,) = body["components"]
    assert component == {
        "type": "output",
        "metric": "image",
        "quantity": 2,
        "billable_quantity": 2,
        "unit_price": 0.12,
        "total_cost": 240_000,
    }
    assert faults.get("/sandbox/_faults").json()["requests"].get("openai", 0) == 0


def test_dry_run_validates_like_a_real_request(admin: httpx.Client) -> None:
    r = admin.post(
        "/v1/images/generations",
        params={"dryRun": "true"},
        json={"model": "dall-e-3", "prompt": "x", "size": "no"},
    )
    assert r.status_code == 400 and r.json()["error"]["param"] == "size"


@pytest.mark.parametrize(("quality", "expected_micros"), [("low", 2_301), ("high", 33_405)])
def test_dry_run_token_priced(admin: httpx.Client, quality: str, expected_micros: int) -> None:
    r = admin.post(
        "/v1/images/generations",
        params={"dryRun": "1"},
        json={"model": "gpt-image-1-mini", "prompt": "x", "quality": quality, "size": "1024x1024"},
    ).json()
    # gpt-image-1-mini: $2.5/M input, $8/M output: 50 x 2.5 + 272 x 8 (low) or 4160 x 8 (high) micro-dollars
    assert r["total_cost_micros"] == expected_micros


TEXT = "openai/gpt-5.4"
MESSAGES = [
    {"role": "system", "content": "Be brief."},  # 9 characters
    {"role": "user", "content": [{"type": "text", "text": "Price this prompt, please."}]},  # 26
]  # 35 characters of text: ceil(35 / 4) = 9 input tokens


@pytest.fixture(scope="module")
def priced(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    """A gateway whose catalog prices the text model ($1.25 in, $10 out per million tokens)."""
    data_dir = tmp_path_factory.mktemp("priced-dry-run")
    price = {"per": "token", "input": 1.25, "output": 10.0}
    row = {
        "id": TEXT,
        "kind": "text",
        "providers": [{"provider": "openrouter", "model_id": TEXT, "price": price}],
    }
    config = data_dir / "config.yaml"
    config.write_text(yaml.safe_dump({"catalog": {"models": [row]}}))
    handle, server, thread = start_server(data_dir, {"MEDIAROUTER_CONFIG": str(config)})
    yield handle
    server.should_exit = True
    thread.join(timeout=10)


def test_chat_dry_run_estimates_tokens_without_calling_anyone(priced: Server) -> None:
    with priced.client() as c:
        body = {"model": TEXT, "messages": MESSAGES, "max_tokens": 200}
        r = c.post("/v1/chat/completions", params={"dryRun": "true"}, json=body)
        assert r.status_code == 200, r.text
        estimate = r.json()
        # 9 x $1.25/M + 200 x $10/M = 11.25 + 2000 micro-dollars
        assert estimate["total_cost_micros"] == 2011
        assert {k: estimate[k] for k in ("estimated", "model", "provider", "currency")} == {
            "estimated": True,
            "model": TEXT,
            "provider": "openrouter",
            "currency": "USD",
        }
        assert estimate["components"] == [
            {"type": "input", "metric": "token", "quantity": 9, "billable_quantity": 9,
             "unit_price": 1.25e-06, "total_cost": 11},
            {"type": "output", "metric": "token", "quantity": 200, "billable_quantity": 200,
             "unit_price": 1e-05, "total_cost": 2000},
        ]  # fmt: skip
        assert c.get("/sandbox/_faults").json()["requests"].get("openrouter", 0) == 0
        row = c.get(f"/v1/requests/{r.headers['x-mediarouter-request-id']}").json()
        assert row["status"] == "completed" and row["cost"] == 0


def test_chat_dry_run_without_max_tokens_and_without_a_catalog_price(
    admin: httpx.Client, faults: httpx.Client
) -> None:
    body = {"model": "google/gemini-3-flash-preview", "messages": MESSAGES, "stream": True}
    r = admin.post("/v1/chat/completions", params={"dryRun": "1"}, json=body)
    assert r.status_code == 200, r.text
    estimate = r.json()
    assert estimate["estimated"] is True and estimate["total_cost_micros"] is None  # OpenRouter says after
    assert [(c["type"], c["quantity"], c["total_cost"]) for c in estimate["components"]] == [
        ("input", 9, None),
        ("output", 4096, None),  # limits.chat_default_max_tokens
    ]
    assert faults.get("/sandbox/_faults").json()["requests"].get("openrouter", 0) == 0


def test_chat_dry_run_validates_like_a_real_request(admin: httpx.Client) -> None:
    r = admin.post("/v1/chat/completions", params={"dryRun": "true"}, json={"model": TEXT})
    assert r.status_code == 400 and r.json()["error"]["param"] == "messages"


def test_edit_dry_run_multipart_prices_without_calling_anyone(
    admin: httpx.Client, faults: httpx.Client
) -> None:
    r = admin.post(
        "/v1/images/edits",
        params={"dryRun": "true"},
        data={"model": "dall-e-2", "prompt": "add a hat", "n": "2", "size": "512x512"},
        files=[("image", ("in.png", png(64, 64), "image/png")), ("mask", ("m.png", mask_png(), "image/png"))],
    )
    assert r.status_code == 200, r.text
    body = r.json()
    assert {k: body[k] for k in ("estimated", "model", "provider", "currency")} == {
        "estimated": True,
        "model": "dall-e-2",
        "provider": "openai",
        "currency": "USD",
    }
    assert body["total_cost_micros"] == 36_000  # 2 x $0.018 (dall-e-2, 512x512) by hand from the catalog
    assert [(c["type"], c["metric"], c["quantity"], c["total_cost"]) for c in body["components"]] == [
        ("output", "image", 2, 36_000)
    ]
    assert faults.get("/sandbox/_faults").json()["requests"] == {}  # no emulator saw anything


def test_edit_dry_run_validates_like_a_real_request(admin: httpx.Client, faults: httpx.Client) -> None:
    r = admin.post(
        "/v1/images/edits",
        params={"dryRun": "true"},
        files={"model": (None, "dall-e-2"), "prompt": (None, "no image")},  # multipart, no image part
    )
    assert r.status_code == 400 and r.json()["error"]["param"] == "image", r.text
    assert faults.get("/sandbox/_faults").json()["requests"] == {}
