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
