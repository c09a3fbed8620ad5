"""The DashScope emulator against the official `dashscope` SDK: text2image tasks (`ImageSynthesis`),
wan2.6 through `ImageGeneration` (sync and async), the multimodal API, faults."""

from __future__ import annotations

import base64
import io
from collections.abc import Iterator
from http import HTTPStatus
from typing import Any

import dashscope
import httpx
import pytest
from dashscope import ImageSynthesis, MultiModalConversation
from dashscope.aigc.image_generation import ImageGeneration
from PIL import Image
from sandbox_server import RunningServer

KEY = "sk-test"
WAN = "wan2.5-t2i-preview"  # the newest model on text2image/image-synthesis
WAN26 = "wan2.6-t2i"  # on image-generation (async) and multimodal-generation (sync)


@pytest.fixture(autouse=True)
def sdk_base(sandbox: RunningServer) -> Iterator[str]:
    """The SDK reads its base URL from a module global; point it at the emulator for each test."""
    previous = dashscope.base_http_api_url
    dashscope.base_http_api_url = f"{sandbox.base_url}/sandbox/alibaba/api/v1"
    yield dashscope.base_http_api_url
    dashscope.base_http_api_url = previous


def picture(url: str) -> Image.Image:
    image = Image.open(io.BytesIO(httpx.get(url, timeout=10).raise_for_status().content))
    image.load()
    return image


def png_uri(width: int = 96, height: int = 64) -> str:
    out = io.BytesIO()
    Image.new("RGB", (width, height), (10, 120, 200)).save(out, "PNG")
    return "data:image/png;base64," + base64.b64encode(out.getvalue()).decode()


def submit(**params: Any) -> Any:
    return ImageSynthesis.async_call(
        model=params.pop("model", WAN), prompt="a fox in snow", api_key=KEY, **params
    )


def wan26_messages(text: str = "a koi pond at dusk") -> list[dict[str, Any]]:
    return [{"role": "user", "content": [{"text": text}]}]


def wan26_images(response: Any) -> list[str]:
    return [part["image"] for choice in response.output.choices for part in choice.message.content]


def test_wan26_sync_call_goes_to_multimodal_generation() -> None:
    result = ImageGeneration.call(
        model=WAN26, messages=wan26_messages(), api_key=KEY, size="1280*720", n=2, watermark=False
    )
    assert result.status_code == HTTPStatus.OK, result.message
    assert [picture(u).size for u in wan26_images(result)] == [(1280, 720)] * 2
    assert result.usage["image_count"] == 2


def test_wan26_async_call_fetch_and_wait() -> None:
    task = ImageGeneration.async_call(
        model=WAN26, messages=wan26_messages(), api_key=KEY, size="1024*1024", negative_prompt="blur"
    )
    assert task.status_code == HTTPStatus.OK, task.message
    assert task.output.task_status == "PENDING" and task.output.task_id
    assert ImageGeneration.fetch(task, api_key=KEY).output.task_status == "RUNNING"
    done = ImageGeneration.wait(task, api_key=KEY)
    assert done.status_code == HTTPStatus.OK and done.output.task_status == "SUCCEEDED"
    assert done.output.finished is True and done.usage["size"] == "1024*1024"
    image = picture(wan26_images(done)[0])
    assert (image.size, image.format) == ((1024, 1024), "PNG")


def test_wan26_cancel_only_while_pending() -> None:
    task = ImageGeneration.async_call(model=WAN26, messages=wan26_messages(), api_key=KEY)
    assert ImageGeneration.cancel(task, api_key=KEY).status_code == HTTPStatus.OK
    assert ImageGeneration.fetch(task, api_key=KEY).output.task_status == "CANCELED"
    running = ImageGeneration.async_call(model=WAN26, messages=wan26_messages(), api_key=KEY)
    ImageGeneration.fetch(running, api_key=KEY)  # polled: RUNNING, past cancelling
    refused = ImageGeneration.cancel(running, api_key=KEY)
    assert (refused.status_code, refused.code) == (400, "UnsupportedOperation")


