"""`mediarouter.litellm.register()`: `mediarouter/` and `lumenfall/` as LiteLLM image providers.

Fidelity is the point (a CustomLLM handler would lose n, size, response_format, style and mask), so
each call is checked in the answer and in what the gateway logged as received (`params`).
"""

from __future__ import annotations

import asyncio
import io
import re
from pathlib import Path
from types import ModuleType
from typing import Any

import httpx
import pytest
from clients_support import ROOT, TEXT_MODEL, entry_for, openai_route_refuses_response_format

import mediarouter.litellm
from mediarouter.litellm import compat, registration

from imaging import decode, mask_png, png


@pytest.fixture
def env(gateway: Any, litellm: ModuleType, monkeypatch: pytest.MonkeyPatch) -> pytest.MonkeyPatch:
    """Only the environment a test sets: no base URL or key from the outside (nor LiteLLM's globals)."""
    for name in ("MEDIAROUTER_API_BASE", "MEDIAROUTER_API_KEY", "LUMENFALL_API_BASE", "LUMENFALL_API_KEY"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setattr(litellm, "api_base", None)
    monkeypatch.setattr(litellm, "api_key", None)
    return monkeypatch


DEAD_BASE = "http://127.0.0.1:9/v1"  # nothing listens there


@pytest.fixture
def files(tmp_path: Path) -> dict[str, Path]:
    paths = {
        "photo": tmp_path / "photo.png",
        "sketch": tmp_path / "sketch.png",
        "mask": tmp_path / "mask.png",
    }
    paths["photo"].write_bytes(png(64, 64))
    paths["sketch"].write_bytes(png(48, 48, (20, 20, 200, 255)))
    paths["mask"].write_bytes(mask_png())
    return paths


def params(admin: httpx.Client, response: Any) -> dict[str, Any]:
    """What the gateway received (`params`), without what it then changed (`applied`)."""
    got = dict(entry_for(admin, response)["params"])
    got.pop("applied", None)
    return got


def test_generation_keeps_every_parameter(
    registered: ModuleType, gateway: Any, env: pytest.MonkeyPatch, admin: httpx.Client
) -> None:
    env.setenv("MEDIAROUTER_API_BASE", f"{gateway.url}/v1")
    env.setenv("MEDIAROUTER_API_KEY", gateway.user_key)
    result = registered.image_generation(
        model="mediarouter/dall-e-3",
        prompt="a lighthouse",
        n=2,
        size="1792x1024",
        quality="hd",
        response_format="b64_json",
        style="natural",
        seed=7,
    )
    assert len(result.data) == 2 and all(decode(item).size == (1792, 1024) for item in result.data)
    assert "natural style" in result.data[0].revised_prompt
    assert params(admin, result) == {
        "n": 2,
        "size": "1792x1024",
        "quality": "hd",
        "style": "natural",
        "response_format": "b64_json",
        "input_images": 0,
        "mask": False,
        "extra": {"seed": 7},
    }
    assert entry_for(admin, result)["model"] == "dall-e-3"


def test_async_generation_lumenfall_from_its_environment(
    registered: ModuleType, gateway: Any, env: pytest.MonkeyPatch, admin: httpx.Client
) -> None:
    env.setenv("LUMENFALL_API_BASE", f"{gateway.url}/v1")
    env.setenv("LUMENFALL_API_KEY", gateway.user_key)
    result = asyncio.run(
        registered.aimage_generation(
            model="lumenfall/gpt-image-1-mini", prompt="a boat", n=3, size="1024x1536", response_format="url"
        )
    )
    assert len(result.data) == 3 and decode(result.data[0]).size == (1024, 1536)
    got = params(admin, result)
    assert (got["n"], got["size"], got["response_format"]) == (3, "1024x1536", "url")


def test_edit_keeps_images_mask_and_parameters(
    registered: ModuleType, gateway: Any, env: pytest.MonkeyPatch, admin: httpx.Client, files: dict[str, Path]
) -> None:
    env.setenv("MEDIAROUTER_API_BASE", f"{gateway.url}/v1")
    env.setenv("MEDIAROUTER_API_KEY", gateway.user_key)
    with (
        files["photo"].open("rb") as photo,
        files["sketch"].open("rb") as sketch,
        files["mask"].open("rb") as mask,
    ):
        result = registered.image_edit(
            model="mediarouter/gpt-image-1",
            image=[photo, sketch],
            mask=mask,
            prompt="put both on a table",
            n=2,
            size="1536x1024",
            quality="low",
            response_format="b64_json",
            style="vivid",
            seed=3,
        )
    assert len(result.data) == 2 and decode(result.data[1]).size == (1536, 1024)
    assert params(admin, result) == {
        "n": 2,
        "size": "1536x1024",
        "quality": "low",
        "style": "vivid",
        "response_format": "b64_json",
        "input_images": 2,
        "mask": True,
        "extra": {"seed": "3"},  # multipart: every field is text
    }


def test_async_edit_per_call_base_and_key(
    registered: ModuleType, gateway: Any, env: pytest.MonkeyPatch, admin: httpx.Client
) -> None:
    """Per call wins over the environment; a base without /v1 reaches the bare paths."""
    env.setenv("LUMENFALL_API_BASE", DEAD_BASE)
    env.setenv("LUMENFALL_API_KEY", "not-a-key")
    result = asyncio.run(
        registered.aimage_edit(
            model="lumenfall/gpt-image-1",
            image=io.BytesIO(png()),
            mask=io.BytesIO(mask_png()),
            prompt="add a hat",
            response_format="url",
            api_base=gateway.url,
            api_key=gateway.user_key,
        )
    )
    assert decode(result.data[0]).size == (1024, 1024)
    got = params(admin, result)
    assert got["input_images"] == 1 and got["mask"] is True and got["response_format"] == "url"


def test_text_completion(registered: ModuleType, gateway: Any, env: pytest.MonkeyPatch) -> None:
    env.setenv("MEDIAROUTER_API_BASE", f"{gateway.url}/v1")
    env.setenv("MEDIAROUTER_API_KEY", gateway.user_key)
    hello = [{"role": "user", "content": "hello gateway"}]
    reply = registered.completion(model=f"mediarouter/{TEXT_MODEL}", messages=hello)
    assert reply.choices[0].message.content == f"Sandbox reply from {TEXT_MODEL} to: hello gateway"


def test_errors_are_the_gateways(registered: ModuleType, gateway: Any, env: pytest.MonkeyPatch) -> None:
    call = {"api_base": f"{gateway.url}/v1", "api_key": gateway.user_key}
    with pytest.raises(registered.BadRequestError) as bad_size:
        registered.image_generation(model="mediarouter/gpt-image-1", prompt="x", size="big", **call)
    assert bad_size.value.status_code == 400 and "Invalid size 'big'" in str(bad_size.value)
    with pytest.raises(registered.BadRequestError) as bad_edit:
        registered.image_edit(
            model="mediarouter/gpt-image-1", image=io.BytesIO(png()), prompt="x", size="big", **call
        )
    assert bad_edit.value.status_code == 400 and "Invalid size 'big'" in str(bad_edit.value)
    with pytest.raises((registered.NotFoundError, registered.BadRequestError), match="not found"):
        registered.image_generation(model="lumenfall/no-such-model", prompt="x", **call)


@pytest.mark.parametrize("slug", ["mediarouter", "lumenfall"])
def test_litellm_globals(
    registered: ModuleType, gateway: Any, env: pytest.MonkeyPatch, admin: httpx.Client, slug: str
) -> None:
    """`litellm.api_key` / `litellm.api_base`, the hosted product's documented style, for every call."""
    env.setattr(registered, "api_base", f"{gateway.url}/v1")
    env.setattr(registered, "api_key", gateway.user_key)
    result = registered.image_generation(model=f"{slug}/gpt-image-1-mini", prompt="a boat", n=2)
    assert len(result.data) == 2 and entry_for(admin, result)["model"] == "gpt-image-1-mini"
    edited = registered.image_edit(
        model=f"{slug}/gpt-image-1", image=io.BytesIO(png()), mask=io.BytesIO(mask_png()), prompt="x"
    )
    got = params(admin, edited)
    assert edited.data and got["input_images"] == 1 and got["mask"] is True
    edited = asyncio.run(
        registered.aimage_edit(model=f"{slug}/gpt-image-1", image=io.BytesIO(png()), prompt="x")
    )
    assert edited.data
    reply = registered.completion(model=f"{slug}/{TEXT_MODEL}", messages=[{"role": "user", "content": "hi"}])
    assert reply.choices[0].message.content == f"Sandbox reply from {TEXT_MODEL} to: hi"


def test_the_prefixs_environment_comes_before_litellm_globals(
    registered: ModuleType, gateway: Any, env: pytest.MonkeyPatch
) -> None:
    """The globals are shared by every provider: a `litellm.api_key` meant for another one does not
    replace MEDIAROUTER_API_KEY; per call still comes first."""
    env.setattr(registered, "api_base", DEAD_BASE)
    env.setattr(registered, "api_key", "sk-for-another-provider")
    env.setenv("MEDIAROUTER_API_BASE", f"{gateway.url}/v1")
    env.setenv("MEDIAROUTER_API_KEY", gateway.user_key)
    assert registered.image_generation(model="mediarouter/gpt-image-1-mini", prompt="x").data
    assert registered.image_edit(model="mediarouter/gpt-image-1", image=io.BytesIO(png()), prompt="x").data
    env.setenv("MEDIAROUTER_API_BASE", DEAD_BASE)
    env.setenv("MEDIAROUTER_API_KEY", "not-a-key")
    call = {"api_base": f"{gateway.url}/v1", "api_key": gateway.user_key}
    assert registered.image_generation(model="mediarouter/gpt-image-1-mini", prompt="x", **call).data


def test_lumenfall_falls_back_to_the_mediarouter_environment(
    registered: ModuleType, gateway: Any, env: pytest.MonkeyPatch
) -> None:
    env.setenv("MEDIAROUTER_API_BASE", f"{gateway.url}/v1")
    env.setenv("MEDIAROUTER_API_KEY", gateway.user_key)
    assert registered.image_generation(model="lumenfall/gpt-image-1-mini", prompt="x").data
    assert registered.image_edit(model="lumenfall/gpt-image-1", image=io.BytesIO(png()), prompt="x").data
    # LUMENFALL_* first, each variable on its own
    env.setenv("MEDIAROUTER_API_BASE", DEAD_BASE)
    env.setenv("LUMENFALL_API_BASE", f"{gateway.url}/v1")
    assert registered.image_generation(model="lumenfall/gpt-image-1-mini", prompt="x").data
    env.setenv("LUMENFALL_API_KEY", "not-a-key")
    with pytest.raises(registered.AuthenticationError):
        registered.image_edit(model="lumenfall/gpt-image-1", image=io.BytesIO(png()), prompt="x")


def test_a_missing_key_is_named_and_no_openai_key_is_sent(
    registered: ModuleType, gateway: Any, env: pytest.MonkeyPatch
) -> None:
    """An edit fails before sending; generation and chat send the placeholder `None`, never the
    OPENAI_API_KEY LiteLLM's OpenAI client would otherwise fall back to: the gateway's 401 says
    it got the placeholder."""
    env.setenv("OPENAI_API_KEY", "sk-a-real-openai-key")
    env.setattr(registered, "openai_key", "sk-another-openai-key")
    with pytest.raises(registered.AuthenticationError) as edit:
        registered.image_edit(
            model="lumenfall/gpt-image-1", image=io.BytesIO(png()), prompt="x", api_base=gateway.url
        )
    assert "LUMENFALL_API_KEY or MEDIAROUTER_API_KEY" in str(edit.value) and "litellm.api_key" in str(
        edit.value
    )
    with pytest.raises(registered.AuthenticationError) as generation:
        registered.image_generation(model="lumenfall/gpt-image-1", prompt="x", api_base=gateway.url)
    assert "placeholder" in str(generation.value) and "MEDIAROUTER_API_KEY" in str(generation.value)
    with pytest.raises(registered.AuthenticationError, match="placeholder"):
        registered.completion(
            model=f"mediarouter/{TEXT_MODEL}",
            messages=[{"role": "user", "content": "hi"}],
            api_base=gateway.url,
        )


def test_other_providers_are_untouched(registered: ModuleType, gateway: Any) -> None:
    from litellm.types.utils import LlmProviders
    from litellm.utils import ProviderConfigManager

    assert "mediarouter" not in {p.value for p in LlmProviders}  # a lookup alias, not a new member
    config = ProviderConfigManager.get_provider_image_edit_config(
        model="gpt-image-1", provider=LlmProviders.OPENAI
    )
    assert type(config).__name__ == "OpenAIImageEditConfig"
    if openai_route_refuses_response_format():  # openai/ still gets LiteLLM's own GPT Image rules
        with pytest.raises(registered.UnsupportedParamsError):
            registered.image_generation(
                model="openai/dall-e-3", prompt="x", style="vivid", api_base=gateway.url, api_key="k"
            )


# --- registration itself ---------------------------------------------------------------------------


def snapshot(litellm: ModuleType) -> tuple[Any, ...]:
    from litellm.llms.openai_like import dynamic_config
    from litellm.llms.openai_like.json_loader import JSONProviderRegistry
    from litellm.types.utils import LlmProviders
    from litellm.utils import ProviderConfigManager

    return (
        list(litellm.provider_list),
        list(litellm.openai_compatible_providers),
        dict(JSONProviderRegistry._providers),
        dict(LlmProviders._value2member_map_),
        ProviderConfigManager.get_provider_image_edit_config,
        dynamic_config.create_config_class,
    )


def test_register_is_idempotent(registered: ModuleType) -> None:
    before = snapshot(registered)
    mediarouter.litellm.register()
    after = snapshot(registered)
    assert after[:2] == before[:2] and after[2].keys() == before[2].keys() and after[3] == before[3]
    assert registered.openai_compatible_providers.count("mediarouter") == 1


def test_differing_internals_fail_loudly_before_touching_anything(
    registered: ModuleType, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setitem(compat.DISPATCH_FRAGMENTS, "image_generation", ("a branch LiteLLM no longer has",))
    before = snapshot(registered)
    with pytest.raises(mediarouter.litellm.LiteLLMCompatibilityError) as info:
        mediarouter.litellm.register()
    message = str(info.value)
    assert all(version in message for version in compat.TESTED_VERSIONS)
    assert "image_generation no longer dispatches" in message and "openai/" in message
    assert snapshot(registered)[:4] == before[:4]


def test_a_changed_credential_lookup_fails_loudly(
    registered: ModuleType, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(compat, "PROVIDER_INFO_FRAGMENTS", ("a lookup LiteLLM no longer has",))
    before = snapshot(registered)
    with pytest.raises(
        mediarouter.litellm.LiteLLMCompatibilityError, match="no longer resolves JSON providers"
    ):
        mediarouter.litellm.register()
    assert snapshot(registered)[:4] == before[:4] and snapshot(registered)[5] is before[5]


def test_routing_that_does_not_come_out_right_is_undone(
    registered: ModuleType, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(registration, "check_routing", lambda *args: ["edits go elsewhere"])
    before = snapshot(registered)
    with pytest.raises(mediarouter.litellm.LiteLLMCompatibilityError, match="edits go elsewhere"):
        mediarouter.litellm.register()
    after = snapshot(registered)
    assert after[:2] == before[:2] and after[2] == before[2] and after[3] == before[3]
    assert after[4] is before[4] and after[5] is before[5]


def test_an_untested_version_that_passes_the_checks_warns(
    registered: ModuleType, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(registration, "installed_version", lambda: "1.999.0")
    with pytest.warns(mediarouter.litellm.UntestedLiteLLMWarning, match="1.109.1"):
        mediarouter.litellm.register()


def test_tested_versions_are_the_installed_ones() -> None:
    script = (ROOT / "scripts" / "install-litellm.sh").read_text()
    (versions,) = re.findall(r'^VERSIONS="([^"]+)"', script, re.M)
    assert sorted(v.split(":")[0] for v in versions.split()) == sorted(compat.TESTED_VERSIONS)
