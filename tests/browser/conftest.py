"""Real-browser fixtures: a live uvicorn server on a free loopback port, and Debian's chromium
driven by Playwright (its own browser download cannot work here)."""

from __future__ import annotations

import os
import secrets
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
ARTIFACTS = ROOT / "test-artifacts"
CHROMIUM = "/usr/bin/chromium"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass
class LiveServer:
    url: str
    env: dict[str, str]
    process: subprocess.Popen[bytes]
    log: Path

    def command(self, *args: str) -> str:
        """Run the staff command against this server's database."""
        done = subprocess.run(
            [sys.executable, "-m", "discussit", *args],
            env=self.env,
            cwd=ROOT,
            capture_output=True,
            text=True,
            timeout=60,
            check=True,
        )
        return done.stdout


@pytest.fixture(scope="session")
def live_server(
    tmp_path_factory: pytest.TempPathFactory, request: pytest.FixtureRequest
) -> Iterator[LiveServer]:
    folder = tmp_path_factory.mktemp("live")
    port = _free_port()
    env = {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "SECRET_KEY": secrets.token_urlsafe(48),
        "DATABASE_URL": f"sqlite:///{folder}/discussit.db",
        "SEED_DEMO_GROUPS": "false",
    }
    if os.environ.get("TEST_DATABASE_URL"):  # second pass: PostgreSQL + Redis
        request.getfixturevalue("fresh_postgres")
        env["DATABASE_URL"] = os.environ["TEST_DATABASE_URL"]
        env["REDIS_URL"] = os.environ["TEST_REDIS_URL"]
    log = folder / "server.log"
    log_file = log.open("wb")
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "uvicorn",
            "discussit.app:create_app",
            "--factory",
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
            "--ws",
            "websockets-sansio",
            "--ws-max-size",
            "65536",
            "--timeout-graceful-shutdown",
            "5",
        ],
        env=env,
        cwd=ROOT,
        stdout=log_file,
        stderr=subprocess.STDOUT,
    )
    deadline = time.monotonic() + 30
    while True:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.5).close()
            break
        except OSError:
            if process.poll() is not None or time.monotonic() > deadline:
                process.kill()
                log_file.close()
                raise RuntimeError("server did not start:\n" + log.read_text()) from None
            time.sleep(0.1)
    server = LiveServer(f"http://127.0.0.1:{port}", env, process, log)
    yield server
    process.terminate()
    process.wait(timeout=15)
    log_file.close()
    text = log.read_text()
    assert "Traceback" not in text, text


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
        context = chromium.new_context(viewport={"width": 1200, "height": 800}, **options)
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
