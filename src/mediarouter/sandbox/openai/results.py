"""What a successful answer looks like: GPT image (base64, echo fields, token usage), DALL·E (URLs
or base64, `revised_prompt` for dall-e-3), and the SSE stream of `stream: true`.

Token counts follow OpenAI's published image-token figures (272/1056/4160 output tokens for a
1024x1024 image at low/medium/high, scaled by area; 65 + 129 per 512-pixel tile for each input
image), so usage-based pricing can be tested against realistic numbers.
"""

from __future__ import annotations

import base64
import math
import time
from collections.abc import AsyncIterator
from dataclasses import replace
from typing import Any

import orjson
from starlette.responses import StreamingResponse

from mediarouter.sandbox.openai.errors import request_id
from mediarouter.sandbox.openai.models import OUTPUT_TOKENS_1024
from mediarouter.sandbox.openai.params import ImageTask

INPUT_IMAGE_BASE_TOKENS = 65
INPUT_IMAGE_TILE_TOKENS = 129


def text_tokens(prompt: str) -> int:
    return max(1, math.ceil(len(prompt) / 4))


def input_image_tokens(task: ImageTask) -> int:
    """Each input image scaled to fit 2048x2048 with its short side at most 768, in 512-pixel tiles."""
    total = 0
    for image in task.images:
        w, h = image.info.width, image.info.height
        scale = min(1.0, 2048 / max(w, h))
        short_side = min(w, h) * scale
        if short_side > 768:
            scale *= 768 / short_side
        tiles = math.ceil(w * scale / 512) * math.ceil(h * scale / 512)
        total += INPUT_IMAGE_BASE_TOKENS + INPUT_IMAGE_TILE_TOKENS * tiles
    return total


def usage(task: ImageTask) -> dict[str, Any]:
    per_image = round(OUTPUT_TOKENS_1024[task.quality] * task.width * task.height / (1024 * 1024))
    text, images = text_tokens(task.prompt), input_image_tokens(task)
    output = per_image * task.n
    return {
        "input_tokens": text + images,
        "input_tokens_details": {"image_tokens": images, "text_tokens": text},
        "output_tokens": output,
        "total_tokens": text + images + output,
        "output_tokens_details": {"image_tokens": output, "text_tokens": 0},
    }


def revised_prompt(task: ImageTask) -> str:
    subject = task.prompt.rstrip(". ")
    return f"{subject}, depicted in a {task.style or 'vivid'} style with rich detail and soft light."


def b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


def gpt_image_body(task: ImageTask, pictures: list[bytes]) -> dict[str, Any]:
    return {
        "created": int(time.time()),
        "background": task.background,
        "data": [{"b64_json": b64(p)} for p in pictures],
        "output_format": task.output_format,
        "quality": task.quality,
        "size": task.size,
        "usage": usage(task),
    }


def dalle_body(task: ImageTask, pictures: list[bytes], urls: list[str] | None) -> dict[str, Any]:
    items: list[dict[str, Any]] = (
        [{"url": u} for u in urls] if urls else [{"b64_json": b64(p)} for p in pictures]
    )
    if task.style is not None:  # dall-e-3 rewrites every prompt
        for item in items:
            item["revised_prompt"] = revised_prompt(task)
    return {"created": int(time.time()), "data": items}


def stream_response(task: ImageTask, pictures: list[bytes]) -> StreamingResponse:
    """`event: <type>` / `data: <json>` pairs: `partial_images` partials (the final picture, as the
    emulator has no intermediate one), then one completed event per image."""
    prefix = "image_generation" if task.endpoint == "generations" else "image_edit"
    created = int(time.time())
    echo = {
        "background": task.background,
        "created_at": created,
        "output_format": task.output_format,
        "quality": task.quality,
        "size": task.size,
    }
    per_image_usage = usage(replace(task, n=1))

    async def events() -> AsyncIterator[bytes]:
        for picture in pictures:
            encoded = b64(picture)
            partial_type, completed_type = f"{prefix}.partial_image", f"{prefix}.completed"
            for index in range(task.partial_images):
                partial = {"type": partial_type, "b64_json": encoded, **echo, "partial_image_index": index}
                yield _sse(partial_type, partial)
            completed = {"type": completed_type, "b64_json": encoded, **echo, "usage": per_image_usage}
            yield _sse(completed_type, completed)

    headers = {"x-request-id": request_id(), "cache-control": "no-cache"}
    return StreamingResponse(events(), media_type="text/event-stream", headers=headers)


def _sse(event: str, data: dict[str, Any]) -> bytes:
    return b"event: " + event.encode() + b"\ndata: " + orjson.dumps(data) + b"\n\n"
