"""The provider table: slug -> display name, default base URL, sandbox path, status page, adapter.

One spelling per provider everywhere. Adding a provider is one module plus one row here.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

from mediarouter.providers.alibaba import AlibabaAdapter
from mediarouter.providers.base import ImageAdapter
from mediarouter.providers.fal import FalAdapter
from mediarouter.providers.fireworks import FireworksAdapter
from mediarouter.providers.google import GeminiAdapter, VertexAdapter, vertex_credentials
from mediarouter.providers.google.sandbox_account import SANDBOX_OPTIONS as VERTEX_SANDBOX_OPTIONS
from mediarouter.providers.openai import OpenAIAdapter
from mediarouter.providers.openrouter import OpenRouterAdapter
from mediarouter.providers.replicate import ReplicateAdapter
from mediarouter.providers.runware import RunwareAdapter
from mediarouter.providers.xai import XAIAdapter


@dataclass(frozen=True)
class ProviderInfo:
    slug: str
    name: str
    base_url: str  # the real service
    sandbox_path: str  # appended to the gateway's own URL + /sandbox/<slug> in sandbox mode
    status_page: str
    # Extra options in sandbox mode; "{sandbox}" in a string value is replaced by the gateway's
    # own /sandbox/<slug> URL (e.g. a second host, or a token endpoint).
    sandbox_options: dict[str, Any] = field(default_factory=dict)


PROVIDERS: dict[str, ProviderInfo] = {
    p.slug: p
    for p in (
        ProviderInfo(
            "vertex",
            "Google Vertex AI",
            "https://aiplatform.googleapis.com",
            "",
            "https://status.cloud.google.com",
            sandbox_options=VERTEX_SANDBOX_OPTIONS,  # the sandbox service account: OAuth runs for real
        ),
        ProviderInfo(
            "gemini",
            "Google Gemini API",
            "https://generativelanguage.googleapis.com/v1beta",
            "/v1beta",
            "https://aistudio.google.com/status",
        ),
        ProviderInfo("openai", "OpenAI", "https://api.openai.com/v1", "/v1", "https://status.openai.com"),
        ProviderInfo(
            "replicate", "Replicate", "https://api.replicate.com/v1", "/v1", "https://replicatestatus.com"
        ),
        ProviderInfo(
            "fal",
            "fal.ai",
            "https://queue.fal.run",
            "/queue",
            "https://status.fal.ai",
            sandbox_options={"run_url": "{sandbox}/run"},
        ),
        ProviderInfo(
            "fireworks",
            "Fireworks AI",
            "https://api.fireworks.ai/inference/v1",
            "/inference/v1",
            "https://status.fireworks.ai",
        ),
        ProviderInfo("runware", "Runware", "https://api.runware.ai/v1", "/v1", "https://status.runware.ai"),
        ProviderInfo("xai", "xAI", "https://api.x.ai/v1", "/v1", "https://status.x.ai"),
        ProviderInfo(
            "alibaba",
            "Alibaba Cloud DashScope",
            "https://dashscope-intl.aliyuncs.com/api/v1",
            "/api/v1",
            "https://status.alibabacloud.com",
        ),
        ProviderInfo(
            "openrouter",
            "OpenRouter",
            "https://openrouter.ai/api/v1",
            "/api/v1",
            "https://status.openrouter.ai",
        ),
    )
}

BUILTIN_SLUGS = tuple(PROVIDERS)

ADAPTERS: dict[str, ImageAdapter] = {
    "openai": OpenAIAdapter(),
    "gemini": GeminiAdapter(),
    "vertex": VertexAdapter(),
    "alibaba": AlibabaAdapter(),
    "openrouter": OpenRouterAdapter(),
    "replicate": ReplicateAdapter(),
    "fal": FalAdapter(),
    "fireworks": FireworksAdapter(),
    "runware": RunwareAdapter(),
    "xai": XAIAdapter(),
}

# Providers whose secret is minted at run time (e.g. Vertex OAuth2 tokens from a service account):
# slug -> factory(options, api_key) returning an async callable that yields a current secret.
CREDENTIALS: dict[str, Callable[[dict[str, Any], str], Callable[[], Awaitable[str]]]] = {
    "vertex": vertex_credentials,
}

# The key each emulator accepts in sandbox mode (emulators accept any non-empty key; this one is ours).
SANDBOX_API_KEY = "sk-sandbox"


def _accepted_extras() -> dict[str, frozenset[str]]:
    """Per provider, the canonical extra fields (seed, negative_prompt...) its adapter forwards.

    Built from each adapter module's own table, so the report of ignored fields cannot drift from
    what is really sent.
    """
    from mediarouter.providers import alibaba, fal, fireworks, replicate, runware
    from mediarouter.providers.google import predict

    tables: dict[str, frozenset[str]] = {
        "alibaba": frozenset(alibaba.EXTRA_FIELDS),
        "fireworks": frozenset(k for fields in fireworks.EXTRA_FIELDS.values() for k in fields),
        "runware": frozenset(runware.EXTRA_FIELDS),
        "replicate": frozenset(replicate.PASSTHROUGH),
        "fal": frozenset(fal.PASSTHROUGH),
        "vertex": frozenset(predict.VERTEX_EXTRAS),
        "gemini": frozenset({"seed"}),
    }
    return tables


ACCEPTED_EXTRAS = _accepted_extras()
