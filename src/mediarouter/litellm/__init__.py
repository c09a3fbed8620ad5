"""LiteLLM providers for mediarouter: `mediarouter/<model>` and `lumenfall/<model>`.

    import litellm
    import mediarouter.litellm

    mediarouter.litellm.register()
    litellm.image_generation(model="mediarouter/gpt-image-1.5", prompt="...", n=2, style="vivid")

Importing this package does not import LiteLLM (it is an optional, client-side dependency, never one
of the gateway's); `register()` does. How registration works and why: `registration.py`. Through the
LiteLLM proxy: `mediarouter.litellm.proxy` (see docs/clients.md).
"""

from mediarouter.litellm.compat import TESTED_VERSIONS, LiteLLMCompatibilityError
from mediarouter.litellm.providers import DEFAULT_API_BASE, PROVIDERS, ProviderSpec
from mediarouter.litellm.registration import UntestedLiteLLMWarning, register

__all__ = [
    "DEFAULT_API_BASE",
    "PROVIDERS",
    "TESTED_VERSIONS",
    "LiteLLMCompatibilityError",
    "ProviderSpec",
    "UntestedLiteLLMWarning",
    "register",
]
