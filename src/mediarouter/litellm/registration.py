"""`register()`: make `mediarouter/<model>` and `lumenfall/<model>` real LiteLLM image providers.

LiteLLM offers no public way to add an image provider (its JSON provider registry is not consulted by
the image code paths, and a `CustomLLM` handler is called after `n`, `size`, `response_format`,
`style` and `mask` have been stripped). So registration joins the two paths LiteLLM already has
for OpenAI-compatible servers, touching as little as possible:

Generation (and chat): the slug goes into LiteLLM's JSON provider registry and into
`openai_compatible_providers`, the list `image_generation` dispatches on. Since the slug is no
`LlmProviders` member, no GPT Image config filters the parameters: everything the caller passes
reaches the gateway, as with `hosted_vllm/`. The registry would resolve the base URL and key from
one environment variable each and then let LiteLLM's OpenAI client fall back to OPENAI_API_KEY, so
the config class it builds for our slugs (`dynamic_config.create_config_class`, looked up by
`get_llm_provider` at each call) gets our resolution instead (`providers.py`: per call, our
variables, `litellm.api_base`/`litellm.api_key`, the default).

Edits: `image_edit` looks the provider up with `LlmProviders(slug)` and asks
`ProviderConfigManager.get_provider_image_edit_config` for a config. The slug gets a pseudo-member
of the enum (found by value lookup only: iteration, `provider_list` and membership tests are
unchanged), and the config lookup answers our slugs with `MediaRouterImageEditConfig` (OpenAI's
multipart shape with our base URL and key) and delegates everything else to LiteLLM's original.

Every internal touched is checked first and routing is verified afterwards (`compat.py`); on any
difference everything is undone and `LiteLLMCompatibilityError` names the tested versions.
"""

from __future__ import annotations

import threading
import warnings
from collections.abc import Callable
from types import ModuleType
from typing import Any

from mediarouter.litellm.compat import (
    TESTED_VERSIONS,
    LiteLLMCompatibilityError,
    check_internals,
    check_routing,
    installed_version,
)
from mediarouter.litellm.edits import edit_config_class
from mediarouter.litellm.providers import BY_SLUG, NO_KEY_PLACEHOLDER, PROVIDERS, ProviderSpec

_lock = threading.Lock()
_HOOK_MARK = "__mediarouter_original__"


class UntestedLiteLLMWarning(UserWarning):
    """The installed LiteLLM passed every check but is not one of the tested versions."""


def register() -> None:
    """Register the `mediarouter/` and `lumenfall/` LiteLLM providers; safe to call more than once.

    Afterwards `litellm.image_generation`, `aimage_generation`, `image_edit` and `aimage_edit` accept
    `model="mediarouter/<model>"` and `model="lumenfall/<model>"`, with every parameter sent to the
    gateway; base URL and key per call via `api_base`/`api_key`, else from MEDIAROUTER_API_BASE /
    MEDIAROUTER_API_KEY (for `lumenfall/`: LUMENFALL_API_BASE / LUMENFALL_API_KEY first), else from
    `litellm.api_base` / `litellm.api_key` (see `providers.py`). Raises `LiteLLMCompatibilityError`
    if the installed LiteLLM's internals differ from the tested versions.
    """
    try:
        import litellm
    except ImportError as exc:
        raise ImportError(
            f"mediarouter.litellm needs LiteLLM: pip install 'litellm' (tested: {', '.join(TESTED_VERSIONS)})"
        ) from exc
    version = installed_version()
    with _lock:
        problems = check_internals(litellm)
        if problems:
            raise LiteLLMCompatibilityError(version, problems)
        undo: list[Callable[[], None]] = []
        try:
            configs = {spec.slug: edit_config_class(spec) for spec in PROVIDERS}
            for spec in PROVIDERS:
                _register_generation(litellm, spec, undo)
                _register_enum_value(spec, undo)
            _hook_edit_config(configs, undo)
            _hook_provider_info(undo)
            for spec in PROVIDERS:
                problems += check_routing(litellm, spec.slug, configs[spec.slug])
        except Exception as exc:  # an internal that passed the checks but behaves differently
            problems.append(f"{type(exc).__name__}: {exc}")
        if problems:
            for step in reversed(undo):
                step()
            raise LiteLLMCompatibilityError(version, problems)
    if version not in TESTED_VERSIONS:
        warnings.warn(
            f"mediarouter.litellm: litellm {version} passed every check but was not tested "
            f"(tested: {', '.join(TESTED_VERSIONS)})",
            UntestedLiteLLMWarning,
            stacklevel=2,
        )


