"""Issue 2 end to end: the official openai SDK against the gateway in sandbox mode."""

from __future__ import annotations

import asyncio
import io

import openai
import pytest

from imaging import decode, mask_png, png


def test_generate_b64_exact_size(sdk: openai.OpenAI) -> None:
    raw = sdk.images.with_raw_response.generate(
        model="gpt-image-1.5", prompt="a red bicycle on a beach", size="1536x1024", response_format="b64_json"
    )
    result = raw.parse()
    assert len(result.data) == 1
    im = decode(result.data[0])
    assert im.size == (1536, 1024) and im.format == "PNG"
    assert result.size == "1536x1024"
    extra = result.model_extra or {}
    meta = extra["metadata"]
    assert meta["provider"] == "openai" and meta["executed_model"] == "openai/gpt-image-1.5"
    assert meta["cost"] > 0 and meta["cost_currency"] == "USD"
    assert [a["status"] for a in meta["attempts"]] == ["success"]
    assert extra["id"].startswith("req_")
    assert raw.headers["x-mediarouter-request-id"] == extra["id"]
    assert raw.headers["x-mediarouter-provider"] == "openai"
    assert raw.headers["x-mediarouter-model"] == "openai/gpt-image-1.5"
    assert float(raw.headers["x-mediarouter-cost"]) == pytest.approx(meta["cost"])
    assert float(raw.headers["x-mediarouter-overhead-ms"]) >= 0
    assert result.usage is not None and result.usage.total_tokens > 0


def test_generate_url_is_the_default_and_downloads(sdk: openai.OpenAI) -> None:
    result = sdk.images.generate(model="gpt-image-1-mini", prompt="a lighthouse", size="1024x1024")
    url = result.data[0].url
    assert url and "/v1/media/" in url and "signature=" in url
    assert decode(result.data[0]).size == (1024, 1024)


def test_several_images_and_output_format(sdk: openai.OpenAI) -> None:
    result = sdk.images.generate(
        model="gpt-image-1",
        prompt="three cats",
        n=3,
        size="1024x1024",
        output_format="webp",
        response_format="b64_json",
    )
    assert len(result.data) == 3
    assert all(decode(d).format == "WEBP" for d in result.data)


def test_n_is_emulated_for_single_image_models(sdk: openai.OpenAI) -> None:
    result = sdk.images.generate(model="dall-e-3", prompt="two dogs", n=2, response_format="b64_json")
    assert len(result.data) == 2
    assert {decode(d).size for d in result.data} == {(1024, 1024)}


def test_unsupported_size_maps_to_the_closest_and_says_so(sdk: openai.OpenAI) -> None:
    result = sdk.images.generate(
        model="dall-e-3", prompt="wide", size="1536x1024", response_format="b64_json"
    )
    assert decode(result.data[0]).size == (1792, 1024)
    assert (result.model_extra or {})["metadata"]["size_mapping"] == {
        "requested": "1536x1024",
        "used": "1792x1024",
    }


def test_output_format_converted_when_the_model_cannot(sdk: openai.OpenAI) -> None:
    result = sdk.images.generate(
        model="dall-e-3", prompt="jpeg please", output_format="jpeg", response_format="b64_json"
    )
    assert decode(result.data[0]).format == "JPEG"
    assert (result.model_extra or {})["metadata"]["format_conversion"] == {"from": "png", "to": "jpeg"}


def test_edit_single_image(sdk: openai.OpenAI) -> None:
    result = sdk.images.edit(
        model="gpt-image-1.5",
        image=("in.png", png(), "image/png"),
        prompt="add a hat",
        size="1024x1024",
        response_format="b64_json",
    )
    assert decode(result.data[0]).size == (1024, 1024)


def test_edit_several_images_with_mask(sdk: openai.OpenAI) -> None:
    result = sdk.images.edit(
        model="gpt-image-1",
        image=[("a.png", png(), "image/png"), ("b.png", png(color=(0, 0, 255, 255)), "image/png")],
        mask=("mask.png", mask_png(), "image/png"),
        prompt="merge them",
        n=2,
        size="1024x1536",
        response_format="b64_json",
    )
    assert len(result.data) == 2
    assert decode(result.data[1]).size == (1024, 1536)


