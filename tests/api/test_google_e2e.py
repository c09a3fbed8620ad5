"""Gemini API and Vertex AI through the gateway in sandbox mode: forced `gemini/...` and `vertex/...`
requests (Vertex through the real service-account OAuth flow against the emulator), faults."""

from __future__ import annotations

import httpx
import openai
import pytest

from imaging import decode, png

SLUGS = ("gemini", "vertex")
MODEL = "gemini-3.1-flash-image-preview"
GEMINI_FIRST = {"order": ["gemini", "vertex"], "only": ["gemini", "vertex"]}


def _fault(faults: httpx.Client, **fields: object) -> None:
    faults.post("/sandbox/_faults", json=fields).raise_for_status()


@pytest.mark.parametrize("slug", SLUGS)
@pytest.mark.parametrize(
    ("model", "size", "expected"),
    [
        ("gemini-2.5-flash-image", "16:9", (1344, 768)),  # imageConfig.aspectRatio, no imageSize
        ("gemini-3-pro-image-preview", "2048x2048", (2048, 2048)),  # aspectRatio + imageSize 2K
        ("gemini-3.1-flash-image-preview", "512x512", (512, 512)),  # the 0.5K tier is imageSize "512"
        ("imagen-4.0-fast-generate-001", "3:4", (896, 1280)),  # :predict
    ],
)
def test_generate_mapped_size(
    sdk: openai.OpenAI, slug: str, model: str, size: str, expected: tuple[int, int]
) -> None:
    result = sdk.images.generate(
        model=f"{slug}/{model}", prompt="a red bicycle", size=size, response_format="b64_json"
    )
    image = decode(result.data[0])
    assert image.size == expected and image.format == "PNG"
    meta = (result.model_extra or {})["metadata"]
    assert meta["provider"] == slug and [a["status"] for a in meta["attempts"]] == ["success"]


@pytest.mark.parametrize("slug", SLUGS)
def test_imagen_several_images_as_jpeg(sdk: openai.OpenAI, slug: str) -> None:
    result = sdk.images.generate(
        model=f"{slug}/imagen-4.0-generate-001",
        prompt="two boats",
        n=3,
        size="1:1",
        output_format="jpeg",  # type: ignore[arg-type]
        response_format="b64_json",
    )
    images = [decode(d) for d in result.data]
    assert [im.size for im in images] == [(1024, 1024)] * 3 and {im.format for im in images} == {"JPEG"}


@pytest.mark.parametrize("slug", SLUGS)
def test_gemini_usage_is_reported(sdk: openai.OpenAI, slug: str) -> None:
    result = sdk.images.generate(model=f"{slug}/gemini-2.5-flash-image", prompt="a lighthouse", size="1:1")
    assert result.usage is not None and result.usage.output_tokens == 1290


@pytest.mark.parametrize("slug", SLUGS)
@pytest.mark.parametrize("model", ["gemini-2.5-flash-image", "gemini-3-pro-image-preview"])
def test_edit(sdk: openai.OpenAI, slug: str, model: str) -> None:
    result = sdk.images.edit(
        model=f"{slug}/{model}",
        image=[("a.png", png(96, 64), "image/png"), ("b.png", png(32, 32, (0, 0, 200, 255)), "image/png")],
        prompt="put a hat on it",
        size="3:2",  # type: ignore[arg-type]
        response_format="b64_json",
    )
    assert decode(result.data[0]).size[0] > decode(result.data[0]).size[1]
    assert (result.model_extra or {})["metadata"]["provider"] == slug


def test_vertex_upscale(sdk: openai.OpenAI) -> None:
    result = sdk.images.edit(
        model="vertex/google-upscaler",
        image=("in.png", png(48, 32), "image/png"),
        prompt="upscale",
        response_format="b64_json",
        extra_body={"scale_factor": 4},
    )
    assert decode(result.data[0]).size == (192, 128)


def test_vertex_requests_carry_an_issued_oauth_token(sdk: openai.OpenAI, faults: httpx.Client) -> None:
    """The emulator answers 401 to anything but a token from its own /token endpoint."""
    sdk.images.generate(model="vertex/gemini-2.5-flash-image", prompt="p", size="1:1")
    assert faults.get("/sandbox/_faults").json()["requests"].get("vertex") == 1


