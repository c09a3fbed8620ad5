"""`python -m bench` (or `bench/run.sh`): every scenario, direct / mediarouter / LiteLLM, in one go.

Writes bench/out/results.json and the generated part of bench/RESULTS.md. Options narrow a
development run (`--only a,c --quick --no-litellm`); the full run takes the defaults.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from bench import gateways as gw
from bench import report
from bench.procs import Service
from bench.scenarios import (
    Bench,
    Target,
    scenario_a,
    scenario_b,
    scenario_c,
    scenario_d,
    scenario_e,
    scenario_f,
)


def machine(head: str | None = None, args_rev: str = "HEAD") -> dict[str, Any]:
    cpu = next(
        (line.split(":", 1)[1].strip() for line in Path("/proc/cpuinfo").read_text().splitlines()
         if line.startswith("model name")),
        "?",
    )  # fmt: skip
    mem_kb = int(Path("/proc/meminfo").read_text().split()[1])
    commit = subprocess.run(
        ["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True, cwd=gw.ROOT
    )
    dirty = subprocess.run(
        ["git", "status", "--porcelain", "src"], capture_output=True, text=True, cwd=gw.ROOT
    )
    return {
        "cpu": cpu,
        "cores": os.cpu_count(),
        "memory_gib": round(mem_kb / 2**20, 1),
        "kernel": platform.release(),
        "commit": (
            f"{head} (mediarouter run from {'HEAD' if args_rev == 'HEAD' else args_rev}'s src/ via git archive"
            + (
                "; not measured: uncommitted changes in the shared tree's "
                + ", ".join(line[3:] for line in dirty.stdout.splitlines())
                if dirty.stdout.strip()
                else ""
            )
            + ")"
            if head
            else commit.stdout.strip()
            + (
                " (+ uncommitted changes in src/: "
                + ", ".join(line[3:] for line in dirty.stdout.splitlines())
                + ")"
                if dirty.stdout.strip()
                else ""
            )
        ),
        "uptime": subprocess.run(["uptime"], capture_output=True, text=True).stdout.strip(),
        "nofile": subprocess.run(["bash", "-c", "ulimit -n"], capture_output=True, text=True).stdout.strip(),
    }


def startup_times(out: Path, config: Path, cpus: str, runs: int, nice: int) -> list[tuple[float, float]]:
    times = []
    for i in range(runs):
        svc = gw.start_mediarouter(out, config, gw.free_port(), cpus, tag=f"-startup{i}", nice=nice)
        times.append((round(svc.ready_s or 0, 3), round(svc.ready_cpu_s or 0, 3)))
        svc.stop()
    return times


def main() -> int:
    p = argparse.ArgumentParser(prog="python -m bench", description=__doc__)
    p.add_argument("--only", default="a,b,c,d,e,f", help="scenarios to run, e.g. a,c")
    p.add_argument("--quick", action="store_true", help="short development runs (not for RESULTS.md)")
    p.add_argument("--no-litellm", action="store_true", help="skip the LiteLLM proxy")
    p.add_argument("--profile", action="store_true", help="py-spy the mediarouter runs (bench/out/profile-*)")
    p.add_argument("--profile-native", action="store_true", help="with --profile: py-spy --native (C frames)")
    p.add_argument("--e-requests", type=int, default=100_000, help="(e): requests through mediarouter")
    p.add_argument("--e-litellm-requests", type=int, default=10_000, help="(e): requests through LiteLLM")
    p.add_argument("--e-litellm-cap-s", type=float, default=300, help="(e): time box for LiteLLM")
    p.add_argument("--f-count", type=int, default=400, help="(f): sequential requests per variant")
    p.add_argument("--retries", type=int, default=1, help="re-runs of a contended gateway run")
    p.add_argument(
        "--foreign-limit", type=float, default=15.0, help="%% of the gateway core others may use in a run"
    )
    p.add_argument(
        "--nice", type=int, default=0, help="niceness of gateways, mock and wrk (e.g. -5 on a busy machine)"
    )
    p.add_argument("--gateway-cpu", default="0")
    p.add_argument("--load-cpu", default="1")
    p.add_argument("--out", default=str(gw.BENCH / "out"))
    p.add_argument("--no-write", action="store_true", help="do not touch bench/RESULTS.md")
    p.add_argument(
        "--worktree-src",
        action="store_true",
        help="run mediarouter from the working tree's src/ (default: HEAD's, via git archive)",
    )
    p.add_argument("--src-commit", default="HEAD", help="run mediarouter from this commit's src/ (A/B runs)")
    args = p.parse_args()
    only = set(args.only.split(","))
    signal.signal(signal.SIGTERM, _terminate)  # so that `finally` stops every process we started
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    started = time.time()
    head = None if args.worktree_src else gw.use_head_src(out, args.src_commit)
    info: dict[str, Any] = {"machine": machine(head, args.src_commit), "versions": gw.versions(), "argv": p.prog + " " + " ".join(
        sys.argv[1:]), "started": time.strftime("%Y-%m-%d %H:%M:%S %Z")}  # fmt: skip
    print(f"bench: {info['machine']['uptime']}", flush=True)

    services: list[Service] = []
    dead = gw.RefusingPort()
    mock_port, hang_port = gw.free_port(), gw.free_port()
    mock = gw.start_mock(out, mock_port, hang_port, args.load_cpu, args.nice)
    services.append(mock)
    mock_url = f"http://127.0.0.1:{mock_port}"
    try:
        data_dir = out / "mediarouter-data"
        if data_dir.exists():
            subprocess.run(["rm", "-rf", str(data_dir)], check=True)
        config = gw.mediarouter_config(out, mock_url)
        key = gw.mediarouter_key(config)
        info["startup_s"] = startup_times(out, config, args.gateway_cpu, 1 if args.quick else 3, args.nice)
        print(f"bench: mediarouter ready in {info['startup_s']} s", flush=True)
        mr_port = gw.free_port()
        mr = gw.start_mediarouter(out, config, mr_port, args.gateway_cpu, nice=args.nice)
        services.append(mr)
        targets = {
            "direct": Target("direct", mock_url, "", None),
            "mediarouter": Target("mediarouter", f"http://127.0.0.1:{mr_port}", key, mr),
        }
        if not args.no_litellm:
            lconf = gw.litellm_config(out, mock_url, dead.port, hang_port, 1.0)
            lport = gw.free_port()
            lt = gw.start_litellm(out, lconf, lport, args.gateway_cpu, args.nice)
            services.append(lt)
            info["litellm_startup_s"] = round(lt.ready_s or 0, 1)
            print(f"bench: litellm ready in {info['litellm_startup_s']} s", flush=True)
            targets["litellm"] = Target("litellm", f"http://127.0.0.1:{lport}", gw.LITELLM_MASTER_KEY, lt)
        bench = Bench(out, mock, mock_url, targets, args.gateway_cpu, args.load_cpu, args.quick, args.profile)
        bench.nice, bench.retries, bench.foreign_limit = args.nice, args.retries, args.foreign_limit
        bench.profile_native = args.profile_native

        def restart(name: str, env: dict[str, str]) -> Target:
            """A fresh mediarouter process (same config and data), e.g. for (e) after (d)."""
            old = targets[name]
            assert name == "mediarouter" and old.service is not None
            old.service.stop()
            services.remove(old.service)
            port = gw.free_port()
            svc = gw.start_mediarouter(out, config, port, args.gateway_cpu, env, tag="-fresh", nice=args.nice)
            services.append(svc)
            svc.pause()
            return Target(name, f"http://127.0.0.1:{port}", key, svc)

        bench.restart = restart
        bench.pause_all()
        bench.results["info"] = info
        steps = [
            ("a", lambda: scenario_a(bench)),
            ("b", lambda: scenario_b(bench)),
            ("c", lambda: scenario_c(bench)),
            ("d", lambda: scenario_d(bench)),
            ("e", lambda: scenario_e(bench, args.e_requests, args.e_litellm_requests, args.e_litellm_cap_s)),
        ]
        for name, fn in steps:
            if name in only:
                print(f"bench: scenario ({name}) ... [{os.getloadavg()[0]:.2f} load]", flush=True)
                t0 = time.time()
                fn()
                bench.results.setdefault("timing_s", {})[name] = round(time.time() - t0, 1)
                _save(out, bench.results)
        if "f" in only:
            print("bench: scenario (f) ...", flush=True)

            def start_variant(kind: str) -> tuple[Target, Any]:
                env = {}
                if kind.startswith("refused"):
                    env["MEDIAROUTER_PROVIDERS_OPENAI_BASE_URL"] = f"http://127.0.0.1:{dead.port}/v1"
                else:
                    env["MEDIAROUTER_PROVIDERS_OPENAI_BASE_URL"] = f"http://127.0.0.1:{hang_port}/v1"
                    env["MEDIAROUTER_TIMEOUTS_ATTEMPT_S"] = "1"
                if kind == "refused-nobreaker":
                    env["MEDIAROUTER_ROUTING_BREAKER_MIN_REQUESTS"] = "1000000000"
                bench.pause_all()
                port = gw.free_port()
                svc = gw.start_mediarouter(
                    out, config, port, args.gateway_cpu, env, tag=f"-f-{kind}", nice=args.nice
                )
                return Target("mediarouter", f"http://127.0.0.1:{port}", key, svc), svc.stop

            t0 = time.time()
            scenario_f(bench, start_variant, args.f_count)
            bench.results.setdefault("timing_s", {})["f"] = round(time.time() - t0, 1)
        info["finished_uptime"] = subprocess.run(["uptime"], capture_output=True, text=True).stdout.strip()
        info["wall_s"] = round(time.time() - started, 1)
        _save(out, bench.results)
    finally:
        for svc in reversed(services):
            svc.stop()
        dead.close()
    md = report.render(bench.results)
    (out / "results.md").write_text(md)
    if not args.no_write and not args.quick:
        report.write_into(gw.BENCH / "RESULTS.md", md)
    print(f"bench: done in {info['wall_s']} s; tables in {out / 'results.md'}", flush=True)
    return 0


def _terminate(signum: int, frame: object) -> None:
    raise KeyboardInterrupt


def _save(out: Path, results: dict[str, Any]) -> None:
    (out / "results.json").write_text(json.dumps(results, indent=1, default=str))


if __name__ == "__main__":
    raise SystemExit(main())
