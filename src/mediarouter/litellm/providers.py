"""The LiteLLM provider prefixes this package registers, and where each finds its base URL and key.

Both are resolved the same way for generation, edits and chat, first found wins:

1. the call's own `api_base=` / `api_key=` (in the proxy: the entry's `litellm_params`);
2. the prefix's environment variables, in order: `MEDIAROUTER_API_BASE` / `MEDIAROUTER_API_KEY` for
   `mediarouter/`; `LUMENFALL_API_BASE` / `LUMENFALL_API_KEY`, then the `MEDIAROUTER_*` ones, for
   `lumenfall/` (each variable on its own);
3. LiteLLM's globals `litellm.api_base` / `litellm.api_key` (the hosted product's documented style);
4. the base URL `make serve` listens on; for the key, nothing.

The prefix's own variables come before LiteLLM's globals because those are shared by every provider:
a `litellm.api_key` set for another provider does not replace a `MEDIAROUTER_API_KEY` that is set.
`OPENAI_API_KEY` and `litellm.openai_key` are never read: without a key, generation and chat send
the placeholder `None`, which the gateway refuses with a 401 naming MEDIAROUTER_API_KEY, rather than
letting LiteLLM's OpenAI client send the caller's OpenAI key to the gateway; edits fail before sending.
"""

from __future__ import annotations

import os
import sys
from dataclasses import dataclass

# Where `make serve` listens; used when neither the call, the environment nor LiteLLM names a base URL.
DEFAULT_API_BASE = "http://127.0.0.1:8080/v1"

# Sent as the key when none is found (generation and chat): the gateway's 401 names the placeholder.
NO_KEY_PLACEHOLDER = "None"


def _environment(names: tuple[str, ...]) -> str | None:
    return next((value for name in names if (value := os.environ.get(name))), None)


def _litellm_global(name: str) -> str | None:
    """`litellm.<name>` if LiteLLM is imported (this module never imports it) and it is a string."""
    value = getattr(sys.modules.get("litellm"), name, None)
    return value if isinstance(value, str) and value else None


@dataclass(frozen=True)
class ProviderSpec:
    """One LiteLLM prefix (`<slug>/<model>`) served by a mediarouter gateway."""

    slug: str
    api_key_envs: tuple[str, ...]
    api_base_envs: tuple[str, ...]

    @property
    def api_key_env(self) -> str:
        """The prefix's own key variable (the first one read)."""
        return self.api_key_envs[0]

    @property
    def api_base_env(self) -> str:
        return self.api_base_envs[0]

    def resolve_api_base(self, api_base: str | None = None) -> str:
        """Per call, then the environment, then `litellm.api_base`, then the local default."""
        return api_base or _environment(self.api_base_envs) or _litellm_global("api_base") or DEFAULT_API_BASE

    def resolve_api_key(self, api_key: str | None = None) -> str | None:
        """Per call, then the environment, then `litellm.api_key`; None when none is set."""
        return api_key or _environment(self.api_key_envs) or _litellm_global("api_key") or None

    def key_sources(self) -> str:
        """Where a key may come from, for error messages."""
        return f"pass api_key=..., set {' or '.join(self.api_key_envs)}, or set litellm.api_key"

    def json_registry_entry(self) -> dict[str, object]:
        """The entry LiteLLM's JSON provider registry reads (`llms/openai_like/providers.json` shape);
        its base and key variables are what LiteLLM names in its messages, while the resolution itself
        is ours (see `registration._hook_provider_info`)."""
        return {
            "base_url": DEFAULT_API_BASE,
            "api_key_env": self.api_key_env,
            "api_base_env": self.api_base_env,
            "base_class": "openai_gpt",
        }


PROVIDERS: tuple[ProviderSpec, ...] = (
    ProviderSpec("mediarouter", ("MEDIAROUTER_API_KEY",), ("MEDIAROUTER_API_BASE",)),
    # Code written for the hosted product's custom `lumenfall/` provider runs unchanged against a
    # mediarouter gateway once LUMENFALL_API_BASE (or MEDIAROUTER_API_BASE) points at it.
    ProviderSpec(
        "lumenfall",
        ("LUMENFALL_API_KEY", "MEDIAROUTER_API_KEY"),
        ("LUMENFALL_API_BASE", "MEDIAROUTER_API_BASE"),
    ),
)
BY_SLUG = {spec.slug: spec for spec in PROVIDERS}
