"""Screenshots of the web console for the README: `.venv/bin/python tests/ui/screenshots.py [OUT_DIR]`.

Starts a sandbox gateway on a scratch data directory, makes it look used (keys with limits, a few
dozen requests through the API, one failover, one failure, and two weeks of past spend written
into the log so the usage chart has a history), then photographs each page at desktop width
(light scheme) and phone width (dark scheme) with the same chromium the tests use.
"""

from __future__ import annotations

import random
import sqlite3
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import httpx

sys.path.insert(0, str(Path(__file__).parent.parent))  # tests/: harness, imaging
sys.path.insert(0, str(Path(__file__).parent))  # tests/ui: browsing

from browsing import DESKTOP, PHONE, launch, missing  # noqa: E402

from mediarouter.store.request_log import _INSERT, RequestRecord, _values  # noqa: E402

from harness import start_server  # noqa: E402

OUT = Path(sys.argv[1]) if len(sys.argv) > 1 else Path(__file__).parents[2] / "docs" / "screenshots"
PROMPTS = [
    "a red bicycle leaning on a beach hut at sunset, film photo",
    "a lighthouse on a cliff in a storm, oil painting",
    "isometric tiny city at night, neon",
    "a cat astronaut floating above the earth",
    "minimal poster of snowy mountains",
]
MODELS = ["flux.1-schnell", "gpt-image-1-mini", "imagen-4.0-fast-generate-001", "seedream-4", "qwen-image"]


def seed(url: str, admin: str, data_dir: Path) -> dict[str, str]:
    api = httpx.Client(base_url=url, headers={"Authorization": f"Bearer {admin}"}, timeout=60)
    keys = {
        "mobile app": api.post(
            "/v1/keys", json={"name": "mobile app", "rpm": 60, "budget_usd": 20, "budget_period": "month"}
        ),
        "batch renderer": api.post("/v1/keys", json={"name": "batch renderer", "max_concurrency": 4}),
        "design team": api.post(
            "/v1/keys", json={"name": "design team", "budget_usd": 5, "budget_period": "day"}
        ),
    }
    secrets = {name: r.raise_for_status().json()["key"] for name, r in keys.items()}
    clients = [
        httpx.Client(base_url=url, headers={"Authorization": f"Bearer {k}"}, timeout=60)
        for k in secrets.values()
    ]
    for i in range(14):
        clients[i % 3].post(
            "/v1/images/generations",
            json={
                "model": MODELS[i % len(MODELS)],
                "prompt": PROMPTS[i % len(PROMPTS)],
                "size": ["1:1", "16:9", "2:3"][i % 3],
            },
        ).raise_for_status()
    api.post("/sandbox/_faults", json={"provider": "fal", "mode": "error", "status": 503, "count": 1})
    api.post(
        "/v1/images/generations",
        json={
            "model": "flux.1-schnell",
            "prompt": PROMPTS[1],
            "size": "16:9",
            "provider": {"order": ["fal"]},
        },
    ).raise_for_status()
    api.post("/sandbox/_faults", json={"provider": "openai", "mode": "timeout", "count": 1})
    api.post("/v1/images/generations", json={"model": "openai/gpt-image-1-mini", "prompt": PROMPTS[3]})
    api.delete("/sandbox/_faults")
    backfill(data_dir / "mediarouter.db", [k.split(".")[0][3:] for k in secrets.values()])
    return secrets


def backfill(db: Path, key_ids: list[str]) -> None:
    """Two weeks of past requests, written straight into the log: the API only records the present."""
    rng = random.Random(7)
    rows = []
    now = time.time()
    for day in range(1, 14):
        for key_id, scale in zip(key_ids + ["admin"], (1.0, 2.2, 0.6, 0.3), strict=True):
            for _ in range(rng.randint(2, 6)):
                at = now - day * 86400 - rng.uniform(0, 80000)
                cost = round(scale * rng.uniform(0.004, 0.05), 6)
                record = RequestRecord(
                    f"req_{int(at * 1000):012x}{rng.getrandbits(40):010x}", at, "/v1/images/generations",
                    "completed", 200, key_id=key_id, model=rng.choice(MODELS), provider="fal", cost=cost,
                    image_count=1, image_sizes=["1024x1024"], duration_ms=rng.uniform(300, 2500),
                )  # fmt: skip
                rows.append(_values(record))
    with sqlite3.connect(db) as conn:
        conn.executemany(_INSERT, rows)


def shoot(page: Any, name: str, full: bool = False) -> None:
    page.evaluate("() => window.scrollTo(0, 0)")
    page.wait_for_timeout(300)
    page.screenshot(path=str(OUT / f"{name}.png"), full_page=full, animations="disabled", caret="initial")
    print("wrote", OUT / f"{name}.png")


