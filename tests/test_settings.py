from pathlib import Path

import pytest

from mediarouter.catalog.models import load_catalog
from mediarouter.errors import ConfigError
from mediarouter.settings import env_name, iter_fields, load_settings, reference_table

DOCS = Path(__file__).parent.parent / "docs" / "configuration.md"


def test_docs_list_every_setting_with_its_default() -> None:
    assert reference_table() in DOCS.read_text(), (
        "docs/configuration.md is out of date: paste the output of "
        "`python -c 'from mediarouter.settings import reference_table; print(reference_table())'`"
    )
    text = DOCS.read_text()
    for section, field, _ in iter_fields():
        assert env_name(section, field.name) in text


def test_defaults_without_file() -> None:
    settings = load_settings(None, {})
    assert settings.server.port == 8080
    assert settings.sandbox_mode  # no credentials at all -> sandbox


def test_yaml_then_env_override(tmp_path: Path) -> None:
    path = tmp_path / "c.yaml"
    path.write_text(
        "server:\n  port: 9000\ntimeouts:\n  attempt_s: 3\nproviders:\n  openai:\n    api_key: os.environ/MY_KEY\n"
    )
    settings = load_settings(path, {"MY_KEY": "sk-real", "MEDIAROUTER_SERVER_PORT": "9100"})
    assert settings.server.port == 9100
    assert settings.timeouts.attempt_s == 3.0
    assert settings.providers["openai"].api_key == "sk-real"
    assert not settings.sandbox_mode
    assert "sk-real" not in repr(settings.providers["openai"])


def test_stray_openai_key_is_ignored() -> None:
    settings = load_settings(None, {"OPENAI_API_KEY": "sk-stray"})
    assert settings.sandbox_mode and not settings.providers


def test_sandbox_forced_even_with_credentials() -> None:
    settings = load_settings(
        None, {"MEDIAROUTER_PROVIDERS_OPENAI_API_KEY": "sk-x", "MEDIAROUTER_SANDBOX": "true"}
    )
    assert settings.sandbox_mode


@pytest.mark.parametrize(
    ("text", "env", "expected"),
    [
        ("server:\n  port: lots\n", {}, "key 'server.port'"),
        ("server:\n  prot: 1\n", {}, "unknown key 'server.prot'"),
        ("bogus: 1\n", {}, "unknown key 'bogus'"),
        ("providers:\n  openai:\n    api_key: os.environ/MISSING_VAR\n", {}, "MISSING_VAR is not set"),
        ("images:\n  default_response_format: jpeg\n", {}, "images.default_response_format"),
        ("timeouts:\n  attempt_s: -1\n", {}, "timeouts.attempt_s"),
        ("- a\n- b\n", {}, "top level must be a mapping"),
        ("server: [1\n", {}, "not valid YAML"),
        ("", {"MEDIAROUTER_LIMITS_MAX_N": "ten"}, "MEDIAROUTER_LIMITS_MAX_N"),
        ("public_base_url: images.example.com\n", {}, "key 'public_base_url' must be an http"),
        ("providers:\n  opneai:\n    api_key: sk-x\n", {}, "did you mean 'openai'"),
        ("providers:\n  myhost:\n    base_url: http://h/v1\n", {}, "needs 'kind: openai_compatible'"),
        ("log:\n  commit_before_answer: sometimes\n", {}, "'log.commit_before_answer' must be auto"),
    ],
)
def test_bad_config_names_file_key_and_problem(
    tmp_path: Path, text: str, env: dict[str, str], expected: str
) -> None:
    path = tmp_path / "bad.yaml"
    path.write_text(text)
    with pytest.raises(ConfigError) as info:
        load_settings(path, env)
    assert expected in str(info.value)
    if not env:
        assert str(path) in str(info.value)


