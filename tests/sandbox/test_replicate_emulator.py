"""The Replicate emulator, driven by the official `replicate` SDK over real HTTP."""

from __future__ import annotations

import io
import time
from collections.abc import Iterator

import httpx
import pytest
import replicate
from PIL import Image
from replicate.exceptions import ModelError, ReplicateError
from replicate.helpers import FileOutput
from sandbox_server import RunningServer

SCHNELL = "black-forest-labs/flux-schnell"


@pytest.fixture
def client(sandbox: RunningServer) -> Iterator[replicate.Client]:
    yield replicate.Client(api_token="r8_test", base_url=f"{sandbox.base_url}/sandbox/replicate")


def read(client: replicate.Client, output: object) -> Image.Image:
    """Outputs on https come back as FileOutput; the emulator serves http, so wrap the URL the same way."""
    file = output if isinstance(output, FileOutput) else FileOutput(str(output), client)
    image = Image.open(io.BytesIO(file.read()))
    image.load()
    return image


def png(size: tuple[int, int]) -> io.BytesIO:
    out = io.BytesIO()
    Image.new("RGB", size, (20, 120, 200)).save(out, "PNG")
    out.seek(0)
    return out


def test_run_draws_every_output_at_the_models_size(client: replicate.Client) -> None:
    outputs = client.run(SCHNELL, input={"prompt": "a red bicycle", "aspect_ratio": "16:9", "num_outputs": 2})
    assert isinstance(outputs, list) and len(outputs) == 2
    images = [read(client, o) for o in outputs]
    assert {im.size for im in images} == {(1344, 768)} and {im.format for im in images} == {"WEBP"}
    assert "/delivery/xezq/" in str(outputs[0])


def test_single_output_models_answer_one_url(client: replicate.Client) -> None:
    output = client.run(
        "google/nano-banana", input={"prompt": "a fox", "aspect_ratio": "1:1", "output_format": "png"}
    )
    assert isinstance(output, str)
    image = read(client, output)
    assert image.size == (1024, 1024) and image.format == "PNG"


def test_edit_with_a_file_sent_as_data_uri(client: replicate.Client) -> None:
    output = client.run(
        "black-forest-labs/flux-kontext-pro",
        input={"prompt": "add a hat", "input_image": png((96, 64)), "aspect_ratio": "match_input_image"},
        file_encoding_strategy="base64",
    )
    assert read(client, output).size == (96, 64)


def test_create_then_wait(client: replicate.Client) -> None:
    prediction = client.predictions.create(model=SCHNELL, input={"prompt": "a lighthouse"})
    assert prediction.status == "starting" and prediction.output is None
    assert prediction.urls and prediction.urls["get"].endswith(f"/v1/predictions/{prediction.id}")
    prediction.wait()
    assert prediction.status == "succeeded" and prediction.error is None
    assert prediction.completed_at and prediction.metrics and prediction.metrics["image_count"] == 1
    assert prediction.logs and read(client, prediction.output[0]).size == (1024, 1024)
    assert prediction.id in [p.id for p in client.predictions.list().results]


def test_create_by_version(client: replicate.Client) -> None:
    version = client.models.get(SCHNELL).latest_version
    assert version is not None
    outputs = client.run(f"{SCHNELL}:{version.id}", input={"prompt": "by version"})
    assert read(client, outputs[0]).size == (1024, 1024)


def test_stream_sends_the_outputs(client: replicate.Client) -> None:
    events = list(client.stream(SCHNELL, input={"prompt": "streamed"}))
    assert [e.event.value for e in events] == ["output", "done"]
    assert "/delivery/xezq/" in str(events[0])


def test_cancel_a_stuck_prediction(client: replicate.Client, sandbox: RunningServer) -> None:
    sandbox.set_fault(provider="replicate", mode="job_stuck")
    prediction = client.predictions.create(model=SCHNELL, input={"prompt": "never ends"})
    prediction.reload()
    assert prediction.status == "processing"
    time.sleep(0.2)
    prediction.reload()
    assert prediction.status == "processing"
    prediction.cancel()
    assert prediction.status == "canceled"
    assert client.predictions.get(prediction.id).status == "canceled"


def test_prefer_wait_answers_starting_when_the_time_is_up(
    client: replicate.Client, sandbox: RunningServer
) -> None:
    sandbox.set_fault(provider="replicate", mode="job_stuck")
    started = time.monotonic()
    prediction = client.models.predictions.create(model=SCHNELL, input={"prompt": "slow"}, wait=1)
    assert 0.9 < time.monotonic() - started < 3 and prediction.status == "starting"


@pytest.mark.parametrize(
    ("mode", "words"),
    [("job_failed", "failed"), ("content_policy", "flagged as sensitive. Please try again")],
)
def test_failed_predictions_raise_model_error(
    client: replicate.Client, sandbox: RunningServer, mode: str, words: str
) -> None:
    sandbox.set_fault(provider="replicate", mode=mode)
    with pytest.raises(ModelError) as info:
        client.run(SCHNELL, input={"prompt": "p"})
    assert info.value.prediction.status == "failed" and words in str(info.value)


def test_problem_details(client: replicate.Client, sandbox: RunningServer) -> None:
    with pytest.raises(ReplicateError) as info:
        client.run(SCHNELL, input={"prompt": "p", "aspect_ratio": "7:3"})
    assert (info.value.status, info.value.title) == (422, "Input validation failed")
    assert "aspect_ratio" in (info.value.detail or "")
    with pytest.raises(ReplicateError) as info:
        client.run("nobody/nothing", input={"prompt": "p"})
    assert info.value.status == 404
    with pytest.raises(ReplicateError) as info:
        client.predictions.get("doesnotexist")
    assert info.value.status == 404
    r = httpx.post(
        f"{sandbox.base_url}/sandbox/replicate/v1/models/{SCHNELL}/predictions", json={"input": {}}
    )
    assert r.status_code == 401 and r.json()["title"] == "Unauthenticated"


def test_throttling_and_server_faults(client: replicate.Client, sandbox: RunningServer) -> None:
    sandbox.set_fault(provider="replicate", mode="error", status=429)
    with pytest.raises(ReplicateError) as info:
        client.run(SCHNELL, input={"prompt": "p"})
    assert info.value.status == 429 and "throttled" in (info.value.detail or "")
    sandbox.set_fault(provider="replicate", mode="error", status=402)
    with pytest.raises(ReplicateError) as info:
        client.run(SCHNELL, input={"prompt": "p"})
    assert info.value.status == 402 and "insufficient credit" in (info.value.detail or "")
    counts = sandbox.call("GET", "/sandbox/_faults")[1]["requests"]
    assert counts["replicate"] == 2
