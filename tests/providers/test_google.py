"""Gemini API and Vertex AI adapters: request shapes, size vocabulary, answers, the error table, OAuth."""

from __future__ import annotations

import asyncio
import base64
import json
import time
from typing import Any

import orjson
import pytest
from aiohttp import web
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa

from mediarouter.catalog.models import ModelSpec, Offering, Price
from mediarouter.errors import ConfigError
from mediarouter.providers.base import Call, Done, UpstreamError, UpstreamResponse
from mediarouter.providers.google import GeminiAdapter, VertexAdapter, vertex_credentials
from mediarouter.providers.google.errors import classify_google_error
from mediarouter.providers.google.oauth import (
    TokenSource,
    build_assertion,
    load_service_account,
    parse_token_answer,
)
from mediarouter.providers.google.sandbox_account import SANDBOX_PRIVATE_KEY, sandbox_service_account
from mediarouter.schemas.images import ImageRequest, InputImage

GEMINI_BASE = "https://generativelanguage.googleapis.com/v1beta"
VERTEX_BASE = "https://aiplatform.googleapis.com"
GEMINI, VERTEX = GeminiAdapter(), VertexAdapter()
PNG = b"\x89PNG\r\n\x1a\nfake"
SERVICE_ACCOUNT = json.dumps(sandbox_service_account("https://oauth2.googleapis.com/token"))
OAUTH = {"project": "my-proj", "service_account": SERVICE_ACCOUNT}


def make_call(
    model_id: str = "gemini-3-pro-image-preview",
    *,
    base: str = GEMINI_BASE,
    api: str | None = None,
    aspect: str | None = "16:9",
    resolution: str | None = "2K",
    resolutions: tuple[str, ...] = ("1K", "2K", "4K"),
    n: int = 1,
    images: int = 0,
    output_format: str | None = None,
    scale_factor: int | None = None,
    extra: dict[str, Any] | None = None,
    options: dict[str, Any] | None = None,
    row: dict[str, Any] | None = None,
    mode: str | None = None,
) -> Call:
    inputs = [InputImage(PNG, "image/png", 64, 64) for _ in range(images)]
    request = ImageRequest(
        mode=mode or ("edit" if images else "generate"),  # type: ignore[arg-type]
        model=model_id,
        prompt="a red fox",
        n=n,
        images=inputs,
        output_format=output_format,
        scale_factor=scale_factor,
        extra=extra or {},
    )
    row_options = dict(row or {})
    if api:
        row_options["api"] = api
    offering = Offering("gemini", model_id, Price("image", 0.04), options=row_options)
    model = ModelSpec(
        model_id,
        model_id,
        "google",
        ("generate", "edit"),
        (offering,),
        resolutions=resolutions,
        output_formats=("png", "jpeg"),
    )
    return Call(
        request, model, offering, base, "key-or-token", None, None, aspect, resolution, options=options or {}
    )


def answer(body: Any, status: int = 200, headers: dict[str, str] | None = None) -> UpstreamResponse:
    raw = body if isinstance(body, bytes) else orjson.dumps(body)
    return UpstreamResponse(status, headers or {}, raw)


# --- request shapes -------------------------------------------------------------------------------


def test_gemini_generate_content_request() -> None:
    request = GEMINI.build(make_call(extra={"seed": 7}))
    assert request.url == f"{GEMINI_BASE}/models/gemini-3-pro-image-preview:generateContent"
    assert request.headers == {"x-goog-api-key": "key-or-token"}
    assert request.json == {
        "contents": [{"role": "user", "parts": [{"text": "a red fox"}]}],
        "generationConfig": {
            "responseModalities": ["IMAGE"],
            "imageConfig": {"aspectRatio": "16:9", "imageSize": "2K"},
            "seed": 7,
        },
    }


def test_edit_sends_images_as_inline_data_after_the_text() -> None:
    parts = GEMINI.build(make_call(images=2)).json["contents"][0]["parts"]
    inline = {"inlineData": {"mimeType": "image/png", "data": base64.b64encode(PNG).decode()}}
    assert parts == [{"text": "a red fox"}, inline, inline]


