"""The OpenAI emulator, driven by the official SDK over real HTTP."""

from __future__ import annotations

import base64
import io
import urllib.request

import openai
import pytest
from PIL import Image
from sandbox_server import RunningServer


def decode_b64(b64: str | None) -> Image.Image:
    assert b64
    image = Image.open(io.BytesIO(base64.b64decode(b64)))
    image.load()
    return image


def download(url: str | None) -> Image.Image:
    assert url
    with urllib.request.urlopen(url, timeout=10) as response:
        assert response.headers["content-type"] == "image/png"
        image = Image.open(io.BytesIO(response.read()))
    image.load()
    return image


def png(size: tuple[int, int], colour: tuple[int, ...] = (200, 30, 30, 255), mode: str = "RGBA") -> bytes:
    out = io.BytesIO()
    Image.new(mode, size, colour).save(out, "PNG")
    return out.getvalue()


def half_transparent_mask(size: tuple[int, int]) -> bytes:
    mask = Image.new("RGBA", size, (0, 0, 0, 255))
    mask.paste((0, 0, 0, 0), (0, 0, size[0] // 2, size[1]))
    out = io.BytesIO()
    mask.save(out, "PNG")
    return out.getvalue()


def test_gpt_image_returns_base64_of_the_requested_size_and_format(client: openai.OpenAI) -> None:
    result = client.images.generate(
        model="gpt-image-1.5",
        prompt="a red bicycle on a beach",
        size="1536x1024",
        quality="low",
        output_format="jpeg",
        output_compression=80,
    )
    image = decode_b64(result.data[0].b64_json)  # type: ignore[index]
    assert (image.size, image.format) == ((1536, 1024), "JPEG")
    assert (result.size, result.quality, result.output_format, result.background) == (
        "1536x1024",
        "low",
        "jpeg",
        "opaque",
    )
    assert result.usage is not None
    assert result.usage.output_tokens == 408
    assert result.usage.total_tokens == result.usage.input_tokens + result.usage.output_tokens
    assert result.data[0].url is None  # type: ignore[index]


def test_auto_size_and_quality_are_resolved_and_echoed(client: openai.OpenAI) -> None:
    result = client.images.generate(model="gpt-image-1-mini", prompt="a fox", background="transparent")
    image = decode_b64(result.data[0].b64_json)  # type: ignore[index]
    assert (image.size, image.format, image.mode) == ((1024, 1024), "PNG", "RGBA")
    assert (result.size, result.quality, result.background) == ("1024x1024", "medium", "transparent")


def test_gpt_image_2_takes_a_free_size(client: openai.OpenAI) -> None:
    result = client.images.generate(model="gpt-image-2", prompt="a fox", size="768x256", quality="low")
    assert decode_b64(result.data[0].b64_json).size == (768, 256)  # type: ignore[index]


def test_several_images_differ(client: openai.OpenAI) -> None:
    result = client.images.generate(
        model="gpt-image-1", prompt="a fox", n=3, quality="low", output_format="webp"
    )
    assert result.data is not None and len(result.data) == 3
    assert len({item.b64_json for item in result.data}) == 3
    assert all(decode_b64(item.b64_json).format == "WEBP" for item in result.data)
    assert result.usage is not None and result.usage.output_tokens == 3 * 272


def test_dall_e_3_answers_with_a_url_and_a_revised_prompt(client: openai.OpenAI) -> None:
    result = client.images.generate(
        model="dall-e-3", prompt="a lighthouse", size="1792x1024", style="natural"
    )
    item = result.data[0]  # type: ignore[index]
    assert item.b64_json is None
    assert item.revised_prompt and "a lighthouse" in item.revised_prompt and "natural" in item.revised_prompt
    assert item.url and "/sandbox/openai/files/" in item.url
    assert download(item.url).size == (1792, 1024)
    assert result.usage is None


def test_dall_e_2_answers_base64_when_asked(client: openai.OpenAI) -> None:
    result = client.images.generate(
        model="dall-e-2", prompt="a lighthouse", size="256x256", response_format="b64_json", n=2
    )
    assert result.data is not None and len(result.data) == 2
    assert decode_b64(result.data[0].b64_json).size == (256, 256)
    assert result.data[0].revised_prompt is None


def test_edit_with_one_image(client: openai.OpenAI) -> None:
    result = client.images.edit(
        model="gpt-image-1.5",
        image=("in.png", png((300, 200)), "image/png"),
        prompt="add a hat",
        quality="low",
    )
    image = decode_b64(result.data[0].b64_json)  # type: ignore[index]
    assert image.size == (1536, 1024)  # auto follows the input's aspect ratio
    assert result.usage is not None and result.usage.input_tokens_details.image_tokens > 0


def test_edit_with_several_images(client: openai.OpenAI) -> None:
    images = [("a.png", png((64, 64)), "image/png"), ("b.png", png((64, 64), (0, 0, 255, 255)), "image/png")]
    one = client.images.edit(
        model="gpt-image-1", image=images[:1], prompt="merge", size="1024x1024", quality="low"
    )
    two = client.images.edit(
        model="gpt-image-1", image=images, prompt="merge", size="1024x1024", quality="low"
    )
    assert decode_b64(two.data[0].b64_json).size == (1024, 1024)  # type: ignore[index]
    assert one.data[0].b64_json != two.data[0].b64_json  # type: ignore[index]
    assert two.usage is not None and one.usage is not None
    assert two.usage.input_tokens_details.image_tokens == 2 * one.usage.input_tokens_details.image_tokens


def test_edit_with_a_mask_repaints_only_the_transparent_area(client: openai.OpenAI) -> None:
    result = client.images.edit(
        model="gpt-image-1.5",
        image=("in.png", png((256, 256)), "image/png"),
        mask=("mask.png", half_transparent_mask((256, 256)), "image/png"),
        prompt="a window",
        size="1024x1024",
    )
    image = decode_b64(result.data[0].b64_json).convert("RGB")  # type: ignore[index]
    assert image.getpixel((900, 100)) == (200, 30, 30)
    assert image.getpixel((100, 100)) != (200, 30, 30)


def test_dall_e_2_edit_and_variation_return_urls(client: openai.OpenAI) -> None:
    edited = client.images.edit(
        model="dall-e-2",
        image=("in.png", png((128, 128), (0, 0, 0, 0)), "image/png"),
        prompt="a cat",
        size="256x256",
    )
    assert download(edited.data[0].url).size == (256, 256)  # type: ignore[index]
    varied = client.images.create_variation(
        image=("in.png", png((128, 128)), "image/png"), n=2, size="512x512"
    )
    assert varied.data is not None and len(varied.data) == 2
    assert download(varied.data[1].url).size == (512, 512)


def test_streaming_sends_partial_and_completed_events(client: openai.OpenAI) -> None:
    stream = client.images.generate(
        model="gpt-image-1.5", prompt="a fox", size="1024x1024", quality="low", stream=True, partial_images=2
    )
    events = list(stream)
    assert [e.type for e in events] == [
        "image_generation.partial_image",
        "image_generation.partial_image",
        "image_generation.completed",
    ]
    completed = events[-1]
    assert decode_b64(completed.b64_json).size == (1024, 1024)
    assert completed.usage.output_tokens == 272  # type: ignore[union-attr]


@pytest.mark.parametrize(
    ("kwargs", "param", "code"),
    [
        ({"model": "gpt-image-1", "size": "1000x1000"}, "size", "invalid_value"),
        ({"model": "gpt-image-2", "size": "1000x1000"}, "size", "invalid_value"),
        ({"model": "gpt-image-2", "size": "3840x640"}, "size", "invalid_value"),
        ({"model": "dall-e-3", "size": "512x512"}, "size", "invalid_value"),
        ({"model": "dall-e-3", "n": 2}, "n", "integer_above_max_value"),
        ({"model": "gpt-image-1", "n": 11}, "n", "integer_above_max_value"),
        ({"model": "gpt-image-1", "response_format": "b64_json"}, "response_format", "unknown_parameter"),
        ({"model": "dall-e-2", "output_format": "png"}, "output_format", "unknown_parameter"),
        ({"model": "gpt-image-1", "quality": "hd"}, "quality", "invalid_value"),
        (
            {"model": "gpt-image-1", "background": "transparent", "output_format": "jpeg"},
            "background",
            "unsupported_value",
        ),
        ({"model": "gpt-image-1", "output_compression": 50}, "output_compression", "unsupported_value"),
        ({"model": "gpt-image-3"}, "model", "invalid_value"),
        ({"model": "dall-e-2", "prompt": "x" * 1001}, "prompt", "string_above_max_length"),
    ],
)
def test_invalid_requests_get_openai_errors(
    client: openai.OpenAI, kwargs: dict[str, object], param: str, code: str
) -> None:
    with pytest.raises(openai.BadRequestError) as caught:
        client.images.generate(**{"prompt": "a fox", **kwargs})  # type: ignore[call-overload]
    assert (caught.value.param, caught.value.code, caught.value.type) == (
        param,
        code,
        "invalid_request_error",
    )


@pytest.mark.parametrize(
    ("kwargs", "param"),
    [
        (
            {"model": "dall-e-2", "image": ("a.png", png((64, 64), (1, 2, 3), "RGB"), "image/png")},
            "image",
        ),  # no alpha
        ({"model": "dall-e-2", "image": ("a.png", png((64, 32)), "image/png")}, "image"),  # not square
        ({"model": "dall-e-3", "image": ("a.png", png((64, 64)), "image/png")}, "model"),
        ({"model": "gpt-image-1", "image": ("a.png", png((64, 64)), "application/octet-stream")}, "image"),
        ({"model": "gpt-image-1", "image": ("a.png", b"not a png", "image/png")}, "image"),
        ({"model": "gpt-image-1", "image": [("a.png", png((8, 8)), "image/png")] * 17}, "image"),
        ({"model": "gpt-image-1", "mask": ("m.png", half_transparent_mask((32, 32)), "image/png")}, "mask"),
        ({"model": "gpt-image-1-mini", "input_fidelity": "high"}, "input_fidelity"),
    ],
)
def test_invalid_edits_get_openai_errors(
    client: openai.OpenAI, kwargs: dict[str, object], param: str
) -> None:
    request: dict[str, object] = {"prompt": "a hat", "image": ("a.png", png((64, 64)), "image/png"), **kwargs}
    with pytest.raises(openai.BadRequestError) as caught:
        client.images.edit(**request)  # type: ignore[arg-type]
    assert caught.value.param == param


def test_missing_key_is_rejected(sandbox: RunningServer, client: openai.OpenAI) -> None:
    with pytest.raises(openai.AuthenticationError) as caught:
        client.images.generate(
            model="gpt-image-1", prompt="a fox", extra_headers={"Authorization": "Basic Zm9vOg=="}
        )
    assert caught.value.type == "invalid_request_error"
    status, body = sandbox.call(
        "POST", "/sandbox/openai/v1/images/generations", {"model": "gpt-image-1", "prompt": "x"}
    )
    assert status == 401 and "didn't provide an API key" in body["error"]["message"]
    assert sandbox.call("GET", "/sandbox/_faults")[1]["requests"] == {}  # rejected before counting


def test_unknown_path_and_expired_file(sandbox: RunningServer) -> None:
    status, body = sandbox.call("POST", "/sandbox/openai/v1/images/nothing", {}, key="sk-test")
    assert status == 404 and body["error"]["message"] == "Invalid URL (POST /v1/images/nothing)"
    request = urllib.request.Request(f"{sandbox.base_url}/sandbox/openai/files/img-unknown.png")
    with pytest.raises(urllib.error.HTTPError) as caught:
        urllib.request.urlopen(request, timeout=5)
    assert caught.value.code == 404


def test_bad_json_body_is_a_400(sandbox: RunningServer) -> None:
    request = urllib.request.Request(
        f"{sandbox.openai_base}/images/generations",
        data=b"{not json",
        method="POST",
        headers={"authorization": "Bearer sk-test", "content-type": "application/json"},
    )
    with pytest.raises(urllib.error.HTTPError) as caught:
        urllib.request.urlopen(request, timeout=5)
    assert caught.value.code == 400
    assert b"could not parse the JSON body" in caught.value.read()