def test_wan26_is_not_served_by_text2image_and_older_wan_not_by_image_generation() -> None:
    old_api = ImageSynthesis.async_call(model=WAN26, prompt="a fox", api_key=KEY)
    assert (old_api.status_code, old_api.code) == (400, "InvalidParameter")
    assert "image-generation/generation" in old_api.message
    older = ImageGeneration.async_call(model=WAN, messages=wan26_messages(), api_key=KEY)
    assert (older.status_code, older.code) == (400, "InvalidParameter")


@pytest.mark.parametrize(
    ("kwargs", "code"),
    [
        ({"size": "1440*1440"}, None),
        ({"size": "512*512"}, "InvalidParameter"),  # below 768*768 pixels
        ({"n": 5}, "InvalidParameter"),
        ({"negative_prompt": 3}, "InvalidParameter"),
    ],
)
def test_wan26_task_validation(kwargs: dict[str, Any], code: str | None) -> None:
    task = ImageGeneration.async_call(model=WAN26, messages=wan26_messages(), api_key=KEY, **kwargs)
    assert (task.code or None) == code, task.message


def test_wan26_takes_no_input_image() -> None:
    messages = [{"role": "user", "content": [{"image": png_uri()}, {"text": "x"}]}]
    for send in (ImageGeneration.call, ImageGeneration.async_call):
        result = send(model=WAN26, messages=messages, api_key=KEY)
        assert (result.status_code, result.code) == (400, "InvalidParameter")


@pytest.mark.parametrize(
    ("mode", "status", "code"),
    [
        ("job_failed", "FAILED", "InternalError.Algo"),
        ("content_policy", "FAILED", "DataInspectionFailed"),
        ("empty", "SUCCEEDED", None),
        ("job_stuck", "RUNNING", None),
    ],
)
def test_wan26_job_faults_decide_the_task(
    sandbox: RunningServer, mode: str, status: str, code: str | None
) -> None:
    sandbox.set_fault(provider="alibaba", model=WAN26, mode=mode)
    task = ImageGeneration.async_call(model=WAN26, messages=wan26_messages(), api_key=KEY)
    assert task.status_code == HTTPStatus.OK
    for _ in range(3):
        result = ImageGeneration.fetch(task, api_key=KEY)
    assert (result.output.task_status, result.output.get("code")) == (status, code)
    if mode == "empty":
        assert result.output.choices == []


def test_task_lifecycle_with_async_call_fetch_and_wait() -> None:
    task = submit(size="1280*720", n=2, seed=3, watermark=False)
    assert task.status_code == HTTPStatus.OK and task.output.task_status == "PENDING"
    assert task.output.task_id and task.request_id
    polled = ImageSynthesis.fetch(task, api_key=KEY)
    assert polled.output.task_status == "RUNNING"
    done = ImageSynthesis.wait(task, api_key=KEY)
    assert done.output.task_status == "SUCCEEDED" and done.usage.image_count == 2
    assert [picture(r.url).size for r in done.output.results] == [(1280, 720)] * 2
    assert done.output.task_metrics == {"TOTAL": 2, "SUCCEEDED": 2, "FAILED": 0}


def test_call_submits_and_polls_until_done() -> None:
    result = ImageSynthesis.call(model="wan2.2-t2i-flash", prompt="a lantern", size="512*768", api_key=KEY)
    assert result.status_code == HTTPStatus.OK and result.output.task_status == "SUCCEEDED"
    image = picture(result.output.results[0].url)
    assert (image.size, image.format) == ((512, 768), "PNG")


def test_cancel_a_pending_task() -> None:
    task = submit()
    assert ImageSynthesis.cancel(task, api_key=KEY).status_code == HTTPStatus.OK
    assert ImageSynthesis.fetch(task, api_key=KEY).output.task_status == "CANCELED"
    again = ImageSynthesis.cancel(task, api_key=KEY)
    assert (again.status_code, again.code) == (400, "UnsupportedOperation")


