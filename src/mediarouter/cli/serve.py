"""`mediarouter serve` and `mediarouter sandbox`: uvicorn with uvloop and httptools.

uvicorn + Starlette was chosen by measurement (shared/reference/python-floor.md): with the
aiohttp client it is the cheapest ASGI stack here at concurrency 1 and on large bodies.
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import os
import socket
import sys

import uvicorn

from mediarouter import __version__
from mediarouter.settings import Settings, load_settings


def _socket(host: str, port: int) -> socket.socket:
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind((host, port))
    sock.set_inheritable(True)
    return sock


def _run(app: object, sock: socket.socket, settings: Settings | None = None) -> None:
    config = uvicorn.Config(
        app,  # type: ignore[arg-type]
        loop="uvloop",
        http="httptools",
        lifespan="on",
        access_log=bool(settings and settings.server.access_log),
        log_level="warning",
        timeout_graceful_shutdown=int(settings.server.graceful_shutdown_s) if settings else 5,
        backlog=4096,
    )
    uvicorn.Server(config).run(sockets=[sock])


def _bootstrap_key(settings: Settings) -> str | None:
    """First start with no key and no MEDIAROUTER_ADMIN_KEY: create an admin key and show it once."""
    from mediarouter.store.database import open_database
    from mediarouter.store.keys import KeyStore

    if settings.core.admin_key:
        return None

    async def bootstrap() -> str | None:
        db = open_database(
            settings.core.database_url, settings.data_dir, settings.core.database_busy_timeout_s
        )
        await db.open()
        try:
            store = KeyStore(db, None)
            if await store.count():
                return None
            return (await store.create("admin (created at first start)", "admin"))[1]
        finally:
            await db.close()

    return asyncio.run(bootstrap())


def serve(args: argparse.Namespace) -> int:
    env = dict(os.environ)
    if args.sandbox:
        env["MEDIAROUTER_SANDBOX"] = "1"
    settings = load_settings(args.config, env)
    if args.host:
        settings.server.host = args.host
    if args.port is not None:
        settings.server.port = args.port
    sock = _socket(settings.server.host, settings.server.port)
    settings.server.port = sock.getsockname()[1]
    from mediarouter.app import create_app

    app = create_app(settings)
    new_key = _bootstrap_key(settings)
    gw = app.state.gw
    url = f"http://{settings.server.host}:{settings.server.port}"
    lines = [f"mediarouter {__version__} listening on {url}  (OpenAI base URL: {url}/v1)"]
    lines.append(f"web console: {url}/ui/  (sign in with an API key)")
    lines.append(f"data dir: {os.path.abspath(settings.data_dir)}   config: {settings.source}")
    if gw.sandbox:
        lines += [
            "",
            "*** SANDBOX MODE: every provider is wired to its built-in emulator; no real provider is called. ***",
            f"    emulators: {url}/sandbox/<provider>/...   fault injection: {url}/sandbox/_faults",
            f"    providers: {', '.join(sorted(gw.router.providers))}",
        ]
    else:
        lines.append(f"providers: {', '.join(sorted(gw.router.providers))}")
    if new_key:
        lines += ["", "Created an admin API key (shown once; store it now):", f"    {new_key}"]
    print("\n".join(lines), flush=True)
    # With hundreds of requests in flight, the collector's default threshold (700) ran gen-2 scans
    # that took ~half the CPU (bench/RESULTS.md): start-up objects leave the scans, scans run less.
    gc.freeze()
    gc.set_threshold(50_000, 20, 20)
    _run(app, sock, settings)
    return 0


def sandbox(args: argparse.Namespace) -> int:
    settings = load_settings(args.config)
    from mediarouter.sandbox.app import build_standalone_app

    sock = _socket(args.host, args.port)
    port = sock.getsockname()[1]
    app = build_standalone_app(settings.emulator, settings.core.admin_key)
    print(
        f"mediarouter sandbox {__version__}: emulators at http://{args.host}:{port}/sandbox/<provider>/",
        flush=True,
    )
    print(f"fault injection: http://{args.host}:{port}/sandbox/_faults", file=sys.stderr, flush=True)
    _run(app, sock)
    return 0