@pytest.mark.parametrize(
    ("resolution", "resolutions", "expected"),
    [
        ("2K", ("1K", "2K", "4K"), {"aspectRatio": "16:9", "imageSize": "2K"}),
        ("0.5K", ("0.5K", "1K"), {"aspectRatio": "16:9", "imageSize": "512"}),
        ("1K", ("1K",), {"aspectRatio": "16:9"}),  # gemini-2.5-flash-image has no size to pick
        (None, ("1K", "2K"), {"aspectRatio": "16:9"}),
    ],
)
def test_image_config_vocabulary(
    resolution: str | None, resolutions: tuple[str, ...], expected: dict[str, str]
) -> None:
    call = make_call(resolution=resolution, resolutions=resolutions)
    assert GEMINI.build(call).json["generationConfig"]["imageConfig"] == expected


def test_response_modalities_come_from_the_catalog_row() -> None:
    call = make_call(row={"response_modalities": ["TEXT", "IMAGE"]})
    assert GEMINI.build(call).json["generationConfig"]["responseModalities"] == ["TEXT", "IMAGE"]


def test_jpeg_output_options_only_on_vertex() -> None:
    gemini = GEMINI.build(make_call(output_format="jpeg")).json["generationConfig"]["imageConfig"]
    vertex = VERTEX.build(make_call(base=VERTEX_BASE, output_format="jpeg", options=OAUTH)).json
    assert "imageOutputOptions" not in gemini
    assert vertex["generationConfig"]["imageConfig"]["imageOutputOptions"] == {"mimeType": "image/jpeg"}


def test_imagen_predict_request_on_the_gemini_api() -> None:
    call = make_call(
        "imagen-4.0-generate-001",
        aspect="3:4",
        resolution="2K",
        resolutions=("1K", "2K"),
        n=6,
        output_format="jpeg",
        extra={"seed": 3, "negative_prompt": "fog"},
    )
    request = GEMINI.build(call)
    assert request.url == f"{GEMINI_BASE}/models/imagen-4.0-generate-001:predict"
    assert request.json == {
        "instances": [{"prompt": "a red fox"}],
        "parameters": {
            "sampleCount": 4,
            "includeRaiReason": True,
            "aspectRatio": "3:4",
            "sampleImageSize": "2K",
            "outputOptions": {"mimeType": "image/jpeg"},
        },
    }


def test_imagen_on_vertex_takes_seed_and_negative_prompt() -> None:
    call = make_call(
        "imagen-4.0-fast-generate-001",
        base=VERTEX_BASE,
        api="predict",
        aspect="1:1",
        resolution="1K",
        resolutions=("1K",),
        extra={"seed": 3, "negative_prompt": "fog"},
        options=OAUTH,
        row={"location": "us-central1"},
    )
    request = VERTEX.build(call)
    assert request.url == (
        "https://us-central1-aiplatform.googleapis.com/v1/projects/my-proj/locations/us-central1"
        "/publishers/google/models/imagen-4.0-fast-generate-001:predict"
    )
    assert request.headers == {"Authorization": "Bearer key-or-token"}
    assert request.json["parameters"] == {
        "sampleCount": 1,
        "includeRaiReason": True,
        "aspectRatio": "1:1",
        "negativePrompt": "fog",
        "seed": 3,
        "addWatermark": False,
    }


@pytest.mark.parametrize(("factor", "expected"), [(2, "x2"), (4, "x4"), (None, "x2")])
def test_upscale_request(factor: int | None, expected: str) -> None:
    call = make_call(
        "imagen-4.0-upscale-preview",
        base=VERTEX_BASE,
        api="predict_upscale",
        images=1,
        scale_factor=factor,
        options=OAUTH,
        mode="upscale",
    )
    body = VERTEX.build(call).json
    assert body["instances"] == [
        {
            "prompt": "a red fox",
            "image": {"bytesBase64Encoded": base64.b64encode(PNG).decode(), "mimeType": "image/png"},
        }
    ]
    assert body["parameters"] == {
        "mode": "upscale",
        "sampleCount": 1,
        "upscaleConfig": {"upscaleFactor": expected},
        "includeRaiReason": True,
    }


@pytest.mark.parametrize(("images", "factor"), [(0, 2), (2, 2), (1, 3)])
def test_upscale_refuses_what_it_cannot_send(images: int, factor: int) -> None:
    call = make_call(
        "imagen-4.0-upscale-preview",
        base=VERTEX_BASE,
        api="predict_upscale",
        images=images,
        scale_factor=factor,
        options=OAUTH,
    )
    with pytest.raises(UpstreamError) as caught:
        VERTEX.build(call)
    assert caught.value.failure == "invalid_request"


