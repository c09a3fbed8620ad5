"""The LiteLLM SDK as its users call it, no mocks: `openai/` and `hosted_vllm/` routes, text, errors.

What the gateway received is read back from the request log (`params`), so a parameter LiteLLM
dropped on the way shows up as a failure here, not as a silently different picture.
"""

from __future__ import annotations

import asyncio
import io
from pathlib import Path
from types import ModuleType
from typing import Any

import httpx
import openai
import pytest
from clients_support import (
    TEXT_MODEL,
    entry_for,
    keeps_image_response_headers,
    latest,
    openai_route_refuses_response_format,
)

from imaging import decode, mask_png, png

HELLO = [{"role": "user", "content": "hello gateway"}]


@pytest.fixture
def gw(gateway: Any) -> dict[str, str]:
    return {"api_base": f"{gateway.url}/v1", "api_key": gateway.user_key}


@pytest.fixture
def files(tmp_path: Path) -> dict[str, Path]:
    """Image files on disk: LiteLLM sends an open file's full path as its file name."""
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
    return entry_for(admin, response)["params"]  # type: ignore[no-any-return]


# --- openai/ -------------------------------------------------------------------------------------


def test_openai_generation_with_extra_body(
    litellm: ModuleType, gw: dict[str, str], admin: httpx.Client
) -> None:
    result = litellm.image_generation(
        model="openai/dall-e-3",
        prompt="a lighthouse",
        size="1792x1024",
        quality="hd",
        extra_body={"response_format": "b64_json", "style": "natural"},
        **gw,
    )
    assert decode(result.data[0]).size == (1792, 1024)
    assert "natural style" in result.data[0].revised_prompt
    got = params(admin, result)
    assert got["response_format"] == "b64_json" and got["style"] == "natural" and got["quality"] == "hd"


def test_openai_route_and_response_format_or_style(
    litellm: ModuleType, gw: dict[str, str], admin: httpx.Client
) -> None:
    """The documented limitation (docs/clients.md): LiteLLM 1.109.1 refuses both for `openai/`
    (whatever the model); 1.102.4 still sent them."""
    for extra in ({"response_format": "b64_json"}, {"style": "vivid"}):
        if openai_route_refuses_response_format():
            with pytest.raises(litellm.UnsupportedParamsError):
                litellm.image_generation(model="openai/dall-e-3", prompt="x", **extra, **gw)
        else:
            result = litellm.image_generation(model="openai/dall-e-3", prompt="x", **extra, **gw)
            assert params(admin, result).items() >= extra.items()


def test_openai_async_generation_n_size_and_unknown_fields(
    litellm: ModuleType, gw: dict[str, str], admin: httpx.Client
) -> None:
    result = asyncio.run(
        litellm.aimage_generation(
            model="openai/gpt-image-1-mini", prompt="a boat", n=2, size="1536x1024", seed=7, **gw
        )
    )
    assert len(result.data) == 2 and decode(result.data[1]).size == (1536, 1024)
    got = params(admin, result)
    assert got["n"] == 2 and got["size"] == "1536x1024" and got["extra"] == {"seed": 7}


def test_openai_async_with_extra_body(litellm: ModuleType, gw: dict[str, str], admin: httpx.Client) -> None:
    """`aimage_generation` and `aimage_edit` forward `extra_body` as the sync calls do."""
    result = asyncio.run(
        litellm.aimage_generation(
            model="openai/dall-e-3",
            prompt="a lighthouse",
            size="1024x1792",
            extra_body={"response_format": "b64_json", "style": "natural", "seed": 5},
            **gw,
        )
    )
    assert decode(result.data[0]).size == (1024, 1792) and "natural style" in result.data[0].revised_prompt
    got = params(admin, result)
    assert (got["response_format"], got["style"], got["extra"]) == ("b64_json", "natural", {"seed": 5})
    edited = asyncio.run(
        litellm.aimage_edit(
            model="openai/gpt-image-1",
            image=[io.BytesIO(png()), io.BytesIO(png(32, 32))],
            prompt="x",
            extra_body={"style": "vivid", "seed": 9},
            **gw,
        )
    )
    got = params(admin, edited)
    assert got["input_images"] == 2 and got["style"] == "vivid" and got["extra"] == {"seed": "9"}