FAULTS = [
    ({"mode": "error", "status": 500}, 502, "UPSTREAM_ERROR"),
    ({"mode": "error", "status": 400}, 400, "UPSTREAM_ERROR"),
    ({"mode": "error", "status": 401}, 502, "UPSTREAM_ERROR"),
    ({"mode": "error", "status": 403}, 502, "UPSTREAM_ERROR"),
    ({"mode": "error", "status": 404}, 502, "UPSTREAM_ERROR"),
    ({"mode": "error", "status": 429}, 429, "UPSTREAM_ERROR"),
    ({"mode": "error", "status": 503}, 502, "UPSTREAM_ERROR"),
    ({"mode": "timeout"}, 504, "UPSTREAM_ERROR"),
    ({"mode": "reset"}, 502, "UPSTREAM_ERROR"),
    ({"mode": "malformed"}, 502, "UPSTREAM_ERROR"),
    ({"mode": "empty"}, 502, "UPSTREAM_ERROR"),
    ({"mode": "content_policy"}, 400, "CONTENT_POLICY_VIOLATION"),
    ({"mode": "slow", "latency_ms": 200}, 200, None),
]


def _check_fault(
    admin: httpx.Client,
    faults: httpx.Client,
    slug: str,
    model: str,
    fault: dict[str, object],
    status: int,
    code: str | None,
) -> None:
    _fault(faults, provider=slug, **fault)
    r = admin.post("/v1/images/generations", json={"model": f"{slug}/{model}", "prompt": "p", "size": "1:1"})
    assert r.status_code == status, r.text
    if code is None:  # slow: the whole answer, after the delay
        (attempt,) = r.json()["metadata"]["attempts"]
        assert attempt["provider"] == slug and attempt["latency_ms"] >= fault["latency_ms"]  # type: ignore[operator]
        return
    error = r.json()["error"]
    assert error["code"] == code and error["attempts"][-1]["provider"] == slug
    assert "sk-sandbox" not in r.text and "ya29." not in r.text


@pytest.mark.parametrize("slug", SLUGS)
@pytest.mark.parametrize(("fault", "status", "code"), FAULTS)
def test_fault_modes(
    admin: httpx.Client,
    faults: httpx.Client,
    slug: str,
    fault: dict[str, object],
    status: int,
    code: str | None,
) -> None:
    _check_fault(admin, faults, slug, "gemini-2.5-flash-image", fault, status, code)


# Imagen says no its own way (RAI filter, `{}`) on its own `:predict` route: every mode again there.
@pytest.mark.parametrize("slug", SLUGS)
@pytest.mark.parametrize(("fault", "status", "code"), FAULTS)
def test_imagen_fault_modes(
    admin: httpx.Client,
    faults: httpx.Client,
    slug: str,
    fault: dict[str, object],
    status: int,
    code: str | None,
) -> None:
    _check_fault(admin, faults, slug, "imagen-4.0-generate-001", fault, status, code)


@pytest.mark.parametrize(
    ("status", "failure"),
    [(400, "INVALID_REQUEST"), (401, "AUTH"), (403, "AUTH"), (404, "NOT_FOUND"), (429, "RATE_LIMITED")],
)
def test_error_statuses_are_classified(
    admin: httpx.Client, faults: httpx.Client, status: int, failure: str
) -> None:
    _fault(faults, provider="gemini", mode="error", status=status)
    r = admin.post("/v1/images/generations", json={"model": "gemini/gemini-2.5-flash-image", "prompt": "p"})
    assert r.json()["error"]["attempts"][-1]["error_code"] == failure


def test_invalid_api_key_is_an_auth_failure(admin: httpx.Client, faults: httpx.Client) -> None:
    message = "API key not valid. Please pass a valid API key."
    _fault(faults, provider="gemini", mode="error", status=400, message=message)
    r = admin.post("/v1/images/generations", json={"model": "gemini/gemini-2.5-flash-image", "prompt": "p"})
    assert (r.status_code, r.json()["error"]["attempts"][-1]["error_code"]) == (502, "AUTH")


def test_region_block_fails_over(admin: httpx.Client, faults: httpx.Client) -> None:
    """ "User location is not supported" is a quota problem: the next provider serves the request.

    A model the fault tests above leave alone, so no open breaker reorders the candidates."""
    message = "User location is not supported for the API use."
    _fault(faults, provider="gemini", mode="error", status=400, message=message)
    r = admin.post("/v1/images/generations", json={"model": MODEL, "prompt": "p", "provider": GEMINI_FIRST})
    assert r.status_code == 200, r.text
    attempts = r.json()["metadata"]["attempts"]
    assert [(a["provider"], a["error_code"], a["verdict"]) for a in attempts] == [
        ("gemini", "QUOTA", "next"),
        ("vertex", None, None),
    ]


def test_unforced_content_policy_stops(admin: httpx.Client, faults: httpx.Client) -> None:
    for slug in SLUGS:
        _fault(faults, provider=slug, mode="content_policy")
    r = admin.post("/v1/images/generations", json={"model": MODEL, "prompt": "p", "provider": GEMINI_FIRST})
    assert r.status_code == 400 and r.json()["error"]["code"] == "CONTENT_POLICY_VIOLATION"
    assert [a["provider"] for a in r.json()["error"]["attempts"]] == ["gemini"]