@pytest.mark.parametrize(
    ("options", "row", "base", "url", "headers"),
    [
        (
            OAUTH,
            {"location": "global"},
            VERTEX_BASE,
            "https://aiplatform.googleapis.com/v1/projects/my-proj/locations/global",
            {"Authorization": "Bearer key-or-token"},
        ),
        (
            OAUTH,
            {},
            VERTEX_BASE,
            "https://aiplatform.googleapis.com/v1/projects/my-proj/locations/global",
            {"Authorization": "Bearer key-or-token"},
        ),
        (
            {**OAUTH, "location": "europe-west4"},
            {"location": "global"},
            VERTEX_BASE,
            "https://europe-west4-aiplatform.googleapis.com/v1/projects/my-proj/locations/europe-west4",
            None,
        ),
        (
            {**OAUTH, "location": "eu"},
            {},
            VERTEX_BASE,
            "https://aiplatform.eu.rep.googleapis.com/v1/projects/my-proj/locations/eu",
            None,
        ),
        (
            {**OAUTH, "api_version": "v1beta1"},
            {"location": "us-central1"},
            "http://127.0.0.1:9/sandbox/vertex",
            "http://127.0.0.1:9/sandbox/vertex/v1beta1/projects/my-proj/locations/us-central1",
            None,
        ),
        (
            {},
            {"location": "us-central1"},
            VERTEX_BASE,
            "https://aiplatform.googleapis.com/v1",
            {"x-goog-api-key": "key-or-token"},
        ),  # express mode
        (
            {"project": "p2"},
            {"location": "us-central1"},
            VERTEX_BASE,
            "https://us-central1-aiplatform.googleapis.com/v1/projects/p2/locations/us-central1",
            {"x-goog-api-key": "key-or-token"},
        ),
    ],
)
def test_vertex_url_and_auth(
    options: dict[str, Any], row: dict[str, Any], base: str, url: str, headers: dict[str, str] | None
) -> None:
    request = VERTEX.build(make_call(base=base, options=options, row=row))
    assert request.url == f"{url}/publishers/google/models/gemini-3-pro-image-preview:generateContent"
    if headers is not None:
        assert request.headers == headers


def test_vertex_with_a_service_account_but_no_project_is_an_auth_problem() -> None:
    with pytest.raises(UpstreamError) as caught:
        VERTEX.build(make_call(base=VERTEX_BASE, options={"service_account": SERVICE_ACCOUNT}))
    assert caught.value.failure == "auth"


def test_unknown_api_option() -> None:
    with pytest.raises(UpstreamError) as caught:
        GEMINI.build(make_call(api="stream"))
    assert caught.value.failure == "not_found"


# --- answers --------------------------------------------------------------------------------------


def candidate(*parts: dict[str, Any], finish: str = "STOP") -> dict[str, Any]:
    return {"content": {"role": "model", "parts": list(parts)}, "finishReason": finish, "index": 0}


IMAGE_PART = {"inlineData": {"mimeType": "image/png", "data": "iVBORw0KGgo="}}


def test_generate_content_answer() -> None:
    usage = {
        "promptTokenCount": 10,
        "candidatesTokenCount": 1290,
        "thoughtsTokenCount": 5,
        "totalTokenCount": 1305,
    }
    body = {
        "candidates": [
            candidate(
                {"text": "draft", "thought": True},
                {"inlineData": {"mimeType": "image/png", "data": "dGhvdWdodA=="}, "thought": True},
                {"text": "Here it is"},
                {**IMAGE_PART, "thoughtSignature": "c2ln"},
            )
        ],
        "usageMetadata": usage,
        "modelVersion": "gemini-3-pro-image-preview",
    }
    result = GEMINI.parse(make_call(), answer(body))
    assert isinstance(result, Done)
    output = result.output
    assert [(i.b64, i.mime) for i in output.images] == [("iVBORw0KGgo=", "image/png")]
    assert output.output_format == "png"
    assert output.usage == {"input_tokens": 10, "output_tokens": 1295, "total_tokens": 1305}


def test_snake_case_inline_data_is_read() -> None:
    body = {"candidates": [candidate({"inline_data": {"mime_type": "image/jpeg", "data": "abcd"}})]}
    output = GEMINI.parse(make_call(), answer(body)).output
    assert [(i.b64, i.mime) for i in output.images] == [
        ("abcd", "image/jpeg")
    ] and output.output_format == "jpeg"


