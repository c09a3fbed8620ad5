"""The gateway's own, OpenAI-shaped image request and result types.

`ImageRequest` is canonical: the API edge builds it once from JSON or multipart, and every
provider attempt rebuilds its upstream request from it (an attempt never mutates it).
"""

from __future__ import annotations

import base64
from dataclasses import dataclass, field
from typing import Any, Literal

Mode = Literal["generate", "edit", "upscale"]

# Fields the gateway itself understands; everything else is `extra` (passed on per the model's rules).
KNOWN_FIELDS = frozenset(
    {
        "model",
        "prompt",
        "n",
        "size",
        "aspect_ratio",
        "resolution",
        "quality",
        "style",
        "background",
        "output_format",
        "output_compression",
        "moderation",
        "response_format",
        "user",
        "input_fidelity",
        "image",
        "image[]",
        "images",
        "image_url",
        "mask",
        "stream",
        "partial_images",
        "scale_factor",
    }
)

# Client bookkeeping some clients put in the body; never forwarded upstream.
CLIENT_BOOKKEEPING = frozenset(
    {"extra_headers", "drop_params", "extra_body", "api_base", "api_key", "metadata"}
)


@dataclass(slots=True)
class InputImage:
    data: bytes
    mime: str
    width: int
    height: int
    filename: str | None = None

    def data_uri(self) -> str:
        """The image inline, as most JSON provider APIs take it."""
        return f"data:{self.mime};base64,{base64.b64encode(self.data).decode('ascii')}"


@dataclass(slots=True)
class ImageRequest:
    mode: Mode
    model: str
    prompt: str
    n: int = 1
    size: str | None = None
    aspect_ratio: str | None = None
    resolution: str | None = None
    quality: str | None = None
    style: str | None = None
    background: str | None = None
    output_format: str | None = None
    output_compression: int | None = None
    moderation: str | None = None
    input_fidelity: str | None = None
    scale_factor: int | None = None  # upscale models (an edit request to an upscaler)
    partial_images: int | None = None  # streaming only: never sent, reported as ignored
    response_format: str = "url"
    user: str | None = None
    images: list[InputImage] = field(default_factory=list)
    mask: InputImage | None = None
    extra: dict[str, Any] = field(default_factory=dict)

    def logged_params(self) -> dict[str, Any]:
        """What the client asked for, as the request log's `params`: every parameter that was set,
        the number of input images and whether a mask came; never the prompt or image bytes. It shows
        what a client library really sent (one that drops `style` or `n` is visible here)."""
        params = {name: getattr(self, name) for name in _LOGGED_PARAMS if getattr(self, name) is not None}
        params["input_images"] = len(self.images)
        params["mask"] = self.mask is not None
        if self.extra:
            params["extra"] = {
                k: v if isinstance(v, int | float | bool) or (isinstance(v, str) and len(v) <= 200) else "..."
                for k, v in self.extra.items()
            }
        return params


_LOGGED_PARAMS = (
    "n",
    "size",
    "aspect_ratio",
    "resolution",
    "quality",
    "style",
    "background",
    "output_format",
    "output_compression",
    "moderation",
    "input_fidelity",
    "scale_factor",
    "partial_images",
    "response_format",
)


@dataclass(slots=True)
class GeneratedImage:
    """One image as a provider returned it: base64 text, raw bytes, or a URL still to fetch."""

    b64: str | None = None
    data: bytes | None = None
    url: str | None = None
    mime: str | None = None
    revised_prompt: str | None = None


@dataclass(slots=True)
class ProviderOutput:
    images: list[GeneratedImage]
    usage: dict[str, Any] | None = None
    size: str | None = None
    output_format: str | None = None
    echo: dict[str, Any] = field(default_factory=dict)  # e.g. background, quality as the provider reported
    shortfall: int = 0  # images of an emulated `n` that this attempt failed to make (made up by failover)
    failures: list[Exception] = field(default_factory=list)  # those calls' errors, listed as failed attempts
    # The provider encoded at the request's `output_compression`; when False and compression was
    # asked, the gateway re-encodes lossy output itself (api/image_output.py).
    compression_applied: bool = False


@dataclass(slots=True)
class Attempt:
    provider: str
    model_id: str
    status: str  # success | failed | cancelled
    latency_ms: float
    error_code: str | None = None
    http_status: int | None = None
    message: str | None = None
    verdict: str | None = None  # stop | retry | next (what the router did after it)
    cost: float = 0.0

    def public(self) -> dict[str, Any]:
        return {
            "provider": self.provider,
            "model": self.model_id,
            "status": self.status,
            "latency_ms": round(self.latency_ms, 1),
            "error_code": self.error_code,
            "http_status": self.http_status,
            "message": self.message,
            "verdict": self.verdict,
            "cost": self.cost,
        }
