"""Load generation: Debian's wrk with `wrk_post.lua` (fixed concurrency or fixed rate),
and a sequential Python probe for failover timelines where each request's latency matters.

wrk runs pinned to the load core; its own CPU time comes from wait4()'s rusage, so every result
says how busy the load core was (the proof that the load generator was not the bottleneck).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

BENCH = Path(__file__).resolve().parent
LUA = BENCH / "wrk_post.lua"


@dataclass
class LoadResult:
    requests: int
    duration_s: float
    errors: dict[str, int]
    latency_us: dict[str, float]
    wrk_cpu_s: float
    sent: int = 0  # requests wrk wrote (answered or not)
    send_s: float = 0  # when set, no request was sent after this; the rest of the run was a grace period
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def rps(self) -> float:
        # with a send window every request sent in it is answered (or counted unanswered) by the end,
        # so answers / window is the rate the target kept up with
        secs = self.send_s or self.duration_s
        return self.requests / secs if secs else 0.0

    @property
    def error_count(self) -> int:
        return sum(self.errors.values())

    @property
    def unanswered(self) -> int:
        """Requests sent that got no answer (wrk counts no error for them). An error only when the run
        had a grace period (`send_s`); otherwise they are the requests in flight at the end."""
        return max(0, self.sent - self.requests)

    def window_errors(self) -> dict[str, int]:
        """Errors of a run with a send window: every request sent and not answered (a read or write
        error on a request in flight leaves it unanswered too), refused connections, late answers and
        error statuses. wrk's read/write errors are kept apart, not added: in the grace period the
        gateway closes idle keep-alive connections, which wrk counts as read errors."""
        e = self.errors
        return {
            "unanswered": self.unanswered,
            "connect": e.get("connect", 0),
            "timeout": e.get("timeout", 0),
            "status": e.get("status", 0),
        }

    def ms(self, pct: str) -> float:
        return self.latency_us[pct] / 1000

    def to_json(self) -> dict[str, Any]:
        return {
            "requests": self.requests,
            "sent": self.sent,
            "duration_s": round(self.duration_s, 3),
            "rps": round(self.rps, 1),
            "errors": self.window_errors() if self.send_s else self.errors,
            **(
                {
                    "send_s": self.send_s,
                    "socket_errors": {k: self.errors.get(k, 0) for k in ("read", "write")},
                }
                if self.send_s
                else {"in_flight_at_end": self.unanswered}
            ),
            "latency_ms": {k: round(v / 1000, 3) for k, v in self.latency_us.items()},
            "wrk_cpu_s": round(self.wrk_cpu_s, 3),
            **self.extra,
        }


def wrk(
    url: str,
    body: dict[str, Any],
    *,
    auth: str = "",
    connections: int = 1,
    threads: int = 1,
    duration_s: float = 10,
    rate: float = 0,
    stagger_ms: float = 0,
    send_s: float = 0,
    timeout_s: float = 10,
    cpus: str = "1",
    nice: int = 0,
) -> LoadResult:
    threads = max(1, min(threads, connections))
    with tempfile.TemporaryDirectory(prefix="bench-wrk-") as tmp:
        body_path, out_path = Path(tmp, "body.json"), Path(tmp, "out.json")
        body_path.write_text(json.dumps(body))
        env = {
            **os.environ,
            "BENCH_BODY": str(body_path),
            "BENCH_OUT": str(out_path),
            "BENCH_AUTH": auth,
            "BENCH_RATE": str(rate),
            "BENCH_THREADS": str(threads),
            "BENCH_STAGGER_MS": str(stagger_ms),
            "BENCH_CONNS": str(connections),
            "BENCH_SEND_S": str(send_s),
        }
        argv = [
            "nice", "-n", str(nice), "taskset", "-c", cpus, "wrk", f"-t{threads}", f"-c{connections}", f"-d{max(1, round(duration_s))}s",
            f"--timeout={max(1, round(timeout_s))}s", "-s", str(LUA), url,
        ]  # fmt: skip
        proc = subprocess.Popen(argv, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
        _, status, usage = os.wait4(proc.pid, 0)
        proc.returncode = os.waitstatus_to_exitcode(status)
        output = proc.stdout.read().decode() if proc.stdout else ""
        if proc.returncode != 0 or not out_path.exists():
            raise RuntimeError(f"wrk failed ({proc.returncode}): {output[-2000:]}")
        data = json.loads(out_path.read_text())
    return LoadResult(
        requests=data["requests"],
        duration_s=data["duration_us"] / 1e6,
        errors=data["errors"],
        latency_us={k: float(v) for k, v in data["latency_us"].items()},
        wrk_cpu_s=usage.ru_utime + usage.ru_stime,
        sent=int(data.get("sent", 0)),
        send_s=send_s,
    )


def probe(
    url: str,
    body: dict[str, Any],
    *,
    auth: str = "",
    count: int = 200,
    cpus: str = "1",
    timeout_s: float = 30,
    nice: int = 0,
) -> dict[str, Any]:
    """`count` sequential requests from a small blocking client (bench/probe.py); every latency kept."""
    argv = [
        "nice", "-n", str(nice), "taskset", "-c", cpus, sys.executable, str(BENCH / "probe.py"), url,
        "--count", str(count), "--auth", auth, "--timeout", str(timeout_s),
    ]  # fmt: skip
    started = time.monotonic()
    out = subprocess.run(argv, input=json.dumps(body), capture_output=True, text=True, check=True)
    result: dict[str, Any] = json.loads(out.stdout)
    result["wall_s"] = time.monotonic() - started
    return result
