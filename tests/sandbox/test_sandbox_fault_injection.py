"""Faults set over HTTP on /sandbox/_faults, seen the way clients see them (SDK and aiohttp)."""

from __future__ import annotations

import asyncio
import time

import aiohttp
import openai
import pytest
from sandbox_server import RunningServer

MODEL = "gpt-image-1-mini"


def generate(client: openai.OpenAI, model: str = MODEL, **options: object) -> openai.types.ImagesResponse:
    request: dict[str, object] = {
        "model": model,
        "prompt": "a fox",
        "size": "1024x1024",
        "quality": "low",
        **options,
    }
    return client.images.generate(**request)  # type: ignore[call-overload, no-any-return]


@pytest.mark.parametrize(
    ("status", "exception", "code"),
    [
        (400, openai.BadRequestError, None),
        (401, openai.AuthenticationError, "invalid_api_key"),
        (403, openai.PermissionDeniedError, "unsupported_country_region_territory"),
        (404, openai.NotFoundError, "model_not_found"),
        (429, openai.RateLimitError, "rate_limit_exceeded"),
        (500, openai.InternalServerError, None),
        (503, openai.InternalServerError, None),
    ],
)
def test_error_mode_raises_the_sdk_exception_for_the_status(
    sandbox: RunningServer,
    client: openai.OpenAI,
    status: int,
    exception: type[openai.APIStatusError],
    code: str | None,
) -> None:
    sandbox.set_fault(provider="openai", mode="error", status=status)
    with pytest.raises(exception) as caught:
        generate(client)
    assert caught.value.status_code == status
    assert caught.value.code == code
    assert "sk-test" not in caught.value.message  # a key is never echoed in full


def test_error_mode_defaults_to_500_and_takes_a_message(
    sandbox: RunningServer, client: openai.OpenAI
) -> None:
    sandbox.set_fault(provider="openai", mode="error", message="the sandbox says no")
    with pytest.raises(openai.InternalServerError) as caught:
        generate(client)
    assert caught.value.type == "server_error"
    assert "the sandbox says no" in caught.value.message


def test_timeout_makes_the_client_time_out(sandbox: RunningServer, client: openai.OpenAI) -> None:
    sandbox.set_fault(provider="openai", mode="timeout")
    started = time.monotonic()
    with pytest.raises(openai.APITimeoutError):
        generate(client.with_options(timeout=0.5))
    assert time.monotonic() - started < 2


def test_reset_is_a_connection_error(sandbox: RunningServer, client: openai.OpenAI) -> None:
    sandbox.set_fault(provider="openai", mode="reset")
    with pytest.raises(openai.APIConnectionError):
        generate(client)


def test_reset_drops_the_connection_under_aiohttp(sandbox: RunningServer) -> None:
    sandbox.set_fault(provider="openai", mode="reset")

    async def post() -> None:
        async with aiohttp.ClientSession() as session:
            async with session.post(
                f"{sandbox.openai_base}/images/generations",
                json={"model": MODEL, "prompt": "a fox"},
                headers={"Authorization": "Bearer sk-test"},
            ) as response:
                await response.read()

    with pytest.raises((aiohttp.ClientPayloadError, aiohttp.ServerDisconnectedError)):
        asyncio.run(post())


def test_malformed_is_a_decode_error(sandbox: RunningServer, client: openai.OpenAI) -> None:
    sandbox.set_fault(provider="openai", mode="malformed")
    with pytest.raises(ValueError):  # json.JSONDecodeError, raised by the SDK as is
        generate(client)


def test_empty_is_a_success_without_images(sandbox: RunningServer, client: openai.OpenAI) -> None:
    sandbox.set_fault(provider="openai", mode="empty")
    assert generate(client).data == []


def test_content_policy_is_the_moderation_refusal(sandbox: RunningServer, client: openai.OpenAI) -> None:
    sandbox.set_fault(provider="openai", mode="content_policy")
    with pytest.raises(openai.BadRequestError) as caught:
        generate(client)
    assert (caught.value.code, caught.value.type) == ("moderation_blocked", "image_generation_user_error")
    with pytest.raises(openai.BadRequestError) as legacy:
        generate(client, model="dall-e-3", quality="standard")
    assert legacy.value.code == "content_policy_violation"


def test_slow_answers_after_the_latency(sandbox: RunningServer, client: openai.OpenAI) -> None:
    sandbox.set_fault(provider="openai", mode="slow", latency_ms=300)
    started = time.monotonic()
    assert generate(client).data
    assert time.monotonic() - started >= 0.3


def test_latency_delays_other_modes(sandbox: RunningServer, client: openai.OpenAI) -> None:
    sandbox.set_fault(provider="openai", mode="empty", latency_ms=200)
    started = time.monotonic()
    assert generate(client).data == []
    assert time.monotonic() - started >= 0.2


def test_count_one_fires_once(sandbox: RunningServer, client: openai.OpenAI) -> None:
    sandbox.set_fault(provider="openai", mode="error", status=503, count=1)
    with pytest.raises(openai.InternalServerError):
        generate(client)
    assert generate(client).data
    assert sandbox.call("GET", "/sandbox/_faults")[1] == {"faults": [], "requests": {"openai": 2}}


def test_rate_zero_never_fires(sandbox: RunningServer, client: openai.OpenAI) -> None:
    sandbox.set_fault(provider="openai", mode="error", rate=0)
    for _ in range(3):
        assert generate(client).data


def test_model_fault_only_hits_that_model(sandbox: RunningServer, client: openai.OpenAI) -> None:
    sandbox.set_fault(provider="openai", model="gpt-image-1", mode="error", status=500)
    assert generate(client).data
    with pytest.raises(openai.InternalServerError):
        generate(client, model="gpt-image-1")


def test_faults_apply_to_edits_too(sandbox: RunningServer, client: openai.OpenAI) -> None:
    sandbox.set_fault(provider="openai", mode="error", status=429)
    with pytest.raises(openai.RateLimitError):
        client.images.edit(model=MODEL, prompt="a hat", image=("a.png", b"not even an image", "image/png"))


def test_other_providers_faults_leave_openai_alone(sandbox: RunningServer, client: openai.OpenAI) -> None:
    sandbox.set_fault(provider="gemini", mode="error")
    assert generate(client).data


def test_request_counts_are_reported_and_cleared(sandbox: RunningServer, client: openai.OpenAI) -> None:
    generate(client)
    with pytest.raises(openai.BadRequestError):
        generate(client, size="1x1")
    status, snapshot = sandbox.call("GET", "/sandbox/_faults")
    assert (status, snapshot) == (200, {"faults": [], "requests": {"openai": 2}})
    sandbox.call("DELETE", "/sandbox/_faults")
    assert sandbox.call("GET", "/sandbox/_faults")[1]["requests"] == {}