def test_an_unknown_task_is_unknown() -> None:
    assert ImageSynthesis.fetch("no-such-task", api_key=KEY).output.task_status == "UNKNOWN"


@pytest.mark.parametrize(
    ("model", "size", "allowed"),
    [
        (WAN, "1440*1440", True),
        (WAN, "512*512", False),  # below 768*768 pixels
        (WAN, "1600*400", True),  # 4:1 is the widest...
        (WAN, "1700*400", False),  # ...and 4.25:1 too wide
        ("wan2.2-t2i-flash", "1440*512", True),
        ("wan2.2-t2i-flash", "1536*1024", False),  # above 1440 per side
        (WAN, "1024x1024", False),  # DashScope writes sizes with an asterisk
    ],
)
def test_sizes_are_checked_against_the_model(model: str, size: str, allowed: bool) -> None:
    task = submit(model=model, size=size)
    if allowed:
        assert task.status_code == HTTPStatus.OK
    else:
        assert (task.status_code, task.code) == (400, "InvalidParameter")


def test_request_errors(sandbox: RunningServer) -> None:
    assert (submit(model="wan9-t2i").status_code, submit(model="wan9-t2i").code) == (404, "ModelNotFound")
    too_many = submit(n=5)
    assert (too_many.status_code, too_many.code) == (400, "InvalidParameter")
    url = f"{sandbox.base_url}/sandbox/alibaba/api/v1/services/aigc/text2image/image-synthesis"
    body = {"model": WAN, "input": {"prompt": "p"}}
    sync = httpx.post(url, json=body, headers={"Authorization": f"Bearer {KEY}"})
    assert (sync.status_code, sync.json()["code"]) == (403, "AccessDenied")  # only async over HTTP
    anonymous = httpx.post(url, json=body, headers={"X-DashScope-Async": "enable"})
    assert (anonymous.status_code, anonymous.json()["code"]) == (401, "InvalidApiKey")
    assert "request_id" in anonymous.json()


def test_multimodal_generation_with_qwen_image() -> None:
    messages = [{"role": "user", "content": [{"text": "a tea house sign"}]}]
    result = MultiModalConversation.call(
        model="qwen-image-plus", messages=messages, api_key=KEY, size="1664*928", n=1, watermark=False
    )
    assert result.status_code == HTTPStatus.OK
    content = result.output.choices[0].message.content
    assert picture(content[0]["image"]).size == (1664, 928)
    assert result.usage["width"] == 1664 and result.usage["image_count"] == 1


def test_multimodal_edit_with_qwen_image_edit() -> None:
    messages = [
        {"role": "user", "content": [{"image": png_uri(96, 64)}, {"image": png_uri()}, {"text": "add snow"}]}
    ]
    result = MultiModalConversation.call(model="qwen-image-edit-plus", messages=messages, api_key=KEY, n=2)
    assert result.status_code == HTTPStatus.OK
    urls = [part["image"] for part in result.output.choices[0].message.content]
    sizes = {picture(u).size for u in urls}
    assert len(urls) == 2 and len(sizes) == 1
    width, height = sizes.pop()
    assert width > height  # the first input's shape


@pytest.mark.parametrize(
    ("model", "content", "code"),
    [
        ("qwen-image-plus", [{"text": "x"}], None),
        ("qwen-image-plus", [{"image": "data:image/png;base64,AAAA"}, {"text": "x"}], "InvalidParameter"),
        ("qwen-image-edit-plus", [{"text": "no image"}], "InvalidParameter"),
        (
            "qwen-image-edit-plus",
            [{"image": "https://example.com/a.png"}, {"text": "x"}],
            "InvalidParameter.DataInspection",
        ),
        (WAN, [{"text": "x"}], "InvalidParameter"),  # a text2image model on the multimodal API
        (WAN26, [{"text": "x"}], None),  # wan2.6 answers here too (`ImageGeneration.call`)
    ],
)
def test_multimodal_validation(model: str, content: list[dict[str, str]], code: str | None) -> None:
    result = MultiModalConversation.call(
        model=model, messages=[{"role": "user", "content": content}], api_key=KEY
    )
    assert (result.code or None) == code, result.message


