"""Vertex AI: the same bodies as the Gemini API under a project/location path, OAuth2 or API key.

With a service account (`service_account_file` / `service_account` in the provider config) the
secret the router hands us is an OAuth2 access token (minted in `oauth.py`) and the path is
`/v1/projects/{project}/locations/{location}/publishers/google/models/{model}:{method}`. With
only an API key (express mode) the key goes in `x-goog-api-key` and the path has no project
prefix unless a project is configured.

The location is the config's `location`, else the catalog row's (some models live in `global`
only, Imagen in regions), else `global`; the host follows it (`{location}-aiplatform...`,
`aiplatform.{us|eu}.rep...` for multi-regions). A custom base URL (the sandbox, a proxy) is kept.
The API version is `v1` (GA); the config's `api_version` may say `v1beta1`.
"""

from __future__ import annotations

from urllib.parse import urlsplit

from mediarouter.providers.base import Call, UpstreamError
from mediarouter.providers.google.adapter import GoogleAdapter, model_path
from mediarouter.providers.google.oauth import uses_service_account

GLOBAL_HOST = "aiplatform.googleapis.com"
MULTI_REGIONS = frozenset({"us", "eu"})
DEFAULT_VERSION = "v1"


def resolve_location(call: Call) -> str:
    return str(call.options.get("location") or call.offering.options.get("location") or "global")


def resolve_base(base_url: str, location: str) -> str:
    """The regional host for `location` when the base URL is Google's global one, else as given."""
    base = base_url.rstrip("/")
    parts = urlsplit(base)
    if (parts.hostname or "").lower() != GLOBAL_HOST or location == "global":
        return base
    host = (
        f"aiplatform.{location}.rep.googleapis.com"
        if location in MULTI_REGIONS
        else f"{location}-aiplatform.googleapis.com"
    )
    return parts._replace(netloc=host).geturl()


class VertexAdapter(GoogleAdapter):
    slug = "vertex"
    name = "Google Vertex AI"
    vertex = True

    def endpoint(self, call: Call, method: str) -> str:
        project = call.options.get("project")
        version = call.options.get("api_version") or DEFAULT_VERSION
        model = f"publishers/google/models/{model_path(call.offering.model_id)}:{method}"
        if project:
            location = resolve_location(call)
            base = resolve_base(call.base_url, location)
            return f"{base}/{version}/projects/{project}/locations/{location}/{model}"
        if uses_service_account(call.options):
            raise UpstreamError(
                "auth", "Vertex AI needs a project: set 'project' in the vertex provider config"
            )
        return f"{resolve_base(call.base_url, 'global')}/{version}/{model}"  # express mode

    def headers(self, call: Call) -> dict[str, str]:
        if uses_service_account(call.options):
            return {"Authorization": f"Bearer {call.api_key}"}
        return {"x-goog-api-key": call.api_key}
