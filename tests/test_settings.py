"""Settings come from the environment only, and bad values stop start-up with a clear message."""

import pytest

from discussit.db import async_url
from discussit.settings import Settings, SettingsError

KEY = "k" * 40


def test_defaults_are_the_embedded_setup():
    settings = Settings.from_env({"SECRET_KEY": KEY})
    assert settings.database_url == "sqlite:///discussit.db"
    assert settings.redis_url is None and settings.allowed_origins == ()
    assert settings.debug is False and settings.secure_cookies is False


@pytest.mark.parametrize("key", [None, "", "short"])
def test_a_missing_or_short_secret_key_stops_start_up(key):
    env = {} if key is None else {"SECRET_KEY": key}
    with pytest.raises(SettingsError, match="SECRET_KEY"):
        Settings.from_env(env)


def test_booleans_are_strict():
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


@pytest.mark.parametrize(
    ("given", "expected"),
    [
        ("sqlite:///discussit.db", "sqlite+aiosqlite:///discussit.db"),
        ("postgres://u:p@h/db", "postgresql+psycopg://u:p@h/db"),
        ("postgresql://u:p@h/db", "postgresql+psycopg://u:p@h/db"),
    ],
)
def test_database_urls_are_normalised(given, expected):
    assert async_url(given) == expected


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
    ):
        assert f"| `{name}`" in readme, name
