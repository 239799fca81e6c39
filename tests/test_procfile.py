"""The Procfile's web line, run as a PaaS runs it (only PORT and SECRET_KEY set), serves the
embedded default: a SQLite file in the working directory, the in-process broker, demo groups."""

from __future__ import annotations

import os
import secrets
import shutil
import signal
import socket
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import httpx2 as httpx
import pytest

ROOT = Path(__file__).resolve().parent.parent

pytestmark = pytest.mark.slow  # real servers or timed waits: `make test`, not `make check`


def _web_line() -> str:
    for line in (ROOT / "Procfile").read_text().splitlines():
        if line.startswith("web:"):
            return line.removeprefix("web:").strip()
    raise AssertionError("Procfile has no web line")


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def test_the_web_line_serves_the_embedded_default_with_only_port_and_secret(tmp_path):
    for name in ("discussit", "templates", "static"):
        os.symlink(ROOT / name, tmp_path / name)  # a PaaS runs the line from the app's folder
    port = _free_port()
    env = {
        "PORT": str(port),
        "SECRET_KEY": secrets.token_urlsafe(48),
        "PATH": f"{Path(sys.executable).parent}:/usr/bin:/bin",
    }
    process = subprocess.Popen(
        ["bash", "-c", "exec " + _web_line()],
        cwd=tmp_path,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                response = httpx.get(f"http://127.0.0.1:{port}/login", timeout=2)
                break
            except httpx.TransportError:
                assert process.poll() is None, process.stdout.read().decode()  # type: ignore[union-attr]
                assert time.monotonic() < deadline, "the web line did not start serving"
                time.sleep(0.2)
        assert response.status_code == 200 and "Log in" in response.text
        assert (tmp_path / "discussit.db").exists()  # the embedded SQLite default
    finally:
        process.send_signal(signal.SIGTERM)
        output = process.communicate(timeout=30)[0].decode()
    assert "Traceback" not in output
    with sqlite3.connect(tmp_path / "discussit.db") as db:
        names = sorted(name for (name,) in db.execute("select name from groups"))
    assert names == ["General", "Help", "Random"]  # demo groups on first start
    shutil.rmtree(tmp_path, ignore_errors=True)
