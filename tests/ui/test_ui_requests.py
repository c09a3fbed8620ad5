"""Requests in a real browser: find a request in the log, filter, page, and read its attempts."""

from __future__ import annotations

from typing import Any

import httpx
from browsing import Console, expect

from harness import Server


def _failover(gateway: Server, faults: httpx.Client, key: str) -> tuple[str, str]:
    """A request whose first provider fails once: (request id, the provider that failed)."""
    faulty = "fal"
    faults.post(
        "/sandbox/_faults", json={"provider": faulty, "mode": "error", "status": 503, "count": 1}
    ).raise_for_status()
    r = httpx.post(
        f"{gateway.url}/v1/images/generations",
        json={"model": "flux.1-schnell", "prompt": "log me", "provider": {"order": [faulty]}},
        headers={"Authorization": f"Bearer {key}"},
        timeout=30,
    )
    assert r.status_code == 200, r.text
    return r.json()["id"], faulty


def test_find_the_request_and_see_its_attempts(
    console: Console, gateway: Server, faults: httpx.Client
) -> None:
    request_id, faulty = _failover(gateway, faults, gateway.user_key)
    page = console.open("/ui/requests", gateway.user_key)
    page.locator("#f-model").select_option("flux.1-schnell")
    row = page.locator(f"tr[data-id='{request_id}']")
    expect(row.get_by_role("img", name="2 attempts, 1 failed")).to_be_visible()
    row.get_by_role("link").click()
    detail = page.locator("#detail")
    expect(detail).to_contain_text(request_id)
    failed = detail.locator(".attempt--failed")
    expect(failed).to_have_attribute("data-provider", faulty)
    expect(failed).to_contain_text("HTTP 503")
    expect(failed).to_contain_text("moved on to the next provider")
    expect(detail.locator(".attempt--success")).to_have_count(1)
    expect(detail).to_contain_text("$")  # cost
    expect(detail.locator(".mapping")).to_be_visible()  # the size served
    assert f"id={request_id}" in page.url  # a link that can be shared
    page.reload()
    expect(page.locator("#detail")).to_contain_text(request_id)


def _shows_the_apis_page(page: Any, gateway: Server, params: dict[str, str]) -> None:
    """Wait until the table is redrawn with the API's first page for these filters (a filter change
    reloads asynchronously: reading the table before then would read the unfiltered rows)."""
    listed = httpx.get(
        f"{gateway.url}/v1/requests",
        params={**params, "limit": 25},
        headers={"Authorization": f"Bearer {gateway.admin_key}"},
    ).json()["data"]
    page.wait_for_function(
        "ids => JSON.stringify([...document.querySelectorAll('#log-rows tr[data-id]')]"
        ".map(tr => tr.dataset.id)) === JSON.stringify(ids)",
        arg=[r["id"] for r in listed],
        timeout=10_000,
    )


def test_filters_status_and_provider(console: Console, gateway: Server, faults: httpx.Client) -> None:
    faults.post(
        "/sandbox/_faults", json={"provider": "openai", "mode": "error", "status": 500}
    ).raise_for_status()
    failed = httpx.post(
        f"{gateway.url}/v1/images/generations",
        json={"model": "openai/gpt-image-1-mini", "prompt": "fail me"},
        headers={"Authorization": f"Bearer {gateway.admin_key}"},
        timeout=30,
    ).json()["error"]["request_id"]
    page = console.open("/ui/requests", gateway.admin_key)
    page.locator("#f-status").select_option("upstream_failure")
    _shows_the_apis_page(page, gateway, {"status": "upstream_failure"})
    expect(page.locator(f"tr[data-id='{failed}']")).to_be_visible()
    for status in page.locator("#log-rows tr .badge").all_inner_texts():
        assert status == "Upstream failure"
    page.locator("#f-status").select_option("")
    page.locator("#f-provider").select_option("openai")
    # The rows are the API's own provider filter: served by OpenAI, or with an attempt there.
    _shows_the_apis_page(page, gateway, {"provider": "openai"})
    expect(page.locator(f"tr[data-id='{failed}']")).to_be_visible()
    expect(page.locator("#f-key-field")).to_be_visible()  # admins can filter by key
    page.locator("#f-range").select_option("3600")  # last hour
    expect(page.locator(f"tr[data-id='{failed}']")).to_be_visible()
    page.locator("#f-range").select_option("custom")
    page.locator("#f-after").fill("2001-01-01T00:00")
    page.locator("#f-before").fill("2001-01-02T00:00")
    expect(page.locator("#log-summary")).to_have_text("No requests match these filters yet.")


def test_pages_through_the_log(console: Console, gateway: Server) -> None:
    admin = {"Authorization": f"Bearer {gateway.admin_key}"}
    key = httpx.post(f"{gateway.url}/v1/keys", json={"name": "pager"}, headers=admin).json()["key"]
    for i in range(27):  # dry runs: logged, cheap, no provider called
        httpx.post(
            f"{gateway.url}/v1/images/generations?dryRun=true",
            json={"model": "gpt-image-1-mini", "prompt": f"page {i}"},
            headers={"Authorization": f"Bearer {key}"},
        ).raise_for_status()
    page = console.open("/ui/requests", key)
    expect(page.locator("#log-rows tr")).to_have_count(25)
    expect(page.locator("#log-rows .badge", has_text="Estimate")).to_have_count(25)
    expect(page.locator("#f-key-field")).to_be_hidden()  # a user key sees its own requests only
    page.get_by_role("button", name="Older →").click()
    expect(page.locator("#log-rows tr")).to_have_count(2)
    expect(page.get_by_role("button", name="Older →")).to_be_disabled()
    page.get_by_role("button", name="← Newer").click()
    expect(page.locator("#log-rows tr")).to_have_count(25)


def test_a_request_from_another_client_shows_its_mapping(console: Console, gateway: Server) -> None:
    """Made with plain HTTP, not this browser: what the detail shows comes from the log alone."""
    r = httpx.post(
        f"{gateway.url}/v1/images/generations",
        json={"model": "dall-e-3", "prompt": "wide", "size": "1536x1024", "output_format": "jpeg"},
        headers={"Authorization": f"Bearer {gateway.admin_key}"},
        timeout=30,
    )
    assert r.status_code == 200, r.text
    request_id = r.json()["id"]
    logged = httpx.get(
        f"{gateway.url}/v1/requests/{request_id}", headers={"Authorization": f"Bearer {gateway.admin_key}"}
    ).json()
    assert logged["params"]["applied"]["size_mapping"] == {"requested": "1536x1024", "used": "1792x1024"}
    assert logged["params"]["applied"]["format_conversion"] == {"from": "png", "to": "jpeg"}
    page = console.open(f"/ui/requests?id={request_id}", gateway.admin_key)
    detail = page.locator("#detail")
    expect(detail).to_contain_text(request_id)
    expect(detail.locator(".mapping").first).to_contain_text("1536x1024")
    expect(detail.locator(".mapping").first).to_contain_text("1792x1024")
    expect(detail).to_contain_text("png → jpeg")
