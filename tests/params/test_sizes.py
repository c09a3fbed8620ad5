import pytest

from mediarouter.errors import GatewayError
from mediarouter.params.sizes import choose_size, parse_size

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
