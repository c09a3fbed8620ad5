"""Fireworks through the gateway in sandbox mode: FLUX.1 (sync) and Kontext (jobs), faults, timeouts."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import openai
import pytest
import yaml

from harness import Server, start_server
from imaging import decode, png

SLUG = "fireworks"


def _fault(faults: httpx.Client, **fields: object) -> None:
    faults.post("/sandbox/_faults", json={"provider": SLUG, **fields}).raise_for_status()


def _meta(result: object) -> dict[str, object]:
    return (getattr(result, "model_extra", None) or {})["metadata"]


@pytest.mark.parametrize(
    ("model", "size", "output_format", "expected"),
    [
        ("flux.1-schnell-fp8", "16:9", None, ((1344, 768), "JPEG")),  # raw JPEG body
        ("flux.1-dev-fp8", "1024x1024", "png", ((1024, 1024), "PNG")),  # Accept: image/png
        ("flux.1-kontext-pro", "4:3", None, ((1184, 880), "JPEG")),  # job, then the sample URL
        ("flux.1-kontext-max", "1536x640", "png", ((1568, 672), "PNG")),  # 21:9
    ],
)
def test_generate(
    sdk: openai.OpenAI,
    model: str,
    size: str,
    output_format: str | None,
    expected: tuple[tuple[int, int], str],
) -> None:
    result = sdk.images.generate(
        model=f"{SLUG}/{model}", prompt="a lighthouse", size=size, response_format="b64_json",
        **({"output_format": output_format} if output_format else {}),
    )  # fmt: skip
    image = decode(result.data[0])
    assert (image.size, image.format) == expected
    meta = _meta(result)
    assert meta["provider"] == SLUG and [a["status"] for a in meta["attempts"]] == ["success"]


def test_webp_is_converted_from_png(sdk: openai.OpenAI) -> None:
    result = sdk.images.generate(
        model=f"{SLUG}/flux.1-schnell-fp8",
        prompt="p",
        size="1:1",
        output_format="webp",
        response_format="b64_json",
    )
    assert decode(result.data[0]).format == "WEBP"


def test_kontext_edit(sdk: openai.OpenAI) -> None:
    result = sdk.images.edit(
        model=f"{SLUG}/flux.1-kontext-pro", image=("in.png", png(90, 160), "image/png"), prompt="add a hat",
        size="9:16", response_format="url",
    )  # fmt: skip
    assert decode(result.data[0]).size == (752, 1392)


@pytest.mark.parametrize(
    ("model", "fault", "status", "code"),
    [
        ("flux.1-schnell-fp8", {"mode": "error", "status": 500}, 502, "UPSTREAM_ERROR"),
        ("flux.1-schnell-fp8", {"mode": "error", "status": 400}, 400, "UPSTREAM_ERROR"),
        ("flux.1-schnell-fp8", {"mode": "error", "status": 401}, 502, "UPSTREAM_ERROR"),
        ("flux.1-schnell-fp8", {"mode": "error", "status": 429}, 429, "UPSTREAM_ERROR"),
        ("flux.1-schnell-fp8", {"mode": "timeout"}, 504, "UPSTREAM_ERROR"),
        ("flux.1-schnell-fp8", {"mode": "reset"}, 502, "UPSTREAM_ERROR"),
        ("flux.1-schnell-fp8", {"mode": "malformed"}, 502, "UPSTREAM_ERROR"),
        ("flux.1-schnell-fp8", {"mode": "empty"}, 502, "UPSTREAM_ERROR"),
        ("flux.1-schnell-fp8", {"mode": "content_policy"}, 400, "CONTENT_POLICY_VIOLATION"),
        ("flux.1-kontext-pro", {"mode": "error", "status": 503}, 502, "UPSTREAM_ERROR"),
        ("flux.1-kontext-pro", {"mode": "malformed"}, 502, "UPSTREAM_ERROR"),
        ("flux.1-kontext-pro", {"mode": "empty"}, 502, "UPSTREAM_ERROR"),
        ("flux.1-kontext-pro", {"mode": "content_policy"}, 400, "CONTENT_POLICY_VIOLATION"),
        ("flux.1-kontext-pro", {"mode": "job_failed"}, 502, "UPSTREAM_ERROR"),
    ],
)
def test_fault_modes(
    admin: httpx.Client, faults: httpx.Client, model: str, fault: dict[str, object], status: int, code: str
) -> None:
    _fault(faults, **fault)
    r = admin.post("/v1/images/generations", json={"model": f"{SLUG}/{model}", "prompt": "p", "size": "1:1"})
    assert (r.status_code, r.json()["error"]["code"]) == (status, code), r.text
    attempt = r.json()["error"]["attempts"][-1]
    assert attempt["provider"] == SLUG and "sk-sandbox" not in r.text


def test_job_failed_and_moderated_say_why(admin: httpx.Client, faults: httpx.Client) -> None:
    body = {"model": f"{SLUG}/flux.1-kontext-pro", "prompt": "p"}
    _fault(faults, mode="job_failed", count=1)
    failed = admin.post("/v1/images/generations", json=body).json()["error"]
    assert failed["attempts"][-1]["error_code"] == "JOB_FAILED" and "Error" in failed["message"]
    _fault(faults, mode="content_policy", count=1)
    refused = admin.post("/v1/images/generations", json=body).json()["error"]
    assert "Request Moderated" in refused["message"]


def test_stuck_job_times_out(admin: httpx.Client, faults: httpx.Client) -> None:
    _fault(faults, model="flux-kontext-pro", mode="job_stuck")
    r = admin.post("/v1/images/generations", json={"model": f"{SLUG}/flux.1-kontext-pro", "prompt": "stuck"})
    assert r.status_code == 504 and r.json()["error"]["attempts"][-1]["error_code"] == "TIMEOUT"
    requests = faults.get("/sandbox/_faults").json()["requests"][SLUG]
    assert requests > 2  # the submit, then polls until the attempt deadline


@pytest.mark.parametrize("model", ["flux.1-schnell-fp8", "flux.1-kontext-pro"])
def test_slow_answers_arrive_late_but_whole(admin: httpx.Client, faults: httpx.Client, model: str) -> None:
    """`slow` delays the answer (the raw-image workflow and the Kontext job) and changes nothing else."""
    _fault(faults, mode="slow", latency_ms=200)
    body = {"model": f"{SLUG}/{model}", "prompt": "a slow boat", "response_format": "b64_json"}
    r = admin.post("/v1/images/generations", json=body)
    assert r.status_code == 200, r.text
    assert decode(r.json()["data"][0]).size[0] > 0
    (attempt,) = r.json()["metadata"]["attempts"]
    assert attempt["status"] == "success" and attempt["latency_ms"] >= 200


@pytest.fixture(scope="module")
def json_gateway(gateway: Server, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    """A second gateway, outside sandbox mode, whose Fireworks asks FLUX.1 for JSON (`accept: json`);
    its upstream is the test gateway's Fireworks emulator."""
    data = tmp_path_factory.mktemp("fireworks-json")
    fireworks = {
        "api_key": "fw-key",
        "base_url": f"{gateway.url}/sandbox/fireworks/inference/v1",
        "accept": "json",
    }
    (data / "config.yaml").write_text(yaml.safe_dump({"providers": {SLUG: fireworks}}))
    env = {"MEDIAROUTER_SANDBOX": "false", "MEDIAROUTER_CONFIG": str(data / "config.yaml")}
    handle, server, thread = start_server(data, env)
    yield handle
    server.should_exit = True
    thread.join(timeout=10)


