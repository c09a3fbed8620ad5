"""Prometheus metrics, kept in plain dicts: a label lookup and an add per event on the hot path.

prometheus_client is not used: its locks and per-sample objects cost more than this whole file
does per request, and the exposition format is simple.
"""

from __future__ import annotations

from bisect import bisect_left
from collections import defaultdict

LATENCY_BUCKETS_MS = (5, 10, 25, 50, 100, 250, 500, 1000, 2500, 5000, 10000, 30000, 60000, 120000, 300000)


class Histogram:
    __slots__ = ("counts", "sum", "total")

    def __init__(self) -> None:
        self.counts = [0] * (len(LATENCY_BUCKETS_MS) + 1)
        self.sum = 0.0
        self.total = 0

    def observe(self, value: float) -> None:
        self.counts[bisect_left(LATENCY_BUCKETS_MS, value)] += 1
        self.sum += value
        self.total += 1


class Metrics:
    def __init__(self) -> None:
        self.requests: dict[tuple[str, str, str], int] = defaultdict(int)  # endpoint, model, status
        self.request_latency: dict[tuple[str, str], Histogram] = defaultdict(Histogram)  # endpoint, model
        self.overhead: dict[str, Histogram] = defaultdict(Histogram)  # endpoint
        self.attempts: dict[tuple[str, str, str], int] = defaultdict(int)  # provider, model, outcome
        self.attempt_latency: dict[tuple[str, str], Histogram] = defaultdict(Histogram)  # provider, model
        self.in_flight = 0
        self.log_rows_dropped = 0

    def log_row_dropped(self) -> None:
        self.log_rows_dropped += 1

    def request(self, endpoint: str, model: str, status: int, latency_ms: float, overhead_ms: float) -> None:
        self.requests[(endpoint, model, str(status))] += 1
        self.request_latency[(endpoint, model)].observe(latency_ms)
        self.overhead[endpoint].observe(overhead_ms)

    def attempt(self, provider: str, model: str, outcome: str, latency_ms: float) -> None:
        self.attempts[(provider, model, outcome)] += 1
        self.attempt_latency[(provider, model)].observe(latency_ms)

    def render(self) -> str:
        out: list[str] = []
        _counter(
            out,
            "mediarouter_requests_total",
            "Gateway requests by endpoint, model and HTTP status.",
            ("endpoint", "model", "status"),
            self.requests,
        )
        _histograms(
            out,
            "mediarouter_request_duration_ms",
            "End-to-end request latency in milliseconds.",
            ("endpoint", "model"),
            self.request_latency,
        )
        _histograms(
            out,
            "mediarouter_overhead_ms",
            "Time spent in the gateway itself, upstream time excluded.",
            ("endpoint",),
            {(k,): v for k, v in self.overhead.items()},
        )
        _counter(
            out,
            "mediarouter_attempts_total",
            "Provider attempts by provider, model and outcome.",
            ("provider", "model", "outcome"),
            self.attempts,
        )
        failures = {k: v for k, v in self.attempts.items() if k[2] != "success"}
        _counter(
            out,
            "mediarouter_attempt_failures_total",
            "Failed provider attempts by provider, model and failure.",
            ("provider", "model", "failure"),
            failures,
        )
        _histograms(
            out,
            "mediarouter_attempt_duration_ms",
            "Provider attempt latency in milliseconds.",
            ("provider", "model"),
            self.attempt_latency,
        )
        out += [
            "# HELP mediarouter_in_flight_requests Requests being served right now.",
            "# TYPE mediarouter_in_flight_requests gauge",
            f"mediarouter_in_flight_requests {self.in_flight}",
            "# HELP mediarouter_log_rows_dropped_total Request-log rows the database refused to store.",
            "# TYPE mediarouter_log_rows_dropped_total counter",
            f"mediarouter_log_rows_dropped_total {self.log_rows_dropped}",
        ]
        return "\n".join(out) + "\n"


def _labels(names: tuple[str, ...], values: tuple[str, ...], extra: str = "") -> str:
    pairs = [f'{n}="{_escape(v)}"' for n, v in zip(names, values, strict=True)]
    if extra:
        pairs.append(extra)
    return "{" + ",".join(pairs) + "}"


def _escape(value: str) -> str:
    return value.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")


def _counter(
    out: list[str], name: str, help_: str, names: tuple[str, ...], data: dict[tuple[str, ...], int]
) -> None:
    out += [f"# HELP {name} {help_}", f"# TYPE {name} counter"]
    out += [f"{name}{_labels(names, key)} {value}" for key, value in sorted(data.items())]


def _histograms(
    out: list[str], name: str, help_: str, names: tuple[str, ...], data: dict[tuple[str, ...], Histogram]
) -> None:
    out += [f"# HELP {name} {help_}", f"# TYPE {name} histogram"]
    for key, hist in sorted(data.items()):
        running = 0
        for bound, count in zip((*LATENCY_BUCKETS_MS, "+Inf"), hist.counts, strict=True):
            running += count
            le = f'le="{bound}"'
            out.append(f"{name}_bucket{_labels(names, key, le)} {running}")
        out.append(f"{name}_sum{_labels(names, key)} {hist.sum:.3f}")
        out.append(f"{name}_count{_labels(names, key)} {hist.total}")