def test_qwen_image_only_draws_its_own_sizes() -> None:
    messages = [{"role": "user", "content": [{"text": "x"}]}]
    result = MultiModalConversation.call(
        model="qwen-image-plus", messages=messages, api_key=KEY, size="1024*1024"
    )
    assert (result.status_code, result.code) == (400, "InvalidParameter") and "1664*928" in result.message


@pytest.mark.parametrize(
    ("mode", "status", "code"),
    [
        ("job_failed", "FAILED", "InternalError.Algo"),
        ("content_policy", "FAILED", "DataInspectionFailed"),
        ("empty", "SUCCEEDED", None),
        ("job_stuck", "RUNNING", None),
    ],
)
def test_job_faults_decide_the_task(sandbox: RunningServer, mode: str, status: str, code: str | None) -> None:
    sandbox.set_fault(provider="alibaba", mode=mode)
    task = submit()
    assert task.status_code == HTTPStatus.OK
    for _ in range(3):
        result = ImageSynthesis.fetch(task, api_key=KEY)
    assert (result.output.task_status, result.output.get("code")) == (status, code)
    if mode == "empty":
        assert result.output.results == []


@pytest.mark.parametrize(
    ("fault", "status", "code"),
    [
        ({"mode": "error", "status": 429}, 429, "Throttling.RateQuota"),
        ({"mode": "error", "status": 500}, 500, "InternalError"),
        ({"mode": "error", "status": 401, "message": "key revoked"}, 401, "InvalidApiKey"),
        ({"mode": "content_policy"}, 400, "DataInspectionFailed"),
        ({"mode": "job_failed"}, 500, "InternalError.Algo"),
    ],
)
def test_faults_on_the_multimodal_api(
    sandbox: RunningServer, fault: dict[str, Any], status: int, code: str
) -> None:
    sandbox.set_fault(provider="alibaba", model="qwen-image-plus", **fault)
    messages = [{"role": "user", "content": [{"text": "x"}]}]
    result = MultiModalConversation.call(model="qwen-image-plus", messages=messages, api_key=KEY)
    assert (result.status_code, result.code) == (status, code)
    if "message" in fault:
        assert result.message == fault["message"]


def test_error_faults_also_hit_polls(sandbox: RunningServer) -> None:
    task = submit()
    sandbox.set_fault(provider="alibaba", mode="error", status=500, count=1)
    assert ImageSynthesis.fetch(task, api_key=KEY).status_code == 500
    assert ImageSynthesis.fetch(task, api_key=KEY).status_code == HTTPStatus.OK


def test_every_request_is_counted(sandbox: RunningServer) -> None:
    task = submit()
    ImageSynthesis.fetch(task, api_key=KEY)
    ImageSynthesis.fetch(task, api_key=KEY)
    assert sandbox.call("GET", "/sandbox/_faults")[1]["requests"]["alibaba"] == 3


def test_malformed_and_empty_multimodal_answers(sandbox: RunningServer) -> None:
    url = f"{sandbox.base_url}/sandbox/alibaba/api/v1/services/aigc/multimodal-generation/generation"
    body = {"model": "qwen-image-plus", "input": {"messages": [{"role": "user", "content": [{"text": "x"}]}]}}
    headers = {"Authorization": f"Bearer {KEY}"}
    sandbox.set_fault(provider="alibaba", mode="malformed")
    broken = httpx.post(url, json=body, headers=headers)
    assert broken.status_code == 200
    with pytest.raises(ValueError):
        broken.json()
    sandbox.set_fault(provider="alibaba", mode="empty")
    empty = httpx.post(url, json=body, headers=headers).json()
    assert empty["output"]["choices"][0]["message"]["content"] == []
