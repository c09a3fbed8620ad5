"""The OpenRouter emulator against the official `openai` SDK: chat (JSON and SSE), image output, faults."""

from __future__ import annotations

import base64
import io
import time
from collections.abc import Iterator
from typing import Any

import httpx
import openai
import pytest
from PIL import Image
from sandbox_server import RunningServer

TEXT = "google/gemini-3-flash-preview"
IMAGE = "google/gemini-2.5-flash-image"
PRO_IMAGE = "google/gemini-3-pro-image-preview"
HELLO = [{"role": "user", "content": "hello from the tests"}]


@pytest.fixture
def router(sandbox: RunningServer) -> Iterator[openai.OpenAI]:
    base = f"{sandbox.base_url}/sandbox/openrouter/api/v1"
    with openai.OpenAI(base_url=base, api_key="sk-or-v1-test", max_retries=0, timeout=10) as sdk:
        yield sdk


def decode_data_url(url: str) -> Image.Image:
    header, _, payload = url.partition(",")
    assert header == "data:image/png;base64"
    image = Image.open(io.BytesIO(base64.b64decode(payload)))
    image.load()
    return image


def png_uri() -> str:
    out = io.BytesIO()
    Image.new("RGB", (80, 60), (200, 40, 40)).save(out, "PNG")
    return "data:image/png;base64," + base64.b64encode(out.getvalue()).decode()


def test_chat_completion(router: openai.OpenAI) -> None:
    result = router.chat.completions.create(model=TEXT, messages=HELLO)  # type: ignore[arg-type]
    assert result.model == TEXT and result.object == "chat.completion"
    assert result.choices[0].message.content == f"Sandbox reply from {TEXT} to: hello from the tests"
    assert result.choices[0].finish_reason == "stop"
    usage = result.usage
    assert usage is not None and usage.total_tokens == usage.prompt_tokens + usage.completion_tokens
    assert (usage.model_extra or {})["cost"] > 0


def test_max_tokens_cuts_the_reply(router: openai.OpenAI) -> None:
    result = router.chat.completions.create(model=TEXT, messages=HELLO, max_tokens=2)  # type: ignore[arg-type]
    assert (
        result.choices[0].message.content == "Sandbox reply" and result.choices[0].finish_reason == "length"
    )


def test_streaming_chunks_arrive_spaced_out(router: openai.OpenAI) -> None:
    stream = router.chat.completions.create(
        model=TEXT,
        messages=HELLO,  # type: ignore[arg-type]
        stream=True,
        extra_body={"sandbox_stream_delay_ms": 40},
    )
    started = time.monotonic()
    arrivals, text, usage, finish = [], "", None, None
    for chunk in stream:
        arrivals.append(time.monotonic() - started)
        assert chunk.object == "chat.completion.chunk" and chunk.model == TEXT
        if chunk.choices:
            text += chunk.choices[0].delta.content or ""
            finish = chunk.choices[0].finish_reason or finish
        usage = chunk.usage or usage
    assert text == f"Sandbox reply from {TEXT} to: hello from the tests" and finish == "stop"
    assert usage is not None and usage.completion_tokens == len(text.split())
    assert arrivals[-1] - arrivals[0] >= 0.3  # 9 word chunks, 40 ms apart: not one buffered body


def test_models_list(router: openai.OpenAI) -> None:
    models = {m.id: m for m in router.models.list()}
    assert {TEXT, "openai/gpt-5.4", IMAGE} <= set(models)
    assert (models[IMAGE].model_extra or {})["architecture"]["output_modalities"] == ["image", "text"]


@pytest.mark.parametrize(
    ("model", "config", "size"),
    [
        (IMAGE, {"aspect_ratio": "16:9"}, (1344, 768)),
        (IMAGE, {"aspect_ratio": "1:1", "image_size": "2K"}, (1024, 1024)),  # 2.5 Flash draws 1K only
        (PRO_IMAGE, {"aspect_ratio": "3:4", "image_size": "2K"}, (1728, 2368)),
    ],
)
def test_image_output_through_extra_body(
    router: openai.OpenAI, model: str, config: dict[str, str], size: tuple[int, int]
) -> None:
    result = router.chat.completions.create(
        model=model,
        messages=[{"role": "user", "content": "a lighthouse at dusk"}],
        extra_body={"modalities": ["image", "text"], "image_config": config},
    )
    message = result.choices[0].message
    images = (message.model_extra or {})["images"]
    assert decode_data_url(images[0]["image_url"]["url"]).size == size
    details = result.usage.completion_tokens_details if result.usage else None
    assert details is not None and (details.model_extra or {})["image_tokens"] == 1290


def test_image_edit_from_an_image_url_part(router: openai.OpenAI) -> None:
    content: Any = [
        {"type": "text", "text": "add a hat"},
        {"type": "image_url", "image_url": {"url": png_uri()}},
    ]
    result = router.chat.completions.create(
        model=IMAGE,
        messages=[{"role": "user", "content": content}],
        extra_body={"modalities": ["image", "text"]},
    )
    images = (result.choices[0].message.model_extra or {})["images"]
    assert decode_data_url(images[0]["image_url"]["url"]).size == (1024, 1024)


