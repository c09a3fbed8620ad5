"""The Runware emulator against the official `runware` SDK (REST transport), and plain HTTP.

The SDK (`pip install runware-sdk`) is not a project dependency; its tests are skipped when it is
not installed. It posts task arrays to `http_base_url` and, with its default `async` delivery,
polls `getResponse` (first poll after one second), which is what these tests exercise.
"""

from __future__ import annotations

import asyncio
import base64
import io
import uuid
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from PIL import Image
from sandbox_server import RunningServer

from imaging import png

SLUG = "runware"


@pytest.fixture
def http(sandbox: RunningServer) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=f"{sandbox.base_url}/sandbox/runware", timeout=10) as client:
        yield client


def picture(b64: str) -> Image.Image:
    image = Image.open(io.BytesIO(base64.b64decode(b64)))
    image.load()
    return image


def task(**fields: Any) -> dict[str, Any]:
    return {
        "taskType": "imageInference",
        "taskUUID": str(uuid.uuid4()),
        "model": "runware:101@1",
        "positivePrompt": "a lighthouse at dusk",
        "width": 1024,
        "height": 768,
        **fields,
    }


def run_sdk(sandbox: RunningServer, params: dict[str, Any]) -> list[dict[str, Any]]:
    import runware

    async def go() -> list[dict[str, Any]]:
        base = f"{sandbox.base_url}/sandbox/runware/v1"
        async with runware.Runware(
            api_key="rw-test", transport="rest", http_base_url=base, max_retries=0
        ) as client:
            return list(await client.run(params))

    return asyncio.run(go())


def test_sdk_sync_generation(sandbox: RunningServer) -> None:
    params = task(
        numberResults=2, outputType="base64Data", outputFormat="PNG", deliveryMethod="sync", includeCost=True
    )
    results = run_sdk(sandbox, params)
    assert len(results) == 2 and {r["taskUUID"] for r in results} == {params["taskUUID"]}
    assert [picture(r["imageBase64Data"]).size for r in results] == [(1024, 768)] * 2
    assert results[0]["cost"] > 0 and results[0]["imageUUID"] != results[1]["imageUUID"]


def test_sdk_default_async_delivery_polls(sandbox: RunningServer) -> None:
    params = task(model="bfl:3@1", width=1392, height=752, outputFormat="WEBP", safety={"checkContent": True})
    del params["taskUUID"]
    results = run_sdk(sandbox, params)
    assert len(results) == 1 and results[0]["status"] == "success" and results[0]["NSFWContent"] is False
    image = Image.open(io.BytesIO(httpx.get(results[0]["imageURL"], timeout=10).content))
    assert (image.size, image.format) == ((1392, 752), "WEBP")


def test_sdk_edit_with_reference_images(sandbox: RunningServer) -> None:
    source = "data:image/png;base64," + base64.b64encode(png(80, 60)).decode()
    params = task(
        model="runware:400@1", width=1024, height=768, inputs={"referenceImages": [source, source]},
        outputType="dataURI", deliveryMethod="sync",
    )  # fmt: skip
    result = run_sdk(sandbox, params)[0]
    head, _, data = result["imageDataURI"].partition(",")
    assert head == "data:image/jpeg;base64" and picture(data).size == (1024, 768)


@pytest.mark.parametrize(
    ("fields", "code", "parameter"),
    [
        ({"width": 1000}, "validation", "width"),
        ({"model": "civitai:1@1"}, "notFound", "model"),
        ({"outputType": "PNG"}, "validation", "outputType"),
        ({"seedImage": "https://example.com/x.png"}, "validation", "seedImage"),
    ],
)
def test_sdk_sees_validation_errors(
    sandbox: RunningServer, fields: dict[str, Any], code: str, parameter: str
) -> None:
    import runware

    with pytest.raises(runware.RunwareError) as caught:
        run_sdk(sandbox, task(deliveryMethod="sync", **fields))
    assert (caught.value.code, caught.value.parameter, caught.value.status_code) == (code, parameter, 400)


@pytest.mark.parametrize(
    ("fault", "code"),
    [
        ({"mode": "error", "status": 429}, "rateLimit"),
        ({"mode": "error", "status": 402}, "quota"),
        ({"mode": "error", "status": 401}, "auth"),
        ({"mode": "job_failed"}, "provider"),
        ({"mode": "content_policy"}, "safety"),
    ],
)
def test_sdk_sees_faults(sandbox: RunningServer, fault: dict[str, Any], code: str) -> None:
    import runware

    sandbox.set_fault(provider=SLUG, **fault)
    with pytest.raises(runware.RunwareError) as caught:
        run_sdk(sandbox, task(deliveryMethod="sync"))
    assert caught.value.code == code


