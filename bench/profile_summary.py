"""Summarise a py-spy raw (collapsed-stack) profile: top frames by self and by inclusive samples.

`python bench/profile_summary.py out/prof.txt [--top 30] [--match mediarouter]`
Inclusive counts each frame once per stack (recursion not double counted). Idle samples (an
executor thread waiting for work, the event loop's own frame = polling) are dropped, so the
percentages are of busy samples: py-spy counts those waits as active on this kernel.
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


if __name__ == "__main__":
    p = argparse.ArgumentParser()
    p.add_argument("path")
    p.add_argument("--top", type=int, default=30)
    p.add_argument("--match")
    a = p.parse_args()
    print(summarise(a.path, a.top, a.match))
