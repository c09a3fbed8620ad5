"""CLI client for a running gateway: generate, edit, models, requests (progress on stderr)."""

from __future__ import annotations

import argparse
import asyncio
import base64
import itertools
import os
import sys
import time
from pathlib import Path
from typing import Any

import aiohttp
import orjson


def _conn(args: argparse.Namespace) -> tuple[str, str]:
    base = (args.api_base or os.environ.get("MEDIAROUTER_API_BASE") or "http://127.0.0.1:8080").rstrip("/")
    if base.endswith("/v1"):
        base = base[:-3]
    key = args.api_key or os.environ.get("MEDIAROUTER_API_KEY") or ""
    if not key:
        raise SystemExit("mediarouter: no API key: pass --api-key or set MEDIAROUTER_API_KEY")
    return base, key


async def _progress(label: str, started: float) -> None:
    if not sys.stderr.isatty():
        return
    for frame in itertools.cycle("|/-\\"):
        sys.stderr.write(f"\r{frame} {label} {time.monotonic() - started:5.1f}s")
        sys.stderr.flush()
        await asyncio.sleep(0.1)


async def _call(method: str, url: str, key: str, label: str, **kwargs: Any) -> tuple[int, Any, float]:
    started = time.monotonic()
    spinner = asyncio.create_task(_progress(label, started))
    try:
        async with aiohttp.ClientSession(headers={"Authorization": f"Bearer {key}"}) as session:
            async with session.request(method, url, **kwargs) as resp:
                body = await resp.read()
    except aiohttp.ClientError as exc:
        raise SystemExit(f"mediarouter: cannot reach {url}: {exc}") from None
    finally:
        spinner.cancel()
        if sys.stderr.isatty():
            sys.stderr.write("\r" + " " * 40 + "\r")
    try:
        data = orjson.loads(body)
    except orjson.JSONDecodeError:
        data = {"error": {"message": body[:200].decode(errors="replace"), "code": str(resp.status)}}
    return resp.status, data, time.monotonic() - started


def _fail(status: int, data: Any) -> int:
    err = data.get("error", {}) if isinstance(data, dict) else {}
    print(f"error {status} {err.get('code')}: {err.get('message')}", file=sys.stderr)
    for attempt in err.get("attempts") or []:
        print(
            f"  attempt {attempt['provider']}: {attempt['status']} {attempt.get('error_code')} {attempt.get('message')}",
            file=sys.stderr,
        )
    return 1


async def _save(base: str, data: dict[str, Any], out: Path, session_key: str) -> list[Path]:
    out.mkdir(parents=True, exist_ok=True)
    fmt = data.get("output_format") or "png"
    paths = []
    async with aiohttp.ClientSession() as session:
        for i, item in enumerate(data["data"]):
            if item.get("b64_json"):
                raw = base64.b64decode(item["b64_json"])
            else:
                async with session.get(item["url"]) as resp:
                    raw = await resp.read()
            path = out / f"{data['id']}-{i}.{fmt}"
            path.write_bytes(raw)
            paths.append(path)
    return paths


async def _images(args: argparse.Namespace) -> int:
    base, key = _conn(args)
    fields: dict[str, Any] = {"model": args.model, "n": args.n, "response_format": "b64_json"}
    for name in ("size", "quality", "output_format"):
        if getattr(args, name):
            fields[name] = getattr(args, name)
    if args.command == "generate":
        fields["prompt"] = args.prompt
        status, data, took = await _call(
            "POST", f"{base}/v1/images/generations", key, "generating", json=fields
        )
    else:
        *images, prompt = args.image
        if not images:
            raise SystemExit("mediarouter: give at least one image file, then the prompt")
        form = aiohttp.FormData()
        for name, value in {**fields, "prompt": prompt}.items():
            form.add_field(name, str(value))
        for path in images:
            form.add_field("image[]", Path(path).read_bytes(), filename=Path(path).name)
        if args.mask:
            form.add_field("mask", Path(args.mask).read_bytes(), filename=Path(args.mask).name)
        status, data, took = await _call("POST", f"{base}/v1/images/edits", key, "editing", data=form)
    if status != 200:
        return _fail(status, data)
    paths = await _save(base, data, Path(args.out), key)
    meta = data.get("metadata", {})
    for path in paths:
        print(path)
    print(
        f"provider {meta.get('provider')} ({meta.get('executed_model')}), cost ${meta.get('cost', 0):.4f}, "
        f"size {data.get('size')}, {took:.1f}s, {len(meta.get('attempts', []))} attempt(s)",
        file=sys.stderr,
    )
    return 0


async def _list(args: argparse.Namespace) -> int:
    base, key = _conn(args)
    if args.command == "models":
        status, data, _ = await _call("GET", f"{base}/v1/models", key, "loading")
        if status != 200:
            return _fail(status, data)
        for m in data["data"]:
            providers = ",".join(p["provider"] for p in m.get("providers", []))
            print(f"{m['id']:32} {'/'.join(m['capabilities']['modes']):16} {providers}")
        return 0
    params = {"limit": str(args.limit)}
    params.update({k: v for k, v in (("status", args.status), ("model", args.model)) if v})
    status, data, _ = await _call("GET", f"{base}/v1/requests", key, "loading", params=params)
    if status != 200:
        return _fail(status, data)
    for r in data["data"]:
        print(
            f"{r['id']}  {r['created_at']}  {r['status']:16} {r.get('model') or '-':24} "
            f"{r.get('provider') or '-':10} ${r.get('cost') or 0:.4f} {r.get('duration_ms', 0):.0f}ms "
            f"{r.get('error_code') or ''}"
        )
    return 0


def run_client(args: argparse.Namespace) -> int:
    runner = _images if args.command in ("generate", "edit") else _list
    return asyncio.run(runner(args))
