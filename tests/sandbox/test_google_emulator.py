"""The Gemini API and Vertex AI emulators, driven by the official `google-genai` SDK over real HTTP.

Vertex runs the whole service-account flow: google-auth signs a JWT with the sandbox key, trades it
at the emulator's `/token`, and the model endpoints accept only the token it got back.
"""

from __future__ import annotations

import io
import json
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import google.auth.credentials
import httpx
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from google import genai
from google.auth.exceptions import RefreshError
from google.genai import errors, types
from google.oauth2 import service_account
from PIL import Image
from sandbox_server import RunningServer

from mediarouter.sandbox.google.oauth import TOKEN_LIFETIME_S, TokenIssuer

CLOUD_PLATFORM = ["https://www.googleapis.com/auth/cloud-platform"]
pytestmark = pytest.mark.filterwarnings("ignore::google.genai._common.ExperimentalWarning")


@dataclass
class Recorder:
    """What the SDK sent: (method, path, headers, JSON body) of every request."""

    sent: list[tuple[str, str, dict[str, str], Any]] = field(default_factory=list)

    def __call__(self, request: httpx.Request) -> None:
        body = json.loads(request.content) if request.content.startswith(b"{") else None
        self.sent.append((request.method, request.url.path, dict(request.headers), body))

    def client(self) -> httpx.Client:
        return httpx.Client(event_hooks={"request": [self]}, timeout=10)


@pytest.fixture(scope="module")
def recorder() -> Recorder:
    return Recorder()


@pytest.fixture(scope="module")  # an SDK client takes a while to build: one per module
def gemini(sandbox: RunningServer, recorder: Recorder) -> Iterator[genai.Client]:
    options = types.HttpOptions(base_url=f"{sandbox.base_url}/sandbox/gemini", httpx_client=recorder.client())
    yield genai.Client(api_key="AIza-test", http_options=options)


def service_account_info(sandbox: RunningServer) -> dict[str, str]:
    with urllib.request.urlopen(
        f"{sandbox.base_url}/sandbox/vertex/service-account.json", timeout=10
    ) as answer:
        info: dict[str, str] = json.loads(answer.read())
    return info


def vertex_client(
    sandbox: RunningServer, recorder: Recorder, credentials: Any, location: str = "us-central1"
) -> genai.Client:
    options = types.HttpOptions(base_url=f"{sandbox.base_url}/sandbox/vertex", httpx_client=recorder.client())
    return genai.Client(
        vertexai=True,
        project="sandbox-project",
        location=location,
        credentials=credentials,
        http_options=options,
    )


@pytest.fixture(scope="module")
def vertex(sandbox: RunningServer, recorder: Recorder) -> genai.Client:
    credentials = service_account.Credentials.from_service_account_info(
        service_account_info(sandbox), scopes=CLOUD_PLATFORM
    )
    return vertex_client(sandbox, recorder, credentials)


def picture(data: bytes | None) -> Image.Image:
    assert data is not None
    image = Image.open(io.BytesIO(data))
    image.load()
    return image


def png(size: tuple[int, int]) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", size, (20, 120, 200)).save(out, "PNG")
    return out.getvalue()


def image_parts(response: types.GenerateContentResponse) -> list[types.Part]:
    assert response.candidates and response.candidates[0].content and response.candidates[0].content.parts
    return [p for p in response.candidates[0].content.parts if p.inline_data and not p.thought]


# --- Gemini API -----------------------------------------------------------------------------------


def test_gemini_generate_image(gemini: genai.Client, recorder: Recorder) -> None:
    config = types.GenerateContentConfig(
        response_modalities=["IMAGE"], image_config=types.ImageConfig(aspect_ratio="16:9")
    )
    response = gemini.models.generate_content(
        model="gemini-2.5-flash-image", contents="a red bicycle", config=config
    )
    (part,) = image_parts(response)
    assert part.inline_data is not None and part.inline_data.mime_type == "image/png"
    assert picture(part.inline_data.data).size == (1344, 768)
    assert response.usage_metadata is not None and response.usage_metadata.candidates_token_count == 1290
    method, path, headers, body = recorder.sent[-1]
    assert (method, path) == ("POST", "/sandbox/gemini/v1/models/gemini-2.5-flash-image:generateContent")
    assert headers["x-goog-api-key"] == "AIza-test"
    assert body["generationConfig"] == {
        "responseModalities": ["IMAGE"],
        "imageConfig": {"aspectRatio": "16:9"},
    }