@pytest.mark.parametrize(
    ("body", "failure", "code"),
    [
        ({"promptFeedback": {"blockReason": "PROHIBITED_CONTENT"}}, "content_policy", "PROHIBITED_CONTENT"),
        (
            {"candidates": [{"finishReason": "IMAGE_SAFETY", "finishMessage": "blocked"}]},
            "content_policy",
            "IMAGE_SAFETY",
        ),
        ({"candidates": [candidate(finish="SAFETY")]}, "content_policy", "SAFETY"),
        (
            {"candidates": [candidate(finish="IMAGE_PROHIBITED_CONTENT")]},
            "content_policy",
            "IMAGE_PROHIBITED_CONTENT",
        ),
        ({"candidates": [candidate(finish="NO_IMAGE")]}, "no_image", "NO_IMAGE"),
        ({"candidates": [candidate(finish="IMAGE_OTHER")]}, "no_image", "IMAGE_OTHER"),
        ({"candidates": [candidate({"text": "I can only describe it"})]}, "no_image", "STOP"),
        (
            {"candidates": [candidate({"text": "x", "thought": True}, {**IMAGE_PART, "thought": True})]},
            "no_image",
            "STOP",
        ),
        ({"candidates": [], "usageMetadata": {}}, "no_image", None),
        ({"candidates": "nope"}, "malformed", None),
        ({"data": []}, "malformed", None),
        ([1, 2], "malformed", None),
        (b"<html>", "malformed", None),
    ],
)
def test_generate_content_answers_without_an_image(body: Any, failure: str, code: str | None) -> None:
    with pytest.raises(UpstreamError) as caught:
        GEMINI.parse(make_call(), answer(body))
    assert (caught.value.failure, caught.value.provider_code) == (failure, code)


def test_predict_answer() -> None:
    body = {
        "predictions": [
            {"bytesBase64Encoded": "AAAA", "mimeType": "image/jpeg", "prompt": "a fox, detailed"},
            {"raiFilteredReason": "filtered"},
        ]
    }
    output = GEMINI.parse(make_call("imagen-4.0-generate-001"), answer(body)).output
    assert [(i.b64, i.mime, i.revised_prompt) for i in output.images] == [
        ("AAAA", "image/jpeg", "a fox, detailed")
    ]
    assert output.output_format == "jpeg"


@pytest.mark.parametrize(
    ("body", "failure"),
    [
        (
            {
                "predictions": [
                    {"raiFilteredReason": "Your current safety filter threshold filtered out the image"}
                ]
            },
            "content_policy",
        ),
        ({}, "no_image"),
        ({"predictions": []}, "no_image"),
        ({"predictions": {"a": 1}}, "malformed"),
        ({"predictions": ["x"]}, "malformed"),
        ("text", "malformed"),
    ],
)
def test_predict_answers_without_an_image(body: Any, failure: str) -> None:
    with pytest.raises(UpstreamError) as caught:
        VERTEX.parse(make_call("imagen-4.0-generate-001", options=OAUTH), answer(body))
    assert caught.value.failure == failure


# --- errors ---------------------------------------------------------------------------------------


def rpc(
    status: int, name: str, message: str = "m", details: list[dict[str, Any]] | None = None
) -> UpstreamResponse:
    return answer(
        {"error": {"code": status, "message": message, "status": name, "details": details or []}}, status
    )


INFO = "type.googleapis.com/google.rpc.ErrorInfo"


