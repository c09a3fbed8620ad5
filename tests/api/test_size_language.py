"""`size`, `aspect_ratio` and `resolution` through the HTTP API, for a pixel-size model (DALL·E) and
an aspect-ratio model (Gemini 3 Pro Image on the Gemini API): the size the emulator really drew,
the mapping reported in metadata, and 400s naming the parameter."""

from __future__ import annotations

from typing import Any

import httpx
import openai
import pytest

from imaging import decode


def _generate(sdk: openai.OpenAI, model: str, **fields: Any) -> tuple[tuple[int, int], dict[str, Any]]:
    result = sdk.images.generate(model=model, prompt="sizes", response_format="b64_json", extra_body=fields)
    return decode(result.data[0]).size, (result.model_extra or {})["metadata"]


@pytest.mark.parametrize(
    ("model", "fields", "drawn", "mapping", "ignored"),
    [
        ("dall-e-3", {"aspect_ratio": "16:9"}, (1792, 1024), {"requested": "16:9", "used": "1792x1024"}, []),
        (
            "dall-e-3",
            {"resolution": "4K", "aspect_ratio": "9:16"},
            (1024, 1792),
            {"requested": "9:16", "requested_resolution": "4K", "used": "1024x1792"},
            [],
        ),
        (
            "dall-e-2",
            {"resolution": "0.5K"},
            (512, 512),
            {"requested_resolution": "0.5K", "used": "512x512"},
            [],
        ),
        ("dall-e-3", {"size": "1024x1024", "aspect_ratio": "16:9"}, (1024, 1024), None, ["aspect_ratio"]),
        (
            "gemini/gemini-3-pro-image-preview",
            {"aspect_ratio": "16:9", "resolution": "2K"},
            (2752, 1536),
            {"requested": "16:9", "requested_resolution": "2K", "aspect_ratio": "16:9", "resolution": "2K"},
            [],
        ),
        (
            "gemini/gemini-3-pro-image-preview",
            {"size": "3:2", "aspect_ratio": "9:16", "resolution": "2K"},
            (2528, 1696),
            {"requested": "3:2", "requested_resolution": "2K", "aspect_ratio": "3:2", "resolution": "2K"},
            ["aspect_ratio"],
        ),
        (
            "gemini/gemini-3-pro-image-preview",
            {"size": "1024x1024", "aspect_ratio": "16:9"},
            (1024, 1024),
            {"requested": "1024x1024", "aspect_ratio": "1:1", "resolution": "1K"},
            ["aspect_ratio"],
        ),
    ],
)
def test_size_fields_reach_the_emulator(
    sdk: openai.OpenAI,
    model: str,
    fields: dict[str, str],
    drawn: tuple[int, int],
    mapping: dict[str, Any] | None,
    ignored: list[str],
) -> None:
    size, metadata = _generate(sdk, model, **fields)
    assert size == drawn
    assert metadata.get("size_mapping") == mapping
    assert metadata.get("ignored_params", []) == ignored


@pytest.mark.parametrize("model", ["dall-e-3", "gemini-3-pro-image-preview"])
@pytest.mark.parametrize(
    ("fields", "param", "names"),
    [
        ({"resolution": "9K"}, "resolution", "0.5K, 1K, 2K, 4K"),
        ({"aspect_ratio": "wide"}, "aspect_ratio", "'W:H'"),
        ({"size": "1024x1024", "aspect_ratio": "wide"}, "aspect_ratio", "'W:H'"),
    ],
)
def test_malformed_size_fields_are_400s_naming_the_param(
    admin: httpx.Client, model: str, fields: dict[str, str], param: str, names: str
) -> None:
    response = admin.post("/v1/images/generations", json={"model": model, "prompt": "x", **fields})
    assert response.status_code == 400
    error = response.json()["error"]
    assert error["param"] == param and names in error["message"]
