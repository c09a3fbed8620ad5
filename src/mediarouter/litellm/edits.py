"""LiteLLM's image-edit config for the mediarouter prefixes: OpenAI's multipart shape, our base URL and key.

LiteLLM's OpenAI edit config already sends the full request (`image[]` for every image, `mask`, `n`,
`size`, `response_format`, unknown fields as text parts); where it sends it (OPENAI_API_BASE,
api.openai.com) and which key it reads (OPENAI_API_KEY) differ, so those two methods are replaced
(resolution order: `providers.py`; an edit without a key fails before anything is sent).
And `style`: `image_edit()` has no such parameter and filters it out of the request as an OpenAI one
(so `openai/` edits lose it), but keeps it in the call's `litellm_params`; it is put back from there.
"""

from __future__ import annotations

from typing import Any

from mediarouter.litellm.providers import ProviderSpec


def edit_config_class(spec: ProviderSpec) -> type[Any]:
    """A subclass of LiteLLM's `OpenAIImageEditConfig` bound to one provider prefix."""
    import litellm
    from litellm.llms.openai.image_edit.transformation import OpenAIImageEditConfig

    class MediaRouterImageEditConfig(OpenAIImageEditConfig):  # type: ignore[misc]
        provider = spec

        def validate_environment(
            self,
            headers: dict[str, Any],
            model: str,
            api_key: str | None = None,
            litellm_params: dict[str, Any] | None = None,
            api_base: str | None = None,
        ) -> dict[str, Any]:
            key = spec.resolve_api_key(api_key)
            if key is None:
                raise litellm.AuthenticationError(
                    message=f"No API key for {spec.slug}/{model}: {spec.key_sources()}",
                    llm_provider=spec.slug,
                    model=model,
                )
            headers["Authorization"] = f"Bearer {key}"
            return headers

        def transform_image_edit_request(
            self,
            model: str,
            prompt: str | None,
            image: Any,
            image_edit_optional_request_params: dict[str, Any],
            litellm_params: Any,
            headers: dict[str, Any],
        ) -> tuple[dict[str, Any], Any]:
            data, files = super().transform_image_edit_request(
                model, prompt, image, image_edit_optional_request_params, litellm_params, headers
            )
            style = getattr(litellm_params, "style", None)
            if style is not None:
                data.setdefault("style", style)
            return data, files

        def get_complete_url(self, model: str, api_base: str | None, litellm_params: dict[str, Any]) -> str:
            return spec.resolve_api_base(api_base).rstrip("/") + "/images/edits"

    MediaRouterImageEditConfig.__qualname__ = f"MediaRouterImageEditConfig[{spec.slug}]"
    return MediaRouterImageEditConfig
