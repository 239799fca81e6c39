"""Shared pieces of the checklist tests (../shared/security-checklist.md, one test per case id)."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import replace

import pytest
from starlette.testclient import TestClient

from discussit.app import create_app
from discussit.settings import Settings
from tests.figures import FIGURES


@pytest.fixture
def figures() -> dict[str, dict[str, object]]:
    return FIGURES


@pytest.fixture
def client_with(settings: Settings) -> Callable[..., object]:
    """A TestClient on the same database with some settings changed."""

    @contextmanager
    def make(**changes: object) -> Iterator[TestClient]:
        app = create_app(replace(settings, **changes))
        base = "https://testserver" if changes.get("secure_cookies") else "http://testserver"
        with TestClient(app, base_url=base) as client:
            yield client

    return make
