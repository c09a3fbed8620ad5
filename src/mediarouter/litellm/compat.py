"""Which LiteLLM internals `register()` relies on, checked before and after it touches them.

LiteLLM has no public hook for adding an image provider, so registration touches private internals
(see `registration.py`). Each one is named here; if an installed LiteLLM lacks one, or if routing does
not come out as expected after registration, `register()` raises `LiteLLMCompatibilityError` naming the
versions this package was tested with, instead of letting LiteLLM return empty results or send the
request elsewhere. To support a new LiteLLM release: run `make test` against it, then add it to
TESTED_VERSIONS (and to scripts/install-litellm.sh, which installs the tested versions).
"""

from __future__ import annotations

import inspect
from enum import Enum
from importlib import metadata
from types import ModuleType
from typing import Any

TESTED_VERSIONS: tuple[str, ...] = ("1.102.4", "1.109.1")

# Source fragments whose presence means LiteLLM still dispatches the way registration assumes:
# generation sends every provider in `openai_compatible_providers` through the OpenAI client (without
# this branch, an unknown provider silently returns an empty ImageResponse), and an edit looks its
# provider up in the enum and asks ProviderConfigManager for the edit config.
DISPATCH_FRAGMENTS: dict[str, tuple[str, ...]] = {
    "image_generation": ("custom_llm_provider in litellm.openai_compatible_providers",),
    "image_edit": (
        "LlmProviders(custom_llm_provider)",
        "ProviderConfigManager.get_provider_image_edit_config(",
        "custom_llm_provider in litellm.openai_compatible_providers",
    ),
}

# And a JSON registry provider's base URL and key come from the config class `get_llm_provider`
# builds at each call with `dynamic_config.create_config_class`, imported inside the function (so a
# replaced module attribute is what it calls), whose `_get_openai_compatible_provider_info` answers.
PROVIDER_INFO_FRAGMENTS: tuple[str, ...] = (
    "from litellm.llms.openai_like.dynamic_config import create_config_class",
    "create_config_class(provider_config)",
    "get_openai_compatible_provider_info(api_base, api_key)",
)


class LiteLLMCompatibilityError(RuntimeError):
    """The installed LiteLLM differs from the versions `mediarouter.litellm` was tested with."""

    def __init__(self, version: str, problems: list[str]) -> None:
        self.version = version
        self.problems = problems
        super().__init__(
            f"mediarouter.litellm.register() supports LiteLLM {' and '.join(TESTED_VERSIONS)} (tested); "
            f"the installed litellm {version} differs: {'; '.join(problems)}. Nothing was left registered. "
            "Install a tested version, or use the 'openai/' prefix with api_base pointing at the gateway "
            "(see docs/clients.md)."
        )


def installed_version() -> str:
    try:
        return metadata.version("litellm")
    except metadata.PackageNotFoundError:
        return "unknown"


def check_internals(litellm: ModuleType) -> list[str]:
    """What registration needs and cannot find; empty when everything is there."""
    problems: list[str] = []
    for name in ("provider_list", "openai_compatible_providers"):
        if not isinstance(getattr(litellm, name, None), list):
            problems.append(f"litellm.{name} is not a list")
    try:
        from litellm.litellm_core_utils import get_llm_provider_logic
        from litellm.llms.openai.image_edit.transformation import OpenAIImageEditConfig
        from litellm.llms.openai_like import dynamic_config
        from litellm.llms.openai_like.json_loader import JSONProviderRegistry, SimpleProviderConfig
        from litellm.types.utils import LlmProviders
        from litellm.utils import ProviderConfigManager
    except ImportError as exc:
        return [*problems, f"cannot import {exc.name or exc}"]
    if not isinstance(getattr(JSONProviderRegistry, "_providers", None), dict):
        problems.append("JSONProviderRegistry._providers is not a dict")
    if _params(SimpleProviderConfig.__init__)[:2] != ["slug", "data"]:
        problems.append("SimpleProviderConfig(slug, data) changed")
    if not (issubclass(LlmProviders, str) and issubclass(LlmProviders, Enum)):
        problems.append("LlmProviders is no longer a str Enum")
    if not isinstance(getattr(LlmProviders, "_value2member_map_", None), dict):
        problems.append("LlmProviders._value2member_map_ is missing")
    lookup = inspect.getattr_static(ProviderConfigManager, "get_provider_image_edit_config", None)
    if not isinstance(lookup, staticmethod) or _params(lookup.__func__) != ["model", "provider"]:
        problems.append("ProviderConfigManager.get_provider_image_edit_config(model, provider) changed")
    for method, expected in (
        ("validate_environment", ["headers", "model", "api_key", "litellm_params", "api_base"]),
        ("get_complete_url", ["model", "api_base", "litellm_params"]),
        (
            "transform_image_edit_request",
            ["model", "prompt", "image", "image_edit_optional_request_params", "litellm_params", "headers"],
        ),
    ):
        if _params(getattr(OpenAIImageEditConfig, method, None)) != expected:
            problems.append(f"OpenAIImageEditConfig.{method}({', '.join(expected)}) changed")
    problems += _check_dispatch()
    problems += _check_provider_info(get_llm_provider_logic, dynamic_config, SimpleProviderConfig)
    return problems


