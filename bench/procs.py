"""Processes under test: start pinned, stop by id, and read CPU time and memory of a process tree.

Everything is read from /proc: CPU as utime+stime (all threads) of the process and its
descendants, memory as the sum of their resident sets. `Sampler` samples RSS in a thread while
a load runs, so the peak of a run is the peak of that run, not of the process's whole life.
"""

from __future__ import annotations

import os
import signal
import subprocess
import threading
import time
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path

TICK = os.sysconf("SC_CLK_TCK")
PAGE = os.sysconf("SC_PAGE_SIZE")


def _children() -> dict[int, list[int]]:
    kids: dict[int, list[int]] = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            stat = Path(f"/proc/{entry}/stat").read_text()
        except OSError:
            continue
        ppid = int(stat.rsplit(")", 1)[1].split()[1])
        kids.setdefault(ppid, []).append(int(entry))
    return kids


def tree(pid: int) -> list[int]:
    kids = _children()
    out, todo = [], [pid]
    while todo:
        p = todo.pop()
        out.append(p)
        todo += kids.get(p, [])
    return out


def cpu_seconds(pids: list[int]) -> float:
    total = 0
    for pid in pids:
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        total += int(fields[11]) + int(fields[12])  # utime, stime (fields 14 and 15 of stat)
    return total / TICK


def cpu_split(pids: list[int]) -> tuple[float, float]:
    """(user, kernel) CPU seconds of `pids`: kernel time is syscalls (socket reads/writes, epoll)."""
    user = kernel = 0
    for pid in pids:
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        user += int(fields[11])
        kernel += int(fields[12])
    return user / TICK, kernel / TICK


def rss_bytes(pids: list[int]) -> int:
    total = 0
    for pid in pids:
        try:
            total += int(Path(f"/proc/{pid}/statm").read_text().split()[1]) * PAGE
        except OSError:
            continue
    return total


def reset_peak(pids: list[int]) -> None:
    """Reset VmHWM (the kernel's peak RSS) so it covers only what follows (needs root)."""
    for pid in pids:
        try:
            Path(f"/proc/{pid}/clear_refs").write_text("5")
        except OSError:
            pass


def hwm_bytes(pids: list[int]) -> int:
    total = 0
    for pid in pids:
        try:
            for line in Path(f"/proc/{pid}/status").read_text().splitlines():
                if line.startswith("VmHWM:"):
                    total += int(line.split()[1]) * 1024
        except OSError:
            continue
    return total


def core_busy_s(cpus: str) -> float:
    """Busy time (all but idle and iowait) of the listed cores from /proc/stat, e.g. "0" or "0,1"."""
    wanted = {f"cpu{c}" for c in cpus.split(",")}
    total = 0
    for line in Path("/proc/stat").read_text().splitlines():
        parts = line.split()
        if parts and parts[0] in wanted:
            ticks = [int(x) for x in parts[1:9]]
            total += sum(ticks) - ticks[3] - ticks[4]
    return total / TICK


def run_queue_wait_s(pids: list[int]) -> float:
    """Time the threads of `pids` spent runnable but waiting for a CPU (schedstat): on the gateway's
    own core that is time taken by processes outside the benchmark."""
    total = 0
    for pid in pids:
        try:
            tasks = os.listdir(f"/proc/{pid}/task")
        except OSError:
            continue
        for tid in tasks:
            try:
                total += int(Path(f"/proc/{pid}/task/{tid}/schedstat").read_text().split()[1])
            except (OSError, IndexError, ValueError):
                continue
    return total / 1e9


def cpu_pressure_us() -> int:
    """Total time some runnable task waited for a CPU (PSI): how contended the machine was."""
    try:
        first = Path("/proc/pressure/cpu").read_text().splitlines()[0]
    except OSError:
        return 0
    return int(first.rsplit("total=", 1)[1])


@dataclass
class Sampler:
    """RSS of a process tree every `every_s` while running; `series` keeps (t, bytes) pairs."""

    pid: int
    every_s: float = 0.25
    series: list[tuple[float, int]] = field(default_factory=list)
    _stop: threading.Event = field(default_factory=threading.Event)
    _thread: threading.Thread | None = None

    def __enter__(self) -> Sampler:
        self._pids = tree(self.pid)
        reset_peak(self._pids)
        self._t0 = time.monotonic()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()
        return self

    def _run(self) -> None:
        n = 0
        while not self._stop.is_set():
            if n % 20 == 0:
                self._pids = tree(self.pid)  # pick up workers that start late
            self.series.append((time.monotonic() - self._t0, rss_bytes(self._pids)))
            n += 1
            self._stop.wait(self.every_s)

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join()
        self.hwm = hwm_bytes(self._pids)

    @property
    def peak(self) -> int:
        sampled = max((b for _, b in self.series), default=0)
        return max(sampled, getattr(self, "hwm", 0))


class Service:
    """A server process pinned to `cpus`, in its own session so that it and its children stop together."""

    def __init__(
        self, name: str, argv: list[str], cpus: str, env: dict[str, str], log: Path, nice: int = 0
    ) -> None:
        self.name = name
        self.log = log
        self._fh = open(log, "wb")
        self.started = time.monotonic()
        self.proc = subprocess.Popen(
            ["nice", "-n", str(nice), "taskset", "-c", cpus, *argv],
            env=env,
            stdout=self._fh,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        self.pid = self.proc.pid  # nice and taskset exec the program: same pid
        self.ready_s: float | None = None
        self.ready_cpu_s: float | None = None  # CPU time spent until ready: robust to a busy machine

    def wait_ready(self, url: str, timeout_s: float, headers: dict[str, str] | None = None) -> float:
        deadline = self.started + timeout_s
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"{self.name} exited with {self.proc.returncode}; see {self.log}")
            try:
                req = urllib.request.Request(url, headers=headers or {})
                with urllib.request.urlopen(req, timeout=1) as resp:
                    if resp.status == 200:
                        self.ready_s = time.monotonic() - self.started
                        self.ready_cpu_s = cpu_seconds(self.pids())
                        return self.ready_s
            except OSError:
                pass
            time.sleep(0.02)
        raise RuntimeError(f"{self.name} not ready after {timeout_s} s; see {self.log}")

    def pids(self) -> list[int]:
        return tree(self.pid)

    def pause(self) -> None:
        """SIGSTOP the whole tree: an idle gateway must not take CPU from the one being measured."""
        for pid in self.pids():
            os.kill(pid, signal.SIGSTOP)

    def resume(self) -> None:
        for pid in self.pids():
            os.kill(pid, signal.SIGCONT)

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.resume()
            os.killpg(self.pid, signal.SIGTERM)  # the group this Service created (start_new_session)
            try:
                self.proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                os.killpg(self.pid, signal.SIGKILL)
                self.proc.wait()
        self._fh.close()
