"""Custom OpenAI-compatible rows: which keys apply where, `response_format`, and `media_hosts`
through the driver (which image URLs are downloaded, and how)."""

from __future__ import annotations

import asyncio
import re
from typing import Any

import orjson
import pytest

from mediarouter.catalog.models import Catalog, ModelSpec, Offering, Price, load_catalog
from mediarouter.errors import ConfigError
from mediarouter.providers.base import Call, UpstreamError, UpstreamRequest, UpstreamResponse
from mediarouter.providers.custom import OpenAICompatibleAdapter, add_custom_offerings
from mediarouter.providers.driver import PollPolicy, run_attempt
from mediarouter.schemas.images import ImageRequest, InputImage
from mediarouter.settings import ProviderConfig

BASE = "https://images.acme.example/v1"
ADAPTER = OpenAICompatibleAdapter("acme", "Acme Images")
PNG = b"\x89PNG\r\n\x1a\nfake"


def catalog_with(*rows: dict[str, Any]) -> Catalog:
    conf = ProviderConfig("acme", base_url=BASE, options={"kind": "openai_compatible", "models": list(rows)})
    return add_custom_offerings(load_catalog(), {"acme": conf}, "config.yaml")


def model(catalog: Catalog, model_id: str) -> ModelSpec:
    return next(m for m in catalog.models if m.id == model_id)


def offering(catalog: Catalog, model_id: str) -> Offering:
    found = model(catalog, model_id).offering("acme")
    assert found is not None
    return found


def make_call(model_id: str, options: dict[str, Any] | None = None, images: int = 0) -> Call:
    request = ImageRequest(
        mode="edit" if images else "generate",
        model=model_id,
        prompt="a red fox",
        images=[InputImage(PNG, "image/png", 64, 64) for _ in range(images)],
    )
    served = Offering("acme", model_id, Price("image", 0.01), options=options or {})
    model = ModelSpec(model_id, model_id, "acme", ("generate", "edit"), (served,))
    return Call(request, model, served, BASE, "k", "1024x1024")


def sent_format(call: Call) -> str | None:
    request = ADAPTER.build(call)
    if request.json is not None:
        return request.json.get("response_format")  # type: ignore[no-any-return]
    parts = {p.name: p.value for p in request.form or []}
    return parts.get("response_format")  # type: ignore[return-value]


@pytest.mark.parametrize(
    ("model_id", "option", "images", "expected"),
    [
        ("dall-e-2", None, 0, "b64_json"),  # OpenAI's rule when the row says nothing
        ("sdxl-turbo", None, 0, None),
        ("sdxl-turbo", "b64_json", 0, "b64_json"),
        ("sdxl-turbo", "url", 0, "url"),
        ("sdxl-turbo", "url", 1, "url"),  # multipart edits too
        ("dall-e-2", "omit", 0, None),
    ],
)
def test_response_format_row_option(
    model_id: str, option: str | None, images: int, expected: str | None
) -> None:
    options = {"response_format": option} if option else {}
    assert sent_format(make_call(model_id, options, images)) == expected


def test_row_options_land_in_the_offering() -> None:
    catalog = catalog_with(
        {
            "id": "acme-cdn",
            "model_id": "sdxl-turbo",
            "response_format": "url",
            "media_hosts": ["CDN.Acme.example.", "img.acme-cdn.net"],
        },
        {"id": "dall-e-2", "media_hosts": ["cdn.acme.example"]},
    )
    assert offering(catalog, "acme-cdn").options == {
        "response_format": "url",
        "media_hosts": ("cdn.acme.example", "img.acme-cdn.net"),
    }
    assert offering(catalog, "dall-e-2").options == {"media_hosts": ("cdn.acme.example",)}


@pytest.mark.parametrize(
    ("row", "message"),
    [
        ({"id": "x", "response_format": "png"}, "response_format must be one of b64_json, url, omit"),
        ({"id": "x", "media_hosts": "cdn.acme.example"}, "media_hosts must list host names"),
        ({"id": "x", "media_hosts": []}, "media_hosts must list host names"),
        ({"id": "x", "media_hosts": ["https://cdn.acme.example/img"]}, "no scheme, port or path"),
        ({"id": "x", "media_hosts": ["cdn.acme.example:8443"]}, "no scheme, port or path"),
        ({"id": "x", "size": ["1024x1024"]}, "unknown key 'size' (did you mean 'sizes'?)"),
        (
            {"id": "dall-e-2", "sizes": ["512x512"], "aliases": ["acme-dalle"], "max_n": 1},
            "model 'dall-e-2': sizes, aliases do not apply: 'dall-e-2' is already in the catalog",
        ),
        ({"id": "dall-e-2", "max_n": 20}, "max_n may only narrow the model's"),
        ({"id": "dall-e-2", "modes": ["generate", "upscale"]}, "modes may only narrow the model's"),
    ],
)
def test_rows_that_cannot_be_honoured_stop_start_up(row: dict[str, Any], message: str) -> None:
    with pytest.raises(ConfigError, match=re.escape(message)):
        catalog_with(row)


