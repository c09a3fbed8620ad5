"""The fal emulator, driven by the official `fal-client` SDK over real HTTP.

fal-client builds its URLs from module constants (`https://{FAL_RUN_HOST}/`, read at import);
the fixture points them at the emulator's two hosts over plain HTTP and monkeypatch restores them.
"""

from __future__ import annotations

import asyncio
import base64
import io
from collections.abc import Iterator

import fal_client
import fal_client.client as fal_internals
import httpx
import pytest
from PIL import Image
from sandbox_server import RunningServer

SCHNELL = "fal-ai/flux/schnell"


@pytest.fixture
def fal(sandbox: RunningServer, monkeypatch: pytest.MonkeyPatch) -> Iterator[fal_client.SyncClient]:
    root = f"{sandbox.base_url}/sandbox/fal"
    monkeypatch.setattr(fal_internals, "RUN_URL_FORMAT", f"{root}/run/")
    monkeypatch.setattr(fal_internals, "QUEUE_URL_FORMAT", f"{root}/queue/")
    client = fal_client.SyncClient(key="fal-test")
    yield client
    client._client.close()


def fetch(url: str) -> Image.Image:
    if url.startswith("data:"):
        raw = base64.b64decode(url.partition(",")[2])
    else:
        response = httpx.get(url, timeout=10).raise_for_status()
        assert response.headers["content-type"].startswith("image/")
        raw = response.content
    image = Image.open(io.BytesIO(raw))
    image.load()
    return image


def test_subscribe_with_queue_updates(fal: fal_client.SyncClient) -> None:
    updates: list[fal_client.Status] = []
    result = fal.subscribe(
        SCHNELL,
        {"prompt": "a paper boat", "image_size": "landscape_16_9", "num_images": 2},
        with_logs=True,
        on_queue_update=updates.append,
        interval=0.02,
    )
    assert isinstance(updates[-1], fal_client.Completed) and updates[-1].logs
    assert any(isinstance(u, fal_client.InProgress) for u in updates)
    images = [fetch(item["url"]) for item in result["images"]]
    assert [im.size for im in images] == [(1024, 576)] * 2 and images[0].format == "JPEG"
    assert result["has_nsfw_concepts"] == [False, False] and result["prompt"] == "a paper boat"
    assert result["images"][0]["width"] == 1024 and result["images"][0]["content_type"] == "image/jpeg"


def test_submit_status_result(fal: fal_client.SyncClient) -> None:
    handle = fal.submit(
        SCHNELL, {"prompt": "custom", "image_size": {"width": 640, "height": 480}, "output_format": "png"}
    )
    assert handle.status_url.endswith(
        f"/queue/fal-ai/flux/requests/{handle.request_id}/status"
    )  # no sub-path
    assert isinstance(fal.status(SCHNELL, handle.request_id, with_logs=True), fal_client.InProgress)
    result = fal.result(SCHNELL, handle.request_id)
    image = fetch(result["images"][0]["url"])
    assert image.size == (640, 480) and image.format == "PNG"
    status = handle.status()
    assert isinstance(status, fal_client.Completed) and status.error is None and status.metrics


def test_run_on_the_sync_host_with_inline_images(fal: fal_client.SyncClient) -> None:
    result = fal.run("fal-ai/nano-banana", {"prompt": "a fox", "aspect_ratio": "16:9", "sync_mode": True})
    url = result["images"][0]["url"]
    assert url.startswith("data:image/jpeg;base64,") and fetch(url).size == (1360, 768)


def test_edit_with_a_data_uri(fal: fal_client.SyncClient) -> None:
    source = fal_client.encode_image(Image.new("RGB", (96, 64), (10, 200, 90)), "png")
    result = fal.subscribe(
        "fal-ai/flux-pro/kontext", {"prompt": "add a hat", "image_url": source}, interval=0.02
    )
    assert fetch(result["images"][0]["url"]).size == (96, 64)
    upscaled = fal.run("fal-ai/esrgan", {"image_url": source, "scale": 2})
    assert fetch(upscaled["image"]["url"]).size == (192, 128)


