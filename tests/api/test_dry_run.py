"""`?dryRun=true`: an estimate with its components, and no provider is called."""

from __future__ import annotations

import httpx
import pytest


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
