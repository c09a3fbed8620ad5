"""Every error code of the foundation's table, for its cause, through the public API."""

from __future__ import annotations

import httpx
import openai
import pytest

from harness import Server
from imaging import png


def _error(response: httpx.Response) -> dict[str, object]:
    body = response.json()
    assert set(body["error"]) >= {"message", "type", "code", "param"}
    return body["error"]  # type: ignore[no-any-return]


@pytest.mark.parametrize(
    ("headers", "fragment"),
    [
        ({}, "Missing API key"),
        ({"Authorization": "Bearer None"}, "placeholder"),
        ({"Authorization": "Bearer mr_abc.wrong"}, "Invalid API key"),
        ({"Authorization": "Bearer not-a-key"}, "Invalid API key"),
        ({"Authorization": "Basic abc"}, "Missing API key"),
    ],
)
def test_authentication_failed(gateway: Server, headers: dict[str, str], fragment: str) -> None:
    r = httpx.post(
        f"{gateway.url}/v1/images/generations", json={"model": "dall-e-3", "prompt": "x"}, headers=headers
    )
    assert r.status_code == 401
    err = _error(r)
    assert err["code"] == "AUTHENTICATION_FAILED" and fragment in str(err["message"])
    assert r.headers["x-should-retry"] == "false"


def test_sdk_sees_authentication_error(gateway: Server) -> None:
    client = openai.OpenAI(base_url=f"{gateway.url}/v1", api_key="mr_nope.nope", max_retries=0)
    with pytest.raises(openai.AuthenticationError):
        client.images.generate(model="dall-e-3", prompt="x")


def test_revoked_key(gateway: Server, admin: httpx.Client) -> None:
    created = admin.post("/v1/keys", json={"name": "temp"}).json()
    ok = httpx.get(f"{gateway.url}/v1/models", headers={"Authorization": f"Bearer {created['key']}"})
    assert ok.status_code == 200
    assert admin.delete(f"/v1/keys/{created['id']}").status_code == 200
    r = httpx.get(f"{gateway.url}/v1/models", headers={"Authorization": f"Bearer {created['key']}"})
    assert r.status_code == 401


def test_user_key_on_admin_route(user: httpx.Client) -> None:
    for method, path in (("GET", "/v1/keys"), ("GET", "/sandbox/_faults"), ("DELETE", "/sandbox/_faults")):
        r = user.request(method, path)
        assert r.status_code == 403, path
        assert _error(r)["code"] == "PERMISSION_DENIED"


def test_unknown_model_with_suggestion(sdk: openai.OpenAI) -> None:
    with pytest.raises(openai.NotFoundError) as info:
        sdk.images.generate(model="gpt-image-15", prompt="x")
    assert info.value.code == "MODEL_NOT_FOUND"
    assert "Did you mean 'gpt-image-1.5'" in info.value.message


def test_forcing_a_provider_that_does_not_serve_the_model(sdk: openai.OpenAI) -> None:
    with pytest.raises(openai.NotFoundError) as info:
        sdk.images.generate(model="xai/dall-e-3", prompt="x")
    assert "does not serve" in info.value.message


@pytest.mark.parametrize(
    ("body", "param"),
    [
        ({"model": "dall-e-3", "prompt": "x", "size": "huge"}, "size"),
        ({"model": "dall-e-3", "prompt": "x", "n": 0}, "n"),
        ({"model": "dall-e-3", "prompt": "x", "n": 11}, "n"),
        ({"model": "dall-e-3", "prompt": "x", "n": "two"}, "n"),
        ({"model": "dall-e-3", "prompt": ""}, "prompt"),
        ({"model": "dall-e-3"}, "prompt"),
        ({"prompt": "x"}, "model"),
        ({"model": "dall-e-3", "prompt": "x", "response_format": "jpeg"}, "response_format"),
        ({"model": "dall-e-3", "prompt": "x", "output_format": "bmp"}, "output_format"),
        ({"model": "dall-e-3", "prompt": "x", "output_compression": 101}, "output_compression"),
        ({"model": "dall-e-3", "prompt": "x", "quality": "ultra"}, "quality"),
        ({"model": "dall-e-3", "prompt": "x", "stream": True}, "stream"),
        ({"model": "dall-e-3", "prompt": "x", "partial_images": 9}, "partial_images"),
        ({"model": "dall-e-3", "prompt": "x" * 40000}, "prompt"),
    ],
)
def test_invalid_request_names_the_param(admin: httpx.Client, body: dict[str, object], param: str) -> None:
    r = admin.post("/v1/images/generations", json=body)
    assert r.status_code == 400, r.text
    err = _error(r)
    assert err["code"] == "INVALID_REQUEST" and err["param"] == param


