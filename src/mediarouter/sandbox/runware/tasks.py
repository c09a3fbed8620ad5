"""Reading Runware task arrays: authentication, and `imageInference` checked field by field.

Pixel rules per model come from the catalog's Runware rows (`size_multiple`/`size_range`, or the
fixed `aspect_sizes`), so the emulator accepts exactly what the gateway is configured to send.
"""

from __future__ import annotations

import base64
import binascii
import secrets
import uuid
from collections.abc import Collection
from dataclasses import dataclass, field
from typing import Any

import orjson
from starlette.requests import Request

from mediarouter.catalog.models import load_catalog
from mediarouter.params.sizes import size_of
from mediarouter.sandbox.images import inspect_image
from mediarouter.sandbox.runware.errors import RunwareError

SLUG = "runware"
FORMATS = {"JPG": "jpeg", "PNG": "png", "WEBP": "webp"}
OUTPUT_FIELDS = {"URL": "imageURL", "base64Data": "imageBase64Data", "dataURI": "imageDataURI"}
KNOWN_FIELDS = frozenset(
    "taskType taskUUID model positivePrompt negativePrompt width height numberResults outputType outputFormat "
    "outputQuality steps CFGScale scheduler seed clipSkip seedImage maskImage strength maskMargin inputs "
    "referenceImages providerSettings lora controlNet outpaint refiner vae embeddings ipAdapters checkNSFW "
    "safety includeCost uploadEndpoint ttl deliveryMethod webhookURL acceleratorOptions advancedFeatures "
    "promptWeighting".split()
)


@dataclass(frozen=True)
class ModelRule:
    """What the emulator accepts for one AIR id, from the catalog row's options."""

    price: float
    multiple: int = 1
    low: int = 64
    high: int = 4096
    fixed: tuple[tuple[int, int], ...] = ()

    def problem(self, width: int, height: int) -> str | None:
        if self.fixed:
            ok = (width, height) in self.fixed
            return None if ok else "one of " + ", ".join(f"{w}x{h}" for w, h in self.fixed)
        if all(self.low <= v <= self.high and v % self.multiple == 0 for v in (width, height)):
            return None
        return f"between {self.low} and {self.high}" + (
            f", divisible by {self.multiple}" if self.multiple > 1 else ""
        )


def catalog_rules() -> dict[str, ModelRule]:
    rules: dict[str, ModelRule] = {}
    for model in load_catalog().models:
        offering = model.offering(SLUG)
        if offering is None:
            continue
        options = offering.options
        fixed = tuple(d for d in (size_of(str(s)) for s in (options.get("aspect_sizes") or {}).values()) if d)
        low, high = options.get("size_range") or (64, 4096)
        multiple = int(options.get("size_multiple") or 1)
        rules[offering.model_id] = ModelRule(offering.price.usd, multiple, int(low), int(high), fixed)
    return rules


@dataclass
class Inference:
    task: dict[str, Any]
    uuid: str
    model: str
    prompt: str
    width: int
    height: int
    n: int
    output_field: str
    fmt: str
    quality: int | None
    seed: int
    check_content: bool
    cost: float | None
    is_async: bool
    sources: list[bytes] = field(default_factory=list)
    mask: bytes | None = None


async def read_tasks(request: Request) -> tuple[list[dict[str, Any]], RunwareError | None]:
    """The task objects, or [] and the error to answer once faults have had their turn."""
    try:
        body = orjson.loads(await request.body())
    except orjson.JSONDecodeError:
        return [], RunwareError(400, "invalidJson", "The request body is not valid JSON.")
    if not isinstance(body, list) or not body or not all(isinstance(t, dict) for t in body):
        return [], RunwareError(
            400, "invalidRequestBody", "The request body must be a non-empty array of task objects."
        )
    return body, None