def _register_generation(litellm: ModuleType, spec: ProviderSpec, undo: list[Callable[[], None]]) -> None:
    from litellm.llms.openai_like.json_loader import JSONProviderRegistry, SimpleProviderConfig

    for name in ("provider_list", "openai_compatible_providers"):
        names: list[Any] = getattr(litellm, name)
        if spec.slug not in names:
            names.append(spec.slug)
            undo.append(lambda names=names: names.remove(spec.slug))
    previous = JSONProviderRegistry._providers.get(spec.slug)
    JSONProviderRegistry._providers[spec.slug] = SimpleProviderConfig(spec.slug, spec.json_registry_entry())

    def restore() -> None:
        if previous is None:
            JSONProviderRegistry._providers.pop(spec.slug, None)
        else:
            JSONProviderRegistry._providers[spec.slug] = previous

    undo.append(restore)


def _register_enum_value(spec: ProviderSpec, undo: list[Callable[[], None]]) -> None:
    """`LlmProviders(slug)` returns a pseudo-member that is not listed among the enum's members."""
    from litellm.types.utils import LlmProviders

    if spec.slug in LlmProviders._value2member_map_:
        return
    member = str.__new__(LlmProviders, spec.slug)
    member._name_ = spec.slug.upper()
    member._value_ = spec.slug
    LlmProviders._value2member_map_[spec.slug] = member
    undo.append(lambda: LlmProviders._value2member_map_.pop(spec.slug, None))


def _hook_edit_config(configs: dict[str, type[Any]], undo: list[Callable[[], None]]) -> None:
    from litellm.utils import ProviderConfigManager

    current = ProviderConfigManager.get_provider_image_edit_config
    original = getattr(current, _HOOK_MARK, current)

    def get_provider_image_edit_config(model: str, provider: Any) -> Any:
        config = configs.get(getattr(provider, "value", provider))
        return config() if config is not None else original(model=model, provider=provider)

    setattr(get_provider_image_edit_config, _HOOK_MARK, original)
    ProviderConfigManager.get_provider_image_edit_config = staticmethod(get_provider_image_edit_config)
    undo.append(
        lambda: setattr(ProviderConfigManager, "get_provider_image_edit_config", staticmethod(current))
    )


def _hook_provider_info(undo: list[Callable[[], None]]) -> None:
    """The config class LiteLLM builds from a JSON registry entry resolves base and key our way for
    our slugs (a subclass of the one it builds; every other provider gets LiteLLM's own)."""
    from litellm.llms.openai_like import dynamic_config

    current = dynamic_config.create_config_class
    original = getattr(current, _HOOK_MARK, current)

    def create_config_class(provider: Any) -> Any:
        config = original(provider)
        spec = BY_SLUG.get(getattr(provider, "slug", None))  # type: ignore[arg-type]
        if spec is None:
            return config

        class MediaRouterProviderConfig(config):  # type: ignore[misc, valid-type]
            def _get_openai_compatible_provider_info(
                self, api_base: str | None, api_key: str | None
            ) -> tuple[str | None, str | None]:
                return spec.resolve_api_base(api_base), spec.resolve_api_key(api_key) or NO_KEY_PLACEHOLDER

        MediaRouterProviderConfig.__qualname__ = f"MediaRouterProviderConfig[{spec.slug}]"
        return MediaRouterProviderConfig

    setattr(create_config_class, _HOOK_MARK, original)
    dynamic_config.create_config_class = create_config_class
    undo.append(lambda: setattr(dynamic_config, "create_config_class", current))