def test_openai_edit_files_mask_n_size(
    litellm: ModuleType, gw: dict[str, str], admin: httpx.Client, files: dict[str, Path]
) -> None:
    with (
        files["photo"].open("rb") as photo,
        files["sketch"].open("rb") as sketch,
        files["mask"].open("rb") as mask,
    ):
        result = litellm.image_edit(
            model="openai/gpt-image-1",
            image=[photo, sketch],
            mask=mask,
            prompt="put both on a table",
            n=2,
            size="1024x1536",
            response_format="b64_json",
            **gw,
        )
    assert len(result.data) == 2 and decode(result.data[0]).size == (1024, 1536)
    got = params(admin, result)
    assert got["input_images"] == 2 and got["mask"] is True
    assert (got["n"], got["size"], got["response_format"]) == (2, "1024x1536", "b64_json")


def test_openai_async_edit_one_image_as_bytes(
    litellm: ModuleType, gw: dict[str, str], admin: httpx.Client
) -> None:
    result = asyncio.run(
        litellm.aimage_edit(
            model="openai/gpt-image-1",
            image=io.BytesIO(png()),
            prompt="add a hat",
            response_format="url",
            **gw,
        )
    )
    assert decode(result.data[0]).size == (1024, 1024)
    got = params(admin, result)
    assert got["input_images"] == 1 and got["mask"] is False and got["response_format"] == "url"


def test_openai_edit_style_only_through_extra_body(
    litellm: ModuleType, gw: dict[str, str], admin: httpx.Client
) -> None:
    """`image_edit()` has no `style` parameter and filters it out; `extra_body` gets it through."""
    dropped = litellm.image_edit(
        model="openai/gpt-image-1", image=io.BytesIO(png()), prompt="x", style="vivid", **gw
    )
    assert "style" not in params(admin, dropped)
    kept = litellm.image_edit(
        model="openai/gpt-image-1", image=io.BytesIO(png()), prompt="x", extra_body={"style": "vivid"}, **gw
    )
    assert params(admin, kept)["style"] == "vivid"


@pytest.mark.parametrize("prefix", ["lumenfall", "mediarouter"])
def test_openai_provider_with_prefixed_model_names(
    litellm: ModuleType, gw: dict[str, str], admin: httpx.Client, prefix: str
) -> None:
    """`custom_llm_provider="openai", model="lumenfall/<model>"`: the prefix reaches the gateway, which strips it."""
    result = litellm.image_generation(
        model=f"{prefix}/gpt-image-1", custom_llm_provider="openai", prompt="a kite", n=2, **gw
    )
    assert len(result.data) == 2
    entry = entry_for(admin, result)
    assert entry["model"] == f"{prefix}/gpt-image-1" and entry["executed_model"] == "openai/gpt-image-1"
    edited = litellm.image_edit(
        model=f"{prefix}/gpt-image-1", custom_llm_provider="openai", image=io.BytesIO(png()), prompt="x", **gw
    )
    assert entry_for(admin, edited)["executed_model"] == "openai/gpt-image-1"


def test_api_base_without_v1(litellm: ModuleType, gateway: Any, admin: httpx.Client) -> None:
    """LiteLLM adds no /v1 to `openai/` paths: the gateway also serves the bare ones."""
    bare = {"api_base": gateway.url, "api_key": gateway.user_key}
    result = litellm.image_generation(model="openai/gpt-image-1", prompt="x", **bare)
    assert result.data and entry_for(admin, result)["endpoint"] == "/v1/images/generations"
    edited = litellm.image_edit(model="openai/gpt-image-1", image=io.BytesIO(png()), prompt="x", **bare)
    assert edited.data


def test_extra_headers_copied_into_the_body_are_ignored(
    litellm: ModuleType, gw: dict[str, str], admin: httpx.Client
) -> None:
    result = litellm.image_generation(
        model="openai/gpt-image-1", prompt="x", extra_headers={"X-Trace-Id": "trace-1"}, **gw
    )
    assert "extra" not in params(admin, result)


