from __future__ import annotations

import os
import secrets
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text
from sqlmodel import SQLModel
from starlette.testclient import TestClient

from discussit import migrate
from discussit.db import sync_url
from discussit.app import create_app
from discussit.settings import Settings
from tests.helpers import Browser


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return Settings(
        secret_key="test-secret-" + "k" * 40,
        database_url=f"sqlite:///{tmp_path}/discussit.db",
        seed_demo_groups=False,
    )


@pytest.fixture
def client(settings: Settings) -> Iterator[TestClient]:
    with TestClient(create_app(settings), base_url="http://testserver") as client:
        yield client


@pytest.fixture
def browser(client: TestClient) -> Browser:
    return Browser(client)


@pytest.fixture
def alice(client: TestClient) -> Browser:
    b = Browser(client)
    assert b.sign_up("alice").status_code == 303
    return b


@pytest.fixture
def bob(client: TestClient) -> Browser:
    b = Browser(client)
    assert b.sign_up("bob").status_code == 303
    return b


@pytest.fixture
def mallory(client: TestClient) -> Browser:
    b = Browser(client)
    assert b.sign_up("mallory").status_code == 303
    return b


@pytest.fixture
def make_group(client: TestClient):  # type: ignore[no-untyped-def]
    """Create a group through the same code path as the staff command."""
    from discussit import groups

    def make(name: str = "Lounge", description: str = "A place to talk") -> uuid.UUID:
        async def create() -> uuid.UUID:
            async with client.app_state["db"].session() as session:
                return (await groups.create(session, name, description)).id

        assert client.portal is not None
        return client.portal.call(create)

    return make


@pytest.fixture
def lounge(make_group) -> uuid.UUID:  # type: ignore[no-untyped-def]
    return make_group()


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Run the real-browser tests last: Playwright's sync API keeps an event loop running in
    the main thread for the rest of the session, which asyncio.run() elsewhere cannot share."""
    items.sort(key=lambda item: item.get_closest_marker("browser") is not None)
