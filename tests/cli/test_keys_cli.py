"""`mediarouter keys create|update` limit flags and `mediarouter db upgrade`, run as a user would."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import httpx
from cli_support import cli_env, run_cli

from mediarouter.store.database import MIGRATIONS

from harness import start_server
from services import create_pg_database, drop_pg_database

CHEAP = {"model": "dall-e-2", "prompt": "x", "size": "256x256", "response_format": "b64_json"}  # $0.016 each


def _create(env: dict[str, str], *flags: str) -> tuple[str, str]:
    """(key id, key) of a key made with `keys create --name t FLAGS`."""
    key = run_cli(["keys", "create", "--name", "t", *flags], env).stdout.strip().splitlines()[-1]
    return key[3:].split(".")[0], key


def _limits(data_dir: Path, key_id: str) -> tuple[object, ...]:
    with sqlite3.connect(data_dir / "mediarouter.db") as db:
        return tuple(
            db.execute(
                "SELECT rpm, max_concurrency, budget_usd, budget_period FROM keys WHERE key_id = ?", (key_id,)
            ).fetchone()
        )


def test_create_with_every_limit_flag(tmp_path: Path) -> None:
    env = cli_env(tmp_path)
    key_id, _ = _create(
        env, "--rpm", "60", "--max-concurrency", "8", "--budget", "25", "--budget-period", "month"
    )
    assert _limits(tmp_path, key_id) == (60, 8, 25.0, "month")
    listed = run_cli(["keys", "list"], env).stdout
    assert "rpm=60 concurrency=8 budget=$25/month" in listed
    plain_id, _ = _create(env)
    assert _limits(tmp_path, plain_id) == (None, None, None, None)


def test_a_budget_without_a_period_is_a_total_budget(tmp_path: Path) -> None:
    key_id, _ = _create(cli_env(tmp_path), "--budget", "5")
    assert _limits(tmp_path, key_id) == (None, None, 5.0, "total")


def test_update_changes_only_what_it_is_given(tmp_path: Path) -> None:
    env = cli_env(tmp_path)
    key_id, _ = _create(env, "--rpm", "10", "--budget", "5", "--budget-period", "day")
    assert "budget=$10/day" in run_cli(["keys", "update", key_id, "--budget", "10"], env).stdout
    assert _limits(tmp_path, key_id) == (10, None, 10.0, "day")  # the period is kept
    run_cli(["keys", "update", key_id, "--budget-period", "month", "--max-concurrency", "3"], env)
    assert _limits(tmp_path, key_id) == (10, 3, 10.0, "month")
    run_cli(["keys", "update", key_id, "--rpm", "0", "--max-concurrency", "0"], env)  # 0 clears
    assert _limits(tmp_path, key_id) == (None, None, 10.0, "month")
    run_cli(["keys", "update", key_id, "--budget", "0"], env)
    assert _limits(tmp_path, key_id) == (None, None, None, None)
    run_cli(["keys", "update", key_id, "--budget", "2"], env)  # no period left: total
    assert _limits(tmp_path, key_id) == (None, None, 2.0, "total")
    missing = run_cli(["keys", "update", "nope", "--rpm", "1"], env, ok=False)
    assert missing.returncode == 1 and "no key nope" in missing.stdout


def test_a_budget_made_by_the_cli_is_enforced_by_the_gateway(tmp_path: Path) -> None:
    _, key = _create(cli_env(tmp_path), "--budget", "0.03")  # room for one $0.016 image, not two
    handle, server, thread = start_server(tmp_path)
    try:
        headers = {"Authorization": f"Bearer {key}"}
        statuses = [
            httpx.post(
                f"{handle.url}/v1/images/generations", json=CHEAP, headers=headers, timeout=30
            ).status_code
            for _ in range(3)
        ]
    finally:
        server.should_exit = True
        thread.join(timeout=10)
    assert statuses == [200, 402, 402]


def test_db_upgrade_applies_pending_migrations(tmp_path: Path) -> None:
    db_path = tmp_path / "mediarouter.db"
    with sqlite3.connect(db_path) as db:  # a database left at the first schema version
        db.executescript(MIGRATIONS[0])
        db.execute("CREATE TABLE schema_version (version INTEGER NOT NULL)")
        db.execute("INSERT INTO schema_version VALUES (1)")
    env = cli_env(tmp_path)
    for _ in range(2):  # and again: nothing left to do
        assert "database schema is up to date (sqlite)" in run_cli(["db", "upgrade"], env).stdout
    with sqlite3.connect(db_path) as db:
        versions = [v for (v,) in db.execute("SELECT version FROM schema_version ORDER BY version")]
        columns = {row[1] for row in db.execute("PRAGMA table_info(keys)")}
    assert versions == list(range(1, len(MIGRATIONS) + 1))
    assert {"rpm", "max_concurrency", "budget_usd", "budget_period"} <= columns


def test_db_upgrade_and_keys_on_postgresql(tmp_path: Path) -> None:
    url = create_pg_database()
    try:
        env = cli_env(tmp_path, MEDIAROUTER_DATABASE_URL=url)
        assert "database schema is up to date (postgres)" in run_cli(["db", "upgrade"], env).stdout
        key_id, _ = _create(env, "--budget", "5", "--rpm", "7")
        assert f"{key_id}" in run_cli(["keys", "update", key_id, "--budget", "6"], env).stdout
        listed = run_cli(["keys", "list"], env).stdout
        assert "rpm=7 budget=$6/total" in listed
        assert not (tmp_path / "mediarouter.db").exists()  # nothing went to SQLite
    finally:
        drop_pg_database(url)
