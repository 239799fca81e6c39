"""Real-browser fixtures: a live uvicorn server on a free loopback port, and Debian's chromium
driven by Playwright (its own browser download cannot work here)."""

from __future__ import annotations

import os
import secrets
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.servers import Server

ROOT = Path(__file__).resolve().parents[2]
ARTIFACTS = ROOT / "test-artifacts"
CHROMIUM = "/usr/bin/chromium"


@pytest.fixture(scope="session")
def live_server(
    tmp_path_factory: pytest.TempPathFactory, request: pytest.FixtureRequest
) -> Iterator[Server]:
    """One uvicorn process (the Procfile's flags) for the journeys: SQLite and the in-process
    broker, or in the second pass PostgreSQL + Redis."""
    folder = tmp_path_factory.mktemp("live")
    env = {
        "SECRET_KEY": secrets.token_urlsafe(48),
        "DATABASE_URL": f"sqlite:///{folder}/discussit.db",
        "SEED_DEMO_GROUPS": "false",
        "FIRST_ACCOUNT_STAFF": "false",
        "WEBHOOKS_ALLOW_PRIVATE": "true",  # (the bots' journey answers from a local receiver)
    }
    if os.environ.get("TEST_DATABASE_URL"):  # second pass: PostgreSQL + Redis
        request.getfixturevalue("fresh_postgres")
        env["DATABASE_URL"] = os.environ["TEST_DATABASE_URL"]
        env["REDIS_URL"] = os.environ["TEST_REDIS_URL"]
    server = Server(env, folder / "server.log").start()
    yield server
    server.terminate()
    assert "Traceback" not in server.log(), server.log()


@pytest.fixture(scope="session")
def chromium() -> Iterator[object]:
    if not Path(CHROMIUM).exists():
        pytest.fail(
            "Debian's chromium is missing: run `make test` (it installs it) or "
            "`apt-get install chromium`"
        )
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=CHROMIUM,
            args=[
                "--no-sandbox",
                "--disable-gpu",
                "--disable-quic",
                "--no-first-run",
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-sync",
            ],
        )
        yield browser
        browser.close()


@pytest.fixture
def new_context(chromium):  # type: ignore[no-untyped-def]
    """Each call is a separate person: its own cookies, its own tabs."""
    contexts = []

    def make(**options):  # type: ignore[no-untyped-def]
        options.setdefault("viewport", {"width": 1200, "height": 800})
        context = chromium.new_context(**options)
        context.set_default_timeout(10_000)
        contexts.append(context)
        return context

    yield make
    for context in contexts:
        context.close()


@pytest.fixture(scope="session")
def artifacts() -> Path:
    ARTIFACTS.mkdir(exist_ok=True)
    return ARTIFACTS
