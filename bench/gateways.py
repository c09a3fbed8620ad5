"""The three targets of every scenario: the mock itself (direct), mediarouter and the LiteLLM proxy.

Both gateways are configured at the same mock, run one worker process each, pinned to the
gateway core; the mock (and the load generator) use the other core. mediarouter serves the
shipped `gpt-image-1-mini` (provider `openai`) plus `bench-failover`, a catalog entry served by
`openai` then `xai` (priority order): `xai` speaks the same OpenAI-shaped Images API, and there
is no way yet to configure a second OpenAI-protocol provider under another slug.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
from pathlib import Path
from typing import Any

import yaml

from bench.procs import Service

ROOT = Path(__file__).resolve().parent.parent
BENCH = ROOT / "bench"
MR_BIN = ROOT / ".venv" / "bin" / "mediarouter"
# the mediarouter source the gateways run: HEAD's src/ (from `git archive`), put first on PYTHONPATH
# ahead of the editable install, so other people's uncommitted work in the shared tree is not
# measured (and cannot stop a start-up mid-run). None: the working tree as it is.
MR_SRC: Path | None = None


def use_head_src(out: Path, rev: str = "HEAD") -> str:
    """Extract `rev`'s src/ (HEAD unless asked) into out/head-src and run every mediarouter from it;
    returns the commit."""
    global MR_SRC
    dest = out / "head-src"
    subprocess.run(["rm", "-rf", str(dest)], check=True)
    dest.mkdir(parents=True)
    archive = subprocess.run(["git", "archive", rev, "src"], cwd=ROOT, capture_output=True, check=True)
    subprocess.run(["tar", "-x", "-C", str(dest)], input=archive.stdout, check=True)
    MR_SRC = dest / "src"
    return subprocess.run(
        ["git", "rev-parse", "--short", rev], cwd=ROOT, capture_output=True, text=True
    ).stdout.strip()


def _mr_env(base: dict[str, str], extra: dict[str, str] | None = None) -> dict[str, str]:
    env = {k: v for k, v in base.items() if not k.startswith("MEDIAROUTER_")}
    env.update(extra or {})
    if MR_SRC is not None:
        env["PYTHONPATH"] = os.pathsep.join(p for p in (str(MR_SRC), env.get("PYTHONPATH", "")) if p)
    return env


LITELLM_VENV = BENCH / ".venv-litellm"
LITELLM_MASTER_KEY = "sk-bench-master"
MOCK_KEY = "sk-mock"
MODEL = "gpt-image-1-mini"  # the model every scenario but (f) asks for, on both gateways
FAILOVER_MODEL = "bench-failover"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class RefusingPort:
    """A port bound but never listening: every connection to it is refused (ECONNREFUSED) at once."""

    def __init__(self) -> None:
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.port = int(self.sock.getsockname()[1])

    def close(self) -> None:
        self.sock.close()


def start_mock(out: Path, port: int, hang_port: int, cpus: str, nice: int = 0) -> Service:
    svc = Service(
        "mock",
        [sys.executable, str(BENCH / "mock_upstream.py"), "--port", str(port), "--hang-port", str(hang_port)],
        cpus,
        dict(os.environ),
        out / "mock.log",
        nice,
    )
    svc.wait_ready(f"http://127.0.0.1:{port}/_stats", 10)
    return svc


def mediarouter_config(out: Path, mock: str) -> Path:
    conf: dict[str, Any] = {
        "data_dir": str(out / "mediarouter-data"),
        "images": {"default_response_format": "b64_json"},  # what LiteLLM's openai/ callers get too
        "providers": {
            "openai": {"api_key": MOCK_KEY, "base_url": f"{mock}/v1"},
            "xai": {"api_key": MOCK_KEY, "base_url": f"{mock}/xai/v1"},
        },
        "catalog": {
            "models": [
                {
                    "id": FAILOVER_MODEL,
                    "name": "Benchmark failover model",
                    "creator": "bench",
                    "modes": ["generate"],
                    "sizes": ["1024x1024"],
                    "max_n": 4,
                    "providers": [
                        {"provider": "openai", "model_id": MODEL, "price": {"per": "image", "usd": 0.01}},
                        {
                            "provider": "xai",
                            "model_id": "grok-2-image",
                            "price": {"per": "image", "usd": 0.07},
                        },
                    ],
                }
            ]
        },
        "routing": {
            "rules": [{"match": FAILOVER_MODEL, "policy": "priority", "groups": [["openai"], ["xai"]]}]
        },
    }
    path = out / "mediarouter.yaml"
    path.write_text(yaml.safe_dump(conf, sort_keys=False))
    return path


def mediarouter_key(config: Path) -> str:
    """A user key (the ordinary path: hashed-key lookup, cached), created with the CLI."""
    out = subprocess.run(
        [str(MR_BIN), "keys", "--config", str(config), "create", "--name", "bench"],
        env=_mr_env(dict(os.environ)),
        capture_output=True,
        text=True,
        check=True,
    )
    return out.stdout.strip().splitlines()[-1]


def start_mediarouter(
    out: Path,
    config: Path,
    port: int,
    cpus: str,
    env_extra: dict[str, str] | None = None,
    tag: str = "",
    nice: int = 0,
) -> Service:
    env = _mr_env(dict(os.environ), env_extra)
    svc = Service(
        f"mediarouter{tag}",
        [str(MR_BIN), "serve", "--config", str(config), "--port", str(port)],
        cpus,
        env,
        out / f"mediarouter{tag}.log",
        nice,
    )
    svc.wait_ready(f"http://127.0.0.1:{port}/health", 30)
    return svc


def litellm_config(out: Path, mock: str, refused: int, hang: int, dead_timeout_s: float) -> Path:
    def deployment(name: str, base: str, **extra: Any) -> dict[str, Any]:
        params = {"model": f"openai/{MODEL}", "api_base": base, "api_key": MOCK_KEY, **extra}
        return {"model_name": name, "litellm_params": params}

    conf = {
        "model_list": [
            deployment(MODEL, f"{mock}/v1"),
            deployment("bench-refused", f"http://127.0.0.1:{refused}/v1"),
            deployment("bench-timeout", f"http://127.0.0.1:{hang}/v1", timeout=dead_timeout_s),
            deployment("bench-second", f"{mock}/xai/v1"),
        ],
        "router_settings": {
            "num_retries": 0,  # fail over at once, as mediarouter does for a transport failure
            "fallbacks": [{"bench-refused": ["bench-second"]}, {"bench-timeout": ["bench-second"]}],
        },
        "general_settings": {"master_key": LITELLM_MASTER_KEY},
    }
    path = out / "litellm.yaml"
    path.write_text(yaml.safe_dump(conf, sort_keys=False))
    return path


def start_litellm(out: Path, config: Path, port: int, cpus: str, nice: int = 0) -> Service:
    env = {
        **os.environ,
        "LITELLM_MASTER_KEY": LITELLM_MASTER_KEY,
        "LITELLM_LOCAL_MODEL_COST_MAP": "True",
        "PYTHONUNBUFFERED": "1",
    }
    argv = [
        str(LITELLM_VENV / "bin" / "litellm"), "--config", str(config), "--host", "127.0.0.1",
        "--port", str(port), "--num_workers", "1",
    ]  # fmt: skip
    svc = Service("litellm", argv, cpus, env, out / "litellm.log", nice)
    svc.wait_ready(f"http://127.0.0.1:{port}/health/liveliness", 180)
    return svc


def versions() -> dict[str, str]:
    def pkg(python: Path, names: list[str]) -> dict[str, str]:
        code = (
            "import importlib.metadata as m, json, sys\n"
            "out = {}\n"
            "for n in sys.argv[1:]:\n"
            "    try: out[n] = m.version(n)\n"
            "    except m.PackageNotFoundError: pass\n"
            "print(json.dumps(out))"
        )
        import json

        res = subprocess.run([str(python), "-c", code, *names], capture_output=True, text=True)
        return json.loads(res.stdout or "{}")

    main = pkg(
        ROOT / ".venv" / "bin" / "python",
        ["mediarouter", "uvicorn", "uvloop", "httptools", "starlette", "aiohttp", "orjson"],
    )
    lite = pkg(
        LITELLM_VENV / "bin" / "python", ["litellm", "uvicorn", "fastapi", "httpx", "openai", "uvloop"]
    )
    wrk = subprocess.run(["wrk", "--version"], capture_output=True, text=True).stdout.split("\n")[0]
    out = {f"mediarouter venv: {k}": v for k, v in main.items()}
    out.update({f"litellm venv: {k}": v for k, v in lite.items()})
    out["python"] = sys.version.split()[0]
    out["wrk"] = wrk.strip()
    return out