def test_gemini_edit_follows_the_input_shape(gemini: genai.Client, recorder: Recorder) -> None:
    source = types.Part.from_bytes(data=png((96, 64)), mime_type="image/png")
    response = gemini.models.generate_content(model="gemini-2.5-flash-image", contents=["add a hat", source])
    assert response.candidates and response.candidates[0].content and response.candidates[0].content.parts
    texts = [p.text for p in response.candidates[0].content.parts if p.text]
    (part,) = image_parts(response)
    assert part.inline_data is not None and picture(part.inline_data.data).size == (1248, 832)  # 3:2
    assert texts and "edited" in texts[0]  # no responseModalities: text and image
    parts = recorder.sent[-1][3]["contents"][0]["parts"]
    assert parts[0] == {"text": "add a hat"}
    assert parts[1]["inlineData"]["mime_type"] == "image/png"  # sic: the SDK mixes camelCase and snake_case


def test_gemini_3_signs_parts_and_shows_thoughts(gemini: genai.Client) -> None:
    config = types.GenerateContentConfig(
        response_modalities=["TEXT", "IMAGE"],
        image_config=types.ImageConfig(aspect_ratio="1:1", image_size="2K"),
        thinking_config=types.ThinkingConfig(include_thoughts=True),
    )
    response = gemini.models.generate_content(
        model="gemini-3-pro-image-preview", contents="a poster", config=config
    )
    assert response.candidates and response.candidates[0].content and response.candidates[0].content.parts
    parts = response.candidates[0].content.parts
    assert parts[0].thought is True and parts[-1].thought_signature
    (image,) = image_parts(response)
    assert image.inline_data is not None and picture(image.inline_data.data).size == (2048, 2048)


@pytest.mark.parametrize(
    ("config", "message"),
    [
        (types.GenerateContentConfig(image_config=types.ImageConfig(aspect_ratio="7:3")), "aspect ratio"),
        (types.GenerateContentConfig(image_config=types.ImageConfig(image_size="4K")), "image size"),
    ],
)
def test_gemini_rejects_what_the_model_cannot_do(gemini: genai.Client, config: Any, message: str) -> None:
    with pytest.raises(errors.ClientError) as caught:
        gemini.models.generate_content(model="gemini-2.5-flash-image", contents="x", config=config)
    assert caught.value.code == 400 and caught.value.status == "INVALID_ARGUMENT"
    assert message in (caught.value.message or "").lower()


def test_gemini_unknown_model(gemini: genai.Client) -> None:
    with pytest.raises(errors.ClientError) as caught:
        gemini.models.generate_content(model="imagen-9", contents="x")
    assert caught.value.code == 404 and "models/imagen-9 is not found" in (caught.value.message or "")


def test_gemini_rate_limit_carries_a_retry_delay(gemini: genai.Client, sandbox: RunningServer) -> None:
    sandbox.set_fault(provider="gemini", mode="error", status=429)
    with pytest.raises(errors.ClientError) as caught:
        gemini.models.generate_content(model="gemini-2.5-flash-image", contents="x")
    assert (caught.value.code, caught.value.status) == (429, "RESOURCE_EXHAUSTED")
    assert caught.value.details["error"]["details"][0]["retryDelay"] == "9s"


@pytest.mark.parametrize(("mode", "finish"), [("content_policy", "IMAGE_SAFETY"), ("empty", "STOP")])
def test_gemini_refusals_are_answers_without_an_image(
    gemini: genai.Client, sandbox: RunningServer, mode: str, finish: str
) -> None:
    sandbox.set_fault(provider="gemini", mode=mode)
    response = gemini.models.generate_content(model="gemini-2.5-flash-image", contents="x")
    assert response.candidates and response.candidates[0].finish_reason == finish
    assert not any(p.inline_data for p in (response.candidates[0].content or types.Content()).parts or [])


