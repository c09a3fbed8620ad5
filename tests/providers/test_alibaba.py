"""DashScope adapter: request shapes of the three APIs, size vocabulary, task states and the error table."""

from __future__ import annotations

import base64
from typing import Any

import orjson
import pytest

from mediarouter.catalog.models import ModelSpec, Offering, Price
from mediarouter.providers.alibaba import AlibabaAdapter, classify_code, dashscope_size
from mediarouter.providers.base import Call, Done, Poll, UpstreamError, UpstreamResponse
from mediarouter.schemas.images import ImageRequest, InputImage

BASE = "https://dashscope-intl.aliyuncs.com/api/v1"
ADAPTER = AlibabaAdapter()
PNG = b"\x89PNG\r\n\x1a\nfake"


def make_call(
    api: str = "text2image",
    model_id: str = "wan2.5-t2i-preview",
    size: str | None = "1280x720",
    n: int = 1,
    images: int = 0,
    extra: dict[str, Any] | None = None,
    state: dict[str, Any] | None = None,
) -> Call:
    inputs = [InputImage(PNG, "image/png", 64, 64) for _ in range(images)]
    request = ImageRequest(
        mode="edit" if images else "generate",
        model=model_id,
        prompt="a red fox",
        n=n,
        images=inputs,
        extra=extra or {},
    )
    offering = Offering("alibaba", model_id, Price("image", 0.03), options={"api": api})
    model = ModelSpec(model_id, model_id, "alibaba", ("generate", "edit"), (offering,))
    return Call(request, model, offering, BASE, "sk-test", size, state=state or {})


def answer(body: Any, status: int = 200, headers: dict[str, str] | None = None) -> UpstreamResponse:
    raw = body if isinstance(body, bytes) else orjson.dumps(body)
    return UpstreamResponse(status, headers or {}, raw)


@pytest.mark.parametrize(
    ("size", "expected"), [("1024x1024", "1024*1024"), ("1664x928", "1664*928"), ("auto", None), (None, None)]
)
def test_size_uses_an_asterisk(size: str | None, expected: str | None) -> None:
    assert dashscope_size(size) == expected


def test_text2image_is_an_async_task_request() -> None:
    call = make_call(
        n=2, extra={"seed": 7, "negative_prompt": "blurry", "prompt_extend": False, "style": "x"}
    )
    request = ADAPTER.build(call)
    assert (request.method, request.url) == ("POST", f"{BASE}/services/aigc/text2image/image-synthesis")
    assert request.headers == {"Authorization": "Bearer sk-test", "X-DashScope-Async": "enable"}
    assert request.json == {
        "model": "wan2.5-t2i-preview",
        "input": {"prompt": "a red fox", "negative_prompt": "blurry"},
        "parameters": {"n": 2, "watermark": False, "size": "1280*720", "seed": 7, "prompt_extend": False},
    }


def test_image_generation_is_an_async_task_with_messages() -> None:
    """wan2.6-t2i, as `ImageGeneration.async_call` sends it (providers.md §9B)."""
    call = make_call("image_generation", "wan2.6-t2i", n=2, extra={"negative_prompt": "blurry", "seed": 7})
    request = ADAPTER.build(call)
    assert (request.method, request.url) == ("POST", f"{BASE}/services/aigc/image-generation/generation")
    assert request.headers == {"Authorization": "Bearer sk-test", "X-DashScope-Async": "enable"}
    assert request.json == {
        "model": "wan2.6-t2i",
        "input": {"messages": [{"role": "user", "content": [{"text": "a red fox"}]}]},
        "parameters": {
            "n": 2,
            "watermark": False,
            "size": "1280*720",
            "negative_prompt": "blurry",
            "seed": 7,
        },
    }


