"""The web console: pages served by the gateway under `/ui/`, talking only to the public HTTP API.

Nothing here reads the store or the router: every figure on a page comes from a `fetch` to `/v1/...`
with the key the user pasted (kept in the browser tab's session), so the console is a real client of
the API and shows exactly what that key may see. `routes.py` serves the pages and their static files;
`templates/` holds the page skeletons and `static/` the plain CSS and JavaScript modules (no build).
"""

from mediarouter.ui.routes import ui_routes

__all__ = ["ui_routes"]