def test_a_row_joining_a_shipped_model_keeps_the_catalog_capabilities() -> None:
    shipped = model(load_catalog(), "dall-e-2")
    joined = model(catalog_with({"id": "dall-e-2", "price": {"per": "image", "usd": 0.01}}), "dall-e-2")
    assert (joined.sizes, joined.max_n, joined.modes) == (shipped.sizes, shipped.max_n, shipped.modes)
    assert [o.provider for o in joined.offerings] == [*(o.provider for o in shipped.offerings), "acme"]


def test_a_joining_row_narrows_its_own_offering_only() -> None:
    shipped = model(load_catalog(), "gpt-image-1")
    catalog = catalog_with(
        {"id": "gpt-image-1", "modes": ["generate"], "max_n": 1, "output_formats": ["png"]}
    )
    joined = model(catalog, "gpt-image-1")
    acme = offering(catalog, "gpt-image-1")
    assert (acme.modes, acme.max_n, acme.output_formats) == (("generate",), 1, ("png",))
    assert (joined.modes, joined.max_n, joined.output_formats) == (
        shipped.modes,
        shipped.max_n,
        shipped.output_formats,
    )
    served = joined.served_by(acme)
    assert (served.modes, served.max_n, served.sizes) == (("generate",), 1, shipped.sizes)


class RecordingTransport:
    """Answers the generation with `urls` and records each download the driver asks for."""

    def __init__(self, urls: list[str]) -> None:
        self.urls = urls
        self.fetched: list[tuple[str, bool]] = []

    async def send(self, provider: str, request: UpstreamRequest, timeout_s: float) -> UpstreamResponse:
        body = {"created": 1, "data": [{"url": u} for u in self.urls]}
        return UpstreamResponse(200, {}, orjson.dumps(body))

    async def fetch(
        self, provider: str, url: str, timeout_s: float, trusted: bool = True
    ) -> tuple[bytes, str | None]:
        self.fetched.append((url, trusted))
        return PNG, "image/png"


def attempt(call: Call, transport: RecordingTransport) -> Any:
    async def run() -> Any:
        deadline = asyncio.get_running_loop().time() + 5
        return await run_attempt(ADAPTER, call, transport, deadline, PollPolicy(0.01, 0.01, 1.0))  # type: ignore[arg-type]

    return asyncio.run(run())


def test_media_hosts_let_cdn_urls_through_the_ssrf_guarded_fetch() -> None:
    urls = [f"{BASE}/files/a.png", "https://cdn.acme.example/b.png", "https://eu.cdn.acme.example/c.png"]
    transport = RecordingTransport(urls)
    output = attempt(make_call("sdxl-turbo", {"media_hosts": ("cdn.acme.example",)}), transport)
    assert [img.data for img in output.images] == [PNG] * 3
    # the base URL's host is the operator's own (trusted); a CDN goes through the SSRF guard
    assert transport.fetched == [(urls[0], True), (urls[1], False), (urls[2], False)]


def test_without_media_hosts_a_cdn_url_is_refused_before_any_download() -> None:
    transport = RecordingTransport(["https://cdn.acme.example/b.png"])
    with pytest.raises(UpstreamError) as caught:
        attempt(make_call("sdxl-turbo"), transport)
    assert caught.value.failure == "malformed" and transport.fetched == []
    assert caught.value.message == (
        "refusing to download an image from cdn.acme.example: not one of acme's media hosts"
        " (images.acme.example)"
    )


def test_a_look_alike_host_is_not_a_media_host() -> None:
    transport = RecordingTransport(["https://cdn.acme.example.evil.test/b.png"])
    with pytest.raises(UpstreamError, match="from cdn.acme.example.evil.test"):
        attempt(make_call("sdxl-turbo", {"media_hosts": ("cdn.acme.example",)}), transport)
    assert transport.fetched == []