def test_an_image_generation_task_is_polled_and_gives_its_choices() -> None:
    call = make_call("image_generation", "wan2.6-t2i", size=None)
    polled = ADAPTER.parse(call, answer({"output": {"task_status": "PENDING", "task_id": "t-2"}}))
    assert isinstance(polled, Poll) and polled.request.url == f"{BASE}/tasks/t-2"
    url = "https://dashscope-result-intl.oss-cn-singapore.aliyuncs.com/1.png?Expires=1"
    choice = {
        "finish_reason": "stop",
        "message": {"role": "assistant", "content": [{"image": url, "type": "image"}]},
    }
    body = {
        "output": {
            "task_id": "t-2",
            "task_status": "SUCCEEDED",
            "finished": True,
            "choices": [choice, choice],
        },
        "usage": {"image_count": 2, "size": "1280*1280", "total_tokens": 0},
    }
    done = ADAPTER.parse(call, answer(body))
    assert isinstance(done, Done)
    assert [i.url for i in done.output.images] == [url, url] and done.output.size == "1280x1280"
    empty = {"output": {"task_id": "t-2", "task_status": "SUCCEEDED", "choices": []}}
    with pytest.raises(UpstreamError) as caught:
        ADAPTER.parse(call, answer(empty))
    assert caught.value.failure == "no_image"
    with pytest.raises(UpstreamError) as caught:
        ADAPTER.parse(call, answer({"output": {"task_id": "t-2", "task_status": "SUCCEEDED", "results": []}}))
    assert caught.value.failure == "malformed"


def test_multimodal_generation_is_one_synchronous_message() -> None:
    call = make_call("multimodal", "qwen-image-plus", "1664x928", extra={"negative_prompt": "text"})
    request = ADAPTER.build(call)
    assert request.url == f"{BASE}/services/aigc/multimodal-generation/generation"
    assert "X-DashScope-Async" not in request.headers
    assert request.json["input"] == {"messages": [{"role": "user", "content": [{"text": "a red fox"}]}]}
    assert request.json["parameters"] == {
        "n": 1,
        "watermark": False,
        "size": "1664*928",
        "negative_prompt": "text",
    }


def test_multimodal_edit_sends_images_first_as_data_uris() -> None:
    call = make_call("multimodal", "qwen-image-edit-plus", None, images=2)
    content = ADAPTER.build(call).json["input"]["messages"][0]["content"]
    uri = "data:image/png;base64," + base64.b64encode(PNG).decode()
    assert content == [{"image": uri}, {"image": uri}, {"text": "a red fox"}]
    assert "size" not in ADAPTER.build(call).json["parameters"]


@pytest.mark.parametrize("status", ["PENDING", "RUNNING"])
def test_a_running_task_is_polled(status: str) -> None:
    result = ADAPTER.parse(make_call(), answer({"output": {"task_status": status, "task_id": "t-1"}}))
    assert isinstance(result, Poll)
    assert (result.request.method, result.request.url) == ("GET", f"{BASE}/tasks/t-1")
    assert result.request.headers == {"Authorization": "Bearer sk-test"}
    assert result.state == {"task_id": "t-1"}


def test_a_succeeded_task_gives_its_urls_and_skips_failed_items() -> None:
    body = {
        "output": {
            "task_id": "t-1",
            "task_status": "SUCCEEDED",
            "results": [
                {"url": "https://dashscope-result-sg.oss-ap-southeast-1.aliyuncs.com/1.png"},
                {"code": "DataInspectionFailed", "message": "flagged"},
            ],
        },
        "usage": {"image_count": 1},
    }
    result = ADAPTER.parse(make_call(n=2), answer(body))
    assert isinstance(result, Done)
    assert [i.url for i in result.output.images] == [body["output"]["results"][0]["url"]]
    assert result.output.usage == {"image_count": 1} and result.output.size == "1280x720"


@pytest.mark.parametrize(
    ("output", "failure"),
    [
        ({"task_status": "FAILED", "code": "DataInspectionFailed", "message": "m"}, "content_policy"),
        ({"task_status": "FAILED", "code": "InternalError.Algo", "message": "m"}, "job_failed"),
        ({"task_status": "CANCELED"}, "job_failed"),
        ({"task_status": "UNKNOWN"}, "job_failed"),
        ({"task_status": "SUCCEEDED", "results": []}, "no_image"),
        (
            {"task_status": "SUCCEEDED", "results": [{"code": "DataInspectionFailed", "message": "m"}]},
            "content_policy",
        ),
        ({"task_status": "SUCCEEDED"}, "malformed"),
        ({"task_status": "WEIRD"}, "malformed"),
        ({"task_id": "t-1"}, "malformed"),
    ],
)
def test_task_outcomes(output: dict[str, Any], failure: str) -> None:
    with pytest.raises(UpstreamError) as caught:
        ADAPTER.parse(make_call(state={"task_id": "t-1"}), answer({"output": {"task_id": "t-1", **output}}))
    assert caught.value.failure == failure


