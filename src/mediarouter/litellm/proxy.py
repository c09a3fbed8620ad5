"""The `mediarouter/` and `lumenfall/` providers inside a LiteLLM proxy: name this module's callback in
the proxy's config, and the proxy imports it (registering the providers) while it loads the config:

    litellm_settings:
      callbacks: ["mediarouter.litellm.proxy.registered"]

The callback itself does nothing; importing this module is what registers the providers.
"""

from __future__ import annotations

from litellm.integrations.custom_logger import CustomLogger

from mediarouter.litellm.registration import register

register()


class Registered(CustomLogger):  # type: ignore[misc]
    """A no-op proxy callback whose import registered the mediarouter providers."""


registered = Registered()
