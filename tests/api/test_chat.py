"""`POST /v1/chat/completions` relayed to the OpenRouter emulator: JSON, live SSE, errors, the request log."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import httpx
import openai
import pytest
from starlette.testclient import TestClient

from mediarouter.app import create_app
from mediarouter.settings import load_settings

TEXT = "google/gemini-3-flash-preview"
HELLO = [{"role": "user", "content": "hello gateway"}]
REPLY = f"Sandbox reply from {TEXT} to: hello gateway"
ADMIN_KEY = "chat-test-admin-key"


def _fault(faults: httpx.Client, **fields: object) -> None:
    faults.post("/sandbox/_faults", json={"provider": "openrouter", **fields}).raise_for_status()


def _logged(admin: httpx.Client, request_id: str) -> dict[str, Any]:
    """The log entry, once written (streams are logged when they end, just after the last byte)."""
    for _ in range(50):
        r = admin.get(f"/v1/requests/{request_id}")
        if r.status_code == 200 and r.json()["status"] != "cancelled":
            return r.json()  # type: ignore[no-any-return]
        time.sleep(0.02)
    return admin.get(f"/v1/requests/{request_id}").json()  # type: ignore[no-any-return]


def test_chat_through_the_sdk(sdk: openai.OpenAI, admin: httpx.Client) -> None:
    raw = sdk.chat.completions.with_raw_response.create(model=TEXT, messages=HELLO)  # type: ignore[arg-type]
    result = raw.parse()
    assert result.choices[0].message.content == REPLY and result.model == TEXT
    meta: Any = (result.model_extra or {})[
        "mediarouter"
    ]  # the gateway's block (`metadata` is typed str->str)
    usage_cost = (result.usage.model_extra or {})["cost"] if result.usage else None
    assert meta["provider"] == "openrouter" and meta["executed_model"] == f"openrouter/{TEXT}"
    assert meta["cost"] == usage_cost and usage_cost > 0
    rid = raw.headers["x-mediarouter-request-id"]
    assert raw.headers["x-mediarouter-provider"] == "openrouter"
    assert float(raw.headers["x-mediarouter-cost"]) == pytest.approx(usage_cost, abs=1e-6)
    entry = _logged(admin, rid)
    assert (entry["endpoint"], entry["status"], entry["modality"]) == (
        "/v1/chat/completions",
        "completed",
        "text",
    )
    assert entry["cost"] == pytest.approx(usage_cost) and entry["attempts"][0]["usage"]["total_tokens"] > 0


@pytest.mark.parametrize("prefix", ["/v1", "/openai/v1", ""])
def test_every_prefix_serves_chat(admin: httpx.Client, prefix: str) -> None:
    r = admin.post(f"{prefix}/chat/completions", json={"model": TEXT, "messages": HELLO})
    assert r.status_code == 200 and r.json()["choices"][0]["message"]["content"] == REPLY


def test_openrouter_fields_pass_and_bookkeeping_is_dropped(admin: httpx.Client) -> None:
    body = {
        "model": "openai/gpt-5.4",
        "messages": HELLO,
        "provider": {"order": ["openai"], "allow_fallbacks": False},
        "extra_headers": {"X-Debug": "1"},
        "drop_params": True,
        "max_tokens": 3,
    }
    r = admin.post("/v1/chat/completions", json=body)
    assert r.status_code == 200, r.text
    assert r.json()["choices"][0] == {**r.json()["choices"][0], "finish_reason": "length"}


def test_streaming_is_relayed_as_it_arrives(sdk: openai.OpenAI, admin: httpx.Client) -> None:
    started = time.monotonic()
    raw = sdk.chat.completions.with_streaming_response.create(
        model=TEXT,
        messages=HELLO,  # type: ignore[arg-type]
        stream=True,
        extra_body={"sandbox_stream_delay_ms": 60},
    )
    arrivals: list[float] = []
    text, usage = "", None
    with raw as response:
        rid = response.headers["x-mediarouter-request-id"]
        assert response.headers["content-type"].startswith("text/event-stream")
        for chunk in response.parse():
            arrivals.append(time.monotonic() - started)
            if chunk.choices:
                text += chunk.choices[0].delta.content or ""
            usage = chunk.usage or usage
    assert text == REPLY and usage is not None
    # 8 word chunks 60 ms apart upstream: the first must reach us long before the stream is over.
    assert arrivals[-1] - arrivals[0] >= 0.4, arrivals
    entry = _logged(admin, rid)
    assert entry["status"] == "completed" and entry["executed_model"] == f"openrouter/{TEXT}"
    assert entry["cost"] == pytest.approx((usage.model_extra or {})["cost"])
    assert entry["attempts"][0]["usage"]["completion_tokens"] == usage.completion_tokens


def test_streaming_with_plain_http(gateway: Any) -> None:
    body = {"model": TEXT, "messages": HELLO, "stream": True}
    with gateway.client() as client, client.stream("POST", "/v1/chat/completions", json=body) as r:
        lines = [line for line in r.iter_lines() if line]
    assert lines[0] == ": OPENROUTER PROCESSING" and lines[-1] == "data: [DONE]"


@pytest.mark.parametrize(
    ("fault", "status", "code"),
    [
        ({"mode": "error", "status": 400}, 400, "UPSTREAM_ERROR"),
        ({"mode": "error", "status": 404}, 404, "UPSTREAM_ERROR"),
        ({"mode": "error", "status": 429}, 429, "UPSTREAM_ERROR"),
        ({"mode": "error", "status": 401}, 502, "UPSTREAM_ERROR"),
        ({"mode": "error", "status": 402}, 502, "UPSTREAM_ERROR"),
        ({"mode": "error", "status": 500}, 502, "UPSTREAM_ERROR"),
        ({"mode": "error", "status": 503}, 502, "UPSTREAM_ERROR"),
        ({"mode": "timeout"}, 504, "UPSTREAM_ERROR"),
        ({"mode": "reset"}, 502, "UPSTREAM_ERROR"),
        ({"mode": "malformed"}, 502, "UPSTREAM_ERROR"),
        ({"mode": "content_policy"}, 400, "CONTENT_POLICY_VIOLATION"),
    ],
)
def test_upstream_errors(
    admin: httpx.Client, faults: httpx.Client, fault: dict[str, Any], status: int, code: str
) -> None:
    _fault(faults, **fault)
    r = admin.post("/v1/chat/completions", json={"model": TEXT, "messages": HELLO})
    err = r.json()["error"]
    assert (r.status_code, err["code"]) == (status, code), r.text
    assert "openrouter" in err["message"] and "sk-sandbox" not in r.text
    assert (
        err["attempts"][0]["provider"] == "openrouter"
        and r.headers["x-mediarouter-request-id"] == err["request_id"]
    )
    if status == 429:
        assert r.headers["retry-after"]
    assert _logged(admin, err["request_id"])["status"] == "upstream_failure"


@pytest.mark.parametrize("stream", [False, True])
def test_an_empty_completion_is_relayed_as_it_came(
    sdk: openai.OpenAI, admin: httpx.Client, faults: httpx.Client, stream: bool
) -> None:
    """Text is not images: an empty completion is a completion (no failover, no error), with its
    usage and cost recorded; only image answers without an image are provider failures."""
    _fault(faults, mode="empty")
    if stream:
        chunks = list(sdk.chat.completions.create(model=TEXT, messages=HELLO, stream=True))  # type: ignore[arg-type]
        text = "".join(c.choices[0].delta.content or "" for c in chunks if c.choices)
        finish = [c.choices[0].finish_reason for c in chunks if c.choices and c.choices[0].finish_reason]
        rid = admin.get("/v1/requests", params={"limit": 1}).json()["data"][0]["id"]
    else:
        raw = sdk.chat.completions.with_raw_response.create(model=TEXT, messages=HELLO)  # type: ignore[arg-type]
        result = raw.parse()
        text, finish = result.choices[0].message.content or "", [result.choices[0].finish_reason]
        rid = raw.headers["x-mediarouter-request-id"]
    assert (text, finish) == ("", ["stop"])
    entry = _logged(admin, rid)
    assert (entry["status"], entry["provider"]) == ("completed", "openrouter") and entry["cost"] > 0


def test_a_slow_answer_arrives_late_but_whole(sdk: openai.OpenAI, faults: httpx.Client) -> None:
    _fault(faults, mode="slow", latency_ms=300)
    started = time.monotonic()
    result = sdk.chat.completions.create(model=TEXT, messages=HELLO)  # type: ignore[arg-type]
    assert result.choices[0].message.content == REPLY and time.monotonic() - started >= 0.3
    started = time.monotonic()
    stream = sdk.chat.completions.create(model=TEXT, messages=HELLO, stream=True)  # type: ignore[arg-type]
    chunks = iter(stream)
    next(chunks)
    assert time.monotonic() - started >= 0.3  # the first chunk waits for the upstream's first byte
    rest = "".join(c.choices[0].delta.content or "" for c in chunks if c.choices)
    assert rest.strip() and REPLY.endswith(rest.strip())


def test_an_unknown_model_is_the_callers_error(admin: httpx.Client) -> None:
    r = admin.post("/v1/chat/completions", json={"model": "nobody/nothing", "messages": HELLO})
    assert (r.status_code, r.json()["error"]["code"]) == (400, "UPSTREAM_ERROR")
    assert "not a valid model ID" in r.json()["error"]["message"]


def test_an_error_before_the_stream_is_a_plain_error(sdk: openai.OpenAI, faults: httpx.Client) -> None:
    _fault(faults, mode="error", status=429)
    with pytest.raises(openai.RateLimitError):
        sdk.chat.completions.create(model=TEXT, messages=HELLO, stream=True)  # type: ignore[arg-type]


def test_a_broken_stream_ends_with_an_error_event(
    sdk: openai.OpenAI, faults: httpx.Client, admin: httpx.Client
) -> None:
    _fault(faults, mode="reset")
    received = []
    with pytest.raises(openai.APIError) as caught:
        for chunk in sdk.chat.completions.create(model=TEXT, messages=HELLO, stream=True):  # type: ignore[arg-type]
            received.append(chunk)
    assert received and caught.value.body["code"] == "UPSTREAM_ERROR"  # type: ignore[index]
    assert "openrouter" in caught.value.message
    rid = admin.get("/v1/requests", params={"limit": 1}).json()["data"][0]["id"]
    entry = _logged(admin, rid)
    assert (entry["status"], entry["error_code"]) == ("upstream_failure", "UPSTREAM_ERROR")


def test_a_client_leaving_mid_stream_is_logged_as_cancelled(gateway: Any, admin: httpx.Client) -> None:
    body = {"model": TEXT, "messages": HELLO, "stream": True, "sandbox_stream_delay_ms": 200}
    with gateway.client() as client, client.stream("POST", "/v1/chat/completions", json=body) as r:
        rid = r.headers["x-mediarouter-request-id"]
        next(r.iter_raw())
    for _ in range(100):
        r2 = admin.get(f"/v1/requests/{rid}")
        if r2.status_code == 200:
            break
        time.sleep(0.02)
    assert r2.json()["status"] == "cancelled"


@pytest.mark.parametrize(
    ("body", "param"),
    [
        ({"messages": HELLO}, "model"),
        ({"model": TEXT}, "messages"),
        ({"model": TEXT, "messages": "hi"}, "messages"),
    ],
)
def test_missing_fields_are_rejected_before_any_upstream_call(
    admin: httpx.Client, faults: httpx.Client, body: dict[str, Any], param: str
) -> None:
    r = admin.post("/v1/chat/completions", json=body)
    assert (r.status_code, r.json()["error"]["code"], r.json()["error"]["param"]) == (
        400,
        "INVALID_REQUEST",
        param,
    )
    assert faults.get("/sandbox/_faults").json()["requests"].get("openrouter", 0) == 0


def test_bad_bodies_and_keys(gateway: Any, admin: httpx.Client) -> None:
    r = admin.post("/v1/chat/completions", content=b"{not json", headers={"content-type": "application/json"})
    assert (r.status_code, r.json()["error"]["code"]) == (400, "INVALID_REQUEST")
    anonymous = httpx.post(f"{gateway.url}/v1/chat/completions", json={"model": TEXT, "messages": HELLO})
    assert anonymous.status_code == 401
    with gateway.client(gateway.user_key) as user:
        assert user.post("/v1/chat/completions", json={"model": TEXT, "messages": HELLO}).status_code == 200


def test_without_openrouter_configured(tmp_path: Path) -> None:
    config = tmp_path / "config.yaml"
    config.write_text("providers:\n  openai:\n    api_key: sk-not-used\n")
    settings = load_settings(
        config, {"MEDIAROUTER_DATA_DIR": str(tmp_path), "MEDIAROUTER_ADMIN_KEY": ADMIN_KEY}
    )
    assert not settings.sandbox_mode
    with TestClient(create_app(settings)) as client:
        r = client.post(
            "/v1/chat/completions",
            json={"model": TEXT, "messages": HELLO},
            headers={"Authorization": f"Bearer {ADMIN_KEY}"},
        )
    assert (r.status_code, r.json()["error"]["code"]) == (404, "MODEL_NOT_FOUND")
    assert "OpenRouter" in r.json()["error"]["message"]
