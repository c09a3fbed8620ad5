"""A queued request's state and lifecycle, and the status object fal shows for it.

`IN_QUEUE` -> `IN_PROGRESS` (once polled) -> `COMPLETED` after `job_polls` polls or `job_s`
seconds, whichever comes first. The fate chosen by a fault at submission changes the ending:
`job_failed` and `content_policy` complete with an `error` (and an error result), `job_stuck`
never completes, `empty` completes without an image. A cancelled request completes with an error.
"""

from __future__ import annotations

import time
import uuid
from dataclasses import dataclass, field
from typing import Any

from mediarouter.sandbox.fal.errors import CANCELLED_MESSAGE, FAILED_MESSAGE, POLICY_MESSAGE
from mediarouter.sandbox.fal.inputs import Endpoint, Task, app_path

FATES = frozenset({"job_failed", "job_stuck", "content_policy", "empty"})  # decided at submission
# fate -> (error, error_type) reported by a completed status
STATUS_ERRORS = {
    "job_failed": (FAILED_MESSAGE, "internal_server_error"),
    "content_policy": (POLICY_MESSAGE, "content_policy_violation"),
}


@dataclass
class Job:
    endpoint: Endpoint
    task: Task
    fate: str | None
    id: str = field(default_factory=lambda: str(uuid.uuid4()))
    created: float = field(default_factory=time.monotonic)
    polls: int = 0
    status: str = "IN_QUEUE"
    cancelled: bool = False
    files: list[str] | None = None  # shelf names of the outputs, once the result was asked for

    @property
    def app_path(self) -> str:
        return app_path(self.endpoint.id)


def advance(job: Job, polled: bool, job_s: float, job_polls: int) -> None:
    if job.status == "COMPLETED":
        return
    job.polls += polled
    if job.polls:
        job.status = "IN_PROGRESS"
    if job.fate != "job_stuck" and (job.polls >= job_polls or time.monotonic() - job.created >= job_s):
        job.status = "COMPLETED"


def job_urls(root: str, job: Job) -> dict[str, str]:
    """The job's URLs on `{owner}/{app}` only, as fal builds them."""
    base = f"{root}/queue/{job.app_path}/requests/{job.id}"
    return {"response_url": base, "status_url": f"{base}/status", "cancel_url": f"{base}/cancel"}


def status_body(job: Job, root: str, with_logs: bool, inference_s: float) -> dict[str, Any]:
    body: dict[str, Any] = {"status": job.status, "request_id": job.id, **job_urls(root, job)}
    body["logs"] = _logs(job) if with_logs else None  # the key is always there: fal-client needs it
    if job.status == "IN_QUEUE":
        body["queue_position"] = 0
    if job.status != "COMPLETED":
        return body
    body["metrics"] = {"inference_time": round(inference_s, 3)}
    if job.cancelled:
        body["error"], body["error_type"] = CANCELLED_MESSAGE, "request_cancelled"
    elif job.fate in STATUS_ERRORS:
        body["error"], body["error_type"] = STATUS_ERRORS[job.fate]
    return body


def _logs(job: Job) -> list[dict[str, Any]]:
    if job.status == "IN_QUEUE":
        return []
    now = time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime())
    lines = [{"message": "Generating...", "level": "INFO", "source": "user", "timestamp": now}]
    if job.status == "COMPLETED":
        lines.append({"message": "Done.", "level": "INFO", "source": "user", "timestamp": now})
    return lines
