"""The xAI emulator against the openai SDK (generation, as xAI documents it) and plain HTTP (JSON edits).

xAI's own Python SDK speaks gRPC, so for REST the openai SDK is the client xAI's docs point to:
`OpenAI(base_url="https://api.x.ai/v1")`, with `aspect_ratio`/`resolution` in `extra_body`. Its
`images.edit()` sends multipart, which xAI refuses; edits are JSON posted by hand.
"""

from __future__ import annotations

import base64
import io
from collections.abc import Iterator
from typing import Any

import httpx
import openai
import pytest
from PIL import Image
from sandbox_server import RunningServer

from imaging import decode, png

SLUG = "xai"


@pytest.fixture
def grok(sandbox: RunningServer) -> Iterator[openai.OpenAI]:
    base = f"{sandbox.base_url}/sandbox/xai/v1"
    with openai.OpenAI(base_url=base, api_key="xai-test", max_retries=0, timeout=10) as client:
        yield client


@pytest.fixture
def http(sandbox: RunningServer) -> Iterator[httpx.Client]:
    base = f"{sandbox.base_url}/sandbox/xai/v1"
    with httpx.Client(base_url=base, headers={"Authorization": "Bearer xai-test"}, timeout=10) as client:
        yield client


def data_uri(raw: bytes) -> str:
    return "data:image/png;base64," + base64.b64encode(raw).decode()


@pytest.mark.parametrize(
    ("extra", "size"),
    [
        ({"aspect_ratio": "16:9"}, (1360, 768)),
        ({"aspect_ratio": "9:16", "resolution": "2k"}, (1536, 2736)),
        ({}, (1024, 1024)),
    ],
)
def test_sdk_generation(grok: openai.OpenAI, extra: dict[str, Any], size: tuple[int, int]) -> None:
    result = grok.images.generate(
        model="grok-imagine-image", prompt="a fox in snow", response_format="b64_json", extra_body=extra
    )
    image = decode(result.data[0])
    assert (image.size, image.format) == (size, "JPEG")


def test_sdk_url_answers_and_revised_prompts(grok: openai.OpenAI) -> None:
    result = grok.images.generate(model="grok-2-image-1212", prompt="a cat", n=2)
    assert len(result.data) == 2 and all(d.url and "/sandbox/xai/files/" in d.url for d in result.data)
    assert decode(result.data[1]).size == (1024, 768) and result.data[0].revised_prompt


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"size": "1024x1024"}, "Argument not supported: size"),
        ({"style": "vivid"}, "Argument not supported: style"),
        ({"quality": "high"}, "Argument not supported: quality"),
        ({"extra_body": {"resolution": "2K"}}, "Invalid resolution"),
        ({"extra_body": {"aspect_ratio": "5:4"}}, "Invalid aspect_ratio"),
        ({"n": 11}, "between 1 and 10"),
    ],
)
def test_sdk_sees_refused_arguments(grok: openai.OpenAI, kwargs: dict[str, Any], message: str) -> None:
    with pytest.raises(openai.BadRequestError) as caught:
        grok.images.generate(model="grok-imagine-image", prompt="p", **kwargs)
    assert message in caught.value.response.text
    if message.startswith("Argument"):
        assert caught.value.response.json() == {"code": "400", "error": message}


def test_grok_2_refuses_aspect_ratio(grok: openai.OpenAI) -> None:
    with pytest.raises(openai.BadRequestError) as caught:
        grok.images.generate(model="grok-2-image", prompt="p", extra_body={"aspect_ratio": "1:1"})
    assert caught.value.response.json() == {"code": "400", "error": "Argument not supported: aspect_ratio"}


def test_unknown_model_and_missing_key(sandbox: RunningServer, grok: openai.OpenAI) -> None:
    with pytest.raises(openai.NotFoundError):
        grok.images.generate(model="grok-9", prompt="p")
    status, body = sandbox.call(
        "POST", "/sandbox/xai/v1/images/generations", {"model": "grok-2-image", "prompt": "p"}
    )
    assert status == 400 and "Incorrect API key" in body["error"]


def test_sdk_multipart_edit_is_refused(grok: openai.OpenAI) -> None:
    with pytest.raises(openai.APIStatusError) as caught:
        grok.images.edit(model="grok-imagine-image", prompt="add a hat", image=("in.png", png(), "image/png"))
    assert caught.value.status_code == 415 and "application/json" in caught.value.response.json()["error"]


def test_json_edit_of_one_image(http: httpx.Client) -> None:
    body = {
        "model": "grok-imagine-image",
        "prompt": "add a hat",
        "image": {"url": data_uri(png(150, 100)), "type": "image_url"},
        "response_format": "b64_json",
    }
    r = http.post("/images/edits", json=body)
    assert r.status_code == 200, r.text
    assert decode(r.json()["data"][0]).size == (1248, 832)  # 3:2, like the source


def test_json_edit_of_several_images_with_a_shape(http: httpx.Client) -> None:
    sources = [{"url": data_uri(png(64, 64)), "type": "image_url"} for _ in range(3)]
    body = {
        "model": "grok-imagine-image",
        "prompt": "merge",
        "images": sources,
        "aspect_ratio": "16:9",
        "n": 2,
    }
    r = http.post("/images/edits", json=body)
    urls = [d["url"] for d in r.json()["data"]]
    sizes = {Image.open(io.BytesIO(httpx.get(u, timeout=10).content)).size for u in urls}
    assert sizes == {(1360, 768)}


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ({"image": {"url": "https://example.com/x.png"}}, "data URIs"),
        ({"images": [{"url": data_uri(png())}] * 4}, "At most 3"),
        ({}, "needs 'image'"),
        (
            {"image": {"url": data_uri(png())}, "mask": {"url": data_uri(png())}},
            "Argument not supported: mask",
        ),
        ({"image": {"url": "data:image/png;base64,AAAA"}}, "corrupt"),
    ],
)
def test_json_edit_errors(http: httpx.Client, body: dict[str, Any], message: str) -> None:
    r = http.post("/images/edits", json={"model": "grok-imagine-image", "prompt": "p", **body})
    assert r.status_code == 400 and message in r.json()["error"]


def test_faults(sandbox: RunningServer, grok: openai.OpenAI) -> None:
    sandbox.set_fault(provider=SLUG, mode="content_policy", count=1)
    with pytest.raises(openai.PermissionDeniedError) as caught:
        grok.images.generate(model="grok-imagine-image", prompt="p")
    assert caught.value.response.json()["error"].startswith("Content violates usage guidelines")
    sandbox.set_fault(provider=SLUG, mode="empty", count=1)
    assert grok.images.generate(model="grok-imagine-image", prompt="p").data == []
    sandbox.set_fault(provider=SLUG, mode="error", status=429, count=1)
    with pytest.raises(openai.RateLimitError):
        grok.images.generate(model="grok-imagine-image", prompt="p")
    assert sandbox.call("GET", "/sandbox/_faults")[1]["requests"][SLUG] == 3
