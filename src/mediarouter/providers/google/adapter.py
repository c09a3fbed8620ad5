"""What the Gemini API and Vertex AI adapters share: which API a model speaks, build, parse.

A catalog row's `api` option names the API (`generate_content` for Gemini image models,
`predict` for Imagen, `predict_upscale` for the Imagen upscaler; Imagen ids default to
`predict`). The two adapters differ only in where a method lives and how a request is signed,
so they override `endpoint` and `headers`, nothing else.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from mediarouter.providers.base import Call, Done, UpstreamError, UpstreamRequest, UpstreamResponse
from mediarouter.providers.google import generate_content, predict
from mediarouter.providers.google.errors import classify_google_error
from mediarouter.schemas.images import ProviderOutput


@dataclass(frozen=True)
class GoogleApi:
    method: str  # the REST custom method after the model name
    build: Callable[[Call, bool], dict[str, Any]]  # (call, vertex) -> body
    parse: Callable[[Any, int], ProviderOutput]
    jpeg_output: Callable[[Call, bool], bool]  # (call, vertex) -> JPEG asked, with compressionQuality


APIS: dict[str, GoogleApi] = {
    "generate_content": GoogleApi(
        "generateContent",
        generate_content.build_generate_content,
        generate_content.parse_generate_content,
        generate_content.jpeg_output,
    ),
    "predict": GoogleApi("predict", predict.build_predict, predict.parse_predict, predict.jpeg_output),
    "predict_upscale": GoogleApi(
        "predict", predict.build_upscale, predict.parse_predict, predict.jpeg_output
    ),
}


def api_of(call: Call) -> GoogleApi:
    name = call.offering.options.get("api")
    if name is None:
        name = "predict" if call.offering.model_id.startswith("imagen") else "generate_content"
    api = APIS.get(str(name))
    if api is None:
        known = ", ".join(APIS)
        raise UpstreamError(
            "not_found", f"unknown Google api option {name!r} in the catalog (known: {known})"
        )
    return api


class GoogleAdapter:
    slug = ""
    name = ""
    media_hosts: tuple[str, ...] = ()  # images always come back inline as base64
    vertex = False

    def endpoint(self, call: Call, method: str) -> str:
        raise NotImplementedError

    def headers(self, call: Call) -> dict[str, str]:
        raise NotImplementedError

    def build(self, call: Call) -> UpstreamRequest:
        api = api_of(call)
        body = api.build(call, self.vertex)
        return UpstreamRequest("POST", self.endpoint(call, api.method), self.headers(call), json=body)

    def parse(self, call: Call, response: UpstreamResponse) -> Done:
        if response.status >= 400:
            raise classify_google_error(response)
        api = api_of(call)
        output = api.parse(response.json(), response.status)
        asked = call.request.output_compression is not None
        output.compression_applied = (
            asked and api.jpeg_output(call, self.vertex) and output.output_format == "jpeg"
        )
        return Done(output)

    def cancel(self, call: Call) -> UpstreamRequest | None:
        return None  # synchronous APIs: nothing runs after the connection closes


def model_path(model_id: str) -> str:
    """`models/x` and `publishers/google/models/x` are accepted as ids too; the bare name is used."""
    return model_id.rsplit("/", 1)[-1]
