"""A prediction's state and lifecycle, and the JSON Replicate shows for it.

`starting` -> `processing` (once polled) -> `succeeded` after `job_polls` polls or `job_s` seconds,
whichever comes first. The fate chosen by a fault at creation changes the ending: `job_failed`
and `content_policy` end `failed` (the latter with Replicate's E005 text), `job_stuck` never ends,
`empty` succeeds without output. A cancelled prediction ends `canceled`.
"""

from __future__ import annotations

import hashlib
import secrets
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from mediarouter.sandbox.replicate.errors import FAILED_ERROR, SENSITIVE_ERROR
from mediarouter.sandbox.replicate.inputs import Job, ModelEntry

TERMINAL = frozenset({"succeeded", "failed", "canceled"})
FATES = frozenset({"job_failed", "job_stuck", "content_policy", "empty"})  # decided at creation
_ID_ALPHABET = "0123456789abcdefghjkmnpqrstvwxyz"


@dataclass
class Prediction:
    model: ModelEntry
    input: dict[str, Any]
    job: Job
    fate: str | None
    id: str = field(default_factory=lambda: "".join(secrets.choice(_ID_ALPHABET) for _ in range(26)))
    created: float = field(default_factory=time.monotonic)
    created_at: str = field(default_factory=lambda: iso(time.time()))
    status: str = "starting"
    polls: int = 0
    files: list[str] = field(default_factory=list)  # shelf names of the outputs, once succeeded
    error: str | None = None
    started_at: str | None = None
    completed_at: str | None = None

    @property
    def done(self) -> bool:
        return self.status in TERMINAL


def advance(prediction: Prediction, polled: bool, job_s: float, job_polls: int) -> bool:
    """Move the prediction on; True when it has just succeeded (its files are then due)."""
    if prediction.done:
        return False
    prediction.polls += polled
    if prediction.polls and prediction.status == "starting":
        prediction.status, prediction.started_at = "processing", iso(time.time())
    if prediction.fate == "job_stuck":
        return False
    if prediction.polls < job_polls and time.monotonic() - prediction.created < job_s:
        return False
    now = iso(time.time())
    prediction.started_at = prediction.started_at or now
    prediction.completed_at = now
    if prediction.fate in ("job_failed", "content_policy"):
        prediction.status = "failed"
        prediction.error = SENSITIVE_ERROR if prediction.fate == "content_policy" else FAILED_ERROR
        return False
    prediction.status = "succeeded"
    return prediction.fate != "empty"


def cancel(prediction: Prediction) -> None:
    if not prediction.done:
        prediction.status, prediction.completed_at = "canceled", iso(time.time())


def prediction_body(prediction: Prediction, root: str, predict_time: float) -> dict[str, Any]:
    """The prediction object; `root` is the emulator's URL as the client reached it."""
    get_url = f"{root}/v1/predictions/{prediction.id}"
    urls = [f"{root}/delivery/xezq/{name}" for name in prediction.files]
    output = (urls if prediction.model.many_outputs else urls[0]) if urls else None
    body: dict[str, Any] = {
        "id": prediction.id,
        "model": prediction.model.id,
        "version": "hidden",
        "input": prediction.input,
        "logs": _logs(prediction),
        "output": output,
        "data_removed": False,
        "error": prediction.error,
        "source": "api",
        "status": prediction.status,
        "created_at": prediction.created_at,
        "started_at": prediction.started_at,
        "completed_at": prediction.completed_at,
        "urls": {
            "cancel": f"{get_url}/cancel",
            "get": get_url,
            "stream": f"{get_url}/stream",
            "web": f"https://replicate.com/p/{prediction.id}",
        },
    }
    if prediction.status == "succeeded":
        body["metrics"] = {"image_count": len(urls), "predict_time": round(predict_time, 3)}
    return body


def model_body(entry: ModelEntry) -> dict[str, Any]:
    owner, _, name = entry.id.partition("/")
    return {
        "url": f"https://replicate.com/{entry.id}",
        "owner": owner,
        "name": name,
        "description": entry.spec.description,
        "visibility": "public",
        "github_url": None,
        "paper_url": None,
        "license_url": None,
        "run_count": 0,
        "cover_image_url": None,
        "default_example": None,
        "latest_version": version_body(entry),
    }


def version_body(entry: ModelEntry) -> dict[str, Any]:
    uri = {"type": "string", "format": "uri"}
    output = {"type": "array", "items": uri} if entry.many_outputs else uri
    return {
        "id": entry.version,
        "created_at": "2026-01-01T00:00:00.000000Z",
        "cog_version": "0.16.0",
        "openapi_schema": {"components": {"schemas": {"Output": output}}},
    }


def iso(ts: float) -> str:
    return datetime.fromtimestamp(ts, UTC).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"


def _logs(prediction: Prediction) -> str:
    if prediction.status == "starting":
        return ""
    lines = [f"Using seed: {int(hashlib.sha256(prediction.id.encode()).hexdigest()[:6], 16)}"]
    if prediction.status != "processing":
        count = prediction.job.count
        lines.append(f"100%|##########| {count}/{count} [00:00<00:00]")
    return "\n".join(lines) + "\n"
