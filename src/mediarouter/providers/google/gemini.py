"""The Gemini API (generativelanguage.googleapis.com): `{base}/models/{model}:{method}`, API key header.

The base URL carries the version (`.../v1beta`, the surface image models and Imagen live on).
"""

from __future__ import annotations

from mediarouter.providers.base import Call
from mediarouter.providers.google.adapter import GoogleAdapter, model_path


class GeminiAdapter(GoogleAdapter):
    slug = "gemini"
    name = "Google Gemini API"
    vertex = False

    def endpoint(self, call: Call, method: str) -> str:
        return f"{call.base_url.rstrip('/')}/models/{model_path(call.offering.model_id)}:{method}"

    def headers(self, call: Call) -> dict[str, str]:
        return {"x-goog-api-key": call.api_key}
