"""docs/clients.md runs: every example marked `<!-- test: gateway -->` against the sandbox gateway.

Python examples run in this process (LiteLLM is imported once per session); bash ones in bash. The
proxy examples run in test_client_litellm_proxy.py, against the proxy started from the guide's config.
"""

from __future__ import annotations

import os
import subprocess
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest
from docs_examples import GATEWAY_URL, examples

from imaging import mask_png, png

EXAMPLES = examples("gateway")


def example_dir(tmp_path: Path) -> Path:
    """The files the examples open."""
    (tmp_path / "photo.png").write_bytes(png(64, 64, (200, 30, 30, 255)))
    (tmp_path / "sketch.png").write_bytes(png(48, 48, (30, 30, 200, 255)))
    (tmp_path / "mask.png").write_bytes(mask_png())
    return tmp_path


def run_python(code: str, where: Path, monkeypatch: pytest.MonkeyPatch, env: dict[str, str]) -> None:
    for name in ("MEDIAROUTER_API_BASE", "LUMENFALL_API_BASE", "LUMENFALL_API_KEY"):
        monkeypatch.setenv(name, "")  # recorded by monkeypatch: what the example sets is undone after it
        monkeypatch.delenv(name)
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    monkeypatch.chdir(where)
    exec(compile(code, "docs/clients.md", "exec"), {"__name__": "__doc_example__"})


def test_the_guide_has_examples_for_every_client() -> None:
    headings = {e.heading for e in examples()}
    for client in ("curl", "OpenAI SDK", "openai/", "hosted_vllm/", "mediarouter/", "LiteLLM proxy"):
        assert any(client in h for h in headings), f"no tested example under a heading naming {client}"


@pytest.mark.parametrize("example", EXAMPLES, ids=[e.name for e in EXAMPLES])
def test_example_runs(
    example: Any,
    gateway: Any,
    litellm: ModuleType,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    code = example.code.replace(GATEWAY_URL, gateway.url)
    where = example_dir(tmp_path)
    if example.lang == "python":
        run_python(code, where, monkeypatch, {"MEDIAROUTER_API_KEY": gateway.user_key})
        out = capsys.readouterr().out
    else:
        assert example.lang == "bash"
        env = {**os.environ, "MEDIAROUTER_API_KEY": gateway.user_key}
        done = subprocess.run(
            ["bash", "-euo", "pipefail", "-c", code], cwd=where, env=env, capture_output=True
        )
        assert done.returncode == 0, done.stderr.decode()
        out = done.stdout.decode()
        assert '"data"' in out and '"error"' not in out, out[:500]
    assert out.strip(), "the example printed nothing"
