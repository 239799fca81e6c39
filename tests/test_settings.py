"""Settings come from the environment only, and bad values stop start-up with a clear message."""

import pytest

from discussit.db import async_url, sync_url
from discussit.settings import Settings, SettingsError

KEY = "Zq3-vK9pL2xW7mN4bR8tY1cF6hJ0dS5a"


def test_defaults_are_the_embedded_setup():
    settings = Settings.from_env({"SECRET_KEY": KEY})
    assert settings.database_url == "sqlite:///discussit.db"
    assert settings.redis_url is None and settings.allowed_origins == ()
    assert settings.debug is False and settings.secure_cookies is False
    assert settings.workers == 1


@pytest.mark.parametrize("key", [None, "", "short", "changeme", "k" * 40, "secret-key"])
def test_cfg1_a_missing_or_weak_secret_key_stops_start_up(key):
    env = {} if key is None else {"SECRET_KEY": key}
    with pytest.raises(SettingsError, match="SECRET_KEY"):
        Settings.from_env(env)


def test_debug_without_a_secret_key_gets_a_throwaway_one():
    first = Settings.from_env({"DEBUG": "true"}).secret_key
    assert len(first) >= 32 and first != Settings.from_env({"DEBUG": "true"}).secret_key


def test_cfg1_there_is_no_default_secret_in_the_code():
    import dataclasses

    field = {f.name: f for f in dataclasses.fields(Settings)}["secret_key"]
    assert field.default is dataclasses.MISSING


def test_cfg2_booleans_are_strict():
    assert Settings.from_env({"SECRET_KEY": KEY, "DEBUG": "False"}).debug is False
    assert Settings.from_env({"SECRET_KEY": KEY, "SECURE_COOKIES": "1"}).secure_cookies is True
    with pytest.raises(SettingsError, match="DEBUG"):
        Settings.from_env({"SECRET_KEY": KEY, "DEBUG": "maybe"})


def test_allowed_origins_are_exact_values():
    settings = Settings.from_env(
        {"SECRET_KEY": KEY, "ALLOWED_ORIGINS": "https://a.example, https://b.example:8443/"}
    )
    assert settings.allowed_origins == ("https://a.example", "https://b.example:8443")
    for bad in ("a.example", "https://a.example/path", "ftp://a.example", "*"):
        with pytest.raises(SettingsError, match="ALLOWED_ORIGINS"):
            Settings.from_env({"SECRET_KEY": KEY, "ALLOWED_ORIGINS": bad})


PG = "postgres://u:p@db.example/chat"


@pytest.mark.parametrize(
    ("env", "words"),
    [
        ({"WEB_CONCURRENCY": "2", "DATABASE_URL": PG}, "REDIS_URL"),
        ({"WEB_CONCURRENCY": "3", "REDIS_URL": "redis://r:6379/0"}, "SQLite"),
        ({"WEB_CONCURRENCY": "two"}, "whole number"),
    ],
)
def test_several_processes_need_redis_and_postgresql(env, words):
    with pytest.raises(SettingsError, match=words):
        Settings.from_env({"SECRET_KEY": KEY, **env})


def test_rate_limits_come_from_the_environment_and_are_checked():
    settings = Settings.from_env(
        {"SECRET_KEY": KEY, "RATE_LIMIT_MESSAGES": "5/60", "SOCKETS_PER_USER": "4"}
    )
    assert settings.messages_per_user == "5/60" and settings.sockets_per_user == 4
    for bad in (
        {"RATE_LIMIT_SIGNUPS": "lots"},
        {"RATE_LIMIT_MESSAGES": "0/10"},
        {"SOCKETS_PER_USER": "-1"},
    ):
        with pytest.raises(SettingsError):
            Settings.from_env({"SECRET_KEY": KEY, **bad})


def test_several_processes_on_postgresql_and_redis_are_fine():
    settings = Settings.from_env(
        {
            "SECRET_KEY": KEY,
            "WEB_CONCURRENCY": "4",
            "DATABASE_URL": PG,
            "REDIS_URL": "redis://r:6379/0",
        }
    )
    assert settings.workers == 4


@pytest.mark.parametrize(
    ("given", "expected_async", "expected_sync"),
    [
        ("sqlite:///discussit.db", "sqlite+aiosqlite:///discussit.db", "sqlite:///discussit.db"),
        ("postgres://u:p@h/db", "postgresql+psycopg://u:p@h/db", "postgresql+psycopg://u:p@h/db"),
        ("postgresql://u:p@h/db", "postgresql+psycopg://u:p@h/db", "postgresql+psycopg://u:p@h/db"),
    ],
)
def test_database_urls_are_normalised(given, expected_async, expected_sync):
    assert async_url(given) == expected_async
    assert sync_url(given) == expected_sync


def test_every_setting_is_in_the_readme_table():
    from pathlib import Path

    readme = (Path(__file__).resolve().parent.parent / "README.md").read_text()
    for name in (
        "PORT",
        "SECRET_KEY",
        "DATABASE_URL",
        "REDIS_URL",
        "ALLOWED_ORIGINS",
        "SECURE_COOKIES",
        "DEBUG",
        "SEED_DEMO_GROUPS",
        "WEB_CONCURRENCY",
        "RATE_LIMIT_LOGIN_PER_USER",
        "RATE_LIMIT_LOGIN_PER_ADDRESS",
        "RATE_LIMIT_SIGNUPS",
        "RATE_LIMIT_MESSAGES",
        "SOCKETS_PER_USER",
    ):
        assert f"| `{name}`" in readme, name
