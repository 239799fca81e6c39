"""Settings come from the environment only, and bad values stop start-up with a clear message."""

import re

import pytest

from discussit.core.db import async_url, sync_url
from discussit.settings import Rate, Settings, SettingsError

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
    assert str(settings.messages_per_user) == "5/60" and settings.sockets_per_user == 4
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


def test_the_readme_settings_table_is_the_one_made_from_the_settings_table():
    """Each variable is documented once, in discussit/settings.py; the README shows that table
    (`make settings-table` prints it)."""
    from pathlib import Path

    from discussit.settings import readme_table

    readme = (Path(__file__).resolve().parent.parent / "README.md").read_text()
    assert readme_table() in readme


def test_no_module_but_settings_reads_the_environment():
    """So a variable the code reads cannot be missing from the table (and so from the README)."""
    import re
    from pathlib import Path

    package = Path(__file__).resolve().parent.parent / "discussit"
    readers = [
        str(path.relative_to(package))
        for path in package.rglob("*.py")
        if re.search(r"\benviron\b|\bgetenv\b", path.read_text())
    ]
    assert readers == ["settings.py"]


def test_every_variable_the_settings_read_is_in_the_readme(monkeypatch):
    """Made to fail: a variable read through the table but missing from the README."""
    from pathlib import Path

    from discussit import settings as module
    from discussit.values import _bool

    readme = (Path(__file__).resolve().parent.parent / "README.md").read_text()
    documented = set(re.findall(r"^\| `([A-Z_]+)` \|", readme, flags=re.M))
    read = {variable.name for variable in module.VARIABLES}
    assert read == documented
    extra = module.Variable("SHINY_NEW", "debug", _bool, "`false`", "Not documented.")
    monkeypatch.setattr(module, "VARIABLES", (*module.VARIABLES, extra))
    assert {variable.name for variable in module.VARIABLES} != documented


def test_the_secret_key_never_appears_in_repr_or_errors():
    settings = Settings.from_env({"SECRET_KEY": KEY})
    assert KEY not in repr(settings) and KEY not in str(settings)
    with pytest.raises(SettingsError) as error:
        Settings.from_env({"SECRET_KEY": KEY, "RATE_LIMIT_MESSAGES": "lots"})
    assert KEY not in str(error.value)


def test_rate_limits_are_parsed_once_at_start():
    settings = Settings.from_env({"SECRET_KEY": KEY, "RATE_LIMIT_MESSAGES": "5/60"})
    assert settings.messages_per_user == Rate(5, 60)


def test_templates_dir_must_be_a_folder(tmp_path):
    assert Settings.from_env({"SECRET_KEY": KEY, "TEMPLATES_DIR": str(tmp_path)}).templates_dir
    with pytest.raises(SettingsError, match="TEMPLATES_DIR"):
        Settings.from_env({"SECRET_KEY": KEY, "TEMPLATES_DIR": str(tmp_path / "nowhere")})
