"""Opt-in memory probe for (e), loaded into a gateway by `PYTHONPATH=bench/memprobe` (no change to src/).

When BENCH_MEMPROBE_OUT is set, a daemon thread appends one JSON line per second: wall time,
`sys.getallocatedblocks()` (live pymalloc blocks: the interpreter's own count of what is allocated,
independent of how much freed memory the allocator keeps as RSS), RSS, and every 5 s the number of
gc-tracked objects outside the start-up set that `gc.freeze()` put aside (`len(gc.get_objects())`,
a few ms). Nothing runs on the request path; the thread takes the GIL for microseconds a second,
and for the object count's few ms every 5 s.
"""

from __future__ import annotations

import os

_OUT = os.environ.get("BENCH_MEMPROBE_OUT")


def _run(path: str) -> None:
    import gc
    import json
    import sys
    import time

    page = os.sysconf("SC_PAGE_SIZE")
    n = 0
    with open(path, "a", buffering=1) as fh:
        while True:
            time.sleep(1.0)
            try:
                with open("/proc/self/statm") as f:
                    rss = int(f.read().split()[1]) * page
            except OSError:
                rss = 0
            row = {"t": time.time(), "blocks": sys.getallocatedblocks(), "rss_mb": round(rss / 2**20, 1)}
            if n % 5 == 0:
                row["objects"] = len(gc.get_objects())
                row["frozen"] = gc.get_freeze_count()
            n += 1
            fh.write(json.dumps(row) + "\n")


if _OUT:
    import threading

    threading.Thread(target=_run, args=(_OUT,), name="bench-memprobe", daemon=True).start()


# BENCH_GCPROBE_OUT: time every cyclic-GC collection (gc.callbacks) and rewrite a JSON summary
# (BENCH_GCPROBE_OUT.<pid>) each second (count, total and max ms per generation, and the collections over 1 ms): what GC adds to
# latency. A development probe (bench/run.sh does not set it); it runs on every collection, not per
# request, and costs two perf_counter() calls each.
_GC_OUT = os.environ.get("BENCH_GCPROBE_OUT")


def _gc_probe(path: str) -> None:
    import gc
    import json
    import threading
    import time

    stats = {g: {"count": 0, "total_ms": 0.0, "max_ms": 0.0, "over_1ms": 0} for g in (0, 1, 2)}
    started: list[float] = [0.0]

    def callback(phase: str, info: dict[str, int]) -> None:
        if phase == "start":
            started[0] = time.perf_counter()
            return
        ms = (time.perf_counter() - started[0]) * 1000
        s = stats[info["generation"]]
        s["count"] += 1
        s["total_ms"] += ms
        s["max_ms"] = max(s["max_ms"], ms)
        s["over_1ms"] += ms > 1

    gc.callbacks.append(callback)

    def dump() -> None:
        while True:
            time.sleep(1.0)
            with open(path + ".tmp", "w") as fh:
                json.dump({"t": time.time(), "threshold": gc.get_threshold(), "stats": stats}, fh)
            os.replace(path + ".tmp", path)

    threading.Thread(target=dump, name="bench-gcprobe", daemon=True).start()


if _GC_OUT:
    _gc_probe(f"{_GC_OUT}.{os.getpid()}")  # one file per process: the bench's own python may load this too
