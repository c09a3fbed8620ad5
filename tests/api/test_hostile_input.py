"""Hostile and odd input: every case gets a clear 4xx, never a 500."""

from __future__ import annotations

import io
import struct
import zlib

import httpx
import pytest
from PIL import Image

from imaging import png


def _bomb_png(width: int, height: int) -> bytes:
    """A tiny file whose header claims a huge picture (the pixels are never sent)."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        return (
            struct.pack(">I", len(data))
            + kind
            + data
            + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)
        )

    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(b"\0" * 64))
        + chunk(b"IEND", b"")
    )


def test_decompression_bomb_is_refused_from_the_header(admin: httpx.Client) -> None:
    r = admin.post(
        "/v1/images/edits",
        data={"model": "gpt-image-1", "prompt": "x"},
        files={"image": ("bomb.png", _bomb_png(50000, 50000))},
    )
    assert r.status_code == 413 and "pixels" in r.json()["error"]["message"]


@pytest.mark.parametrize(
    "prompt",
    ["🦄 a unicorn 🌈", "ümlaut ß 汉字 العربية", "a\u0000b", "\u202etxet", "x" * 10, " \n\t ok"],
)
def test_unicode_prompts(admin: httpx.Client, prompt: str) -> None:
    r = admin.post(
        "/v1/images/generations",
        json={"model": "gpt-image-1-mini", "prompt": prompt, "response_format": "b64_json"},
    )
    assert r.status_code == 200, r.text


@pytest.mark.parametrize(
    "body",
    [
        {"model": "gpt-image-1-mini", "prompt": "x", "n": 10**12},
        {"model": "gpt-image-1-mini", "prompt": "x", "size": "99999999x1"},
        {"model": "gpt-image-1-mini", "prompt": "x", "n": 1.5},
        {"model": "gpt-image-1-mini", "prompt": "x", "n": True},
        {"model": ["gpt-image-1-mini"], "prompt": "x"},
        {"model": "gpt-image-1-mini", "prompt": {"text": "x"}},
        {"model": "gpt-image-1-mini", "prompt": "x", "size": 1024},
        {"model": "gpt-image-1-mini", "prompt": "x", "provider": "openai"},
        {"model": "gpt-image-1-mini", "prompt": "x", "hedge_after_ms": "soon"},
        {"model": "x" * 10000, "prompt": "x"},
    ],
)
def test_absurd_values(admin: httpx.Client, body: dict[str, object]) -> None:
    r = admin.post("/v1/images/generations", json=body)
    assert 400 <= r.status_code < 500, r.text
    assert r.json()["error"]["code"] in ("INVALID_REQUEST", "MODEL_NOT_FOUND")


def test_deeply_nested_json(admin: httpx.Client) -> None:
    nested = "[" * 100_000 + "]" * 100_000
    r = admin.post(
        "/v1/images/generations", content=nested.encode(), headers={"Content-Type": "application/json"}
    )
    assert r.status_code == 400


def test_non_image_files_and_lies_about_type(admin: httpx.Client) -> None:
    for name, data, ctype in (
        ("a.png", b"GIF89a nope", "image/png"),
        ("x.exe", b"MZ\x90\x00", "image/png"),
        ("a.png", b"", "image/png"),
    ):
        r = admin.post(
            "/v1/images/edits",
            data={"model": "gpt-image-1", "prompt": "x"},
            files={"image": (name, data, ctype)},
        )
        assert r.status_code == 400, (name, r.text)
    jpeg = io.BytesIO()
    Image.new("RGB", (32, 32), "blue").save(jpeg, format="JPEG")
    r = admin.post(
        "/v1/images/edits",
        data={"model": "gpt-image-1", "prompt": "x", "response_format": "b64_json"},
        files={"image": ("really-a-jpeg.png", jpeg.getvalue(), "application/octet-stream")},
    )
    assert r.status_code == 200, r.text


def test_too_many_files(admin: httpx.Client) -> None:
    files = [("image[]", (f"{i}.png", png(8, 8), "image/png")) for i in range(40)]
    r = admin.post("/v1/images/edits", data={"model": "gpt-image-1", "prompt": "x"}, files=files)
    assert r.status_code in (400, 413) and r.json()["error"]["code"] in (
        "INVALID_REQUEST",
        "PAYLOAD_TOO_LARGE",
    )


def test_multipart_without_boundary(admin: httpx.Client) -> None:
    r = admin.post("/v1/images/edits", content=b"garbage", headers={"Content-Type": "multipart/form-data"})
    assert r.status_code == 400
