"""What the console tests share: the browser to use, one watched tab, and Playwright's `expect`.

Nothing is skipped: without Playwright or chromium the tests fail and say what to install. No
browser is ever downloaded; set MEDIAROUTER_CHROMIUM to use a chromium installed elsewhere.
Every tab is watched: a request to anything but the gateway, a script error or a
Content-Security-Policy violation fails the test that opened it.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from harness import Server

try:
    from playwright.sync_api import expect
except ImportError:  # reported by the `browser` fixture, with what to install
    expect = None  # type: ignore[assignment]

CHROMIUM = os.environ.get("MEDIAROUTER_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
DESKTOP = {"width": 1280, "height": 900}
PHONE = {"width": 390, "height": 844}
MISSING_PLAYWRIGHT = (
    "The web console tests need Playwright for Python: `pip install -e '.[test]'` installs it "
    "(no browser download: they drive Debian's chromium)."
)
MISSING_CHROMIUM = (
    f"The web console tests need chromium at {CHROMIUM}: `apt-get install -y chromium chromium-driver` "
    "(Debian), or set MEDIAROUTER_CHROMIUM to a chromium binary."
)


def missing() -> str | None:
    """Why a browser cannot be started here, or None."""
    if expect is None:
        return MISSING_PLAYWRIGHT
    if not Path(CHROMIUM).exists():
        return MISSING_CHROMIUM
    return None


def launch(playwright: Any) -> Any:
    expect.set_options(timeout=15_000)  # a shared 2-core machine can be slow
    return playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)


@dataclass
class Console:
    """One browser tab on the gateway's console, collecting what it did wrong as it goes."""

    page: Any
    gateway: Server
    offsite: list[str] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)

    def open(self, path: str = "/ui/", key: str | None = None) -> Any:
        """Go to `path`; sign in through the key dialog when `key` is given (a new tab has none)."""
        self.page.goto(self.gateway.url + path)
        if key is not None:
            self.page.locator("#gate-key").fill(key)
            self.page.locator("#gate-submit").click()
        self.ready()
        return self.page

    def ready(self) -> None:
        """Wait until the page has its data and its controls answer (`<body data-ready>`)."""
        self.page.locator("body[data-ready]").wait_for(state="attached")

    def watch(self) -> None:
        origin = self.gateway.url

        def on_request(request: Any) -> None:
            if not request.url.startswith((origin + "/", "data:", "blob:")):
                self.offsite.append(request.url)

        def on_console(message: Any) -> None:
            if "Content Security Policy" in message.text:
                self.errors.append(message.text)

        self.page.on("request", on_request)
        self.page.on("console", on_console)
        self.page.on("pageerror", lambda error: self.errors.append(str(error)))

    def check(self) -> None:
        assert not self.offsite, f"the console made requests off the gateway: {self.offsite}"
        assert not self.errors, f"errors in the page: {self.errors}"


def new_console(
    browser: Any, gateway: Server, viewport: dict[str, int] = DESKTOP, **options: Any
) -> tuple[Any, Console]:
    context = browser.new_context(viewport=viewport, **options)
    context.set_default_timeout(15_000)
    tab = Console(context.new_page(), gateway)
    tab.watch()
    return context, tab
