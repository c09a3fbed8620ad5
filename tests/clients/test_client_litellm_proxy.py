"""LiteLLM in other processes: the proxy, and the other tested LiteLLM releases.

The proxy runs as a separate process configured by the guide's own `litellm_config.yaml` (keys from
`os.environ/...`) and is called with the `openai` SDK: generation, edits, chat, errors, and the
`mediarouter/` provider loaded into the proxy. One proxy per session (it takes 15-45 s to start).

Every other tested LiteLLM release runs the LiteLLM client tests (SDK routes, `mediarouter/` provider,
its own proxy, the guide's examples) in its own venv (.venv-litellm-<version>, made by
scripts/install-litellm.sh) and pytest process. Those runs and the proxy start early and together
(see `start_other_versions`), so their start-ups overlap; the module's last test collects the results.
"""

from __future__ import annotations

import io
from pathlib import Path
from typing import Any

import httpx
import openai
import pytest
from clients_support import (
    IN_OTHER_VERSION,
    TEXT_MODEL,
    OtherRun,
    Proxy,
    latest,
    litellm_version,
    openai_route_refuses_response_format,
)
from docs_examples import GATEWAY_URL, PROXY_URL, examples

from mediarouter.litellm import TESTED_VERSIONS

from imaging import decode, mask_png, png


@pytest.fixture(scope="session", autouse=True)
def start_other_versions(request: pytest.FixtureRequest) -> None:
    """Under xdist the worker running this module starts the other releases' runs and then the proxy
    here (autouse session fixtures come first), so the start-ups overlap; without xdist both started
    with the session's first client test (conftest's `start_early`)."""
    if "test_litellm_client_suite" in " ".join(item.nodeid for item in request.session.items):
        request.getfixturevalue("other_versions")
    request.getfixturevalue("proxy_process")


@pytest.fixture
def client(proxy: Proxy) -> openai.OpenAI:
    return openai.OpenAI(base_url=f"{proxy.url}/v1", api_key=proxy.key, max_retries=0, timeout=60)


def test_generation(client: openai.OpenAI, admin: httpx.Client) -> None:
    result = client.images.generate(model="gpt-image-1", prompt="a red bicycle", n=2, size="1536x1024")
    assert len(result.data) == 2 and decode(result.data[0]).size == (1536, 1024)
    got = latest(admin)["params"]
    assert got["n"] == 2 and got["size"] == "1536x1024"


def test_generation_extra_body_through_the_proxy(client: openai.OpenAI, admin: httpx.Client) -> None:
    """The OpenAI SDK merges `extra_body` into the JSON, where the proxy's LiteLLM refuses the two
    fields for `openai/` entries; a literal `extra_body` object in the JSON gets them through."""
    if openai_route_refuses_response_format():
        with pytest.raises(openai.BadRequestError, match="response_format"):
            client.images.generate(model="dall-e-3", prompt="x", extra_body={"response_format": "b64_json"})
    result = client.images.generate(
        model="dall-e-3",
        prompt="a lighthouse",
        extra_body={"extra_body": {"response_format": "b64_json", "style": "natural"}},
    )
    assert result.data[0].b64_json and "natural style" in (result.data[0].revised_prompt or "")
    got = latest(admin)["params"]
    assert got["response_format"] == "b64_json" and got["style"] == "natural"


def test_edit_with_mask(client: openai.OpenAI, admin: httpx.Client) -> None:
    result = client.images.edit(
        model="gpt-image-1", image=io.BytesIO(png()), mask=io.BytesIO(mask_png()), prompt="add a hat", n=2
    )
    assert len(result.data) == 2
    got = latest(admin)["params"]
    assert got["input_images"] == 1 and got["mask"] is True and got["n"] == 2


def test_edit_several_images(client: openai.OpenAI, admin: httpx.Client) -> None:
    """An `openai/` entry: the proxy's LiteLLM sends every image as `image[]`."""
    result = client.images.edit(
        model="gpt-image-1",
        image=[io.BytesIO(png()), io.BytesIO(png(32, 32)), io.BytesIO(png(16, 16))],
        prompt="combine",
        size="1536x1024",
    )
    assert decode(result.data[0]).size == (1536, 1024)
    got = latest(admin)["params"]
    assert got["input_images"] == 3 and got["mask"] is False and got["size"] == "1536x1024"


