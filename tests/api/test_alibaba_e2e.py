"""Alibaba DashScope through the gateway in sandbox mode: forced `alibaba/<model>` requests, tasks, faults."""

from __future__ import annotations

import logging
from typing import Any

import httpx
import openai
import pytest
from starlette.routing import Mount

from mediarouter.sandbox.alibaba import DashScopeEmulator, Task

from harness import Server
from imaging import decode, png

SLUG = "alibaba"


def _mounted(app: Any, path: str) -> Any:
    return next(r.app for r in app.routes if isinstance(r, Mount) and r.path == path)


def _tasks(gateway: Server, prompt: str) -> list[Task]:
    """The DashScope emulator's tasks for `prompt`, read inside the (in-process) test gateway."""
    mounted = _mounted(_mounted(gateway.app, "/sandbox"), f"/{SLUG}")
    owners = (getattr(r, "endpoint", None) for r in mounted.routes)
    emulator = next(e.__self__ for e in owners if isinstance(getattr(e, "__self__", None), DashScopeEmulator))
    return [t for t in list(emulator.tasks.values()) if t.prompt == prompt]


def _fault(faults: httpx.Client, **fields: object) -> None:
    faults.post("/sandbox/_faults", json={"provider": SLUG, **fields}).raise_for_status()


def _meta(result: object) -> dict[str, object]:
    return (getattr(result, "model_extra", None) or {})["metadata"]


@pytest.mark.parametrize(
    ("model", "size", "expected"),
    [
        ("wan-2.6", "1280x720", (1280, 720)),  # image-generation task, W*H
        ("wan-2.5-preview", "16:9", (1280, 720)),  # a ratio maps to the closest listed size
        ("qwen-image", "1664x928", (1664, 928)),  # multimodal, synchronous
        ("qwen-image", None, (1328, 1328)),  # the catalog's default size
    ],
)
def test_generate_mapped_size(
    sdk: openai.OpenAI, model: str, size: str | None, expected: tuple[int, int]
) -> None:
    extra = {"size": size} if size else {}
    result = sdk.images.generate(
        model=f"{SLUG}/{model}", prompt="a paper lantern", response_format="b64_json", **extra
    )  # type: ignore[arg-type]
    image = decode(result.data[0])
    assert (image.size, image.format) == (expected, "PNG")
    meta = _meta(result)
    assert meta["provider"] == SLUG and [a["status"] for a in meta["attempts"]] == ["success"]  # type: ignore[union-attr]
    assert meta["cost"] == 0.03


def test_several_images_come_from_one_task(sdk: openai.OpenAI, faults: httpx.Client) -> None:
    result = sdk.images.generate(model=f"{SLUG}/wan-2.6", prompt="two cranes", n=2, size="1024x1024")
    assert [decode(d).size for d in result.data] == [(1024, 1024)] * 2
    assert result.usage is not None and (result.model_extra or {})["metadata"]["cost"] == 0.06
    counts = faults.get("/sandbox/_faults").json()["requests"]
    assert 2 <= counts[SLUG] <= 4  # one submit, a poll or two: not one task per image


def test_edit_with_qwen_image_edit(sdk: openai.OpenAI) -> None:
    result = sdk.images.edit(
        model=f"{SLUG}/qwen-image-edit",
        image=[("a.png", png(96, 64), "image/png"), ("b.png", png(64, 64), "image/png")],
        prompt="put them side by side",
        size="1664x928",
        response_format="b64_json",
    )
    assert decode(result.data[0]).size == (1664, 928)


def test_extra_fields_reach_dashscope(sdk: openai.OpenAI) -> None:
    result = sdk.images.generate(
        model=f"{SLUG}/wan-2.6",
        prompt="a koi pond",
        response_format="b64_json",
        extra_body={"seed": 42, "negative_prompt": "blurry", "prompt_extend": False},
    )
    assert decode(result.data[0]).size == (1024, 1024)