@pytest.mark.parametrize(
    ("status", "code", "failure"),
    [
        (400, "DataInspectionFailed", "content_policy"),
        (400, "InvalidParameter", "invalid_request"),
        (400, "BadRequest.EmptyInput", "invalid_request"),
        (401, "InvalidApiKey", "auth"),
        (400, "Arrearage", "quota"),
        (403, "AccessDenied.Unpurchased", "quota"),
        (429, "Throttling.RateQuota", "rate_limited"),
        (429, "Throttling.AllocationQuota", "rate_limited"),
        (500, "InternalError.Algo", "server"),
        (404, "SomethingNew", "not_found"),
        (503, None, "overloaded"),
    ],
)
def test_error_table(status: int, code: str | None, failure: str) -> None:
    body = {"request_id": "r-1", "code": code, "message": "why"} if code else {"request_id": "r-1"}
    with pytest.raises(UpstreamError) as caught:
        ADAPTER.parse(make_call(), answer(body, status, {"retry-after": "2"}))
    err = caught.value
    assert (err.failure, err.status, err.provider_code) == (failure, status, code)
    assert classify_code(code, status) == failure
    if status == 429:
        assert err.retry_after == 2.0


def test_an_error_in_a_200_body_is_an_error() -> None:
    with pytest.raises(UpstreamError) as caught:
        ADAPTER.parse(
            make_call(), answer({"code": "InvalidParameter", "message": "size is wrong", "request_id": "r"})
        )
    assert (caught.value.failure, caught.value.message) == ("invalid_request", "size is wrong")


def test_an_error_page_that_is_not_json_falls_back_to_the_status() -> None:
    with pytest.raises(UpstreamError) as caught:
        ADAPTER.parse(make_call(), answer(b"<html>bad gateway</html>", 502))
    assert caught.value.failure == "server"


def test_multimodal_answer() -> None:
    body = {
        "output": {
            "choices": [
                {"message": {"role": "assistant", "content": [{"image": "https://x.aliyuncs.com/a.png"}]}}
            ]
        },
        "usage": {"image_count": 1, "width": 1664, "height": 928},
    }
    result = ADAPTER.parse(make_call("multimodal", "qwen-image-plus", "1664x928"), answer(body))
    assert isinstance(result, Done)
    assert [i.url for i in result.output.images] == ["https://x.aliyuncs.com/a.png"]
    assert result.output.size == "1664x928"


@pytest.mark.parametrize(
    ("body", "failure"),
    [
        ({"output": {"choices": [{"message": {"content": []}}]}}, "no_image"),
        ({"output": {}}, "malformed"),
        ([1, 2], "malformed"),
    ],
)
def test_multimodal_bad_answers(body: Any, failure: str) -> None:
    with pytest.raises(UpstreamError) as caught:
        ADAPTER.parse(make_call("multimodal", "qwen-image-plus"), answer(body))
    assert caught.value.failure == failure


def test_cancel_needs_a_task_id() -> None:
    assert ADAPTER.cancel(make_call()) is None
    request = ADAPTER.cancel(make_call(state={"task_id": "t-9"}))
    assert request is not None and (request.method, request.url) == ("POST", f"{BASE}/tasks/t-9/cancel")


def test_media_hosts_cover_the_oss_result_buckets() -> None:
    from mediarouter.providers.driver import url_allowed

    url = "https://dashscope-result-sg.oss-ap-southeast-1.aliyuncs.com/1d/a.png?Expires=1"
    assert url_allowed(url, ADAPTER, BASE)
    assert not url_allowed("https://evil.example.com/a.png", ADAPTER, BASE)


def test_an_unknown_api_option_is_reported() -> None:
    with pytest.raises(UpstreamError) as caught:
        ADAPTER.build(make_call(api="video"))
    assert caught.value.failure == "invalid_request"