def test_streamed_image(router: openai.OpenAI) -> None:
    stream = router.chat.completions.create(
        model=IMAGE,
        messages=HELLO,
        stream=True,
        extra_body={"modalities": ["image", "text"]},  # type: ignore[arg-type]
    )
    images = [
        image
        for chunk in stream
        for choice in chunk.choices
        for image in (choice.delta.model_extra or {}).get("images") or []
    ]
    assert len(images) == 1 and decode_data_url(images[0]["image_url"]["url"]).size == (1024, 1024)


def test_request_errors(router: openai.OpenAI, sandbox: RunningServer) -> None:
    with pytest.raises(openai.BadRequestError) as bad_model:
        router.chat.completions.create(model="nobody/nothing", messages=HELLO)  # type: ignore[arg-type]
    assert bad_model.value.body == {"code": 400, "message": "nobody/nothing is not a valid model ID"}
    with pytest.raises(openai.NotFoundError):
        router.chat.completions.create(model=TEXT, messages=HELLO, extra_body={"modalities": ["image"]})  # type: ignore[arg-type]
    with pytest.raises(openai.BadRequestError):
        router.chat.completions.create(model=TEXT, messages=[])
    anonymous = httpx.post(
        f"{sandbox.base_url}/sandbox/openrouter/api/v1/chat/completions", json={"model": TEXT}
    )
    assert anonymous.status_code == 401 and anonymous.json()["error"]["code"] == 401


@pytest.mark.parametrize(
    ("fault", "error"),
    [
        ({"mode": "error", "status": 429}, openai.RateLimitError),
        ({"mode": "error", "status": 402}, openai.APIStatusError),
        ({"mode": "error", "status": 502}, openai.InternalServerError),
        ({"mode": "content_policy"}, openai.PermissionDeniedError),
        ({"mode": "reset"}, openai.APIConnectionError),
    ],
)
def test_faults(
    router: openai.OpenAI, sandbox: RunningServer, fault: dict[str, Any], error: type[Exception]
) -> None:
    sandbox.set_fault(provider="openrouter", **fault)
    with pytest.raises(error) as caught:
        router.chat.completions.create(model=IMAGE, messages=HELLO)  # type: ignore[arg-type]
    if fault["mode"] == "content_policy":
        body: Any = getattr(caught.value, "body", None)
        assert body["code"] == 403 and body["metadata"]["reasons"] == ["violence"]
    if fault.get("status") == 402:
        assert getattr(caught.value, "status_code", None) == 402


def test_timeout_fault(router: openai.OpenAI, sandbox: RunningServer) -> None:
    sandbox.set_fault(provider="openrouter", mode="timeout")
    with pytest.raises(openai.APITimeoutError):
        router.with_options(timeout=0.5).chat.completions.create(model=TEXT, messages=HELLO)  # type: ignore[arg-type]


def test_empty_and_malformed(router: openai.OpenAI, sandbox: RunningServer) -> None:
    sandbox.set_fault(provider="openrouter", mode="empty")
    empty = router.chat.completions.create(
        model=IMAGE, messages=HELLO, extra_body={"modalities": ["image", "text"]}
    )  # type: ignore[arg-type]
    assert empty.choices[0].message.content == "" and "images" not in (
        empty.choices[0].message.model_extra or {}
    )
    sandbox.set_fault(provider="openrouter", mode="malformed")
    with pytest.raises((openai.APIError, ValueError)):
        router.chat.completions.create(model=TEXT, messages=HELLO)  # type: ignore[arg-type]


def test_stream_faults(router: openai.OpenAI, sandbox: RunningServer) -> None:
    sandbox.set_fault(provider="openrouter", mode="reset")
    received = []
    with pytest.raises(openai.APIConnectionError):
        for chunk in router.chat.completions.create(model=TEXT, messages=HELLO, stream=True):  # type: ignore[arg-type]
            received.append(chunk)
    assert 0 < len(received) < 5  # a few chunks, then the connection dropped
    sandbox.set_fault(provider="openrouter", mode="malformed")
    with pytest.raises(ValueError):
        list(router.chat.completions.create(model=TEXT, messages=HELLO, stream=True))  # type: ignore[arg-type]
    sandbox.set_fault(provider="openrouter", mode="error", status=503)
    with pytest.raises(openai.InternalServerError):
        router.chat.completions.create(model=TEXT, messages=HELLO, stream=True)  # type: ignore[arg-type]
    sandbox.set_fault(provider="openrouter", mode="empty")
    chunks = list(router.chat.completions.create(model=TEXT, messages=HELLO, stream=True))  # type: ignore[arg-type]
    assert "".join(c.choices[0].delta.content or "" for c in chunks if c.choices) == ""


def test_every_request_is_counted(router: openai.OpenAI, sandbox: RunningServer) -> None:
    router.chat.completions.create(model=TEXT, messages=HELLO)  # type: ignore[arg-type]
    router.models.list()
    assert sandbox.call("GET", "/sandbox/_faults")[1]["requests"]["openrouter"] == 2