@pytest.mark.parametrize(
    ("fault", "status", "code"),
    [
        ({"mode": "error", "status": 500}, 502, "UPSTREAM_ERROR"),
        ({"mode": "error", "status": 400}, 400, "UPSTREAM_ERROR"),
        ({"mode": "error", "status": 401}, 502, "UPSTREAM_ERROR"),
        ({"mode": "error", "status": 403}, 502, "UPSTREAM_ERROR"),
        ({"mode": "error", "status": 429}, 429, "UPSTREAM_ERROR"),
        ({"mode": "timeout"}, 504, "UPSTREAM_ERROR"),
        ({"mode": "reset"}, 502, "UPSTREAM_ERROR"),
        ({"mode": "malformed"}, 502, "UPSTREAM_ERROR"),
        ({"mode": "empty"}, 502, "UPSTREAM_ERROR"),
        ({"mode": "content_policy"}, 400, "CONTENT_POLICY_VIOLATION"),
        ({"mode": "job_failed"}, 502, "UPSTREAM_ERROR"),
        ({"mode": "job_stuck"}, 504, "UPSTREAM_ERROR"),
    ],
)
def test_task_faults(
    admin: httpx.Client, faults: httpx.Client, fault: dict[str, object], status: int, code: str
) -> None:
    _fault(faults, **fault)
    r = admin.post(
        "/v1/images/generations",
        json={"model": f"{SLUG}/wan-2.6", "prompt": "p", "response_format": "b64_json"},
    )
    err = r.json()["error"]
    assert (r.status_code, err["code"]) == (status, code), r.text
    assert err["attempts"][-1]["provider"] == SLUG and "sk-sandbox" not in r.text
    if fault["mode"] == "job_failed":
        assert err["attempts"][-1]["error_code"] == "JOB_FAILED"
    if status == 429:
        assert r.headers["retry-after"]


@pytest.mark.parametrize(
    ("fault", "status", "code", "failure"),
    [
        ({"mode": "content_policy"}, 400, "CONTENT_POLICY_VIOLATION", "CONTENT_POLICY"),
        ({"mode": "empty"}, 502, "UPSTREAM_ERROR", "NO_IMAGE"),
        ({"mode": "error", "status": 429}, 429, "UPSTREAM_ERROR", "RATE_LIMITED"),
        ({"mode": "job_failed"}, 502, "UPSTREAM_ERROR", "SERVER"),
    ],
)
def test_multimodal_faults(
    admin: httpx.Client, faults: httpx.Client, fault: dict[str, object], status: int, code: str, failure: str
) -> None:
    _fault(faults, model="qwen-image-plus", **fault)
    r = admin.post("/v1/images/generations", json={"model": f"{SLUG}/qwen-image", "prompt": "p"})
    err = r.json()["error"]
    assert (r.status_code, err["code"], err["attempts"][-1]["error_code"]) == (status, code, failure), r.text


def test_a_failed_task_is_logged(admin: httpx.Client, faults: httpx.Client) -> None:
    _fault(faults, mode="job_failed")
    r = admin.post("/v1/images/generations", json={"model": f"{SLUG}/wan-2.6", "prompt": "p"})
    entry = admin.get(f"/v1/requests/{r.json()['error']['request_id']}").json()
    assert (entry["status"], entry["provider"], entry["attempts"][0]["error_code"]) == (
        "upstream_failure",
        None,
        "JOB_FAILED",
    )


def test_a_running_task_is_asked_to_cancel_quietly(
    gateway: Server, admin: httpx.Client, faults: httpx.Client, caplog: pytest.LogCaptureFixture
) -> None:
    """DashScope cancels only PENDING tasks: the gateway still sends the cancel of a stuck RUNNING
    task at the deadline, and its 400 UnsupportedOperation changes nothing the caller sees."""
    _fault(faults, mode="job_stuck")
    caplog.set_level(logging.WARNING)
    body = {"model": f"{SLUG}/wan-2.6", "prompt": "stuck and running"}
    r = admin.post("/v1/images/generations", json=body)
    assert r.status_code == 504, r.text
    attempts = r.json()["error"]["attempts"]
    assert [(a["error_code"], a["http_status"]) for a in attempts] == [("TIMEOUT", None)]
    assert "cancel" not in r.text.lower() and "UnsupportedOperation" not in r.text
    (task,) = _tasks(gateway, "stuck and running")
    assert task.status == "RUNNING" and task.polls >= 1  # polled, so past cancelling
    # every request this test made: the submit, the polls, and one cancel
    assert faults.get("/sandbox/_faults").json()["requests"][SLUG] == 1 + task.polls + 1
    assert [rec for rec in caplog.records if rec.levelno >= logging.WARNING] == []


@pytest.mark.parametrize("model", ["wan-2.6", "qwen-image"])
def test_slow_answers_arrive_late_but_whole(admin: httpx.Client, faults: httpx.Client, model: str) -> None:
    """`slow` delays the answer (the image-generation task and the synchronous multimodal call) and changes nothing else."""
    _fault(faults, mode="slow", latency_ms=200)
    body = {"model": f"{SLUG}/{model}", "prompt": "a slow boat", "response_format": "b64_json"}
    r = admin.post("/v1/images/generations", json=body)
    assert r.status_code == 200, r.text
    assert decode(r.json()["data"][0]).size[0] > 0
    (attempt,) = r.json()["metadata"]["attempts"]
    assert attempt["status"] == "success" and attempt["latency_ms"] >= 200
