"""Every page at phone and desktop widths, in both colour schemes: nothing overflows, every control is named."""

from __future__ import annotations

import pytest
from browsing import Console, expect

from harness import Server

# Each page, and what shows it has loaded its data.
PAGES = {
    "/ui/": "#model optgroup",
    "/ui/compare": ".lane",
    "/ui/requests": "#log-rows tr",
    "/ui/providers": "article.provider",
    "/ui/keys": "#usage-stats .stat",
}

UNNAMED_CONTROLS = """() => [...document.querySelectorAll('input, select, textarea, button, a[href]')]
  .filter((el) => el.offsetParent !== null || el.closest('.segmented'))
  .filter((el) => {
    if (el.type === 'hidden') return false;
    const named = (el.labels && el.labels.length) || el.getAttribute('aria-label')
      || el.getAttribute('aria-labelledby') || el.textContent.trim();
    return !named;
  })
  .map((el) => el.outerHTML.slice(0, 120))"""

IMAGES_WITHOUT_ALT = (
    "() => [...document.images].filter((img) => !img.hasAttribute('alt')).map((img) => img.src)"
)

OVERFLOW = "() => document.documentElement.scrollWidth - window.innerWidth"


def _visit_all(tab: Console, key: str) -> None:
    tab.open("/ui/", key)
    for path, ready in PAGES.items():
        tab.page.goto(tab.gateway.url + path)
        tab.ready()
        expect(tab.page.locator(ready).first).to_be_attached()
        tab.page.wait_for_load_state("networkidle")
        assert tab.page.evaluate(OVERFLOW) <= 0, f"{path} is wider than the screen"
        assert tab.page.evaluate(UNNAMED_CONTROLS) == [], f"{path}: controls without a label"
        assert tab.page.evaluate(IMAGES_WITHOUT_ALT) == [], f"{path}: images without alt text"


def test_phone_width_admin(phone: Console, gateway: Server) -> None:
    _visit_all(phone, gateway.admin_key)
    for link in phone.page.locator("nav.nav a").all():  # every page reachable without sideways scrolling
        box = link.bounding_box()
        assert box and box["x"] >= 0 and box["x"] + box["width"] <= 390


def test_desktop_width_user(console: Console, gateway: Server) -> None:
    _visit_all(console, gateway.user_key)


@pytest.mark.parametrize("scheme", ["light", "dark"])
def test_colour_scheme_follows_the_system(browser: object, gateway: Server, scheme: str) -> None:
    context = browser.new_context(color_scheme=scheme)  # type: ignore[attr-defined]
    try:
        page = context.new_page()
        page.goto(gateway.url + "/ui/")
        background = page.evaluate("() => getComputedStyle(document.body).backgroundColor")
        red = int(background.split("(")[1].split(",")[0])
        assert (red > 128) == (scheme == "light"), background
    finally:
        context.close()