def test_edit_raw_bytes_named_upload(sdk: openai.OpenAI) -> None:
    """The SDK sends raw bytes as `filename="upload"` with application/octet-stream: sniffed, not trusted."""
    result = sdk.images.edit(
        model="dall-e-2", image=png(256, 256), prompt="x", size="256x256", response_format="url"
    )
    assert decode(result.data[0]).size == (256, 256)


def test_async_client(gateway: object) -> None:
    async def run() -> int:
        client = openai.AsyncOpenAI(base_url=f"{gateway.url}/v1", api_key=gateway.admin_key, max_retries=0)  # type: ignore[attr-defined]
        results = await asyncio.gather(
            *(
                client.images.generate(model="gpt-image-1-mini", prompt=f"p{i}", response_format="b64_json")
                for i in range(3)
            )
        )
        await client.close()
        return sum(len(r.data) for r in results)

    assert asyncio.run(run()) == 3


def test_model_prefixes_are_accepted(sdk: openai.OpenAI) -> None:
    for model in ("mediarouter/gpt-image-1-mini", "lumenfall/gpt-image-1-mini", "openai/gpt-image-1-mini"):
        result = sdk.images.generate(model=model, prompt="p", response_format="b64_json")
        assert (result.model_extra or {})["metadata"]["provider"] == "openai"


def test_extra_body_fields_pass(sdk: openai.OpenAI) -> None:
    result = sdk.images.generate(
        model="gpt-image-1.5",
        prompt="p",
        extra_body={"response_format": "b64_json", "seed": 7, "extra_headers": {"a": "b"}},
    )
    assert result.data[0].b64_json


def test_models_list_and_schema(sdk: openai.OpenAI, admin: object) -> None:
    ids = {m.id for m in sdk.models.list()}
    assert {"gpt-image-1.5", "dall-e-3"} <= ids
    model = sdk.models.retrieve("gpt-image-1.5")
    assert model.id == "gpt-image-1.5"
    body = admin.get("/v1/models/gpt-image-1.5", params={"schema": "true"}).json()  # type: ignore[attr-defined]
    params = body["schema"]["parameters"]
    assert params["quality"]["values"] == ["auto", "low", "medium", "high"]
    assert params["n"]["maximum"] == 10 and params["image"]["max_items"] == 16
    assert body["providers"][0]["provider"] == "openai" and body["providers"][0]["price"]["per"] == "token"


def test_upload_as_file_object(sdk: openai.OpenAI) -> None:
    f = io.BytesIO(png(128, 128))
    f.name = "/home/me/work/img1.png"
    result = sdk.images.edit(model="gpt-image-1-mini", image=f, prompt="x", response_format="b64_json")
    assert result.data


def test_unknown_fields_the_provider_cannot_take_are_reported(sdk: openai.OpenAI) -> None:
    result = sdk.images.generate(
        model="gpt-image-1-mini",
        prompt="p",
        response_format="b64_json",
        extra_body={"seed": 7, "vibe": "calm", "style": "vivid"},
    )
    meta = (result.model_extra or {})["metadata"]
    assert meta["ignored_params"] == ["seed", "style", "vibe"]  # OpenAI takes no seed; style is DALL·E 3's


def test_partial_images_without_a_stream_is_reported_not_dropped(sdk: openai.OpenAI) -> None:
    result = sdk.images.generate(
        model="gpt-image-1-mini", prompt="p", response_format="b64_json", extra_body={"partial_images": 2}
    )
    assert (result.model_extra or {})["metadata"]["ignored_params"] == ["partial_images"]


def test_failed_calls_of_an_emulated_n_are_made_up(sdk: openai.OpenAI, faults: object) -> None:
    faults.post("/sandbox/_faults", json={"provider": "openai", "mode": "error", "status": 500, "count": 1})  # type: ignore[attr-defined]
    result = sdk.images.generate(model="dall-e-3", prompt="three", n=3, response_format="b64_json")
    assert len(result.data) == 3
    meta = (result.model_extra or {})["metadata"]
    # the failed call of the first attempt is listed, and the make-up call is its own attempt
    assert [a["status"] for a in meta["attempts"]] == ["failed", "success", "success"]
    assert meta["cost"] == pytest.approx(3 * 0.04)  # only delivered images are charged
