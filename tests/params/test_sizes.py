import pytest

from mediarouter.catalog.models import load_catalog
from mediarouter.errors import GatewayError
from mediarouter.params.requests import resolve_params
from mediarouter.params.sizes import choose_size, parse_aspect_ratio, parse_resolution, parse_size
from mediarouter.schemas.images import ImageRequest

GPT = ("auto", "1024x1024", "1536x1024", "1024x1536")
DALLE3 = ("1024x1024", "1792x1024", "1024x1792")


@pytest.mark.parametrize(
    ("size", "supported", "default", "expected"),
    [
        ("1024x1024", GPT, "auto", "1024x1024"),
        ("1536x1024", GPT, "auto", "1536x1024"),
        ("auto", GPT, "auto", "auto"),
        ("auto", DALLE3, "1024x1024", "1024x1024"),
        ("1792x1024", GPT, "auto", "1536x1024"),  # wide stays wide
        ("16:9", GPT, "auto", "1536x1024"),
        ("9:16", DALLE3, "1024x1024", "1024x1792"),
        ("512x512", DALLE3, "1024x1024", "1024x1024"),
        ("1:1", ("256x256", "512x512", "1024x1024"), "1024x1024", "1024x1024"),  # ratio: area of the default
        ("300x300", ("256x256", "512x512", "1024x1024"), "1024x1024", "256x256"),  # then closest area
    ],
)
def test_choose_size(size: str, supported: tuple[str, ...], default: str, expected: str) -> None:
    assert choose_size(parse_size(size), supported, default) == expected


@pytest.mark.parametrize("bad", ["big", "1024", "0x1024", "1024x", "x", "-5x5", "1:0", "99999x2"])
def test_malformed_sizes_name_the_accepted_forms(bad: str) -> None:
    with pytest.raises(GatewayError) as info:
        parse_size(bad)
    assert info.value.param == "size" and info.value.code == "INVALID_REQUEST"


def test_free_size_models_keep_pixels() -> None:
    assert choose_size(parse_size("1000x600"), (), None) == "1000x600"


@pytest.mark.parametrize("bad", ["9K", "big", "1080p", "", "0.25K"])
def test_malformed_resolutions_name_the_tiers(bad: str) -> None:
    with pytest.raises(GatewayError) as info:
        parse_resolution(bad)
    assert info.value.param == "resolution" and "0.5K, 1K, 2K, 4K" in info.value.message


@pytest.mark.parametrize("bad", ["wide", "1024x1024", "16/9", "0:1"])
def test_malformed_aspect_ratios_name_aspect_ratio(bad: str) -> None:
    with pytest.raises(GatewayError) as info:
        parse_aspect_ratio(bad)
    assert info.value.param == "aspect_ratio"


CATALOG = load_catalog()


@pytest.mark.parametrize(
    ("model", "fields", "size", "mapping", "ignored"),
    [
        (
            "dall-e-3",
            {"resolution": "4K"},
            "1024x1024",
            {"requested_resolution": "4K", "used": "1024x1024"},
            None,
        ),
        (
            "dall-e-3",
            {"resolution": "4k", "aspect_ratio": "16:9"},
            "1792x1024",
            {"requested": "16:9", "requested_resolution": "4K", "used": "1792x1024"},
            None,
        ),
        (
            "dall-e-2",
            {"resolution": "0.5K"},
            "512x512",
            {"requested_resolution": "0.5K", "used": "512x512"},
            None,
        ),
        (
            "seedream-4",
            {"resolution": "4K"},
            "4096x4096",
            {"requested_resolution": "4K", "used": "4096x4096"},
            None,
        ),
        (
            "gpt-image-1",
            {"resolution": "1K"},
            "1024x1024",
            {"requested_resolution": "1K", "used": "1024x1024"},
            None,
        ),
        (
            "dall-e-3",
            {"size": "1024x1024", "aspect_ratio": "16:9", "resolution": "2K"},
            "1024x1024",
            None,
            ["aspect_ratio", "resolution"],
        ),
        (
            "imagen-4.0-generate-001",
            {"resolution": "4K", "aspect_ratio": "16:9"},
            "2736x1536",
            {"requested": "16:9", "requested_resolution": "4K", "aspect_ratio": "16:9", "resolution": "2K"},
            None,
        ),
        (
            "gemini-3-pro-image-preview",
            {"size": "3:2", "resolution": "2K", "aspect_ratio": "9:16"},
            "2512x1680",
            {"requested": "3:2", "requested_resolution": "2K", "aspect_ratio": "3:2", "resolution": "2K"},
            ["aspect_ratio"],
        ),
        (
            "flux1.1-pro-ultra",
            {"resolution": "2K", "aspect_ratio": "21:9"},
            "1568x672",
            {"requested": "21:9", "requested_resolution": "2K", "aspect_ratio": "21:9", "resolution": None},
            ["resolution"],
        ),
    ],
)
def test_size_fields_resolved_per_model(
    model: str,
    fields: dict[str, str],
    size: str,
    mapping: dict[str, object] | None,
    ignored: list[str] | None,
) -> None:
    spec = CATALOG.get(model)
    assert spec is not None
    resolved = resolve_params(ImageRequest("generate", model, "p", **fields), spec)  # type: ignore[arg-type]
    assert resolved.size == size
    assert resolved.notes.get("size_mapping") == mapping
    assert resolved.notes.get("ignored_params") == ignored


def test_a_malformed_aspect_ratio_is_refused_even_when_size_wins() -> None:
    spec = CATALOG.get("dall-e-3")
    assert spec is not None
    with pytest.raises(GatewayError) as info:
        resolve_params(ImageRequest("generate", "dall-e-3", "p", size="1024x1024", aspect_ratio="wide"), spec)
    assert info.value.param == "aspect_ratio"
