"""`GET /v1/models/{id}?schema=true` lists what the translation accepts, one test per model style:
pixel sizes, aspect ratios with tiers, upscalers, edit-only; every listed size value is accepted
(checked with dry runs), `n` follows `limits.max_n`, and forwarded extras carry their types."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from harness import start_server

MAX_N = 4


@pytest.fixture(scope="module")
def api(tmp_path_factory: pytest.TempPathFactory) -> Iterator[httpx.Client]:
    handle, server, thread = start_server(
        tmp_path_factory.mktemp("schema"), {"MEDIAROUTER_LIMITS_MAX_N": str(MAX_N)}
    )
    with handle.client() as client:
        yield client
    server.should_exit = True
    thread.join(timeout=10)


def _params(api: httpx.Client, model: str) -> dict[str, Any]:
    response = api.get(f"/v1/models/{model}", params={"schema": "true"})
    response.raise_for_status()
    return response.json()["schema"]["parameters"]  # type: ignore[no-any-return]


def _dry_run(api: httpx.Client, model: str, **fields: Any) -> dict[str, Any]:
    response = api.post("/v1/images/generations?dryRun=true", json={"model": model, "prompt": "p", **fields})
    assert response.status_code == 200, response.text
    return response.json()  # type: ignore[no-any-return]


def test_pixel_size_model(api: httpx.Client) -> None:
    params = _params(api, "dall-e-3")
    assert params["size"]["values"] == ["1024x1024", "1792x1024", "1024x1792"]
    assert params["aspect_ratio"] == {
        "type": "string",
        "forms": "'W:H' (e.g. '16:9') or 'auto'",
        "maps_to": ["size"],
    }
    assert params["resolution"] == {"type": "enum", "values": ["0.5K", "1K", "2K", "4K"], "maps_to": ["size"]}
    assert params["n"] == {
        "type": "integer",
        "minimum": 1,
        "maximum": MAX_N,
        "native_maximum": 1,
        "default": 1,
    }
    assert params["prompt"] == {"type": "string", "required": True} and "image" not in params
    for size in params["size"]["values"]:
        assert _dry_run(api, "dall-e-3", size=size)["size"] == size  # listed sizes map to themselves
    wide = _dry_run(api, "dall-e-3", aspect_ratio="16:9", resolution="4K")
    assert wide["size"] == "1792x1024"


def test_aspect_ratio_model(api: httpx.Client) -> None:
    params = _params(api, "imagen-4.0-generate-001")
    assert params["size"]["type"] == "string" and params["size"]["maps_to"] == ["aspect_ratio", "resolution"]
    assert params["aspect_ratio"]["values"] == ["1:1", "3:4", "4:3", "9:16", "16:9"]
    assert params["resolution"]["values"] == ["1K", "2K"] and params["resolution"]["default"] == "1K"
    assert params["n"]["maximum"] == MAX_N and params["n"]["native_maximum"] == 4
    for ratio in params["aspect_ratio"]["values"]:
        assert (
            _dry_run(api, "imagen-4.0-generate-001", aspect_ratio=ratio)["size_mapping"]["aspect_ratio"]
            == ratio
        )
    for tier in params["resolution"]["values"]:
        assert _dry_run(api, "imagen-4.0-generate-001", resolution=tier)["size_mapping"]["resolution"] == tier
    assert _dry_run(api, "imagen-4.0-generate-001", size="1600x900")["size_mapping"]["aspect_ratio"] == "16:9"


def test_upscaler(api: httpx.Client) -> None:
    params = _params(api, "topaz-image-upscale")
    assert params["prompt"] == {"type": "string"}  # optional: the scale factor says what to do
    assert params["image"] == {"type": "image[]", "min_items": 1, "max_items": 1, "required": True}
    assert params["scale_factor"] == {"type": "enum", "values": [2, 4], "default": 2}
    assert not {"size", "aspect_ratio", "resolution"} & set(params)
    assert params["n"]["native_maximum"] == 1


def test_edit_only_model_requires_an_image(api: httpx.Client) -> None:
    params = _params(api, "qwen-image-edit")
    assert params["image"]["required"] is True and params["image"]["max_items"] >= 1
    assert params["prompt"]["required"] is True


def test_forwarded_extras_carry_their_type_and_providers(api: httpx.Client) -> None:
    params = _params(api, "flux.1-dev")  # fal, replicate, runware
    assert params["enable_safety_checker"] == {"type": "boolean", "providers": ["fal"]}
    assert params["go_fast"] == {"type": "boolean", "providers": ["replicate"]}
    assert params["seed"] == {"type": "integer", "providers": ["fal", "replicate", "runware"]}
    assert params["guidance_scale"]["type"] == "number"
    assert "seed" not in _params(api, "dall-e-3")  # OpenAI forwards no extras


def test_each_provider_says_where_it_does_less_than_the_model(api: httpx.Client) -> None:
    body = api.get("/v1/models/qwen-image-edit").json()
    assert body["capabilities"]["max_input_images"] == 3
    limits = {p["provider"]: p["limits"] for p in body["providers"]}
    assert limits["fal"] == {"max_input_images": 1} and limits["replicate"] == {"max_input_images": 1}
    assert limits["alibaba"] == {}  # as the model
    flux2 = {p["provider"]: p["price"] for p in api.get("/v1/models/flux.2-pro").json()["providers"]}
    assert flux2["fal"]["extra_megapixel_usd"] == 0.015 and flux2["fal"]["usd"] == 0.03