def test_gemini_imagen_over_plain_http(sandbox: RunningServer) -> None:
    """The SDK no longer sends Imagen to the Gemini API; the endpoint still exists."""
    body = {"instances": [{"prompt": "a fox"}], "parameters": {"sample_count": 2, "aspect_ratio": "9:16"}}
    answer = httpx.post(
        f"{sandbox.base_url}/sandbox/gemini/v1beta/models/imagen-4.0-generate-001:predict",
        json=body,
        headers={"x-goog-api-key": "AIza-test"},
        timeout=10,
    )
    predictions = answer.json()["predictions"]
    assert len(predictions) == 2 and predictions[0]["mimeType"] == "image/png"
    negative = {"instances": [{"prompt": "a fox"}], "parameters": {"negativePrompt": "fog"}}
    refused = httpx.post(answer.request.url, json=negative, headers={"x-goog-api-key": "k"}, timeout=10)
    assert refused.status_code == 400 and "not supported in Gemini API" in refused.json()["error"]["message"]


def test_gemini_without_a_key(sandbox: RunningServer) -> None:
    url = f"{sandbox.base_url}/sandbox/gemini/v1beta/models/gemini-2.5-flash-image:generateContent"
    answer = httpx.post(url, json={"contents": [{"parts": [{"text": "x"}]}]}, timeout=10)
    assert answer.status_code == 403 and answer.json()["error"]["status"] == "PERMISSION_DENIED"


# --- Vertex AI ------------------------------------------------------------------------------------


def test_vertex_generate_content_with_a_service_account(vertex: genai.Client, recorder: Recorder) -> None:
    config = types.GenerateContentConfig(
        response_modalities=["IMAGE"],
        image_config=types.ImageConfig(aspect_ratio="4:3", output_mime_type="image/jpeg"),
    )
    response = vertex.models.generate_content(
        model="gemini-3-pro-image-preview", contents="a dog", config=config
    )
    (part,) = image_parts(response)
    assert part.inline_data is not None and part.inline_data.mime_type == "image/jpeg"
    image = picture(part.inline_data.data)
    assert (image.size, image.format) == ((1200, 896), "JPEG")
    method, path, headers, body = recorder.sent[-1]
    assert path == (
        "/sandbox/vertex/v1beta1/projects/sandbox-project/locations/us-central1"
        "/publishers/google/models/gemini-3-pro-image-preview:generateContent"
    )
    assert headers["authorization"].startswith("Bearer ya29.sandbox-")
    assert body["contents"][0]["role"] == "user"
    assert body["generationConfig"]["imageConfig"]["imageOutputOptions"] == {"mimeType": "image/jpeg"}


def test_vertex_generate_images(vertex: genai.Client, recorder: Recorder) -> None:
    config = types.GenerateImagesConfig(
        number_of_images=3, aspect_ratio="16:9", output_mime_type="image/jpeg", seed=5, add_watermark=False,
        negative_prompt="fog", person_generation=types.PersonGeneration.ALLOW_ADULT,
    )  # fmt: skip
    response = vertex.models.generate_images(model="imagen-4.0-generate-001", prompt="a fox", config=config)
    assert response.generated_images and len(response.generated_images) == 3
    sizes = {picture(g.image.image_bytes if g.image else None).size for g in response.generated_images}
    assert sizes == {(1408, 768)}
    parameters = recorder.sent[-1][3]["parameters"]
    assert parameters["sampleCount"] == 3 and parameters["personGeneration"] == "ALLOW_ADULT"


def test_vertex_seed_needs_the_watermark_off(vertex: genai.Client) -> None:
    with pytest.raises(errors.ClientError) as caught:
        vertex.models.generate_images(
            model="imagen-4.0-generate-001", prompt="a fox", config=types.GenerateImagesConfig(seed=5)
        )
    assert caught.value.code == 400 and "watermark" in (caught.value.message or "")


def test_vertex_rai_filtered_images(vertex: genai.Client, sandbox: RunningServer) -> None:
    sandbox.set_fault(provider="vertex", mode="content_policy")
    config = types.GenerateImagesConfig(number_of_images=2, include_rai_reason=True)
    response = vertex.models.generate_images(model="imagen-4.0-generate-001", prompt="x", config=config)
    assert response.generated_images and len(response.generated_images) == 2
    assert all("safety filter" in (g.rai_filtered_reason or "") for g in response.generated_images)
    assert all(g.image is None or g.image.image_bytes is None for g in response.generated_images)