def authenticate(request: Request, tasks: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The tasks after a leading `authentication` task; a key is needed in one of the two places."""
    scheme, _, key = request.headers.get("authorization", "").partition(" ")
    if tasks and tasks[0].get("taskType") == "authentication":
        given = tasks[0].get("apiKey")
        scheme, key, tasks = "bearer", given if isinstance(given, str) else "", tasks[1:]
    if scheme.lower() != "bearer" or not key.strip():
        message = "Missing API key: send 'Authorization: Bearer <key>' or an authentication task first."
        raise RunwareError(401, "missingApiKey", message, "apiKey", {"taskType": "authentication"})
    return tasks


def parse_inference(task: dict[str, Any], models: dict[str, ModelRule]) -> Inference:
    fields = _Fields(task)
    unknown = sorted(set(task) - KNOWN_FIELDS)
    if unknown:
        raise fields.error("unknownParameter", f"Unknown parameter '{unknown[0]}'.", unknown[0])
    task_uuid = fields.uuid()
    model = task.get("model")
    if not isinstance(model, str) or model not in models:
        raise fields.error(
            "unknownModel", f"The model {model!r} does not exist or is not available.", "model"
        )
    rule = models[model]
    prompt = fields.string("positivePrompt", 2, 3000, required=True)
    fields.string("negativePrompt", 0, 3000)
    width, height = (
        fields.integer("width", 1, 8192, required=True),
        fields.integer("height", 1, 8192, required=True),
    )
    assert width is not None and height is not None
    if (expected := rule.problem(width, height)) is not None:
        raise fields.error(
            "invalidWidth", f"Width and height for {model} must be {expected}; got {width}x{height}.", "width"
        )
    output_type = fields.choice("outputType", OUTPUT_FIELDS, "URL")
    fmt = fields.choice("outputFormat", FORMATS, "JPG")
    for name, low, high in (("steps", 1, 100), ("clipSkip", 0, 2)):
        fields.integer(name, low, high)
    fields.number("CFGScale", 0, 50)
    fields.number("strength", 0, 1)
    sources = [fields.image(v, "seedImage") for v in _listed(task.get("seedImage"))]
    inputs: dict[str, Any] = task["inputs"] if isinstance(task.get("inputs"), dict) else {}
    for name, value in (
        ("referenceImages", task.get("referenceImages")),
        ("inputs.referenceImages", inputs.get("referenceImages")),
    ):
        sources += [fields.image(v, name) for v in _listed(value)]
    mask = fields.image(task["maskImage"], "maskImage") if task.get("maskImage") is not None else None
    if mask is not None and not sources:
        raise fields.error("invalidMaskImage", "maskImage needs a seedImage to paint into.", "maskImage")
    safety: dict[str, Any] = task["safety"] if isinstance(task.get("safety"), dict) else {}
    delivery = fields.choice("deliveryMethod", ("sync", "async"), "sync")
    return Inference(
        task=task,
        uuid=task_uuid,
        model=model,
        prompt=prompt or "",
        width=width,
        height=height,
        n=fields.integer("numberResults", 1, 20) or 1,
        output_field=OUTPUT_FIELDS[output_type],
        fmt=FORMATS[fmt],
        quality=fields.integer("outputQuality", 20, 99) if fmt != "PNG" else None,
        seed=fields.integer("seed", 0, 2**63 - 1) or secrets.randbelow(2**31),
        check_content=bool(safety.get("checkContent") or task.get("checkNSFW")),
        cost=rule.price if task.get("includeCost") else None,
        is_async=delivery == "async",
        sources=sources,
        mask=mask,
    )


def _listed(value: object) -> list[object]:
    if value is None:
        return []
    return value if isinstance(value, list) else [value]


class _Fields:
    """Typed reads of one task's fields; every failure is the task's own 400 error item."""

    def __init__(self, task: dict[str, Any]) -> None:
        self.task = task

    def error(self, code: str, message: str, parameter: str) -> RunwareError:
        return RunwareError(400, code, message, parameter, self.task)

    def _invalid(self, name: str, expected: str) -> RunwareError:
        code = "invalid" + name[0].upper() + name[1:].replace(".", "")
        return self.error(code, f"Invalid value for '{name}': expected {expected}.", name)

    def uuid(self) -> str:
        value = self.task.get("taskUUID")
        try:
            if isinstance(value, str) and uuid.UUID(value).version == 4:
                return value
        except ValueError:
            pass
        raise self._invalid("taskUUID", "a UUID v4 string")

    def string(self, name: str, low: int, high: int, required: bool = False) -> str | None:
        value = self.task.get(name)
        if value is None and not required:
            return None
        if not isinstance(value, str) or not low <= len(value) <= high:
            raise self._invalid(name, f"a string of {low} to {high} characters")
        return value

    def integer(self, name: str, low: int, high: int, required: bool = False) -> int | None:
        value = self.task.get(name)
        if value is None and not required:
            return None
        if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
            raise self._invalid(name, f"an integer between {low} and {high}")
        return value

    def number(self, name: str, low: float, high: float) -> None:
        value = self.task.get(name)
        if value is not None and (
            isinstance(value, bool) or not isinstance(value, int | float) or not low <= value <= high
        ):
            raise self._invalid(name, f"a number between {low} and {high}")

    def choice(self, name: str, allowed: Collection[str], default: str) -> str:
        value = self.task.get(name, default)
        if value not in allowed:
            raise self._invalid(name, "one of " + ", ".join(allowed))
        return str(value)

    def image(self, value: object, name: str) -> bytes:
        """A data URI or plain base64 (URLs and uploaded-image UUIDs cannot be resolved in the sandbox)."""
        if not isinstance(value, str) or value.startswith(("http://", "https://")):
            raise self._invalid(name, "a data URI or base64 image (the sandbox cannot fetch URLs)")
        text = value.split(",", 1)[1] if value.startswith("data:") else value
        try:
            data = base64.b64decode(text, validate=True)
        except (binascii.Error, ValueError):
            raise self._invalid(name, "a data URI or base64 image") from None
        if inspect_image(data) is None:
            raise self._invalid(name, "an image that can be decoded")
        return data
