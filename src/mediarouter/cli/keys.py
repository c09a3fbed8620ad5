"""`mediarouter keys create|list|revoke`: works on the local database, no running gateway needed."""

from __future__ import annotations

import argparse
import datetime

from mediarouter.settings import load_settings
from mediarouter.store.database import Database
from mediarouter.store.keys import KeyStore


def keys(args: argparse.Namespace) -> int:
    settings = load_settings(args.config)
    db = Database(settings.data_dir / "mediarouter.db")
    db.open_sync()
    store = KeyStore(db, None)
    try:
        if args.keys_command == "create":
            record, secret = store.create_sync(args.name, "admin" if args.admin else "user")
            print(f"created {record.role} key {record.key_id} ({record.name})")
            print(secret)
            return 0
        if args.keys_command == "list":
            rows = store.list_sync()
            print(f"{'KEY_ID':14} {'ROLE':6} {'STATUS':8} {'CREATED':20} NAME")
            for r in rows:
                created = datetime.datetime.fromtimestamp(r.created_at).strftime("%Y-%m-%d %H:%M:%S")
                status = "revoked" if r.revoked_at else "active"
                print(f"{r.key_id:14} {r.role:6} {status:8} {created:20} {r.name}")
            return 0
        if store.revoke_sync(args.key_id):
            print(f"revoked {args.key_id}")
            return 0
        print(f"no active key {args.key_id}")
        return 1
    finally:
        db.run_sync(lambda conn: conn.close())
