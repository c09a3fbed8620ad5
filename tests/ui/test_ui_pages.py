"""The console as files and HTTP: served pages, headers, packaging, and facts shared with the server."""

from __future__ import annotations

import re
import tomllib
from fnmatch import fnmatch
from pathlib import Path

import httpx
import pytest

from mediarouter.sandbox.faults import JOB_PROVIDERS, MODES
from mediarouter.ui.routes import HERE, PAGES, STATIC, TEMPLATES

from harness import Server

ROOT = Path(__file__).parents[2]


def test_root_and_ui_redirect_to_the_console(gateway: Server) -> None:
    for path in ("/", "/ui"):
        r = httpx.get(gateway.url + path, follow_redirects=False)
        assert r.status_code == 302 and r.headers["location"] == "/ui/"


@pytest.mark.parametrize("page", PAGES, ids=[p.slug for p in PAGES])
def test_each_page_is_served_with_navigation_and_a_strict_policy(gateway: Server, page: object) -> None:
    r = httpx.get(gateway.url + page.path)  # type: ignore[attr-defined]
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/html")
    csp = r.headers["content-security-policy"]
    for directive in ("default-src 'none'", "script-src 'self'", "style-src 'self'", "connect-src 'self'"):
        assert directive in csp
    html = r.text
    assert f'<script type="module" src="/ui/static/js/{page.slug}.js">' in html  # type: ignore[attr-defined]
    for other in PAGES:
        assert f'href="{other.path}"' in html
    assert html.count('aria-current="page"') == 1
    assert "{{" not in html  # every placeholder filled


def test_static_files_are_served_and_revalidated(gateway: Server) -> None:
    for path in ("/ui/static/console.css", "/ui/static/js/playground.js", "/ui/static/icon.svg"):
        r = httpx.get(gateway.url + path)
        assert r.status_code == 200 and r.headers["cache-control"] == "no-cache", path
    assert "javascript" in httpx.get(gateway.url + "/ui/static/js/api.js").headers["content-type"]
    assert httpx.get(gateway.url + "/ui/static/nope.js").status_code == 404


def test_every_page_module_exists() -> None:
    for page in PAGES:
        assert (TEMPLATES / f"{page.slug}.html").is_file()
        assert (STATIC / "js" / f"{page.slug}.js").is_file()


def test_the_console_ships_as_package_data() -> None:
    """Every template and static file matches a package-data glob, so `pip install` carries it."""
    config = tomllib.loads((ROOT / "pyproject.toml").read_text())
    globs = config["tool"]["setuptools"]["package-data"]["mediarouter"]
    package = HERE.parent
    files = [p for p in HERE.rglob("*") if p.is_file() and p.suffix in (".html", ".css", ".js", ".svg")]
    assert len(files) > 15
    for file in files:
        relative = file.relative_to(package).as_posix()
        assert any(fnmatch(relative, g) for g in globs), f"{relative} is not package data"


def test_no_asset_points_off_the_gateway() -> None:
    """No fonts, scripts or styles from CDNs: the only absolute URLs are the SVG namespace and the
    providers' status pages, which come from the API."""
    allowed = {"http://www.w3.org/2000/svg"}
    for file in HERE.rglob("*"):
        if file.suffix not in (".html", ".css", ".js", ".svg"):
            continue
        for url in re.findall(r"(?:https?:)?//[a-z0-9.-]+\.[a-z]{2,}[^\s\"')]*", file.read_text()):
            assert url in allowed, f"{file.name} refers to {url}"
        assert "@import" not in file.read_text() and "@font-face" not in file.read_text()


def test_fault_modes_match_the_sandbox() -> None:
    """The failover lab lists the sandbox's fault modes; the API does not serve the list."""
    lab = (STATIC / "js" / "lab.js").read_text()
    block = lab[lab.index("export const MODES") : lab.index("};", lab.index("export const MODES"))]
    assert re.findall(r"^\s+(\w+):", block, re.M) == list(MODES)
    jobs = re.search(r"JOB_PROVIDERS = \[([^\]]*)\]", lab)
    assert jobs and set(re.findall(r'"(\w+)"', jobs.group(1))) == set(JOB_PROVIDERS)


def _tokens(css: str, start: str) -> dict[str, str]:
    block = css[css.index(start) :]
    block = block[block.index("{") + 1 : block.index("}")]
    return dict(re.findall(r"--([\w-]+):\s*(#[0-9a-fA-F]{6})", block))


def _luminance(hex_colour: str) -> float:
    channels = [int(hex_colour[i : i + 2], 16) / 255 for i in (1, 3, 5)]
    linear = [c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4 for c in channels]
    return 0.2126 * linear[0] + 0.7152 * linear[1] + 0.0722 * linear[2]


def _contrast(a: str, b: str) -> float:
    high, low = sorted((_luminance(a), _luminance(b)), reverse=True)
    return (high + 0.05) / (low + 0.05)


# (text, background) pairs the stylesheet uses for text.
PAIRS = [
    ("text", "bg"), ("text", "surface"), ("text", "surface-2"), ("muted", "bg"), ("muted", "surface"),
    ("muted", "surface-2"), ("accent", "surface"), ("accent", "accent-soft"), ("accent-text", "accent"),
    ("ok", "ok-soft"), ("warn", "warn-soft"), ("bad", "bad-soft"), ("info", "info-soft"), ("bad", "surface"),
    ("ok", "surface"), ("text", "bad-soft"), ("text", "ok-soft"),
]  # fmt: skip


@pytest.mark.parametrize("scheme", [":root {", "prefers-color-scheme: dark"])
def test_text_colours_meet_wcag_aa(scheme: str) -> None:
    tokens = _tokens((STATIC / "console.css").read_text(), scheme)
    for fg, bg in PAIRS:
        ratio = _contrast(tokens[fg], tokens[bg])
        assert ratio >= 4.5, f"{scheme}: --{fg} on --{bg} is {ratio:.2f}:1"