def desktop(browser: Any, url: str, admin: str) -> None:
    context = browser.new_context(viewport={**DESKTOP, "height": 860}, color_scheme="light")
    page = context.new_page()
    page.goto(url + "/ui/")
    page.locator("#gate-key").fill(admin)
    page.locator("#gate-submit").click()
    page.locator("#model optgroup").first.wait_for(state="attached")
    page.locator("#prompt").fill(PROMPTS[0])
    page.locator("#model").select_option("flux.1-schnell")
    page.locator("#p-size").select_option("1344x768")
    page.locator("#n").fill("2")
    page.locator("#generate").click()
    page.locator(".summary[data-request-id] .tile img").nth(1).wait_for()
    shoot(page, "playground")

    page.goto(url + "/ui/compare")
    page.locator("#compare-prompt").fill(PROMPTS[1])
    page.locator("#compare-shape").select_option("3:2")
    page.get_by_role("button", name="Compare", exact=True).click()
    for i in range(3):
        page.locator(".lane").nth(i).locator(".lane__stats .chip").first.wait_for()
    page.set_viewport_size({"width": 1280, "height": 1180})
    shoot(page, "compare")
    page.set_viewport_size({**DESKTOP, "height": 860})

    page.goto(url + "/ui/requests?status=")
    page.locator("#log-rows tr").first.wait_for()
    page.locator("#log-rows tr", has=page.get_by_role("img", name="2 attempts, 1 failed")).first.locator(
        "a"
    ).click()
    page.locator("#detail .attempt--failed").wait_for()
    page.set_viewport_size({"width": 1280, "height": 1000})
    shoot(page, "requests")
    page.set_viewport_size({**DESKTOP, "height": 860})

    page.goto(url + "/ui/providers")
    page.locator("article.provider").first.wait_for()
    shoot(page, "providers")
    page.locator("#probe-model").select_option("flux.1-schnell")
    page.locator("#fault-provider").select_option("fal")
    page.locator("#fault-mode").select_option("error")
    page.get_by_role("button", name="Inject fault").click()
    page.locator("#fault-list li[data-provider]").wait_for()
    page.get_by_role("button", name="Send test request").click()
    page.locator("#probe-result .attempt--success").wait_for()
    page.wait_for_timeout(2500)  # the cards catch up
    page.locator("#lab").screenshot(path=str(OUT / "failover-lab.png"), animations="disabled")
    print("wrote", OUT / "failover-lab.png")
    page.get_by_role("button", name="Clear all faults").click()

    page.goto(url + "/ui/keys")
    page.locator("#usage-chart svg rect").first.wait_for()
    page.set_viewport_size({"width": 1280, "height": 1040})
    shoot(page, "keys")
    context.close()


def phone(browser: Any, url: str, admin: str) -> None:
    context = browser.new_context(
        viewport=PHONE, color_scheme="dark", is_mobile=True, has_touch=True, device_scale_factor=2
    )
    page = context.new_page()
    page.goto(url + "/ui/requests")
    page.locator("#gate-key").fill(admin)
    page.locator("#gate-submit").click()
    page.locator("#log-rows tr").first.wait_for()
    shoot(page, "requests-phone")
    page.goto(url + "/ui/")
    page.locator("#model optgroup").first.wait_for(state="attached")
    page.locator("#prompt").fill(PROMPTS[3])
    page.locator("#model").select_option("gpt-image-1-mini")
    page.locator("#generate").click()
    page.locator(".summary[data-request-id] .tile img").wait_for()
    page.locator(".summary[data-request-id]").scroll_into_view_if_needed()
    page.wait_for_timeout(300)
    page.screenshot(path=str(OUT / "playground-phone.png"), animations="disabled")
    print("wrote", OUT / "playground-phone.png")
    context.close()


def main() -> int:
    reason = missing()
    if reason:
        print(reason, file=sys.stderr)
        return 1
    from playwright.sync_api import sync_playwright

    OUT.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as scratch:
        # A fixed routing seed: the same providers on every run.
        handle, server, thread = start_server(Path(scratch), {"MEDIAROUTER_ROUTING_SEED": "3"})
        try:
            seed(handle.url, handle.admin_key, Path(scratch))
            with sync_playwright() as playwright:
                browser = launch(playwright)
                desktop(browser, handle.url, handle.admin_key)
                phone(browser, handle.url, handle.admin_key)
                browser.close()
        finally:
            server.should_exit = True
            thread.join(timeout=10)
    return 0


if __name__ == "__main__":
    sys.exit(main())