@pytest.mark.parametrize(
    ("rows", "expected"),
    [
        ({"models": [{"id": "foo", "modes": 3}]}, "model 'foo': key 'modes' must be a list of strings"),
        ({"models": [{"id": "foo", "max_n": "four"}]}, "key 'max_n' must be a non-negative number"),
        ({"models": [{"id": "foo", "providers": {"openai": 1}}]}, "key 'providers' must be a list"),
        (
            {"models": [{"id": "foo", "providers": [{"provider": "openai", "model_id": "x", "price": 3}]}]},
            "price must be a mapping",
        ),  # fmt: skip
        ({"models": [{"id": "foo", "colour": "red"}]}, "unknown key(s) colour"),
        ({"model": []}, "unknown key(s) under 'catalog': model"),
        ({"models": {"id": "foo"}}, "'catalog.models' must be a list"),
    ],
)
def test_bad_catalog_rows_name_the_key(rows: dict[str, object], expected: str) -> None:
    with pytest.raises(ConfigError) as info:
        load_catalog(rows, "mr.yaml")
    assert expected in str(info.value) and "mr.yaml" in str(info.value)


def test_catalog_rows_add_models_and_override_shipped_ones() -> None:
    catalog = load_catalog(
        {
            "models": [
                {"id": "gpt-image-1", "max_n": 2},  # override one field of a shipped model
                {"id": "house-model", "aliases": ["house"], "sizes": ["512x512"],
                 "providers": [{"provider": "openai", "model_id": "gpt-image-1", "price": {"per": "image", "usd": 0.01}}]},
            ]
        }
    )  # fmt: skip
    shipped, added = catalog.get("gpt-image-1"), catalog.get("house")
    assert shipped is not None and shipped.max_n == 2 and shipped.offerings  # other fields kept
    assert added is not None and added.id == "house-model" and added.offerings[0].price.usd == 0.01


def test_s3_timeout_reaches_the_store() -> None:
    from mediarouter.app import _media_store

    env = {
        "MEDIAROUTER_MEDIA_BACKEND": "s3",
        "MEDIAROUTER_MEDIA_S3_ENDPOINT": "http://127.0.0.1:9",
        "MEDIAROUTER_MEDIA_S3_BUCKET": "b",
        "MEDIAROUTER_MEDIA_S3_ACCESS_KEY": "a",
        "MEDIAROUTER_MEDIA_S3_SECRET_KEY": "s",
        "MEDIAROUTER_MEDIA_S3_TIMEOUT_S": "2.5",
    }
    store = _media_store(load_settings(None, env))
    assert getattr(store, "timeout_s", None) == 2.5


def test_sqlite_busy_timeout_reaches_the_database(tmp_path: Path) -> None:
    from mediarouter.store.database import SQLiteDatabase, open_database

    settings = load_settings(
        None, {"MEDIAROUTER_DATA_DIR": str(tmp_path), "MEDIAROUTER_DATABASE_BUSY_TIMEOUT_S": "1.5"}
    )
    db = open_database(settings.core.database_url, settings.data_dir, settings.core.database_busy_timeout_s)
    assert isinstance(db, SQLiteDatabase) and db.busy_timeout_s == 1.5


@pytest.mark.parametrize(
    ("env", "commits_first"),
    [
        ({}, False),  # SQLite: one instance, whose own reads flush first
        ({"MEDIAROUTER_LOG_COMMIT_BEFORE_ANSWER": "always"}, True),
        ({"MEDIAROUTER_DATABASE_URL": "postgresql://127.0.0.1/test"}, True),  # shared by instances
        (
            {
                "MEDIAROUTER_DATABASE_URL": "postgresql://127.0.0.1/test",
                "MEDIAROUTER_LOG_COMMIT_BEFORE_ANSWER": "never",
            },
            False,
        ),
    ],
)
def test_commit_before_answer_follows_the_database(
    tmp_path: Path, env: dict[str, str], commits_first: bool
) -> None:
    from mediarouter.app import build_gateway

    gw = build_gateway(load_settings(None, {"MEDIAROUTER_DATA_DIR": str(tmp_path), **env}))
    assert gw.log.commit_before_answer is commits_first
