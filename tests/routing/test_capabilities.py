"""Providers that cannot do what a request needs are left out before any attempt (catalog overrides)."""

from __future__ import annotations

import base64

import httpx
import pytest

from mediarouter.catalog.models import ModelSpec, Offering, Price
from mediarouter.routing.capabilities import unmet
from mediarouter.schemas.images import ImageRequest, InputImage

from imaging import png

MODEL = ModelSpec(
    "m", "M", "x", ("generate", "edit"), (), max_input_images=3, mask=True, output_formats=("png",)
)
IMAGE = InputImage(b"", "image/png", 64, 64)


def _request(mode: str = "edit", images: int = 1, mask: bool = False) -> ImageRequest:
    return ImageRequest(mode, "m", "p", images=[IMAGE] * images, mask=IMAGE if mask else None)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("override", "request_", "expected"),
    [
        ({}, _request(images=3, mask=True), None),
        ({"max_input_images": 1}, _request(images=1), None),
        ({"max_input_images": 1}, _request(images=2), ("image", "takes at most 1 input image(s); got 2")),
        ({"max_input_images": 1}, _request("generate", images=0), None),
        ({"modes": ("generate",)}, _request(), ("model", "does not do image-edit (only text-to-image)")),
        ({"mask": False}, _request(mask=True), ("mask", "does not take a mask")),
        ({"max_n": 1, "output_formats": ("jpeg",)}, _request(), None),  # emulated and converted
    ],
)
def test_unmet(override: dict[str, object], request_: ImageRequest, expected: tuple[str, str] | None) -> None:
    offering = Offering("fal", "f", Price("image", 0.01), **override)  # type: ignore[arg-type]
    assert unmet(MODEL, offering, request_) == expected


def _edit(admin: httpx.Client, model: str, images: int, **extra: object) -> httpx.Response:
    uri = "data:image/png;base64," + base64.b64encode(png(64, 64)).decode()
    body = {"model": model, "prompt": "combine", "images": [uri] * images, "response_format": "b64_json"}
    return admin.post("/v1/images/edits", json={**body, **extra}, timeout=30)


def test_a_provider_taking_one_image_is_skipped_for_two(admin: httpx.Client, faults: httpx.Client) -> None:
    order = {"order": ["fal", "replicate", "alibaba"]}  # fal first: it would answer 400 and stop the request
    r = _edit(admin, "qwen-image-edit", 2, provider=order)
    assert r.status_code == 200, r.text
    meta = r.json()["metadata"]
    assert meta["provider"] == "alibaba" and [a["provider"] for a in meta["attempts"]] == ["alibaba"]
    counts = faults.get("/sandbox/_faults").json()["requests"]
    assert counts.get("fal", 0) == 0 and counts.get("replicate", 0) == 0
    one = _edit(admin, "qwen-image-edit", 1, provider=order)  # one image: fal can do it
    assert one.status_code == 200 and one.json()["metadata"]["provider"] == "fal"


def test_a_forced_provider_that_cannot_is_a_clear_400(admin: httpx.Client, faults: httpx.Client) -> None:
    r = _edit(admin, "fal/qwen-image-edit", 2)
    assert r.status_code == 400, r.text
    error = r.json()["error"]
    assert error["code"] == "INVALID_REQUEST" and error["param"] == "image"
    assert error["message"] == (
        "Provider 'fal' cannot serve this request for model 'qwen-image-edit': "
        "fal takes at most 1 input image(s); got 2"
    )
    assert faults.get("/sandbox/_faults").json()["requests"].get("fal", 0) == 0


def test_no_provider_left_after_preferences_names_the_limits(admin: httpx.Client) -> None:
    r = _edit(admin, "qwen-image-edit", 3, provider={"only": ["fal", "replicate"]})
    assert r.status_code == 400
    assert r.json()["error"]["message"] == (
        "No provider of 'qwen-image-edit' is left after the 'provider' preferences (serving: alibaba; "
        "not for this request: fal takes at most 1 input image(s); got 3; "
        "replicate takes at most 1 input image(s); got 3)"
    )
