"""The LiteLLM provider prefixes this package registers, and where each finds its base URL and key."""

from __future__ import annotations

import os
from dataclasses import dataclass

# Where `make serve` listens; used when neither the call nor the environment names a base URL.
DEFAULT_API_BASE = "http://127.0.0.1:8080/v1"


@dataclass(frozen=True)
class ProviderSpec:
    """One LiteLLM prefix (`<slug>/<model>`) served by a mediarouter gateway."""

    slug: str
    api_key_env: str
    api_base_env: str

    def resolve_api_base(self, api_base: str | None) -> str:
        """Per call first, then the environment, then the local default."""
        return api_base or os.environ.get(self.api_base_env) or DEFAULT_API_BASE

    def resolve_api_key(self, api_key: str | None) -> str | None:
        return api_key or os.environ.get(self.api_key_env) or None

    def json_registry_entry(self) -> dict[str, object]:
        """The entry LiteLLM's JSON provider registry reads (`llms/openai_like/providers.json` shape)."""
        return {
            "base_url": DEFAULT_API_BASE,
            "api_key_env": self.api_key_env,
            "api_base_env": self.api_base_env,
            "base_class": "openai_gpt",
        }


PROVIDERS: tuple[ProviderSpec, ...] = (
    ProviderSpec("mediarouter", "MEDIAROUTER_API_KEY", "MEDIAROUTER_API_BASE"),
    # Code written for the hosted product's custom `lumenfall/` provider runs unchanged against a
    # mediarouter gateway once LUMENFALL_API_BASE points at it (the gateway strips the prefix too).
    ProviderSpec("lumenfall", "LUMENFALL_API_KEY", "LUMENFALL_API_BASE"),
)
BY_SLUG = {spec.slug: spec for spec in PROVIDERS}
