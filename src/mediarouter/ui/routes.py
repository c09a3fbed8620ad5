"""The console's routes: `/` redirects to `/ui/`, one page per path, static files under `/ui/static`.

A page is the shared layout (`templates/layout.html`) around its own `<main>` fragment and one
JavaScript module. Adding a page is a row in `PAGES`, a fragment in `templates/` and a module in
`static/js/`. Pages carry a Content-Security-Policy that keeps scripts, styles and API calls on this
origin, so the console never loads anything from the network besides the gateway itself.
"""

from __future__ import annotations

import html
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

from starlette.requests import Request
from starlette.responses import HTMLResponse, RedirectResponse, Response
from starlette.routing import BaseRoute, Mount, Route
from starlette.staticfiles import StaticFiles

from mediarouter import __version__

HERE = Path(__file__).parent
TEMPLATES = HERE / "templates"
STATIC = HERE / "static"

# Images may come from a media store on another host (e.g. S3); everything else stays on this origin.
CSP = (
    "default-src 'none'; script-src 'self'; style-src 'self'; connect-src 'self'; "
    "img-src * data: blob:; font-src 'self'; form-action 'self'; base-uri 'none'; frame-ancestors 'none'"
)
PAGE_HEADERS = {
    "Content-Security-Policy": CSP,
    "Cache-Control": "no-cache",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
}


@dataclass(frozen=True)
class Page:
    slug: str
    path: str
    title: str  # nav label and document title
    summary: str  # the page's one-line description, under its heading


PAGES = (
    Page(
        "playground", "/ui/", "Playground", "Generate or edit images with any model, and see what happened."
    ),
    Page("compare", "/ui/compare", "Compare", "One prompt, two to four models or providers, side by side."),
    Page("requests", "/ui/requests", "Requests", "Every request this key may see, with its attempts."),
    Page("providers", "/ui/providers", "Providers", "Health, breakers and latency per provider and model."),
    Page("keys", "/ui/keys", "Keys & usage", "API keys, their roles and what each one spends."),
)


@cache
def _template(name: str) -> str:
    return (TEMPLATES / name).read_text(encoding="utf-8")


def _nav(current: Page) -> str:
    links = []
    for page in PAGES:
        here = ' aria-current="page"' if page is current else ""
        links.append(f'<li><a href="{page.path}"{here}>{html.escape(page.title)}</a></li>')
    return "\n".join(links)


@cache
def render_page(slug: str) -> str:
    page = next(p for p in PAGES if p.slug == slug)
    values = {
        "title": html.escape(page.title),
        "summary": html.escape(page.summary),
        "slug": page.slug,
        "nav": _nav(page),
        "main": _template(f"{page.slug}.html"),
        "version": __version__,
    }
    out = _template("layout.html")
    for name, value in values.items():
        out = out.replace("{{" + name + "}}", value)
    return out


def _page_endpoint(page: Page) -> Callable[[Request], Awaitable[Response]]:
    async def endpoint(request: Request) -> Response:
        return HTMLResponse(render_page(page.slug), headers=PAGE_HEADERS)

    endpoint.__name__ = f"ui_{page.slug}"
    return endpoint


class _StaticFiles(StaticFiles):
    """Static files that browsers revalidate (by ETag) so an upgraded gateway never serves stale JS."""

    def file_response(self, *args: Any, **kwargs: Any) -> Response:
        response = super().file_response(*args, **kwargs)
        response.headers["Cache-Control"] = "no-cache"
        response.headers["X-Content-Type-Options"] = "nosniff"
        return response


async def _to_console(request: Request) -> Response:
    return RedirectResponse("/ui/", status_code=302)


def ui_routes() -> list[BaseRoute]:
    table: list[BaseRoute] = [
        Route("/", _to_console, methods=["GET"]),
        Route("/ui", _to_console, methods=["GET"]),
    ]
    table += [Route(page.path, _page_endpoint(page), methods=["GET"]) for page in PAGES]
    table.append(Mount("/ui/static", app=_StaticFiles(directory=STATIC), name="ui-static"))
    return table