def test_no_key_sends_bearer_none_and_gets_401(
    litellm: ModuleType, gateway: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("OPENAI_API_KEY", raising=False)
    with pytest.raises(litellm.AuthenticationError) as info:
        litellm.image_edit(
            model="openai/gpt-image-1", image=io.BytesIO(png()), prompt="x", api_base=f"{gateway.url}/v1"
        )
    assert "placeholder" in str(info.value)


def test_text_completion_sync_async_and_streaming(litellm: ModuleType, gw: dict[str, str]) -> None:
    expected = f"Sandbox reply from {TEXT_MODEL} to: hello gateway"
    reply = litellm.completion(model=f"openai/{TEXT_MODEL}", messages=HELLO, **gw)
    assert reply.choices[0].message.content == expected
    stream = litellm.completion(model=f"openai/{TEXT_MODEL}", messages=HELLO, stream=True, **gw)
    assert "".join(c.choices[0].delta.content or "" for c in stream) == expected
    reply = asyncio.run(litellm.acompletion(model=f"openai/{TEXT_MODEL}", messages=HELLO, **gw))
    assert reply.choices[0].message.content == expected


def test_where_the_gateways_cost_is_kept(
    litellm: ModuleType, gw: dict[str, str], admin: httpx.Client
) -> None:
    """As the guide says: 1.109.1 keeps the `X-MediaRouter-Cost` header of image answers in
    `_hidden_params`, 1.102.4 only that of chat answers."""
    image = litellm.image_generation(model="openai/gpt-image-1", prompt="x", **gw)
    edit = litellm.image_edit(model="openai/gpt-image-1", image=io.BytesIO(png()), prompt="x", **gw)
    for response in (image, edit):
        hidden = response._hidden_params
        if keeps_image_response_headers():
            cost = hidden["headers"]["x-mediarouter-cost"]
            assert hidden["additional_headers"]["llm_provider-x-mediarouter-cost"] == cost
            assert float(cost) == entry_for(admin, response)["cost"] > 0
        else:
            kept = {**(hidden.get("headers") or {}), **(hidden.get("additional_headers") or {})}
            assert not [name for name in kept if "mediarouter" in name], kept
    chat = litellm.completion(model=f"openai/{TEXT_MODEL}", messages=HELLO, **gw)
    assert float(chat._hidden_params["additional_headers"]["llm_provider-x-mediarouter-cost"]) > 0


def test_errors_keep_the_gateways_message(litellm: ModuleType, gw: dict[str, str]) -> None:
    with pytest.raises(litellm.BadRequestError) as bad_size:
        litellm.image_generation(model="openai/gpt-image-1", prompt="x", size="big", **gw)
    assert bad_size.value.status_code == 400 and "Invalid size 'big'" in str(bad_size.value)
    with pytest.raises(litellm.BadRequestError) as bad_edit:
        litellm.image_edit(model="openai/gpt-image-1", image=io.BytesIO(png()), prompt="x", size="big", **gw)
    assert bad_edit.value.status_code == 400 and "INVALID_REQUEST" in str(bad_edit.value)
    # 1.109.1 maps the 404 to NotFoundError, 1.102.4 to BadRequestError; the message is kept
    with pytest.raises((litellm.NotFoundError, litellm.BadRequestError)) as unknown:
        litellm.image_generation(model="openai/no-such-model", prompt="x", **gw)
    assert "no-such-model' not found" in str(unknown.value)
    with pytest.raises(litellm.BadRequestError) as not_an_image:
        litellm.image_edit(model="openai/gpt-image-1", image=io.BytesIO(b"plain text"), prompt="x", **gw)
    assert "not a supported image" in str(not_an_image.value)


def test_terminal_failures_are_sent_once(
    litellm: ModuleType, gw: dict[str, str], faults: httpx.Client
) -> None:
    """The OpenAI client under LiteLLM's generation honours `x-should-retry: false`; its edits (httpx)
    never retry: a failed call is one upstream attempt (the proxy differs: see its tests)."""
    faults.post(
        "/sandbox/_faults", json={"provider": "openai", "mode": "error", "status": 500}
    ).raise_for_status()
    with pytest.raises(openai.APIStatusError) as generation:  # litellm.BadGatewayError
        litellm.image_generation(model="openai/gpt-image-1", prompt="x", **gw)
    with pytest.raises(openai.APIStatusError) as edit:
        litellm.image_edit(model="openai/gpt-image-1", image=io.BytesIO(png()), prompt="x", **gw)
    assert (generation.value.status_code, edit.value.status_code) == (502, 502)
    assert faults.get("/sandbox/_faults").json()["requests"].get("openai") == 2


# --- hosted_vllm/ --------------------------------------------------------------------------------


def test_hosted_vllm_generation_passes_response_format_and_style(
    litellm: ModuleType, gw: dict[str, str], admin: httpx.Client
) -> None:
    result = litellm.image_generation(
        model="hosted_vllm/dall-e-3",
        prompt="a lighthouse",
        response_format="b64_json",
        style="vivid",
        n=1,
        **gw,
    )
    assert result.data[0].b64_json and "vivid style" in result.data[0].revised_prompt
    got = params(admin, result)
    assert got["response_format"] == "b64_json" and got["style"] == "vivid"


@pytest.mark.parametrize("suffix", ["/v1", ""])
def test_hosted_vllm_edit(
    litellm: ModuleType, gateway: Any, admin: httpx.Client, files: dict[str, Path], suffix: str
) -> None:
    """LiteLLM adds /v1 to a hosted_vllm edit's api_base when it lacks one."""
    with files["photo"].open("rb") as photo, files["sketch"].open("rb") as sketch:
        result = litellm.image_edit(
            model="hosted_vllm/gpt-image-1",
            image=[photo, sketch],
            prompt="x",
            n=2,
            response_format="b64_json",
            api_base=gateway.url + suffix,
            api_key=gateway.user_key,
        )
    assert len(result.data) == 2
    got = params(admin, result)
    assert got["input_images"] == 2 and got["response_format"] == "b64_json"


def test_hosted_vllm_async_generation_and_edit(
    litellm: ModuleType, gw: dict[str, str], admin: httpx.Client
) -> None:
    result = asyncio.run(
        litellm.aimage_generation(
            model="hosted_vllm/dall-e-3", prompt="a lighthouse", response_format="url", style="natural", **gw
        )
    )
    assert decode(result.data[0]).size == (1024, 1024) and "natural style" in result.data[0].revised_prompt
    got = params(admin, result)
    assert got["response_format"] == "url" and got["style"] == "natural"
    edited = asyncio.run(
        litellm.aimage_edit(
            model="hosted_vllm/gpt-image-1",
            image=[io.BytesIO(png()), io.BytesIO(png(32, 32))],
            prompt="combine",
            n=2,
            size="1536x1024",
            response_format="b64_json",
            **gw,
        )
    )
    assert len(edited.data) == 2 and decode(edited.data[0]).size == (1536, 1024)
    got = params(admin, edited)
    assert (got["input_images"], got["n"], got["size"]) == (2, 2, "1536x1024")


def test_hosted_vllm_chat_sync_async_and_streaming(litellm: ModuleType, gw: dict[str, str]) -> None:
    expected = f"Sandbox reply from {TEXT_MODEL} to: hello gateway"
    reply = litellm.completion(model=f"hosted_vllm/{TEXT_MODEL}", messages=HELLO, **gw)
    assert reply.choices[0].message.content == expected
    stream = litellm.completion(model=f"hosted_vllm/{TEXT_MODEL}", messages=HELLO, stream=True, **gw)
    assert "".join(c.choices[0].delta.content or "" for c in stream) == expected
    reply = asyncio.run(litellm.acompletion(model=f"hosted_vllm/{TEXT_MODEL}", messages=HELLO, **gw))
    assert reply.choices[0].message.content == expected


def test_hosted_vllm_edit_mask_needs_drop_params(
    litellm: ModuleType, gw: dict[str, str], admin: httpx.Client
) -> None:
    """LiteLLM refuses a mask on this route, or drops it (and sends a junk `drop_params` part)."""
    edit = {"model": "hosted_vllm/gpt-image-1", "image": io.BytesIO(png()), "prompt": "x", **gw}
    with pytest.raises(litellm.UnsupportedParamsError):
        litellm.image_edit(mask=io.BytesIO(mask_png()), **edit)
    edit["image"] = io.BytesIO(png())
    result = litellm.image_edit(mask=io.BytesIO(mask_png()), drop_params=True, **edit)
    assert result.data
    got = latest(admin)["params"]
    assert got["mask"] is False and "extra" not in got  # the mask was dropped by LiteLLM, not by us