def test_bad_size_through_sdk(sdk: openai.OpenAI) -> None:
    with pytest.raises(openai.BadRequestError) as info:
        sdk.images.generate(model="gpt-image-1.5", prompt="x", size="big")
    assert info.value.param == "size" and "WIDTHxHEIGHT" in info.value.message


@pytest.mark.parametrize("raw", [b"{not json", b"[1, 2]", b""])
def test_malformed_json(admin: httpx.Client, raw: bytes) -> None:
    r = admin.post("/v1/images/generations", content=raw, headers={"Content-Type": "application/json"})
    assert r.status_code == 400 and _error(r)["code"] == "INVALID_REQUEST"


def test_malformed_multipart(admin: httpx.Client) -> None:
    r = admin.post(
        "/v1/images/edits",
        content=b'--xyz\r\nContent-Disposition: form-data; name="prompt"\r\n\r\nhi\r\n--xyz',
        headers={"Content-Type": "multipart/form-data; boundary=abc"},
    )
    assert r.status_code == 400 and _error(r)["code"] == "INVALID_REQUEST"


def test_edit_without_image_and_with_non_image(admin: httpx.Client) -> None:
    r = admin.post(
        "/v1/images/edits", data={"model": "gpt-image-1", "prompt": "x"}, files={"other": ("a.txt", b"hi")}
    )
    assert r.status_code == 400 and _error(r)["param"] == "image"
    r = admin.post(
        "/v1/images/edits",
        data={"model": "gpt-image-1", "prompt": "x"},
        files={"image": ("a.png", b"not a png")},
    )
    assert r.status_code == 400 and "not a supported image" in str(_error(r)["message"])


def test_edit_on_a_generate_only_model(sdk: openai.OpenAI) -> None:
    with pytest.raises(openai.BadRequestError) as info:
        sdk.images.edit(model="dall-e-3", image=png(), prompt="x")
    assert "does not support image editing" in info.value.message


def test_too_many_images_for_the_model(sdk: openai.OpenAI) -> None:
    with pytest.raises(openai.BadRequestError) as info:
        sdk.images.edit(model="dall-e-2", image=[png(), png()], prompt="x")
    assert info.value.param == "image"


def test_oversize_upload(admin: httpx.Client) -> None:
    big = png() + b"\0" * 1_200_000  # over the test limit of 1 MB per image
    r = admin.post(
        "/v1/images/edits", data={"model": "gpt-image-1", "prompt": "x"}, files={"image": ("a.png", big)}
    )
    assert r.status_code == 413 and _error(r)["code"] == "PAYLOAD_TOO_LARGE"
    r = admin.post(
        "/v1/images/generations",
        content=b"{" + b" " * 3_100_000 + b"}",
        headers={"Content-Type": "application/json"},
    )
    assert r.status_code == 413


def test_wrong_content_type(admin: httpx.Client) -> None:
    r = admin.post(
        "/v1/images/generations",
        content=b"model=x",
        headers={"Content-Type": "application/x-www-form-urlencoded"},
    )
    assert r.status_code == 415


def test_unknown_route_and_method(admin: httpx.Client) -> None:
    assert _error(admin.get("/v1/nothing-here"))["code"] == "NOT_FOUND"
    r = admin.get("/v1/images/generations")
    assert r.status_code == 405 and _error(r)["code"] == "METHOD_NOT_ALLOWED"


def test_variations_refused_clearly(admin: httpx.Client) -> None:
    r = admin.post("/v1/images/variations", files={"image": ("a.png", png())})
    assert r.status_code == 400 and "not supported" in str(_error(r)["message"])
    assert _error(r)["code"] == "INVALID_REQUEST" and r.headers["x-should-retry"] == "false"


def test_paths_without_v1_and_openai_prefix(gateway: Server) -> None:
    for base in (gateway.url, f"{gateway.url}/openai/v1"):
        client = openai.OpenAI(base_url=base, api_key=gateway.admin_key, max_retries=0)
        assert client.images.generate(model="gpt-image-1-mini", prompt="x", response_format="b64_json").data
