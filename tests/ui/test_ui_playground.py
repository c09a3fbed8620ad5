"""Playground in a real browser: sign in, generate, edit, estimate, and see failures for what they are."""

from __future__ import annotations

from pathlib import Path

import httpx
from browsing import Console, expect

from harness import Server
from imaging import png


def _rendered(page: object, selector: str) -> list[int]:
    """naturalWidth of each image matched: 0 means it did not load."""
    return page.locator(selector).evaluate_all(
        "imgs => imgs.map((img) => img.complete ? img.naturalWidth : 0)"
    )  # type: ignore[attr-defined, no-any-return]


def test_the_key_dialog_refuses_a_wrong_key_and_remembers_a_right_one(
    console: Console, gateway: Server
) -> None:
    page = console.page
    page.goto(gateway.url + "/")  # the printed URL redirects to the console
    assert page.url.endswith("/ui/")
    expect(page.locator("#gate")).to_be_visible()
    page.locator("#gate-key").fill("mr_nope.nope")
    page.locator("#gate-submit").click()
    expect(page.locator("#gate-error")).to_contain_text("not accepted")
    page.locator("#gate-key").fill(gateway.user_key)
    page.keyboard.press("Enter")
    expect(page.locator("#session")).to_contain_text("User key")
    console.ready()
    page.reload()  # kept in the tab's session: no second prompt
    expect(page.locator("#session")).to_contain_text("User key")
    expect(page.locator("#gate")).to_be_hidden()


def test_generate_shows_images_provider_cost_size_and_attempts(console: Console, gateway: Server) -> None:
    page = console.open("/ui/", gateway.user_key)
    page.locator("#prompt").fill("a red bicycle on a beach")
    page.locator("#model").select_option("flux.1-schnell")
    page.locator("#p-size").select_option("1344x768")  # the model's own sizes, from its schema
    page.locator("#n").fill("2")
    page.locator("#generate").click()
    result = page.locator(".summary[data-request-id]")
    expect(result.locator(".tile img")).to_have_count(2)
    expect(result).to_contain_text("Served by")
    expect(result.locator("[data-testid=cost]")).to_contain_text("$")
    expect(result.locator(".mapping")).to_contain_text("1344x768")
    expect(result.locator(".attempt--success")).to_have_count(1)
    page.locator(".tile img").last.wait_for()
    page.wait_for_function("() => [...document.querySelectorAll('.tile img')].every((i) => i.complete)")
    assert all(width == 1344 for width in _rendered(page, ".tile img"))
    request_id = result.get_attribute("data-request-id")
    row = httpx.get(
        f"{gateway.url}/v1/requests/{request_id}", headers={"Authorization": f"Bearer {gateway.user_key}"}
    ).json()
    assert row["image_count"] == 2 and row["model"] == "flux.1-schnell"
    # The session's history keeps it, and the log link opens it.
    expect(page.locator("#history img")).to_have_count(1)
    result.get_by_role("link", name="Open in request log").click()
    expect(page.locator("#detail")).to_contain_text(request_id or "")


def test_an_aspect_ratio_model_gets_its_own_controls(console: Console, gateway: Server) -> None:
    page = console.open("/ui/", gateway.user_key)
    page.locator("#model").select_option("imagen-4.0-generate-001")
    expect(page.locator("#p-aspect_ratio")).to_be_visible()
    expect(page.locator("#p-resolution")).to_be_visible()
    expect(page.locator("#p-size")).to_have_count(0)
    page.locator("#p-aspect_ratio").select_option("16:9")
    page.locator("#prompt").fill("a wide valley")
    page.locator("#generate").click()
    expect(page.locator(".summary[data-request-id] .tile img")).to_have_count(1)


def test_edit_uploads_the_image_and_shows_the_result(
    console: Console, gateway: Server, tmp_path: Path
) -> None:
    source = tmp_path / "in.png"
    source.write_bytes(png(96, 96))
    page = console.open("/ui/", gateway.user_key)
    page.locator("label[for=mode-edit]").click()
    expect(page.locator("#edit-fields")).to_be_visible()
    page.locator("#model").select_option("gpt-image-1-mini")
    page.locator("#images").set_input_files(str(source))
    expect(page.locator("#image-thumbs img")).to_have_count(1)
    page.locator("#prompt").fill("add a party hat")
    page.locator("#generate").click()
    result = page.locator(".summary[data-request-id]")
    expect(result.locator(".tile img")).to_have_count(1)
    row = httpx.get(
        f"{gateway.url}/v1/requests/{result.get_attribute('data-request-id')}",
        headers={"Authorization": f"Bearer {gateway.user_key}"},
    ).json()
    assert row["endpoint"] == "/v1/images/edits" and row["status"] == "completed"


def test_estimate_is_a_dry_run(console: Console, gateway: Server) -> None:
    page = console.open("/ui/", gateway.user_key)
    page.locator("#prompt").fill("a lighthouse")
    page.locator("#model").select_option("gpt-image-1-mini")
    page.locator("#estimate").click()
    estimate = page.locator("section[aria-label=Estimate]")
    expect(estimate).to_contain_text("openai")
    expect(estimate).to_contain_text("$")


def test_a_failed_forced_request_shows_the_failed_attempt(
    console: Console, gateway: Server, faults: httpx.Client
) -> None:
    faults.post(
        "/sandbox/_faults", json={"provider": "openai", "mode": "error", "status": 500}
    ).raise_for_status()
    page = console.open("/ui/", gateway.user_key)
    page.locator("#model").select_option("gpt-image-1-mini")
    page.locator("#provider").select_option("openai")
    page.locator("#prompt").fill("a cat")
    page.locator("#generate").click()
    error = page.locator(".error-box")
    expect(error).to_contain_text("UPSTREAM_ERROR")
    failed = error.locator(".attempt--failed")
    expect(failed).to_have_count(1)
    expect(failed).to_contain_text("failed")
    expect(failed).to_contain_text("HTTP 500")
    expect(failed.locator(".attempt__marker")).to_have_text("✕")


def test_keyboard_only(console: Console, gateway: Server) -> None:
    """Everything from the key to the result, with the keyboard alone."""
    page = console.page
    page.goto(gateway.url + "/ui/")
    expect(page.locator("#gate-key")).to_be_focused()
    page.keyboard.type(gateway.user_key)
    page.keyboard.press("Enter")
    expect(page.locator("#session")).to_be_visible()
    console.ready()
    page.keyboard.press("Tab")
    expect(page.locator(".skip-link")).to_be_focused()
    page.keyboard.press("Enter")  # to the page content
    page.keyboard.press("Tab")
    expect(page.locator("#mode-generate")).to_be_focused()
    page.keyboard.press("Tab")
    expect(page.locator("#prompt")).to_be_focused()
    page.keyboard.type("a blue door")
    page.keyboard.press("Control+Enter")
    expect(page.locator(".summary[data-request-id] .tile img")).to_have_count(1)