def test_custom_provider_in_the_proxy_keeps_every_parameter(
    client: openai.OpenAI, admin: httpx.Client
) -> None:
    result = client.images.generate(
        model="mr-dall-e-3",
        prompt="a lighthouse",
        n=2,
        size="1792x1024",
        response_format="b64_json",
        style="vivid",
    )
    assert len(result.data) == 2 and decode(result.data[0]).size == (1792, 1024)
    entry = latest(admin)
    assert entry["model"] == "dall-e-3"
    assert {k: entry["params"][k] for k in ("n", "size", "response_format", "style")} == {
        "n": 2,
        "size": "1792x1024",
        "response_format": "b64_json",
        "style": "vivid",
    }
    edited = client.images.edit(
        model="mr-gpt-image-1",
        image=[io.BytesIO(png()), io.BytesIO(png(32, 32))],
        mask=io.BytesIO(mask_png()),
        prompt="combine",
        size="1024x1536",
        response_format="b64_json",
    )
    assert decode(edited.data[0]).size == (1024, 1536)
    got = latest(admin)["params"]
    assert got["input_images"] == 2 and got["mask"] is True and got["response_format"] == "b64_json"


def test_chat(client: openai.OpenAI) -> None:
    hello = [{"role": "user", "content": "hello gateway"}]
    expected = f"Sandbox reply from {TEXT_MODEL} to: hello gateway"
    reply = client.chat.completions.create(model="gemini-3-flash", messages=hello)  # type: ignore[arg-type]
    assert reply.choices[0].message.content == expected
    stream = client.chat.completions.create(model="gemini-3-flash", messages=hello, stream=True)  # type: ignore[arg-type]
    assert "".join(c.choices[0].delta.content or "" for c in stream if c.choices) == expected


def test_errors_are_rewrapped_but_keep_the_message(client: openai.OpenAI) -> None:
    with pytest.raises(openai.BadRequestError) as bad_size:
        client.images.generate(model="gpt-image-1", prompt="x", size="big")
    assert bad_size.value.status_code == 400 and "Invalid size 'big'" in bad_size.value.message
    with pytest.raises(openai.BadRequestError) as bad_edit:
        client.images.edit(model="gpt-image-1", image=io.BytesIO(png()), prompt="x", size="big")
    assert bad_edit.value.status_code == 400 and "size" in bad_edit.value.message
    with pytest.raises(openai.BadRequestError) as custom:
        client.images.generate(model="mr-dall-e-3", prompt="x", size="big")
    assert "Invalid size 'big'" in custom.value.message


def test_terminal_failures_reach_the_gateway_once(
    client: openai.OpenAI, faults: httpx.Client, admin: httpx.Client
) -> None:
    """LiteLLM's router retries every 5xx twice whatever `x-should-retry` says (it decides by status
    alone, `litellm.utils.should_retry`); the gateway has already failed over, so the guide's config
    sets `router_settings.num_retries: 0` and a failed generation or edit is one upstream attempt."""
    faults.post(
        "/sandbox/_faults", json={"provider": "openai", "mode": "error", "status": 500}
    ).raise_for_status()
    with pytest.raises(openai.APIStatusError) as generation:
        client.images.generate(model="gpt-image-1", prompt="a red bicycle")
    with pytest.raises(openai.APIStatusError) as edit:
        client.images.edit(model="gpt-image-1", image=io.BytesIO(png()), prompt="add a hat")
    assert (generation.value.status_code, edit.value.status_code) == (502, 502)
    assert "attempt(s) failed; last: openai" in generation.value.message
    assert faults.get("/sandbox/_faults").json()["requests"].get("openai") == 2
    logged = admin.get("/v1/requests", params={"limit": 2}).json()["data"]
    assert [(e["status"], e["cost"]) for e in logged] == [("upstream_failure", 0.0)] * 2


PROXY_EXAMPLES = examples("proxy")


@pytest.mark.parametrize("example", PROXY_EXAMPLES, ids=[e.name for e in PROXY_EXAMPLES])
def test_guide_examples(
    example: Any, proxy: Proxy, gateway: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "photo.png").write_bytes(png())
    (tmp_path / "mask.png").write_bytes(mask_png())
    monkeypatch.chdir(tmp_path)
    code = example.code.replace(PROXY_URL, proxy.url).replace(GATEWAY_URL, gateway.url)
    exec(compile(code, "docs/clients.md", "exec"), {"__name__": "__doc_example__"})


@pytest.mark.skipif(IN_OTHER_VERSION, reason="runs from the main session only")
@pytest.mark.parametrize("version", [v for v in TESTED_VERSIONS if v != litellm_version()])
def test_litellm_client_suite(version: str, other_versions: dict[str, OtherRun | str]) -> None:
    """The other releases' runs, started early (see `start_other_versions`), end here."""
    run = other_versions[version]
    if isinstance(run, str):
        pytest.fail(run)
    run.process.wait(timeout=900)
    output = run.output.read_text()
    summary = (output.strip().splitlines() or ["(no output)"])[-1]
    assert run.process.returncode == 0, f"litellm {version}: {summary}\n{output[-6000:]}"
    assert " passed" in summary and "failed" not in summary, summary
