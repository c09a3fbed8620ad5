"""Summarise a py-spy raw (collapsed-stack) profile: top frames by self and by inclusive samples.

`python bench/profile_summary.py out/prof.txt [--top 30] [--match mediarouter]`
Inclusive counts each frame once per stack (recursion not double counted). Idle samples (an
executor thread waiting for work, the event loop's own frame = polling) are dropped, so the
percentages are of busy samples: py-spy counts those waits as active on this kernel.

`--categories` (for `py-spy record --native` profiles, `bench/run.sh --profile --profile-native`):
each busy sample goes to one bucket, by the Python frame nearest the leaf (the code that made the
call, whatever C it went through), GC wherever it runs, and a table of the C/syscall leaves
(write, read, getpid...). `--cpu-ms` turns shares into µs per request.
"""

from __future__ import annotations

import argparse
import re
from collections import Counter

_LOC = re.compile(r"\s*\((?:.*/)?(site-packages/|src/)?([^()]*)\)$")


def _short(frame: str) -> str:
    """`fn (path/to/file.py:12)` -> `fn (file.py)`; line numbers dropped so a function aggregates."""
    match = _LOC.search(frame)
    if not match:
        return frame.strip()
    where = match.group(2).rsplit(":", 1)[0]
    parts = where.split("/")
    return f"{frame[: match.start()].strip()} ({'/'.join(parts[-2:])})"


def summarise(path: str, top: int, match: str | None) -> str:
    self_c: Counter[str] = Counter()
    incl: Counter[str] = Counter()
    total = 0
    for line in open(path, encoding="utf-8", errors="replace"):
        stack, _, count = line.rstrip("\n").rpartition(" ")
        if not stack or not count.isdigit():
            continue
        n = int(count)
        frames = [_short(f) for f in stack.split(";") if f and not f.startswith("process ")]
        frames = [f for f in frames if not f.startswith("thread (")]
        if not frames or frames[-1].startswith("_worker (") or frames[-1].startswith("Runner.run ("):
            continue  # an executor thread waiting for work / the event loop polling: idle, not CPU
        total += n
        self_c[frames[-1]] += n
        for f in set(frames):
            incl[f] += n
    out = [f"samples: {total}", "", "| self % | function |", "|---:|---|"]
    out += [f"| {100 * c / total:.1f} | `{f}` |" for f, c in self_c.most_common(top)]
    out += ["", "| inclusive % | function |", "|---:|---|"]
    rows = [(f, c) for f, c in incl.most_common() if match is None or match in f]
    out += [f"| {100 * c / total:.1f} | `{f}` |" for f, c in rows[:top]]
    return "\n".join(out)


# (bucket, substrings of a Python frame's location), first match wins; checked on the Python frame
# nearest the leaf
BUCKETS: list[tuple[str, tuple[str, ...]]] = [
    ("request log (row, SQLite in its thread, commit wait)", ("store/", "sqlite3/")),
    ("aiohttp client (request, connection pool, response parse)", ("aiohttp/", "multidict/", "yarl/")),
    ("uvicorn + httptools (parse request, write answer)", ("uvicorn/protocols/",)),
    ("Starlette + uvicorn middleware", ("starlette/", "uvicorn/middleware/")),
    ("mediarouter: routing and failover", ("mediarouter/routing/",)),
    ("mediarouter: provider adapter and transport", ("mediarouter/providers/",)),
    ("mediarouter: API handler (parse, validate, render)", ("mediarouter/api/", "mediarouter/params/")),
    ("mediarouter: other (auth, metrics, ids, catalog)", ("mediarouter/",)),
    ("asyncio (tasks, futures, wait, locks)", ("asyncio/",)),
    ("thread-pool hand-off (run_in_executor, wake the worker)", ("concurrent/futures/", "threading.py")),
    ("dataclass constructors (records, attempts)", ("(<string>",)),
]
_LOOP_FRAMES = ("Runner.run", "run_until_complete", "uvicorn/server.py", "uvicorn/_compat.py")


def _is_py(frame: str) -> bool:
    return ".py:" in frame or ".py)" in frame or "(<string>" in frame


def categorise(path: str, cpu_ms: float | None = None, top_leaves: int = 12) -> str:
    buckets: Counter[str] = Counter()
    leaves: Counter[str] = Counter()
    idle = total = 0
    for line in open(path, encoding="utf-8", errors="replace"):
        stack, _, count = line.rstrip("\n").rpartition(" ")
        if not stack or not count.isdigit():
            continue
        n = int(count)
        frames = [f for f in stack.split(";") if f and not f.startswith(("process ", "thread ("))]
        if not frames:
            continue
        py = [f for f in frames if _is_py(f)]
        leaf = _short(frames[-1])
        if any("_worker (concurrent/futures/thread.py" in f for f in frames) and not any(
            "_WorkItem.run" in f for f in frames
        ):
            idle += n  # an executor thread waiting for work
            continue
        in_loop = not py or any(k in py[-1] for k in _LOOP_FRAMES)  # no Python frame above the loop's
        if in_loop and (leaf.startswith(("epoll_wait", "epoll_pwait")) or _is_py(frames[-1])):
            idle += n  # the event loop waiting in epoll (a Python-only stack ends in the loop's frame)
            continue
        total += n
        if any("gcmodule.c" in f or "gc_collect" in f for f in frames):
            buckets["cyclic GC"] += n
        else:
            where = py[-1] if py else ""
            name = next((b for b, keys in BUCKETS if any(k in where for k in keys)), None)
            if in_loop:
                name = "event loop (uvloop: epoll, socket reads, callbacks)"
            if name is None:
                name = "other: " + _short(where) if where else "C without a Python frame"
            buckets[name] += n
        if not _is_py(frames[-1]):
            leaves[leaf.split(" (")[0] + " (" + leaf.rsplit("(", 1)[-1]] += n
    if not total:
        return "no busy samples"
    head = f"busy samples: {total} (idle dropped: {idle})"
    unit = " | µs per request" if cpu_ms else ""
    out = [
        head,
        "",
        f"| bucket (nearest Python frame) | % of busy{unit} |",
        "|---|---:" + ("|---:|" if cpu_ms else "|"),
    ]
    for b, c in buckets.most_common():
        share = c / total
        out.append(f"| {b} | {100 * share:.1f}" + (f" | {1000 * cpu_ms * share:.0f} |" if cpu_ms else " |"))
    out += ["", "| C / syscall leaf | % of busy |", "|---|---:|"]
    out += [f"| `{f}` | {100 * c / total:.1f} |" for f, c in leaves.most_common(top_leaves)]
    return "\n".join(out)


if __name__ == "__main__":
    p = argparse.ArgumentParser()
    p.add_argument("path")
    p.add_argument("--top", type=int, default=30)
    p.add_argument("--match")
    p.add_argument("--categories", action="store_true", help="buckets for a --native profile")
    p.add_argument("--cpu-ms", type=float, help="CPU ms per request of the profiled run (with --categories)")
    a = p.parse_args()
    print(categorise(a.path, a.cpu_ms) if a.categories else summarise(a.path, a.top, a.match))
