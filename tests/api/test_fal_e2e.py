"""fal through the gateway in sandbox mode: forced `fal/<model>` requests over the queue, faults, jobs."""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any

import httpx
import openai
import pytest
import yaml
from starlette.routing import Mount

from mediarouter.sandbox.fal.app import FalEmulator
from mediarouter.sandbox.fal.jobs import Job

from harness import Server, start_server
from imaging import decode, png

SLUG = "fal"


def _mounted(app: Any, path: str) -> Any:
    return next(r.app for r in app.routes if isinstance(r, Mount) and r.path == path)


def _emulator(gateway: Server) -> FalEmulator:
    """The fal emulator inside the test gateway (in-process): fal has no API that lists requests."""
    fal = _mounted(_mounted(gateway.app, "/sandbox"), f"/{SLUG}")
    owners = (getattr(r, "endpoint", None) for r in fal.routes)
    return next(e.__self__ for e in owners if isinstance(getattr(e, "__self__", None), FalEmulator))


def _jobs(gateway: Server, prompt: str) -> list[Job]:
    return [j for j in list(_emulator(gateway).jobs.values()) if j.task.prompt == prompt]


def _fault(faults: httpx.Client, **fields: object) -> None:
    faults.post("/sandbox/_faults", json={"provider": SLUG, **fields}).raise_for_status()


@pytest.mark.parametrize(
    ("model", "size", "expected"),
    [
        ("flux.1-schnell", "1344x768", (1344, 768)),  # image_size {width, height}
        ("flux.1-dev", "1024x1024", (1024, 1024)),  # image_size preset square_hd
        ("gemini-2.5-flash-image", "16:9", (1360, 768)),  # aspect_ratio
        ("gemini-3-pro-image-preview", "2048x2048", (2048, 2048)),  # aspect_ratio + resolution
    ],
)
def test_generate_mapped_size(sdk: openai.OpenAI, model: str, size: str, expected: tuple[int, int]) -> None:
    result = sdk.images.generate(
        model=f"{SLUG}/{model}", prompt="a red bicycle", size=size, response_format="b64_json"
    )
    assert decode(result.data[0]).size == expected
    meta = (result.model_extra or {})["metadata"]
    assert meta["provider"] == SLUG and [a["status"] for a in meta["attempts"]] == ["success"]


def test_generate_several_images_in_one_request(sdk: openai.OpenAI) -> None:
    result = sdk.images.generate(model=f"{SLUG}/flux.1-schnell", prompt="two boats", n=2, size="512x512")
    images = [decode(d) for d in result.data]
    assert [im.size for im in images] == [(512, 512)] * 2 and {im.format for im in images} == {"PNG"}


@pytest.mark.parametrize(
    "model", ["flux.2-pro", "flux.1-kontext-pro", "qwen-image-edit", "gemini-2.5-flash-image", "seedream-4"]
)
def test_edit(sdk: openai.OpenAI, model: str) -> None:
    result = sdk.images.edit(
        model=f"{SLUG}/{model}",
        image=("in.png", png(96, 64), "image/png"),
        prompt="add a hat",
        response_format="b64_json",
    )
    assert decode(result.data[0]).size[0] > 0
    assert (result.model_extra or {})["metadata"]["provider"] == SLUG


def test_upscale(sdk: openai.OpenAI) -> None:
    result = sdk.images.edit(
        model=f"{SLUG}/real-esrgan",
        image=("in.png", png(48, 32), "image/png"),
        prompt="upscale",
        response_format="b64_json",
        extra_body={"scale_factor": 2},
    )
    assert decode(result.data[0]).size == (96, 64)


@pytest.mark.parametrize(
    ("fault", "status", "code"),
    [
        ({"mode": "error", "status": 500}, 502, "UPSTREAM_ERROR"),
        ({"mode": "error", "status": 422}, 400, "UPSTREAM_ERROR"),
        ({"mode": "error", "status": 401}, 502, "UPSTREAM_ERROR"),
        ({"mode": "error", "status": 403}, 502, "UPSTREAM_ERROR"),
        ({"mode": "error", "status": 429}, 429, "UPSTREAM_ERROR"),
        ({"mode": "timeout"}, 504, "UPSTREAM_ERROR"),
        ({"mode": "reset"}, 502, "UPSTREAM_ERROR"),
        ({"mode": "malformed"}, 502, "UPSTREAM_ERROR"),
        ({"mode": "empty"}, 502, "UPSTREAM_ERROR"),
        ({"mode": "content_policy"}, 400, "CONTENT_POLICY_VIOLATION"),
        ({"mode": "job_failed"}, 502, "UPSTREAM_ERROR"),
    ],
)
def test_fault_modes(
    admin: httpx.Client, faults: httpx.Client, fault: dict[str, object], status: int, code: str
) -> None:
    _fault(faults, **fault)
    r = admin.post("/v1/images/generations", json={"model": f"{SLUG}/flux.1-schnell", "prompt": "p"})
    assert (r.status_code, r.json()["error"]["code"]) == (status, code), r.text
    assert r.json()["error"]["attempts"][-1]["provider"] == SLUG and "sk-sandbox" not in r.text


