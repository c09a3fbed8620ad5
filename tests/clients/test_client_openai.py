"""The official `openai` SDK, sync and async, as users call it: images, edits, extra_body, chat, errors.

Each call's effect is checked twice: in the answer, and in the request log's `params` (what the
gateway received).
"""

from __future__ import annotations

import asyncio
import io
from typing import Any

import httpx
import openai
import pytest
from clients_support import TEXT_MODEL, logged

from imaging import decode, mask_png, png

HELLO = [{"role": "user", "content": "hello gateway"}]


def make_clients(gateway: Any) -> tuple[openai.OpenAI, openai.AsyncOpenAI]:
    args = {"base_url": f"{gateway.url}/v1", "api_key": gateway.user_key, "max_retries": 0, "timeout": 30}
    return openai.OpenAI(**args), openai.AsyncOpenAI(**args)


@pytest.fixture
def client(gateway: Any) -> openai.OpenAI:
    return make_clients(gateway)[0]


def params_of(admin: httpx.Client, raw: Any) -> dict[str, Any]:
    return logged(admin, raw.headers["x-mediarouter-request-id"])["params"]  # type: ignore[no-any-return]


def test_generate_sync_with_every_parameter(client: openai.OpenAI, admin: httpx.Client) -> None:
    raw = client.images.with_raw_response.generate(
        model="dall-e-3", prompt="a lighthouse", size="1792x1024", style="natural", response_format="b64_json"
    )
    result = raw.parse()
    assert decode(result.data[0]).size == (1792, 1024)
    assert "natural style" in (result.data[0].revised_prompt or "")
    assert params_of(admin, raw) == {
        "n": 1,
        "size": "1792x1024",
        "style": "natural",
        "response_format": "b64_json",
        "input_images": 0,
        "mask": False,
    }


def test_generate_async_n_and_url(gateway: Any, admin: httpx.Client) -> None:
    async def call() -> Any:
        async with make_clients(gateway)[1] as client:
            return await client.images.with_raw_response.generate(
                model="gpt-image-1-mini", prompt="a paper boat", n=3, size="1024x1536", response_format="url"
            )

    raw = asyncio.run(call())
    result = raw.parse()
    assert len(result.data) == 3 and all(decode(item).size == (1024, 1536) for item in result.data)
    assert params_of(admin, raw)["n"] == 3


@pytest.mark.parametrize(
    ("images", "field"),
    [
        (lambda: io.BytesIO(png()), "image"),  # one file: the SDK sends `image`
        (lambda: [io.BytesIO(png())], "image[]"),  # a list, even of one: `image[]`
        (lambda: [io.BytesIO(png()), io.BytesIO(png(32, 32)), png(16, 16)], "image[]"),  # raw bytes: "upload"
    ],
    ids=["one", "list-of-one", "several"],
)
def test_edit_sync_fields_and_mask(
    client: openai.OpenAI, admin: httpx.Client, images: Any, field: str
) -> None:
    given = images()
    raw = client.images.with_raw_response.edit(
        model="gpt-image-1",
        image=given,
        mask=io.BytesIO(mask_png()),
        prompt="add a hat",
        n=2,
        size="1024x1024",
        response_format="b64_json",
    )
    result = raw.parse()
    assert len(result.data) == 2 and decode(result.data[0]).size == (1024, 1024)
    params = params_of(admin, raw)
    assert params["input_images"] == (len(given) if isinstance(given, list) else 1)
    assert params["mask"] is True and params["n"] == 2 and params["response_format"] == "b64_json"


def test_edit_async_several_images(gateway: Any, admin: httpx.Client) -> None:
    async def call() -> Any:
        async with make_clients(gateway)[1] as client:
            return await client.images.with_raw_response.edit(
                model="gpt-image-1",
                image=[png(), png(40, 40)],
                mask=mask_png(),
                prompt="combine",
                response_format="url",
            )

    raw = asyncio.run(call())
    assert decode(raw.parse().data[0]).size[0] > 0
    params = params_of(admin, raw)
    assert params["input_images"] == 2 and params["mask"] is True and params["response_format"] == "url"


