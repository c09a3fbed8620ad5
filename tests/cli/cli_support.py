"""Running the `mediarouter` command as a user would: a clean environment, a data dir of its own."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

CLI = [sys.executable, "-m", "mediarouter"]


def cli_env(data_dir: Path, **extra: str) -> dict[str, str]:
    """This process's environment without any MEDIAROUTER_ setting, plus the data dir and `extra`."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("MEDIAROUTER_")}
    env.update({"MEDIAROUTER_DATA_DIR": str(data_dir), **extra})
    return env


def run_cli(args: list[str], env: dict[str, str], ok: bool = True) -> subprocess.CompletedProcess[str]:
    done = subprocess.run(CLI + args, env=env, capture_output=True, text=True, timeout=60)
    if ok:
        assert done.returncode == 0, done.stderr
    return done