def test_async_client(sandbox: RunningServer, fal: fal_client.SyncClient) -> None:
    async def main() -> dict[str, object]:
        client = fal_client.AsyncClient(key="fal-test")
        return await client.subscribe(SCHNELL, {"prompt": "async"}, interval=0.02)

    result = asyncio.run(main())
    assert fetch(result["images"][0]["url"]).size == (1024, 1024)  # type: ignore[index]


def test_cancel_a_stuck_request(fal: fal_client.SyncClient, sandbox: RunningServer) -> None:
    sandbox.set_fault(provider="fal", mode="job_stuck")
    handle = fal.submit(SCHNELL, {"prompt": "never ends"})
    for _ in range(5):
        assert isinstance(handle.status(), fal_client.InProgress)
    handle.cancel()
    status = handle.status(with_logs=True)
    assert isinstance(status, fal_client.Completed) and status.error
    with pytest.raises(fal_client.FalClientHTTPError) as info:
        handle.get()
    assert info.value.status_code == 400


@pytest.mark.parametrize(
    ("mode", "status", "error_type"),
    [("job_failed", 500, None), ("content_policy", 422, "content_policy_violation")],
)
def test_failed_requests(
    fal: fal_client.SyncClient, sandbox: RunningServer, mode: str, status: int, error_type: str | None
) -> None:
    sandbox.set_fault(provider="fal", mode=mode)
    handle = fal.submit(SCHNELL, {"prompt": "p"})
    while not isinstance(completed := handle.status(), fal_client.Completed):
        pass
    assert completed.error and completed.error_type == (error_type or "internal_server_error")
    with pytest.raises(fal_client.FalClientHTTPError) as info:
        handle.get()
    assert info.value.status_code == status and info.value.error_type == error_type


def test_content_policy_on_the_sync_host(fal: fal_client.SyncClient, sandbox: RunningServer) -> None:
    sandbox.set_fault(provider="fal", mode="content_policy")
    with pytest.raises(fal_client.FalClientHTTPError) as info:
        fal.run(SCHNELL, {"prompt": "p"})
    assert info.value.status_code == 422 and info.value.error_type == "content_policy_violation"
    assert info.value.message[0]["type"] == "content_policy_violation"  # type: ignore[index]


def test_validation_errors(fal: fal_client.SyncClient) -> None:
    with pytest.raises(fal_client.FalClientHTTPError) as info:
        fal.run(SCHNELL, {"image_size": "square_hd"})
    assert info.value.status_code == 422
    assert info.value.message == [  # type: ignore[comparison-overlap]
        {
            "loc": ["body", "prompt"],
            "msg": "Field required",
            "type": "missing",
            "input": {"image_size": "square_hd"},
        }
    ]
    assert info.value.response_headers["x-fal-retryable"] == "false"
    with pytest.raises(fal_client.FalClientHTTPError) as info:
        fal.submit("fal-ai/nothing-here", {"prompt": "p"})
    assert info.value.status_code == 404


def test_job_urls_with_the_sub_path_are_refused(fal: fal_client.SyncClient, sandbox: RunningServer) -> None:
    handle = fal.submit(SCHNELL, {"prompt": "p"})
    wrong = f"{sandbox.base_url}/sandbox/fal/queue/{SCHNELL}/requests/{handle.request_id}/status"
    assert httpx.get(wrong, headers={"Authorization": "Key fal-test"}).status_code == 405
    assert httpx.get(handle.status_url).status_code == 401  # no key


def test_the_sdk_retries_throttling(fal: fal_client.SyncClient, sandbox: RunningServer) -> None:
    sandbox.set_fault(provider="fal", mode="error", status=429, count=1)
    result = fal.run(SCHNELL, {"prompt": "p", "image_size": "square"})
    assert fetch(result["images"][0]["url"]).size == (512, 512)
    assert sandbox.call("GET", "/sandbox/_faults")[1]["requests"]["fal"] == 2
