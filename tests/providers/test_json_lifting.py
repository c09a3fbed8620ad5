"""`loads_lifting` must parse exactly like `orjson.loads`, and fail where it fails."""

from __future__ import annotations

import base64

import orjson
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from mediarouter.providers.base import UpstreamError, UpstreamResponse, loads_lifting

BIG = base64.b64encode(bytes(range(256)) * 400).decode()  # ~136 KB: lifted
json_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(-(2**63), 2**63 - 1)
    | st.text()
    | st.sampled_from([BIG, BIG + '"q"', "é" * 70_000]),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text() | st.just(BIG), inner, max_size=4),
    max_leaves=12,
)


@settings(max_examples=200, deadline=None, derandomize=True)
@given(json_values)
def test_same_result_as_orjson(value: object) -> None:
    body = orjson.dumps(value)
    assert loads_lifting(body) == orjson.loads(body)


def test_openai_shaped_body() -> None:
    body = orjson.dumps(
        {"created": 1, "data": [{"b64_json": BIG}, {"b64_json": BIG[::-1]}], "usage": {"x": 1}}
    )
    assert loads_lifting(body)["data"][1]["b64_json"] == BIG[::-1]


@pytest.mark.parametrize(
    "body",
    [
        b'{"a": "' + BIG.encode() + b'"',
        b'{"a": "' + BIG.encode() + b'",}',
        b'{"a": "\xff' + BIG.encode() + b'"}',
    ],
)
def test_malformed_bodies_still_fail(body: bytes) -> None:
    with pytest.raises(orjson.JSONDecodeError):
        loads_lifting(body)
    with pytest.raises(UpstreamError):
        UpstreamResponse(200, {}, body).json()