def check_routing(litellm: ModuleType, slug: str, edit_config: type[Any]) -> list[str]:
    """After registration: `<slug>/m` resolves to our provider with our base and key, keeps every image
    parameter, edits use ours."""
    from litellm.types.utils import LlmProviders
    from litellm.utils import ProviderConfigManager, get_optional_params_image_gen

    problems: list[str] = []
    model, provider, _, api_base = litellm.get_llm_provider(model=f"{slug}/probe", api_base="http://probe/v1")
    if (model, provider, api_base) != ("probe", slug, "http://probe/v1"):
        problems.append(f"{slug}/probe resolves to ({model}, {provider}, {api_base})")
    from mediarouter.litellm.providers import BY_SLUG

    spec = BY_SLUG[slug]
    _, _, key, api_base = litellm.get_llm_provider(model=f"{slug}/probe", api_key="probe-key")
    if (key, api_base) != ("probe-key", spec.resolve_api_base()):
        problems.append(f"{slug}/probe does not get mediarouter's base URL and key resolution ({api_base})")
    sent = {"n": 2, "size": "1024x1024", "response_format": "b64_json", "style": "vivid", "quality": "hd"}
    kept = get_optional_params_image_gen(model="probe", custom_llm_provider=slug, **sent)
    if any(kept.get(k) != v for k, v in sent.items()):
        problems.append(f"image generation parameters are not passed through for {slug} (kept {kept})")
    config = ProviderConfigManager.get_provider_image_edit_config(model="probe", provider=LlmProviders(slug))
    if not isinstance(config, edit_config):
        problems.append(f"image edits for {slug} use {type(config).__name__}")
    return problems


def _check_dispatch() -> list[str]:
    from litellm.images import main as images

    problems = []
    for name, fragments in DISPATCH_FRAGMENTS.items():
        function = inspect.unwrap(getattr(images, name))
        try:
            source = inspect.getsource(function)
        except (OSError, TypeError):
            problems.append(f"the source of litellm.images.main.{name} is not readable")
            continue
        missing = [f for f in fragments if f not in source]
        if missing:
            problems.append(f"litellm.images.main.{name} no longer dispatches on {missing}")
    return problems


def _check_provider_info(
    logic: ModuleType, dynamic_config: ModuleType, simple_config: type[Any]
) -> list[str]:
    function = getattr(logic, "_get_openai_compatible_provider_info", None)
    try:
        source = inspect.getsource(inspect.unwrap(function))  # type: ignore[arg-type]
    except (OSError, TypeError):
        return ["the source of get_llm_provider_logic._get_openai_compatible_provider_info is not readable"]
    missing = [f for f in PROVIDER_INFO_FRAGMENTS if f not in source]
    if missing:
        return [f"get_llm_provider no longer resolves JSON providers with {missing}"]
    create = getattr(dynamic_config, "create_config_class", None)
    if not callable(create) or _params(create) != ["provider"]:
        return ["dynamic_config.create_config_class(provider) changed"]
    try:
        probe = create(simple_config("probe", {"base_url": "http://probe/v1", "api_key_env": "PROBE_KEY"}))
    except Exception as exc:  # noqa: BLE001  # any failure means the internals differ
        return [f"dynamic_config.create_config_class fails on a minimal entry: {type(exc).__name__}: {exc}"]
    if _params(getattr(probe, "_get_openai_compatible_provider_info", None)) != ["api_base", "api_key"]:
        return [
            "JSON provider configs no longer have _get_openai_compatible_provider_info(api_base, api_key)"
        ]
    return []


def _params(function: Any) -> list[str]:
    try:
        names = list(inspect.signature(function).parameters)
    except (TypeError, ValueError):
        return []
    return [n for n in names if n != "self"]
