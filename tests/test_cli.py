"""The staff command and the demo seed share the group-creation code path."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from starlette.testclient import TestClient

from discussit.app import create_app
from discussit.cli import main
from tests.helpers import Browser, html

ROOT = Path(__file__).resolve().parent.parent

pytestmark = pytest.mark.slow  # real servers or timed waits: `make test`, not `make check`


def test_create_group_from_the_command_line(settings, monkeypatch, capsys):
    monkeypatch.setenv("DATABASE_URL", settings.database_url)
    assert main(["create-group", "Book club", "--description", "Monthly reads"]) == 0
    assert "Created group 'Book club'" in capsys.readouterr().out
    assert main(["create-group", "book CLUB"]) == 1
    assert "already exists" in capsys.readouterr().err
    with TestClient(create_app(settings)) as client:
        alice = Browser(client)
        alice.sign_up("alice")
        names = [n.text(strip=True) for n in html(alice.get("/")).css(".group__name")]
        assert names == ["Book club"]


def test_make_staff_from_the_command_line(settings, monkeypatch, capsys):
    monkeypatch.setenv("DATABASE_URL", settings.database_url)
    assert main(["make-staff", "alice"]) == 1
    assert "must sign up first" in capsys.readouterr().err
    with TestClient(create_app(settings)) as client:
        Browser(client).sign_up("alice")
    assert main(["make-staff", "ALICE"]) == 0
    assert "alice is now staff" in capsys.readouterr().out
    assert main(["make-staff", "alice", "--revoke"]) == 0
    assert "no longer staff" in capsys.readouterr().out


def test_python_dash_m_discussit_runs_the_same_command(settings):
    result = subprocess.run(
        [sys.executable, "-m", "discussit", "create-group", "Chess"],
        env={"DATABASE_URL": settings.database_url, "PATH": "/usr/bin:/bin"},
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr
    assert "Created group 'Chess'" in result.stdout


def test_first_start_creates_demo_groups_once(settings):
    from dataclasses import replace

    seeded = replace(settings, seed_demo_groups=True)
    for _ in range(2):
        with TestClient(create_app(seeded)) as client:
            alice = Browser(client)
            if alice.sign_up("alice").status_code != 303:
                alice.log_in("alice")
            names = [n.text(strip=True) for n in html(alice.get("/")).css(".group__name")]
            assert names == ["General", "Help", "Random"]
