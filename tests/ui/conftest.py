"""Browser fixtures for the web console: Debian's chromium driven by Playwright, one browser per session."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest
from browsing import PHONE, Console, launch, missing, new_console

from harness import Server


# Module scope, not session: while Playwright's sync API runs it holds an event loop open in this
# worker, and tests of other files that call asyncio.run() on the same xdist worker would fail.
@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    reason = missing()
    if reason:
        pytest.fail(reason, pytrace=False)
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        launched = launch(playwright)
        yield launched
        launched.close()


@pytest.fixture
def console(browser: Any, gateway: Server) -> Iterator[Console]:
    """A desktop-sized tab with no key yet."""
    context, tab = new_console(browser, gateway)
    yield tab
    context.close()
    tab.check()


@pytest.fixture
def phone(browser: Any, gateway: Server) -> Iterator[Console]:
    """A phone-sized tab (390 x 844, touch)."""
    context, tab = new_console(browser, gateway, PHONE, is_mobile=True, has_touch=True)
    yield tab
    context.close()
    tab.check()


@pytest.fixture
def another_tab(browser: Any, gateway: Server) -> Iterator[Callable[[], Console]]:
    """Opens more tabs, each in its own browser context (its own session storage, so its own key)."""
    opened: list[tuple[Any, Console]] = []

    def open_tab() -> Console:
        context, tab = new_console(browser, gateway)
        opened.append((context, tab))
        return tab

    yield open_tab
    for context, tab in opened:
        context.close()
        tab.check()