def test_vertex_upscale_image(vertex: genai.Client, recorder: Recorder) -> None:
    source = types.Image(image_bytes=png((80, 60)), mime_type="image/png")
    response = vertex.models.upscale_image(
        model="imagen-4.0-upscale-preview", image=source, upscale_factor="x4"
    )
    assert response.generated_images and response.generated_images[0].image
    assert picture(response.generated_images[0].image.image_bytes).size == (320, 240)
    parameters = recorder.sent[-1][3]["parameters"]
    assert parameters["mode"] == "upscale" and parameters["upscaleConfig"] == {"upscaleFactor": "x4"}


def test_vertex_express_mode(sandbox: RunningServer, recorder: Recorder) -> None:
    options = types.HttpOptions(base_url=f"{sandbox.base_url}/sandbox/vertex", httpx_client=recorder.client())
    client = genai.Client(vertexai=True, api_key="AQ.express-key", http_options=options)
    response = client.models.generate_content(model="gemini-2.5-flash-image", contents="a dog")
    assert image_parts(response)
    _, path, headers, _ = recorder.sent[-1]
    assert path == "/sandbox/vertex/v1beta1/publishers/google/models/gemini-2.5-flash-image:generateContent"
    assert headers["x-goog-api-key"] == "AQ.express-key"


class FixedToken(google.auth.credentials.Credentials):  # type: ignore[misc]
    """Credentials whose token did not come from the emulator."""

    def __init__(self, token: str) -> None:
        super().__init__()
        self.token = token

    def refresh(self, request: object) -> None:
        pass


def test_vertex_refuses_a_token_it_did_not_issue(sandbox: RunningServer, recorder: Recorder) -> None:
    client = vertex_client(sandbox, recorder, FixedToken("ya29.forged"))
    with pytest.raises(errors.ClientError) as caught:
        client.models.generate_content(model="gemini-2.5-flash-image", contents="x")
    assert (caught.value.code, caught.value.status) == (401, "UNAUTHENTICATED")
    assert caught.value.details["error"]["details"][0]["reason"] == "ACCESS_TOKEN_TYPE_UNSUPPORTED"


def test_token_endpoint_checks_the_signature(sandbox: RunningServer, recorder: Recorder) -> None:
    stranger = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    info = service_account_info(sandbox) | {
        "private_key": stranger.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        ).decode()
    }
    credentials = service_account.Credentials.from_service_account_info(info, scopes=CLOUD_PLATFORM)
    with pytest.raises(RefreshError, match="Invalid JWT Signature"):
        vertex_client(sandbox, recorder, credentials).models.generate_content(
            model="gemini-2.5-flash-image", contents="x"
        )


@pytest.mark.parametrize(
    ("form", "error"),
    [
        ({"grant_type": "client_credentials"}, "unsupported_grant_type"),
        ({"grant_type": "urn:ietf:params:oauth:grant-type:jwt-bearer"}, "invalid_request"),
        ({"grant_type": "urn:ietf:params:oauth:grant-type:jwt-bearer", "assertion": "a.b"}, "invalid_grant"),
    ],
)
def test_token_endpoint_refusals(sandbox: RunningServer, form: dict[str, str], error: str) -> None:
    answer = httpx.post(f"{sandbox.base_url}/sandbox/vertex/token", data=form, timeout=10)
    assert answer.status_code == 400 and answer.json()["error"] == error


def test_vertex_requires_a_role_per_turn(sandbox: RunningServer, vertex: genai.Client) -> None:
    vertex.models.generate_content(model="gemini-2.5-flash-image", contents="warm up")  # mints a token
    url = (
        f"{sandbox.base_url}/sandbox/vertex/v1/projects/p/locations/global"
        "/publishers/google/models/gemini-2.5-flash-image:generateContent"
    )
    body = {"contents": [{"parts": [{"text": "x"}]}]}
    answer = httpx.post(url, json=body, headers={"x-goog-api-key": "k"}, timeout=10)
    assert (
        answer.status_code == 400
        and answer.json()["error"]["message"] == "Please use a valid role: user, model."
    )


def test_issued_tokens_expire() -> None:
    now = [0.0]
    issuer = TokenIssuer(clock=lambda: now[0])
    token = str(issuer.issue()["access_token"])
    assert issuer.valid(token) and not issuer.expired(token)
    now[0] = TOKEN_LIFETIME_S + 1
    assert not issuer.valid(token) and issuer.expired(token) and not issuer.valid("ya29.other")