def test_edit_async_one_image(gateway: Any, admin: httpx.Client) -> None:
    """One file, no mask: the async client sends `image` as the sync one does."""

    async def call() -> Any:
        async with make_clients(gateway)[1] as client:
            return await client.images.with_raw_response.edit(
                model="gpt-image-1", image=io.BytesIO(png()), prompt="add a hat", size="1024x1536"
            )

    raw = asyncio.run(call())
    assert decode(raw.parse().data[0]).size == (1024, 1536)
    params = params_of(admin, raw)
    assert params["input_images"] == 1 and params["mask"] is False and params["size"] == "1024x1536"


def test_extra_body_async(gateway: Any, admin: httpx.Client) -> None:
    async def call() -> tuple[Any, Any]:
        async with make_clients(gateway)[1] as client:
            generated = await client.images.with_raw_response.generate(
                model="gpt-image-1.5", prompt="a kite", extra_body={"aspect_ratio": "16:9", "seed": 7}
            )
            edited = await client.images.with_raw_response.edit(
                model="gpt-image-1", image=png(), prompt="x", extra_body={"style": "vivid", "seed": 3}
            )
            return generated, edited

    generated, edited = asyncio.run(call())
    assert generated.parse().data and edited.parse().data
    params = params_of(admin, generated)
    assert params["aspect_ratio"] == "16:9" and params["extra"] == {"seed": 7}
    params = params_of(admin, edited)
    assert params["style"] == "vivid" and params["extra"] == {"seed": "3"}


def test_extra_body_fields_reach_the_gateway(client: openai.OpenAI, admin: httpx.Client) -> None:
    raw = client.images.with_raw_response.generate(
        model="gpt-image-1.5",
        prompt="a kite",
        extra_body={"aspect_ratio": "16:9", "seed": 7, "output_format": "webp"},
    )
    result = raw.parse()
    assert decode(result.data[0]).format == "WEBP"
    params = params_of(admin, raw)
    assert params["aspect_ratio"] == "16:9" and params["output_format"] == "webp"
    assert params["extra"] == {"seed": 7}


def test_chat_sync_and_streaming(client: openai.OpenAI) -> None:
    reply = client.chat.completions.create(model=TEXT_MODEL, messages=HELLO)  # type: ignore[arg-type]
    assert reply.choices[0].message.content == f"Sandbox reply from {TEXT_MODEL} to: hello gateway"
    stream = client.chat.completions.create(model=TEXT_MODEL, messages=HELLO, stream=True)  # type: ignore[arg-type]
    text = "".join(c.choices[0].delta.content or "" for c in stream if c.choices)
    assert text == reply.choices[0].message.content


def test_chat_async_streaming(gateway: Any) -> None:
    async def call() -> tuple[str, str]:
        async with make_clients(gateway)[1] as client:
            reply = await client.chat.completions.create(model=TEXT_MODEL, messages=HELLO)  # type: ignore[arg-type]
            stream = await client.chat.completions.create(model=TEXT_MODEL, messages=HELLO, stream=True)  # type: ignore[arg-type]
            parts = [c.choices[0].delta.content or "" async for c in stream if c.choices]
            return reply.choices[0].message.content or "", "".join(parts)

    whole, streamed = asyncio.run(call())
    assert whole and streamed == whole


def test_bad_input_is_the_callers_error(client: openai.OpenAI) -> None:
    with pytest.raises(openai.BadRequestError) as bad_size:
        client.images.generate(model="gpt-image-1", prompt="x", size="big")
    assert bad_size.value.status_code == 400 and "Invalid size 'big'" in bad_size.value.message
    assert bad_size.value.code == "INVALID_REQUEST" and bad_size.value.param == "size"
    with pytest.raises(openai.NotFoundError) as unknown:
        client.images.generate(model="no-such-model", prompt="x")
    assert unknown.value.code == "MODEL_NOT_FOUND"
    with pytest.raises(openai.BadRequestError) as not_an_image:
        client.images.edit(model="gpt-image-1", image=b"not an image", prompt="x")
    assert not_an_image.value.param == "image"


def test_placeholder_key_is_refused(gateway: Any) -> None:
    client = openai.OpenAI(base_url=f"{gateway.url}/v1", api_key="None", max_retries=0)
    with pytest.raises(openai.AuthenticationError) as info:
        client.images.generate(model="gpt-image-1", prompt="x")
    assert "placeholder" in info.value.message
