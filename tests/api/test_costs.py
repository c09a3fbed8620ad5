"""Costs by hand from the catalog, through the HTTP API: megapixels as fal bills them, FLUX.2's first
and extra megapixels with input images, and what a failed request was billed."""

from __future__ import annotations

import base64
from typing import Any

import httpx
import openai
import pytest

from imaging import decode, png


def _meta(result: Any) -> dict[str, Any]:
    return (result.model_extra or {})["metadata"]  # type: ignore[no-any-return]


@pytest.mark.parametrize(
    ("model", "fields", "size", "expected"),
    [
        ("fal/flux.1-dev", {"size": "1024x1024"}, (1024, 1024), 0.025),  # 1 MP, what fal bills (was 2 MP)
        ("fal/flux.1-dev", {"size": "1344x768"}, (1344, 768), 0.025),  # 1,032,192 pixels: 1 MP
        ("fal/flux.1-dev", {"size": "1024x1024", "n": 2}, (1024, 1024), 0.05),  # 2 x 1 MP
        ("fal/qwen-image", {"size": "1328x1328"}, (1328, 1328), 0.04),  # 1.68 MP -> 2 x $0.02
        ("fal/flux.2-pro", {"size": "1024x1024"}, (1024, 1024), 0.03),  # the first megapixel only
    ],
)
def test_per_megapixel_costs(
    sdk: openai.OpenAI, model: str, fields: dict[str, Any], size: tuple[int, int], expected: float
) -> None:
    result = sdk.images.generate(model=model, prompt="cost", response_format="b64_json", **fields)
    assert {decode(d).size for d in result.data} == {size}  # the size the emulator really made
    assert _meta(result)["cost"] == pytest.approx(expected)


def test_flux2_edit_bills_input_megapixels_at_the_extra_rate(sdk: openai.OpenAI) -> None:
    result = sdk.images.edit(
        model="fal/flux.2-pro",
        image=[("a.png", png(1024, 1024), "image/png"), ("b.png", png(2048, 1024), "image/png")],
        prompt="blend",
        size="1024x1024",
        response_format="b64_json",
    )
    assert decode(result.data[0]).size == (1024, 1024)
    # $0.03 for the output's first MP, then 1 + 2 input MP at $0.015
    assert _meta(result)["cost"] == pytest.approx(0.03 + 3 * 0.015)


def test_flux2_edit_dry_run_lists_first_and_extra_megapixels(
    admin: httpx.Client, faults: httpx.Client
) -> None:
    uri = "data:image/png;base64," + base64.b64encode(png(1024, 1024)).decode()
    body = {"model": "fal/flux.2-pro", "prompt": "p", "images": [uri, uri], "size": "1024x1024", "n": 2}
    r = admin.post("/v1/images/edits", params={"dryRun": "true"}, json=body)
    assert r.status_code == 200, r.text
    assert r.json()["total_cost_micros"] == 2 * (30_000 + 2 * 15_000)
    assert [(c["type"], c["metric"], c["quantity"], c["unit_price"]) for c in r.json()["components"]] == [
        ("output", "megapixel", 2, 0.03),
        ("input", "extra_megapixel", 4, 0.015),
    ]
    assert faults.get("/sandbox/_faults").json()["requests"].get("fal", 0) == 0


def test_a_failed_emulated_n_is_billed_for_the_images_it_made(
    admin: httpx.Client, faults: httpx.Client
) -> None:
    """gemini-2.5-flash-image makes one image per call: n=2 is two calls. With seed 3 and rate 0.5
    the sandbox fails one of them, then the call that makes the missing image up."""
    faults.post("/sandbox/_faults", json={"seed": 3}).raise_for_status()
    faults.post("/sandbox/_faults", json={"provider": "gemini", "mode": "error", "status": 500, "rate": 0.5})
    created = admin.post("/v1/keys", json={"name": "billed", "budget_usd": 1.0, "budget_period": "total"})
    key = {"Authorization": f"Bearer {created.json()['key']}"}
    body = {"model": "gemini-2.5-flash-image", "prompt": "two", "n": 2, "provider": {"only": ["gemini"]}}
    r = admin.post("/v1/images/generations", json=body, headers=key, timeout=30)
    assert r.status_code == 502, r.text
    error = r.json()["error"]
    assert error["code"] == "ALL_PROVIDERS_EXHAUSTED"
    assert error["message"].startswith("Only 1 of 2 images could be made; last: gemini (HTTP 500): ")
    attempts = [(a["provider"], a["status"], a["cost"]) for a in error["attempts"]]
    assert attempts == [("gemini", "failed", 0.0), ("gemini", "success", 0.039), ("gemini", "failed", 0.0)]
    assert faults.get("/sandbox/_faults").json()["requests"]["gemini"] == 3
    assert r.headers["x-mediarouter-cost"] == "0.039000"
    row = admin.get(f"/v1/requests/{error['request_id']}").json()
    assert row["status"] == "upstream_failure" and row["cost"] == pytest.approx(0.039)
    assert [a["status"] for a in row["attempts"]] == ["failed", "success", "failed"]
    spent = admin.get("/v1/usage", headers=key).json()["data"]
    assert sum(day["cost"] for day in spent) == pytest.approx(0.039)  # what the key's budget counts
