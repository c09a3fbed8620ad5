"""`mediarouter` command line: serve, sandbox, keys, and a client for a running gateway."""

from __future__ import annotations

import argparse
import sys

from mediarouter import __version__
from mediarouter.errors import ConfigError


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="mediarouter", description="OpenAI-compatible gateway for image models."
    )
    parser.add_argument("--version", action="version", version=f"mediarouter {__version__}")
    sub = parser.add_subparsers(dest="command", required=True)

    serve = sub.add_parser("serve", help="run the gateway")
    serve.add_argument("--host", help="bind address (default 127.0.0.1)")
    serve.add_argument("--port", type=int, help="port (default 8080; 0 picks a free one)")
    serve.add_argument("--config", help="YAML configuration file")
    serve.add_argument("--sandbox", action="store_true", help="wire every provider to its built-in emulator")

    sandbox = sub.add_parser("sandbox", help="run the provider emulators standalone")
    sandbox.add_argument("--host", default="127.0.0.1")
    sandbox.add_argument("--port", type=int, default=8090)
    sandbox.add_argument("--config", help="YAML configuration file (emulator settings)")

    keys = sub.add_parser("keys", help="manage gateway API keys (local database)")
    keys.add_argument("--config", help="YAML configuration file")
    keys_sub = keys.add_subparsers(dest="keys_command", required=True)
    create = keys_sub.add_parser("create", help="create a key; prints it alone on the last line")
    create.add_argument("--name", required=True)
    create.add_argument("--admin", action="store_true", help="admin role (default: user)")
    update = keys_sub.add_parser("update", help="change a key's limits (0 clears one)")
    update.add_argument("key_id")
    for p in (create, update):
        p.add_argument("--rpm", type=int, help="requests per minute")
        p.add_argument("--max-concurrency", type=int, help="concurrent requests")
        p.add_argument("--budget", type=float, help="spend budget in USD")
        p.add_argument("--budget-period", choices=("day", "month", "total"), default=None)
    keys_sub.add_parser("list", help="list keys")
    revoke = keys_sub.add_parser("revoke", help="revoke a key")
    revoke.add_argument("key_id")

    db = sub.add_parser("db", help="database maintenance")
    db.add_argument("--config", help="YAML configuration file")
    db_sub = db.add_subparsers(dest="db_command", required=True)
    db_sub.add_parser("upgrade", help="apply pending schema migrations")

    def client(name: str, help_: str) -> argparse.ArgumentParser:
        p = sub.add_parser(name, help=help_)
        p.add_argument(
            "--api-base", help="gateway URL (env MEDIAROUTER_API_BASE, default http://127.0.0.1:8080)"
        )
        p.add_argument("--api-key", help="gateway key (env MEDIAROUTER_API_KEY)")
        return p

    for name, help_ in (("generate", "generate images"), ("edit", "edit images")):
        p = client(name, help_)
        if name == "edit":
            p.add_argument("image", nargs="+", help="input image file(s), then the prompt")
            p.add_argument("--mask", help="mask PNG (transparent = area to edit)")
        else:
            p.add_argument("prompt")
        p.add_argument("--model", required=True)
        p.add_argument("--size")
        p.add_argument("--n", type=int, default=1)
        p.add_argument("--quality")
        p.add_argument("--output-format")
        p.add_argument("--out", default=".", help="directory to save images in")
    client("models", "list models")
    requests = client("requests", "list logged requests")
    requests.add_argument("--limit", type=int, default=20)
    requests.add_argument("--status")
    requests.add_argument("--model")
    return parser


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    try:
        if args.command == "serve":
            from mediarouter.cli.serve import serve

            return serve(args)
        if args.command == "sandbox":
            from mediarouter.cli.serve import sandbox

            return sandbox(args)
        if args.command == "keys":
            from mediarouter.cli.keys import keys

            return keys(args)
        if args.command == "db":
            from mediarouter.cli.keys import db_upgrade

            return db_upgrade(args)
        from mediarouter.cli.client import run_client

        return run_client(args)
    except ConfigError as exc:
        print(f"mediarouter: configuration error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130
