"""Compare in a real browser: one prompt, side by side, with cost and latency under each result."""

from __future__ import annotations

import httpx
from browsing import Console, expect

from harness import Server


def _two_providers(gateway: Server) -> tuple[str, list[str]]:
    """A model that two providers serve in this gateway, and those two."""
    models = httpx.get(
        f"{gateway.url}/v1/models", headers={"Authorization": f"Bearer {gateway.user_key}"}
    ).json()
    model = next(m for m in models["data"] if m["id"] == "flux.1-schnell")
    return model["id"], [p["provider"] for p in model["providers"]][:2]


def test_one_prompt_two_providers_side_by_side(console: Console, gateway: Server) -> None:
    model, (first, second) = _two_providers(gateway)
    page = console.open("/ui/compare", gateway.user_key)
    lanes = page.locator(".lane")
    expect(lanes).to_have_count(3)  # two providers of one model, and another model
    lanes.nth(2).get_by_role("button", name="Remove column 3").click()
    expect(lanes).to_have_count(2)
    expect(page.get_by_role("button", name="Remove column 1")).to_be_hidden()  # never fewer than two
    for lane, provider in ((lanes.nth(0), first), (lanes.nth(1), second)):
        lane.locator(".lane-model").select_option(model)
        lane.locator(".lane-provider").select_option(provider)
    page.locator("#compare-prompt").fill("a lighthouse in a storm")
    page.locator("#compare-shape").select_option("16:9")
    page.get_by_role("button", name="Compare", exact=True).click()
    names = {}
    for i, provider in enumerate((first, second)):
        lane = lanes.nth(i)
        expect(lane.locator(".lane__frame img")).to_have_count(1)
        expect(lane.locator(".chip--cost")).to_contain_text("$")
        expect(lane.locator(".chip--time")).to_contain_text("s")
        expect(lane.locator(".attempt--success")).to_have_attribute("data-provider", provider)
        names[provider] = lane.locator(".lane__badges .badge").first.inner_text()
        assert lane.locator(".lane__frame img").evaluate("img => img.naturalWidth") > 0
    assert len(set(names.values())) == 2
    expect(page.locator(".lane__badges", has_text="Cheapest")).to_have_count(1)
    expect(page.locator(".lane__badges", has_text="Fastest")).to_have_count(1)


def test_columns_can_be_added_up_to_four(console: Console, gateway: Server) -> None:
    page = console.open("/ui/compare", gateway.user_key)
    add = page.get_by_role("button", name="Add a column")
    add.click()
    expect(page.locator(".lane")).to_have_count(4)
    expect(add).to_be_disabled()
