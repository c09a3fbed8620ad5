"""Keys & usage in a real browser: create a key (shown once), set limits, revoke; spend per key as a chart."""

from __future__ import annotations

import re
from collections.abc import Callable

import httpx
from browsing import Console, expect

from harness import Server


def test_create_limit_use_and_revoke_a_key(
    console: Console, gateway: Server, another_tab: Callable[[], Console]
) -> None:
    page = console.open("/ui/keys", gateway.admin_key)
    expect(page.locator("#key-name")).to_be_hidden()  # the form opens on demand
    page.get_by_text("New key", exact=True).click()
    page.locator("#key-name").fill("ci robot")
    page.locator("#key-budget").fill("2.5")
    page.locator("#key-period").select_option("day")
    page.locator("#key-rpm").fill("30")
    page.get_by_role("button", name="Create key").click()
    secret = page.locator("#new-secret-value")
    expect(secret).to_have_text(re.compile(r"^mr_[0-9a-f]+\..+"))
    key = secret.inner_text()
    row = page.locator("#key-rows tr", has_text="ci robot")
    expect(row).to_contain_text("30 req/min")
    expect(row).to_contain_text("$2.50 per day")
    key_id = row.get_attribute("data-key-id")
    assert key == f"mr_{key_id}." + key.split(".", 1)[1]

    # The new key works: another tab signs in with it as a user, and spends.
    other = another_tab().open("/ui/", key)
    expect(other.locator("#session")).to_contain_text("User key")
    other.locator("#prompt").fill("first spend")
    other.locator("#generate").click()
    expect(other.locator(".summary[data-request-id] .tile img")).to_have_count(1)

    # Limits change in a dialog (PATCH); the table follows.
    page.reload()
    row = page.locator(f"#key-rows tr[data-key-id='{key_id}']")
    expect(row).to_contain_text("1")  # its request is counted
    row.get_by_role("button", name="Limits of ci robot").click()
    dialog = page.get_by_role("dialog", name='Limits for "ci robot"')
    dialog.get_by_label("Concurrent requests").fill("2")
    dialog.get_by_label("Requests per minute").fill("")
    dialog.get_by_role("button", name="Save limits").click()
    expect(dialog).to_be_hidden()
    expect(row).to_contain_text("2 at once")
    expect(row).not_to_contain_text("req/min")
    limits = httpx.get(
        f"{gateway.url}/v1/keys", headers={"Authorization": f"Bearer {gateway.admin_key}"}
    ).json()
    assert next(k for k in limits["data"] if k["id"] == key_id)["limits"]["max_concurrency"] == 2

    # Revoke, after a confirmation.
    page.once("dialog", lambda d: d.accept())
    row.get_by_role("button", name="Revoke ci robot").click()
    expect(row).to_contain_text("revoked")
    r = httpx.get(f"{gateway.url}/v1/models", headers={"Authorization": f"Bearer {key}"})
    assert r.status_code == 401


def test_spend_per_key_is_charted(console: Console, gateway: Server) -> None:
    httpx.post(
        f"{gateway.url}/v1/images/generations",
        json={"model": "gpt-image-1-mini", "prompt": "spend"},
        headers={"Authorization": f"Bearer {gateway.user_key}"},
        timeout=30,
    ).raise_for_status()
    page = console.open("/ui/keys", gateway.admin_key)
    chart = page.locator("#usage-chart svg")
    expect(chart).to_have_attribute("aria-label", "Spend per key per day, last 14 days")
    expect(chart.locator("rect.bar").first).to_be_visible()
    expect(page.locator("#usage-chart .legend")).to_contain_text("test user")
    expect(page.locator("#usage-stats")).to_contain_text("$")
    page.get_by_text("Show as a table").click()
    expect(page.locator("#usage-table tbody tr", has_text="test user").first).to_be_visible()
    page.locator("#usage-range").select_option("30")
    expect(chart).to_have_attribute("aria-label", "Spend per key per day, last 30 days")


def test_a_user_key_sees_only_its_own_usage(console: Console, gateway: Server) -> None:
    page = console.open("/ui/keys", gateway.user_key)
    expect(page.locator("#keys-admin")).to_be_hidden()
    expect(page.locator("#keys-user-note")).to_be_visible()
    expect(page.locator("#usage-source")).to_contain_text("this key only")
