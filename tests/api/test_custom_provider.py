"""Custom OpenAI-compatible providers declared as config rows, served by the generic adapter."""

from __future__ import annotations

import base64
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
import yaml

from harness import Server, standalone_sandbox, start_server
from imaging import decode, png


@pytest.fixture(scope="module")
def upstream(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A standalone sandbox: its OpenAI emulator plays a self-hosted OpenAI-compatible server."""
    with standalone_sandbox() as base:
        yield f"{base}/openai/v1"


@pytest.fixture(scope="module")
def custom(upstream: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    data = tmp_path_factory.mktemp("custom")
    config = {
        "providers": {
            "openai": {"api_key": "sk-real-openai", "base_url": upstream},
            "acme": {
                "kind": "openai_compatible",
                "name": "Acme Images",
                "base_url": upstream,
                "api_key": "os.environ/ACME_KEY",
                "models": [
                    {
                        "id": "acme-fast",
                        "model_id": "gpt-image-1-mini",
                        "modes": ["generate", "edit"],
                        "sizes": ["1024x1024"],
                        "max_n": 2,
                        "output_formats": ["png"],
                        "max_input_images": 1,
                        "price": {"per": "image", "usd": 0.001},
                    },
                    {
                        "id": "dall-e-2",
                        "model_id": "dall-e-2",
                        "price": {"per": "image", "usd": 0.001},
                        "modes": ["generate"],  # this offering's own: no edits through acme
                    },
                ],
            },
        }
    }
    path = data / "config.yaml"
    path.write_text(yaml.safe_dump(config))
    handle, server, thread = start_server(
        data, {"MEDIAROUTER_SANDBOX": "false", "MEDIAROUTER_CONFIG": str(path), "ACME_KEY": "acme-secret"}
    )
    yield handle
    server.should_exit = True
    thread.join(timeout=10)


def test_new_model_on_a_custom_provider(custom: Server) -> None:
    with custom.client() as c:
        r = c.post(
            "/v1/images/generations",
            json={"model": "acme-fast", "prompt": "custom", "n": 3, "response_format": "b64_json"},
        )
        assert r.status_code == 200, r.text
        meta = r.json()["metadata"]
        assert meta["provider"] == "acme" and meta["provider_name"] == "Acme Images"
        assert meta["executed_model"] == "acme/gpt-image-1-mini" and len(r.json()["data"]) == 3
        assert decode(r.json()["data"][0]).size == (1024, 1024)
        models = {m["id"]: m for m in c.get("/v1/models").json()["data"]}
        assert [p["provider"] for p in models["acme-fast"]["providers"]] == ["acme"]


def test_custom_provider_joins_an_existing_model_and_can_be_forced(custom: Server) -> None:
    with custom.client() as c:
        providers = {p["provider"] for p in c.get("/v1/models/dall-e-2").json()["providers"]}
        assert providers == {"openai", "acme"}
        r = c.post(
            "/v1/images/generations", json={"model": "acme/dall-e-2", "prompt": "x", "size": "256x256"}
        )
        assert r.status_code == 200 and r.json()["metadata"]["provider"] == "acme"
        assert "acme-secret" not in r.text


def test_custom_provider_needs_models(tmp_path: Path) -> None:
    from mediarouter.catalog.models import load_catalog
    from mediarouter.errors import ConfigError
    from mediarouter.providers.custom import add_custom_offerings
    from mediarouter.settings import load_settings

    path = tmp_path / "c.yaml"
    path.write_text("providers:\n  acme:\n    kind: openai_compatible\n    base_url: http://x/v1\n")
    settings = load_settings(path, {})
    with pytest.raises(ConfigError, match="providers.acme.models"):
        add_custom_offerings(load_catalog(), settings.providers, str(path))


def test_edit_through_a_custom_row(custom: Server) -> None:
    with custom.client() as c:
        r = c.post(
            "/v1/images/edits",
            data={
                "model": "acme-fast",
                "prompt": "add a hat",
                "size": "1024x1024",
                "response_format": "b64_json",
            },
            files={"image": ("in.png", png(96, 64), "image/png")},
        )
        assert r.status_code == 200, r.text
        meta = r.json()["metadata"]
        assert (meta["provider"], meta["executed_model"]) == ("acme", "acme/gpt-image-1-mini")
        assert decode(r.json()["data"][0]).size == (1024, 1024)


@pytest.fixture
def upstream_faults(upstream: str) -> Iterator[httpx.Client]:
    """The standalone sandbox's fault endpoints (open: it has no admin key)."""
    with httpx.Client(base_url=upstream.split("/sandbox/")[0]) as client:
        client.delete("/sandbox/_faults").raise_for_status()
        yield client
        client.delete("/sandbox/_faults")


@pytest.mark.parametrize(
    ("fault", "status", "code", "failure"),
    [
        ({"mode": "error", "status": 429}, 429, "UPSTREAM_ERROR", "RATE_LIMITED"),
        ({"mode": "error", "status": 500}, 502, "UPSTREAM_ERROR", "SERVER"),
        ({"mode": "error", "status": 401}, 502, "UPSTREAM_ERROR", "AUTH"),
        ({"mode": "content_policy"}, 400, "CONTENT_POLICY_VIOLATION", "CONTENT_POLICY"),
        ({"mode": "malformed"}, 502, "UPSTREAM_ERROR", "MALFORMED"),
    ],
)
def test_custom_upstream_faults_map_like_openai_ones(
    custom: Server,
    upstream_faults: httpx.Client,
    fault: dict[str, object],
    status: int,
    code: str,
    failure: str,
) -> None:
    upstream_faults.post(
        "/sandbox/_faults", json={"provider": "openai", "model": "gpt-image-1-mini", **fault}
    ).raise_for_status()
    with custom.client() as c:
        r = c.post("/v1/images/generations", json={"model": "acme/acme-fast", "prompt": "p"})
    err = r.json()["error"]
    assert (r.status_code, err["code"]) == (status, code), r.text
    assert [(a["provider"], a["error_code"]) for a in err["attempts"]][-1] == ("acme", failure)
    assert "acme-secret" not in r.text


def test_a_joining_row_narrows_only_its_own_offering(custom: Server) -> None:
    image = "data:image/png;base64," + base64.b64encode(png(64, 64)).decode()
    edit = {"prompt": "a hat", "image": [image], "size": "256x256", "response_format": "b64_json"}
    with custom.client() as c:
        assert c.get("/v1/models/dall-e-2").json()["capabilities"]["modes"] == ["generate", "edit"]
        order = {"order": ["acme", "openai"]}
        routed = c.post("/v1/images/edits", json={**edit, "model": "dall-e-2", "provider": order})
        assert routed.status_code == 200, routed.text
        assert [a["provider"] for a in routed.json()["metadata"]["attempts"]] == ["openai"]
        forced = c.post("/v1/images/edits", json={**edit, "model": "acme/dall-e-2"})
        assert forced.status_code == 400, forced.text
        assert "acme does not do image-edit" in forced.json()["error"]["message"]