@pytest.mark.parametrize(
    ("response", "failure", "code", "retry_after"),
    [
        (rpc(400, "INVALID_ARGUMENT"), "invalid_request", "INVALID_ARGUMENT", None),
        (
            rpc(
                400,
                "INVALID_ARGUMENT",
                "API key not valid. Please pass a valid API key.",
                [{"@type": INFO, "reason": "API_KEY_INVALID", "domain": "googleapis.com"}],
            ),
            "auth",
            "API_KEY_INVALID",
            None,
        ),
        (
            rpc(400, "FAILED_PRECONDITION", "User location is not supported for the API use."),
            "quota",
            "FAILED_PRECONDITION",
            None,
        ),
        (
            rpc(
                400,
                "INVALID_ARGUMENT",
                "Image generation failed with the following error: The prompt could not be submitted. "
                "This prompt contains sensitive words that violate Google's Responsible AI practices.",
            ),
            "content_policy",
            "INVALID_ARGUMENT",
            None,
        ),
        (
            rpc(401, "UNAUTHENTICATED", details=[{"@type": INFO, "reason": "ACCESS_TOKEN_EXPIRED"}]),
            "auth",
            "ACCESS_TOKEN_EXPIRED",
            None,
        ),
        (rpc(403, "PERMISSION_DENIED"), "auth", "PERMISSION_DENIED", None),
        (
            rpc(403, "PERMISSION_DENIED", details=[{"@type": INFO, "reason": "BILLING_DISABLED"}]),
            "quota",
            "BILLING_DISABLED",
            None,
        ),
        (rpc(404, "NOT_FOUND"), "not_found", "NOT_FOUND", None),
        (
            rpc(
                429,
                "RESOURCE_EXHAUSTED",
                details=[{"@type": "type.googleapis.com/google.rpc.RetryInfo", "retryDelay": "41s"}],
            ),
            "rate_limited",
            "RESOURCE_EXHAUSTED",
            41.0,
        ),
        (
            rpc(429, "RESOURCE_EXHAUSTED", details=[{"retryDelay": "0.5s"}]),
            "rate_limited",
            "RESOURCE_EXHAUSTED",
            0.5,
        ),
        (rpc(500, "INTERNAL"), "server", "INTERNAL", None),
        (rpc(503, "UNAVAILABLE"), "overloaded", "UNAVAILABLE", None),
        (rpc(504, "DEADLINE_EXCEEDED"), "timeout", "DEADLINE_EXCEEDED", None),
        (answer(b"<html>bad gateway</html>", 502), "server", None, None),
        (answer(b"", 429, {"retry-after": "3"}), "rate_limited", None, 3.0),
        (
            answer([{"error": {"code": 404, "message": "gone", "status": "NOT_FOUND"}}], 404),
            "not_found",
            "NOT_FOUND",
            None,
        ),
    ],
)
def test_error_table(
    response: UpstreamResponse, failure: str, code: str | None, retry_after: float | None
) -> None:
    error = classify_google_error(response)
    assert (error.failure, error.provider_code, error.retry_after, error.status) == (
        failure,
        code,
        retry_after,
        response.status,
    )
    with pytest.raises(UpstreamError):
        GEMINI.parse(make_call(), response)


# --- OAuth ----------------------------------------------------------------------------------------


def _segment(text: str) -> dict[str, Any]:
    result: dict[str, Any] = json.loads(base64.urlsafe_b64decode(text + "=" * (-len(text) % 4)))
    return result


def test_assertion_is_a_signed_rs256_jwt() -> None:
    account = load_service_account({"service_account": SERVICE_ACCOUNT})
    header, claims, signature = build_assertion(account, 1_000_000.7).split(".")
    assert _segment(header) == {"alg": "RS256", "typ": "JWT", "kid": account.key_id}
    assert _segment(claims) == {
        "iss": account.client_email,
        "scope": "https://www.googleapis.com/auth/cloud-platform",
        "aud": "https://oauth2.googleapis.com/token",
        "iat": 1_000_000,
        "exp": 1_003_600,
    }
    private = serialization.load_pem_private_key(SANDBOX_PRIVATE_KEY.encode(), password=None)
    assert isinstance(private, rsa.RSAPrivateKey)
    raw = base64.urlsafe_b64decode(signature + "=" * (-len(signature) % 4))
    private.public_key().verify(raw, f"{header}.{claims}".encode(), padding.PKCS1v15(), hashes.SHA256())


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"service_account": "{not json"}, "not valid JSON"),
        ({"service_account": {"client_email": "x"}}, "needs 'client_email' and 'private_key'"),
        ({"service_account": {"client_email": "x", "private_key": "nope"}}, "not a PEM private key"),
        ({"service_account_file": "/nonexistent/key.json"}, "cannot read service_account_file"),
    ],
)
def test_bad_service_accounts_are_config_errors(options: dict[str, Any], message: str) -> None:
    with pytest.raises(ConfigError, match=message) as caught:
        load_service_account(options)
    assert "PRIVATE KEY" not in str(caught.value)


def test_service_account_file_and_project_default(tmp_path: Any) -> None:
    path = tmp_path / "key.json"
    path.write_text(SERVICE_ACCOUNT)
    options: dict[str, Any] = {"service_account_file": str(path)}
    source = vertex_credentials(options, "")
    assert isinstance(source, TokenSource) and options["project"] == "sandbox-project"
    assert "PRIVATE" not in repr(source) and "PRIVATE" not in repr(source.account)