def test_job_failed_is_reported(admin: httpx.Client, faults: httpx.Client) -> None:
    _fault(faults, mode="job_failed")
    r = admin.post("/v1/images/generations", json={"model": f"{SLUG}/flux.1-schnell", "prompt": "p"})
    assert r.json()["error"]["attempts"][-1]["error_code"] == "JOB_FAILED"


def test_stuck_request_times_out(admin: httpx.Client, faults: httpx.Client) -> None:
    _fault(faults, mode="job_stuck")
    r = admin.post("/v1/images/generations", json={"model": f"{SLUG}/flux.1-schnell", "prompt": "stuck"})
    assert r.status_code == 504 and r.json()["error"]["attempts"][-1]["error_code"] == "TIMEOUT"


def test_a_stuck_job_is_cancelled_at_the_deadline(
    gateway: Server, admin: httpx.Client, faults: httpx.Client
) -> None:
    _fault(faults, mode="job_stuck")
    body = {"model": f"{SLUG}/flux.1-schnell", "prompt": "stuck past the deadline"}
    r = admin.post("/v1/images/generations", json=body)
    assert r.status_code == 504, r.text
    jobs = _jobs(gateway, "stuck past the deadline")
    # the cancel is sent before the attempt gives up, so it has landed when the answer arrives
    assert [(j.cancelled, j.status) for j in jobs] == [(True, "COMPLETED")]


def test_a_client_that_leaves_cancels_the_job(
    gateway: Server, admin: httpx.Client, faults: httpx.Client
) -> None:
    _fault(faults, mode="job_stuck")
    body = {"model": f"{SLUG}/flux.1-schnell", "prompt": "fal: leave early", "response_format": "b64_json"}
    with pytest.raises(httpx.TimeoutException):  # before the 1.5 s attempt deadline
        httpx.post(f"{gateway.url}/v1/images/generations", json=body, headers=admin.headers, timeout=0.7)
    deadline = time.monotonic() + 5
    while not any(j.cancelled for j in _jobs(gateway, "fal: leave early")):
        assert time.monotonic() < deadline, "the fal request was never cancelled"
        time.sleep(0.05)
    rows = admin.get("/v1/requests", params={"status": "cancelled", "model": body["model"], "limit": 5})
    assert any(row["error_code"] == "CANCELLED" for row in rows.json()["data"])


def test_slow_answers_arrive_late_but_whole(admin: httpx.Client, faults: httpx.Client) -> None:
    """`slow` delays the answer (every queue request (submit, status, result) waits) and changes nothing else."""
    _fault(faults, mode="slow", latency_ms=200)
    body = {"model": f"{SLUG}/flux.1-schnell", "prompt": "a slow boat", "response_format": "b64_json"}
    r = admin.post("/v1/images/generations", json=body)
    assert r.status_code == 200, r.text
    assert decode(r.json()["data"][0]).size[0] > 0
    (attempt,) = r.json()["metadata"]["attempts"]
    assert attempt["status"] == "success" and attempt["latency_ms"] >= 200


@pytest.fixture(scope="module")
def sync_gateway(gateway: Server, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    """A second gateway, outside sandbox mode, with fal on its sync host (`mode: sync`, `run_url`);
    its upstream is the test gateway's fal emulator."""
    data = tmp_path_factory.mktemp("fal-sync")
    root = f"{gateway.url}/sandbox/{SLUG}"
    fal = {"api_key": "fal-key", "base_url": f"{root}/queue", "mode": "sync", "run_url": f"{root}/run"}
    (data / "config.yaml").write_text(yaml.safe_dump({"providers": {SLUG: fal}}))
    env = {"MEDIAROUTER_SANDBOX": "false", "MEDIAROUTER_CONFIG": str(data / "config.yaml")}
    handle, server, thread = start_server(data, env)
    yield handle
    server.should_exit = True
    thread.join(timeout=10)


def test_sync_mode_is_one_call_to_the_run_host(
    gateway: Server, sync_gateway: Server, faults: httpx.Client
) -> None:
    body = {"model": f"{SLUG}/flux.1-schnell", "prompt": "fal: straight from run", "size": "512x512"}
    with sync_gateway.client() as client:
        r = client.post("/v1/images/generations", json={**body, "response_format": "b64_json"})
    assert r.status_code == 200, r.text
    assert decode(r.json()["data"][0]).size == (512, 512)
    assert faults.get("/sandbox/_faults").json()["requests"][SLUG] == 1  # no submit, status or result
    assert _jobs(gateway, "fal: straight from run") == []  # nothing was queued


@pytest.mark.parametrize(
    ("fault", "status", "failure"),
    [({"mode": "content_policy"}, 400, "CONTENT_POLICY"), ({"mode": "job_failed"}, 502, "SERVER")],
)
def test_sync_mode_faults(
    sync_gateway: Server, faults: httpx.Client, fault: dict[str, object], status: int, failure: str
) -> None:
    _fault(faults, **fault)
    with sync_gateway.client() as client:
        r = client.post("/v1/images/generations", json={"model": f"{SLUG}/flux.1-schnell", "prompt": "p"})
    assert (r.status_code, r.json()["error"]["attempts"][-1]["error_code"]) == (status, failure), r.text