def test_content_policy_with_the_safety_check_flags_results(
    sandbox: RunningServer, http: httpx.Client
) -> None:
    sandbox.set_fault(provider=SLUG, mode="content_policy")
    r = http.post("/v1", json=[task(safety={"checkContent": True}, outputType="base64Data")], headers=_key())
    item = r.json()["data"][0]
    assert item["NSFWContent"] is True and picture(item["imageBase64Data"]).getextrema() == (
        (0, 0),
        (0, 0),
        (0, 0),
    )


def test_authentication_task_instead_of_a_header(http: httpx.Client) -> None:
    auth = {"taskType": "authentication", "apiKey": "rw-test"}
    r = http.post("/v1/", json=[auth, task(outputType="base64Data")])
    assert r.status_code == 200 and r.json()["data"][0]["imageBase64Data"]
    for body in ([task()], [{"taskType": "authentication", "apiKey": ""}, task()]):
        missing = http.post("/v1", json=body)
        assert missing.status_code == 401 and missing.json()["errors"][0]["code"] == "missingApiKey"


def test_batch_errors_are_scoped_to_their_task(http: httpx.Client) -> None:
    good, bad = task(outputType="base64Data"), task(width=77)
    r = http.post("/v1", json=[good, bad, {"taskType": "ping"}], headers=_key())
    body = r.json()
    assert r.status_code == 200 and [d.get("taskUUID") for d in body["data"]] == [good["taskUUID"], None]
    assert body["errors"] == [
        {
            "code": "invalidWidth",
            "message": body["errors"][0]["message"],
            "parameter": "width",
            "taskType": "imageInference",
            "taskUUID": bad["taskUUID"],
        }
    ]


@pytest.mark.parametrize(
    ("body", "status", "code"),
    [
        ({"taskType": "imageInference"}, 400, "invalidRequestBody"),
        ([task(taskUUID="not-a-uuid")], 400, "invalidTaskUUID"),
        ([task(unknownThing=1)], 400, "unknownParameter"),
        ([task(positivePrompt="")], 400, "invalidPositivePrompt"),
        ([task(model="bfl:3@1", width=1024, height=768)], 400, "invalidWidth"),
        ([{"taskType": "getResponse", "taskUUID": str(uuid.uuid4())}], 400, "taskFailedOrNotFound"),
        ([{"taskType": "videoInference"}], 400, "unsupportedTaskType"),
    ],
)
def test_request_errors(http: httpx.Client, body: Any, status: int, code: str) -> None:
    r = http.post("/v1", json=body, headers=_key())
    assert (r.status_code, r.json()["errors"][0]["code"]) == (status, code)


def test_async_job_stuck_keeps_processing(sandbox: RunningServer, http: httpx.Client) -> None:
    sandbox.set_fault(provider=SLUG, mode="job_stuck")
    submitted = task(deliveryMethod="async", numberResults=2)
    ack = http.post("/v1", json=[submitted], headers=_key()).json()
    assert ack == {"data": [{"taskType": "imageInference", "taskUUID": submitted["taskUUID"]}]}
    poll = [{"taskType": "getResponse", "taskUUID": submitted["taskUUID"]}]
    for _ in range(3):
        items = http.post("/v1", json=poll, headers=_key()).json()["data"]
        assert [i["status"] for i in items] == ["processing", "processing"]


def test_async_job_failed_reports_an_error_item(sandbox: RunningServer, http: httpx.Client) -> None:
    submitted = task(deliveryMethod="async")
    http.post("/v1", json=[submitted], headers=_key())
    sandbox.set_fault(provider=SLUG, mode="job_failed")  # met by the first poll, before the job finished
    poll = [{"taskType": "getResponse", "taskUUID": submitted["taskUUID"]}]
    statuses = [http.post("/v1", json=poll, headers=_key()) for _ in range(2)]
    last = statuses[-1]
    assert last.status_code == 200 and last.json()["errors"][0]["code"] == "inferenceError"
    assert last.json()["errors"][0]["status"] == "error"


def _key() -> dict[str, str]:
    return {"Authorization": "Bearer rw-test"}