def test_token_timeout_is_a_provider_option() -> None:
    default = vertex_credentials({"service_account": SERVICE_ACCOUNT}, "")
    short = vertex_credentials({"service_account": SERVICE_ACCOUNT, "token_timeout_s": 2.5}, "")
    assert isinstance(default, TokenSource) and default._timeout_s == 10.0
    assert isinstance(short, TokenSource) and short._timeout_s == 2.5


def test_without_a_service_account_the_api_key_is_the_secret() -> None:
    assert asyncio.run(vertex_credentials({}, "AQ.express-key")()) == "AQ.express-key"


@pytest.mark.parametrize(
    ("status", "body", "failure"),
    [
        (400, {"error": "invalid_grant", "error_description": "Invalid JWT Signature."}, "auth"),
        (400, {"error": "unsupported_grant_type"}, "auth"),
        (401, {"error": "invalid_client"}, "auth"),
        (503, {"error": "temporarily_unavailable"}, "overloaded"),
        (500, b"oops", "server"),
        (200, {"token_type": "Bearer"}, "malformed"),
        (200, b"<html>", "malformed"),
    ],
)
def test_token_endpoint_failures(status: int, body: Any, failure: str) -> None:
    raw = body if isinstance(body, bytes) else orjson.dumps(body)
    with pytest.raises(UpstreamError) as caught:
        parse_token_answer(status, raw)
    assert caught.value.failure == failure


def test_token_answer() -> None:
    assert parse_token_answer(200, b'{"access_token": "ya29.x", "expires_in": 120}') == ("ya29.x", 120.0)
    assert parse_token_answer(200, b'{"access_token": "ya29.x"}') == ("ya29.x", 3600.0)


def test_token_source_fetches_once_and_caches() -> None:
    """A real local token endpoint: the form posted, one fetch for concurrent callers, then the cache."""
    posted: list[dict[str, str]] = []

    async def token(request: web.Request) -> web.Response:
        posted.append(dict(await request.post()))  # type: ignore[arg-type]
        await asyncio.sleep(0.05)
        return web.json_response({"access_token": f"ya29.t{len(posted)}", "expires_in": 3599})

    async def scenario() -> list[str]:
        app = web.Application()
        app.router.add_post("/token", token)
        runner = web.AppRunner(app)
        await runner.setup()
        site = web.TCPSite(runner, "127.0.0.1", 0)
        await site.start()
        port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
        try:
            info = sandbox_service_account(f"http://127.0.0.1:{port}/token")
            source = vertex_credentials({"service_account": info}, "")
            tokens = await asyncio.gather(*(source() for _ in range(5)))
            return [*tokens, await source()]
        finally:
            await runner.cleanup()

    started = time.monotonic()
    assert asyncio.run(scenario()) == ["ya29.t1"] * 6
    assert len(posted) == 1 and time.monotonic() - started < 5
    assert posted[0]["grant_type"] == "urn:ietf:params:oauth:grant-type:jwt-bearer"
    assert posted[0]["assertion"].count(".") == 2


def test_unreachable_token_endpoint_is_a_transport_failure() -> None:
    source = vertex_credentials({"service_account": sandbox_service_account("http://127.0.0.1:9/token")}, "")
    with pytest.raises(UpstreamError) as caught:
        asyncio.run(source())
    assert caught.value.failure == "transport"


@pytest.mark.parametrize(
    ("adapter", "model_id", "mime", "applied"),
    [
        (VERTEX, "gemini-3-pro-image-preview", "image/jpeg", True),  # imageOutputOptions on Vertex
        (GEMINI, "gemini-3-pro-image-preview", "image/png", False),  # the Gemini API has none
        (GEMINI, "imagen-4.0-generate-001", "image/jpeg", True),  # :predict outputOptions
    ],
)
def test_parse_says_whether_the_compression_was_sent(
    adapter: GeminiAdapter | VertexAdapter, model_id: str, mime: str, applied: bool
) -> None:
    call = make_call(model_id, output_format="jpeg")
    call.request.output_compression = 5
    data = base64.b64encode(PNG).decode()
    if model_id.startswith("imagen"):
        body: dict[str, Any] = {"predictions": [{"bytesBase64Encoded": data, "mimeType": mime}]}
    else:
        parts = [{"inlineData": {"mimeType": mime, "data": data}}]
        body = {"candidates": [{"content": {"parts": parts}, "finishReason": "STOP"}]}
    done = adapter.parse(call, answer(body))
    assert isinstance(done, Done) and done.output.compression_applied is applied
