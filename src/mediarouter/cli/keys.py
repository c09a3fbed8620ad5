"""`mediarouter keys create|list|revoke|update`: works on the database directly, no gateway needed."""

from __future__ import annotations

import argparse
import asyncio
import datetime
from typing import Any

from mediarouter.settings import load_settings
from mediarouter.store.database import open_database
from mediarouter.store.keys import KeyRecord, KeyStore


def _limits(args: argparse.Namespace) -> dict[str, Any]:
    limits: dict[str, Any] = {}
    for name in ("rpm", "max_concurrency"):
        value = getattr(args, name, None)
        if value is not None:
            limits[name] = value if value > 0 else None
    budget, period = getattr(args, "budget", None), getattr(args, "budget_period", None)
    if budget is not None:
        limits["budget_usd"] = budget if budget > 0 else None
        if budget <= 0:
            limits["budget_period"] = None
    if period is not None and (budget is None or budget > 0):
        limits["budget_period"] = period
    return limits  # a budget without a period: `total` on create, the key's own period on update


def _describe(r: KeyRecord) -> str:
    created = datetime.datetime.fromtimestamp(r.created_at).strftime("%Y-%m-%d %H:%M:%S")
    status = "revoked" if r.revoked_at else "active"
    limits = []
    if r.rpm:
        limits.append(f"rpm={r.rpm}")
    if r.max_concurrency:
        limits.append(f"concurrency={r.max_concurrency}")
    if r.budget_usd:
        limits.append(f"budget=${r.budget_usd:g}/{r.budget_period}")
    return f"{r.key_id:14} {r.role:6} {status:8} {created:20} {r.name}  {' '.join(limits)}".rstrip()


async def _keys(args: argparse.Namespace) -> int:
    settings = load_settings(args.config)
    db = open_database(settings.core.database_url, settings.data_dir, settings.core.database_busy_timeout_s)
    await db.open()
    store = KeyStore(db, None)
    try:
        if args.keys_command == "create":
            record, secret = await store.create(args.name, "admin" if args.admin else "user", **_limits(args))
            print(f"created {record.role} key {record.key_id} ({record.name})")
            print(secret)
            return 0
        if args.keys_command == "list":
            print(f"{'KEY_ID':14} {'ROLE':6} {'STATUS':8} {'CREATED':20} NAME  LIMITS")
            for r in await store.list():
                print(_describe(r))
            return 0
        if args.keys_command == "update":
            record = await store.update(args.key_id, **_limits(args))
            if record is None:
                print(f"no key {args.key_id}")
                return 1
            print(_describe(record))
            return 0
        if await store.revoke(args.key_id):
            print(f"revoked {args.key_id}")
            return 0
        print(f"no active key {args.key_id}")
        return 1
    finally:
        await db.close()


def keys(args: argparse.Namespace) -> int:
    return asyncio.run(_keys(args))


async def _upgrade(args: argparse.Namespace) -> int:
    settings = load_settings(args.config)
    db = open_database(settings.core.database_url, settings.data_dir, settings.core.database_busy_timeout_s)
    await db.open()  # applies pending migrations
    await db.close()
    print(f"database schema is up to date ({db.dialect})")
    return 0


def db_upgrade(args: argparse.Namespace) -> int:
    return asyncio.run(_upgrade(args))
