"""The command line, run as a user would: real processes, real servers."""

from __future__ import annotations

import re
import subprocess
import time
from pathlib import Path

import httpx
import pytest
from cli_support import CLI, cli_env, run_cli
from PIL import Image

from harness import Server
from imaging import png


def test_keys_create_list_revoke(tmp_path: Path) -> None:
    env = cli_env(tmp_path)
    created = run_cli(["keys", "create", "--name", "ci"], env)
    key = created.stdout.strip().splitlines()[-1]
    assert re.fullmatch(r"mr_[0-9a-f]{12}\.[A-Za-z0-9_-]+", key)
    key_id = key[3:].split(".")[0]
    admin = run_cli(["keys", "create", "--name", "ops", "--admin"], env)
    assert "admin key" in admin.stdout
    listed = run_cli(["keys", "list"], env).stdout
    assert key_id in listed and "ci" in listed and "ops" in listed
    assert key.split(".")[1] not in listed  # the secret is never shown again
    db = (tmp_path / "mediarouter.db").read_bytes()
    assert key.split(".")[1].encode() not in db  # stored hashed
    assert "revoked" in run_cli(["keys", "revoke", key_id], env).stdout
    assert "revoked" in run_cli(["keys", "list"], env).stdout
    assert run_cli(["keys", "revoke", "nope"], env, ok=False).returncode == 1


def test_serve_banner_creates_admin_key_and_serves(tmp_path: Path) -> None:
    proc = subprocess.Popen(
        CLI + ["serve", "--port", "0"],
        env=cli_env(tmp_path),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert proc.stdout is not None
        lines = []
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            line = proc.stdout.readline()
            lines.append(line)
            if line.strip().startswith("mr_"):
                break
        banner = "".join(lines)
        assert "SANDBOX MODE" in banner
        url = re.search(r"listening on (http://\S+)", banner).group(1)  # type: ignore[union-attr]
        key = lines[-1].strip()
        for _ in range(100):
            try:
                if httpx.get(f"{url}/health").status_code == 200:
                    break
            except httpx.HTTPError:
                time.sleep(0.05)
        r = httpx.post(
            f"{url}/v1/images/generations",
            json={"model": "dall-e-2", "prompt": "banner", "size": "256x256", "response_format": "b64_json"},
            headers={"Authorization": f"Bearer {key}"},
            timeout=20,
        )
        assert r.status_code == 200, r.text
    finally:
        proc.terminate()
        proc.wait(timeout=20)
    # A second start with a key in the database creates none.
    again = subprocess.Popen(
        CLI + ["serve", "--port", "0"], env=cli_env(tmp_path), stdout=subprocess.PIPE, text=True
    )
    try:
        assert again.stdout is not None
        first = again.stdout.readline() + again.stdout.readline() + again.stdout.readline()
        assert "Created an admin API key" not in first
    finally:
        again.terminate()
        again.wait(timeout=20)


@pytest.mark.parametrize(
    ("text", "key"),
    [
        ("server:\n  port: many\n", "server.port"),
        ("catalog:\n  models:\n    - {id: foo, modes: 3}\n", "key 'modes'"),  # caught at gateway build
    ],
)
def test_bad_config_stops_startup(tmp_path: Path, text: str, key: str) -> None:
    cfg = tmp_path / "bad.yaml"
    cfg.write_text(text)
    done = run_cli(["serve", "--config", str(cfg)], cli_env(tmp_path), ok=False)
    assert done.returncode == 2
    assert str(cfg) in done.stderr and key in done.stderr and "Traceback" not in done.stderr


def test_generate_edit_models_requests(gateway: Server, tmp_path: Path) -> None:
    env = cli_env(tmp_path, MEDIAROUTER_API_BASE=gateway.url, MEDIAROUTER_API_KEY=gateway.admin_key)
    out = tmp_path / "out"
    done = run_cli(
        [
            "generate",
            "a cli cat",
            "--model",
            "gpt-image-1-mini",
            "--size",
            "1024x1536",
            "--n",
            "2",
            "--out",
            str(out),
        ],
        env,
    )
    files = done.stdout.split()
    assert len(files) == 2 and Image.open(files[0]).size == (1024, 1536)
    assert "provider openai" in done.stderr and "cost $" in done.stderr
    src = tmp_path / "in.png"
    src.write_bytes(png())
    edited = run_cli(["edit", str(src), "make it blue", "--model", "gpt-image-1", "--out", str(out)], env)
    assert Path(edited.stdout.split()[0]).exists()
    models = run_cli(["models"], env).stdout
    assert "gpt-image-1.5" in models
    requests = run_cli(["requests", "--limit", "5"], env).stdout
    assert "completed" in requests
    bad = run_cli(["generate", "x", "--model", "nope-model"], env, ok=False)
    assert bad.returncode == 1 and "MODEL_NOT_FOUND" in bad.stderr


def test_sandbox_standalone(tmp_path: Path) -> None:
    proc = subprocess.Popen(
        CLI + ["sandbox", "--port", "0"], env=cli_env(tmp_path), stdout=subprocess.PIPE, text=True
    )
    try:
        assert proc.stdout is not None
        line = proc.stdout.readline()
        base = re.search(r"(http://\S+)/sandbox", line).group(1)  # type: ignore[union-attr]
        for _ in range(100):
            try:
                httpx.get(f"{base}/health")
                break
            except httpx.HTTPError:
                time.sleep(0.05)
        r = httpx.post(
            f"{base}/sandbox/openai/v1/images/generations",
            json={"model": "gpt-image-1-mini", "prompt": "standalone", "size": "1024x1024"},
            headers={"Authorization": "Bearer sk-anything"},
            timeout=20,
        )
        assert r.status_code == 200 and r.json()["data"][0]["b64_json"]
    finally:
        proc.terminate()
        proc.wait(timeout=20)
