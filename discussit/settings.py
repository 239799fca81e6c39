"""Settings: every environment variable DiscussIt reads is in `VARIABLES` (variables.py), and
nowhere else.

One table of (variable, field, parser, default, help) drives `Settings.from_env`, the README's
settings table (`python -m discussit settings-table` prints it; a test compares) and the checks.
"""

from __future__ import annotations

import os
import secrets
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from discussit.values import ADDRESS_FACTOR, Rate
from discussit.variables import DEFAULT_DATABASE_URL, VARIABLES, Variable

__all__ = ["ADDRESS_FACTOR", "VARIABLES", "Rate", "Settings", "SettingsError", "Variable"]


class SettingsError(RuntimeError):
    """The environment cannot start DiscussIt; the message says why and what to set."""


@dataclass(frozen=True)
class Settings:
    secret_key: str = field(repr=False)  # never in logs or tracebacks
    database_url: str = DEFAULT_DATABASE_URL
    redis_url: str | None = None
    # Exact scheme://host[:port] values allowed to open the WebSocket and SSE stream.
    # Empty means "the app's own origin", whatever host and port it is served on.
    allowed_origins: tuple[str, ...] = ()
    allowed_hosts: tuple[str, ...] = ()  # empty: any host
    proxy_hops: int = 0  # proxies that append to X-Forwarded-For (core/security/proxies.py)
    secure_cookies: bool = False
    debug: bool = False
    workers: int = 1  # WEB_CONCURRENCY: uvicorn's process count, checked against the backends
    seed_demo_groups: bool = True
    first_account_staff: bool = True
    templates_dir: Path | None = None
    templates_reload: bool = False
    login_attempts_per_user: Rate = Rate(10, 180)
    login_attempts_per_address: Rate = Rate(50, 180)
    signups_per_address: Rate = Rate(20, 3600)
    messages_per_user: Rate = Rate(30, 10)
    changes_per_user: Rate = Rate(60, 60)
    membership_changes_per_user: Rate = Rate(20, 60)
    connects_per_user: Rate = Rate(60, 60)
    searches_per_user: Rate = Rate(120, 60)
    profile_changes_per_user: Rate = Rate(10, 600)
    api_requests_per_bot: Rate = Rate(120, 60)
    webhooks_allow_private: bool = False
    public_url: str = ""
    sockets_per_user: int = 10
    # Not from the environment (tests shorten them): the SSE heartbeat (a comment line, under
    # common 55 s proxy idle cuts) and how long a login lasts on the server.
    sse_ping_seconds: int = 15
    session_max_age: int = 14 * 24 * 3600

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> Settings:
        env = os.environ if environ is None else environ
        values: dict[str, object] = {}
        for variable in VARIABLES:
            raw = env.get(variable.name)
            if variable.field is None or raw is None or raw.strip() == "":
                continue
            try:
                values[variable.field] = variable.parse(raw)
            except ValueError as problem:
                raise SettingsError(f"{variable.name} {problem}") from None
        if "secret_key" not in values:
            if not values.get("debug"):
                raise SettingsError(
                    "SECRET_KEY must be set to a random string of at least 32 "
                    "characters, e.g. python -c 'import secrets; "
                    "print(secrets.token_urlsafe(48))'"
                )
            # Debug only: a throwaway key (sessions end when the process does).
            values["secret_key"] = secrets.token_urlsafe(48)
        settings = cls(**values)  # type: ignore[arg-type]
        settings.check()
        return settings

    def check(self) -> None:
        """Combinations that cannot work, refused at start-up with what to change."""
        if self.workers > 1 and not self.redis_url:
            raise SettingsError(
                f"WEB_CONCURRENCY={self.workers} runs several processes, but without REDIS_URL "
                "each would see only its own connections and split every group. Set REDIS_URL, "
                "or WEB_CONCURRENCY=1."
            )
        if self.workers > 1 and self.database_url.startswith("sqlite"):
            raise SettingsError(
                f"WEB_CONCURRENCY={self.workers} runs several processes, which cannot share the "
                "embedded SQLite file safely. Set DATABASE_URL to PostgreSQL, or "
                "WEB_CONCURRENCY=1."
            )


def database_url_from_env(environ: Mapping[str, str] | None = None) -> str:
    """The database alone (the staff commands need nothing else)."""
    env = os.environ if environ is None else environ
    return env.get("DATABASE_URL") or DEFAULT_DATABASE_URL


def readme_table() -> str:
    """The README's settings table, made from `VARIABLES`."""
    lines = ["| Variable | Default | Meaning |", "| --- | --- | --- |"]
    lines += [f"| `{v.name}` | {v.default} | {v.help} |" for v in VARIABLES]
    return "\n".join(lines)