@pytest.mark.parametrize(("output_format", "expected"), [("png", "PNG"), ("jpeg", "JPEG")])
def test_json_base64_answers_through_the_gateway(
    json_gateway: Server, faults: httpx.Client, output_format: str, expected: str
) -> None:
    body = {
        "model": f"{SLUG}/flux.1-schnell-fp8",
        "prompt": "a lighthouse",
        "size": "16:9",
        "output_format": output_format,
        "response_format": "b64_json",
    }
    with json_gateway.client() as client:
        r = client.post("/v1/images/generations", json=body)
    assert r.status_code == 200, r.text
    image = decode(r.json()["data"][0])
    assert (image.size, image.format) == ((1344, 768), expected)
    assert r.json()["metadata"]["provider"] == SLUG


def test_an_empty_json_answer_is_no_image(json_gateway: Server, faults: httpx.Client) -> None:
    _fault(faults, mode="empty")
    with json_gateway.client() as client:
        r = client.post("/v1/images/generations", json={"model": f"{SLUG}/flux.1-schnell-fp8", "prompt": "p"})
    (attempt,) = r.json()["error"]["attempts"]
    # `base64: []`, not the empty picture body of the raw mode ("the response body was empty")
    assert (r.status_code, attempt["error_code"], attempt["message"]) == (
        502,
        "NO_IMAGE",
        "the response contained no image",
    )
