"""The fault book: which emulator should misbehave, how, and how often; and who was called.

Users test failover by telling an emulator to fail (`POST /sandbox/_faults`), then watching the
gateway route around it. A fault targets one provider, optionally one model (a model-specific fault
wins over a provider-wide one), fires with probability `rate` (a seeded RNG keeps runs repeatable)
and at most `count` times. How a mode looks on the wire is decided in `injection.py` together with
each emulator's dialect; the job modes are applied by the job-based emulators themselves.
"""

from __future__ import annotations

import random
from collections import Counter
from dataclasses import asdict, dataclass, fields, replace
from typing import Any

from mediarouter.errors import invalid

# Every provider an emulator exists for, or will: the slugs used everywhere else.
PROVIDERS = (
    "vertex",
    "gemini",
    "openai",
    "replicate",
    "fal",
    "fireworks",
    "runware",
    "xai",
    "alibaba",
    "openrouter",
)
# Providers whose API is a job to submit and poll; only they accept the job modes.
JOB_PROVIDERS = frozenset({"replicate", "fal", "fireworks", "runware", "alibaba"})

MODES: dict[str, str] = {
    "error": "answer with `status` (default 500) and the provider's own error body",
    "timeout": "never answer: hold the request until the client gives up (or emulator.hang_s passes)",
    "reset": "start a response, then drop the connection mid-body",
    "malformed": "answer 200 with a body that is not valid JSON",
    "empty": "answer 200 in the provider's success shape, with no image",
    "content_policy": "refuse the prompt the way the provider's safety system does",
    "slow": "answer normally after `latency_ms`",
    "job_failed": "accept the job, then report it failed (job-based providers)",
    "job_stuck": "accept the job, then never finish it (job-based providers)",
}
JOB_MODES = frozenset({"job_failed", "job_stuck"})
DEFAULT_ERROR_STATUS = 500


@dataclass(frozen=True, kw_only=True)
class Fault:
    provider: str
    model: str | None = None
    mode: str
    status: int | None = None  # `error` mode only
    rate: float = 1.0  # probability that a matching request is hit
    count: int | None = None  # how many more times it fires; None = until cleared
    latency_ms: int = 0  # delay before any mode (the whole point of `slow`)
    message: str | None = None  # error text instead of the provider's usual one

    @property
    def error_status(self) -> int:
        return self.status if self.status is not None else DEFAULT_ERROR_STATUS


class FaultBook:
    """In-memory faults and per-provider request counts; one per sandbox, shared by its emulators."""

    def __init__(self, seed: int | None = 0) -> None:
        self._faults: dict[tuple[str, str | None], Fault] = {}
        self._requests: Counter[str] = Counter()
        self._random = random.Random(seed)

    def set(self, fault: Fault) -> None:
        """Add the fault, replacing any other for the same (provider, model)."""
        self._faults.pop((fault.provider, fault.model), None)
        self._faults[(fault.provider, fault.model)] = fault

    def clear(self) -> None:
        self._faults.clear()
        self._requests.clear()

    def seed(self, seed: int | None) -> None:
        self._random.seed(seed)

    def snapshot(self) -> dict[str, Any]:
        return {"faults": [asdict(f) for f in self._faults.values()], "requests": dict(self._requests)}

    def hit(self, provider: str, model: str | None) -> Fault | None:
        """Count one request to `provider`, then return the fault it runs into, if any.

        The most specific fault decides alone: when a model's fault does not fire (its `rate`), the
        provider-wide one is not consulted. A fault whose `count` runs out leaves the book.
        """
        self._requests[provider] += 1
        key = (
            (provider, model) if model is not None and (provider, model) in self._faults else (provider, None)
        )
        fault = self._faults.get(key)
        if fault is None or not self._fires(fault.rate):
            return None
        if fault.count is not None:
            if fault.count <= 1:
                del self._faults[key]
            else:
                self._faults[key] = replace(fault, count=fault.count - 1)
        return fault

    def _fires(self, rate: float) -> bool:
        if rate >= 1.0:
            return True
        return rate > 0.0 and self._random.random() < rate


_FIELDS = frozenset(f.name for f in fields(Fault))


def parse_fault(body: Any) -> Fault:
    """A fault from a JSON object (as POSTed to `/_faults`); GatewayError INVALID_REQUEST when wrong."""
    if not isinstance(body, dict):
        raise invalid("The body must be a JSON object describing one fault")
    unknown = sorted(set(body) - _FIELDS)
    if unknown:
        raise invalid(
            f"Unknown field(s): {', '.join(unknown)} (known: {', '.join(sorted(_FIELDS))})", unknown[0]
        )
    provider = _text(body, "provider", required=True)
    if provider not in PROVIDERS:
        raise invalid(f"Unknown provider {provider!r}; known: {', '.join(PROVIDERS)}", "provider")
    mode = _text(body, "mode", required=True)
    if mode not in MODES:
        raise invalid(f"Unknown mode {mode!r}; known: {', '.join(MODES)}", "mode")
    if mode in JOB_MODES and provider not in JOB_PROVIDERS:
        raise invalid(
            f"Mode {mode!r} needs a job-based provider ({', '.join(sorted(JOB_PROVIDERS))})", "mode"
        )
    fault = Fault(
        provider=provider,
        model=_text(body, "model"),
        mode=mode,
        status=_integer(body, "status", 400, 599),
        rate=_rate(body),
        count=_integer(body, "count", 1, None),
        latency_ms=_integer(body, "latency_ms", 0, None) or 0,
        message=_text(body, "message"),
    )
    if fault.status is not None and mode != "error":
        raise invalid("'status' only applies to mode 'error'", "status")
    if mode == "slow" and fault.latency_ms == 0:
        raise invalid("Mode 'slow' needs 'latency_ms' greater than 0", "latency_ms")
    return fault


def _text(body: dict[str, Any], name: str, required: bool = False) -> str | None:
    value = body.get(name)
    if value is None and not required:
        return None
    if not isinstance(value, str) or not value:
        raise invalid(f"'{name}' must be a non-empty string", name)
    return value


def _integer(body: dict[str, Any], name: str, low: int, high: int | None) -> int | None:
    value = body.get(name)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int):
        raise invalid(f"'{name}' must be an integer", name)
    if value < low or (high is not None and value > high):
        bounds = f"between {low} and {high}" if high is not None else f"at least {low}"
        raise invalid(f"'{name}' must be {bounds}, got {value}", name)
    return value


def _rate(body: dict[str, Any]) -> float:
    value = body.get("rate", 1.0)
    if isinstance(value, bool) or not isinstance(value, int | float) or not 0.0 <= value <= 1.0:
        raise invalid(f"'rate' must be a number between 0 and 1, got {value!r}", "rate")
    return float(value)


def parse_seed(value: Any) -> int | None:
    """The RNG seed for `rate` draws: an integer, or null for an unpredictable one."""
    if value is None or (isinstance(value, int) and not isinstance(value, bool)):
        return value
    raise invalid("'seed' must be an integer or null", "seed")
