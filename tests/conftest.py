from __future__ import annotations

import asyncio
import os
import secrets
import shutil
import sys
import threading
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text
from sqlmodel import SQLModel
from starlette.testclient import TestClient

from discussit.app import create_app
from discussit.core import migrate
from discussit.core.db import sync_url
from discussit.settings import Rate, Settings
from tests.helpers import Browser, await_chain


def _a_database_per_worker() -> None:
    """With pytest-xdist (`-n 2`), each worker runs on a PostgreSQL database and a Redis
    database number of its own (made here if missing), so their tests never share a row, a
    counter or a live item (core/realtime/redis.py names channels by database number)."""
    worker = os.environ.get("PYTEST_XDIST_WORKER")
    database, redis_url = os.environ.get("TEST_DATABASE_URL"), os.environ.get("TEST_REDIS_URL")
    if not (worker and database and redis_url):
        return
    server, name = database.rsplit("/", 1)
    engine = create_engine(sync_url(database), isolation_level="AUTOCOMMIT")
    with engine.connect() as connection:
        known = connection.execute(
            text("SELECT 1 FROM pg_database WHERE datname = :name"), {"name": f"{name}_{worker}"}
        ).first()
        if known is None:
            connection.execute(text(f'CREATE DATABASE "{name}_{worker}"'))
    engine.dispose()
    os.environ["TEST_DATABASE_URL"] = f"{server}/{name}_{worker}"
    os.environ["TEST_REDIS_URL"] = f"{redis_url.rsplit('/', 1)[0]}/{int(worker[2:]) + 1}"


_a_database_per_worker()
# Set by `.ci/services.sh run ...`: the second pass of the suite runs on PostgreSQL + Redis.
TEST_DATABASE_URL = os.environ.get("TEST_DATABASE_URL")
TEST_REDIS_URL = os.environ.get("TEST_REDIS_URL")


@pytest.fixture(scope="session")
def fresh_postgres() -> None:
    """Once per run: an empty PostgreSQL schema, brought to the head by the migrations."""
    if TEST_DATABASE_URL is None:
        return
    engine = create_engine(sync_url(TEST_DATABASE_URL))
    with engine.begin() as connection:
        connection.execute(text("DROP SCHEMA public CASCADE; CREATE SCHEMA public"))
    engine.dispose()
    migrate.upgrade(TEST_DATABASE_URL)


@pytest.fixture(scope="session")
def migrated_sqlite(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Once per run: a SQLite file brought to the head by the migrations, copied by each test
    (the app still checks and migrates it at start-up, which then has nothing to do)."""
    path = tmp_path_factory.mktemp("template") / "discussit.db"
    migrate.upgrade(f"sqlite:///{path}")
    return path


@pytest.fixture(scope="session", autouse=True)
def _quick_password_hashing() -> Iterator[None]:
    """In-process tests hash with Argon2id at its smallest cost: the same code path, about
    50 ms less per sign-up. Servers started as processes (tests/servers.py) use the real cost."""
    from argon2 import PasswordHasher

    from discussit.accounts import passwords

    real = passwords._hasher
    passwords._hasher = PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1)
    passwords._dummy_hash.cache_clear()
    yield
    passwords._hasher = real
    passwords._dummy_hash.cache_clear()


@pytest.fixture
def database_url(tmp_path: Path, fresh_postgres: None, migrated_sqlite: Path) -> str:
    """Each test starts from empty tables: a new SQLite file, or truncated PostgreSQL tables."""
    if TEST_DATABASE_URL is None:
        shutil.copyfile(migrated_sqlite, tmp_path / "discussit.db")
        return f"sqlite:///{tmp_path}/discussit.db"
    engine = create_engine(sync_url(TEST_DATABASE_URL))
    with engine.begin() as connection:
        tables = ", ".join(SQLModel.metadata.tables)
        connection.execute(text(f"TRUNCATE {tables} RESTART IDENTITY CASCADE"))
    engine.dispose()
    return TEST_DATABASE_URL


@pytest.fixture
def settings(database_url: str) -> Settings:
    if TEST_REDIS_URL:  # rate-limit counters and presence must not leak between tests
        import redis

        with redis.Redis.from_url(TEST_REDIS_URL) as client:
            client.flushdb()
    # Tests make many accounts from one address; the rate-limit tests use the real limits.
    return Settings(
        secret_key=secrets.token_urlsafe(48),
        database_url=database_url,
        redis_url=TEST_REDIS_URL,
        seed_demo_groups=False,
        first_account_staff=False,  # (tests/accounts/test_first_run.py turns it on)
        signups_per_address=Rate(10000, 3600),
    )


@pytest.fixture
def server_env(settings: Settings) -> dict[str, str]:
    """Environment for a real uvicorn process (tests/servers.py) on this test's backends."""
    env = {
        "SECRET_KEY": settings.secret_key,
        "DATABASE_URL": settings.database_url,
        "SEED_DEMO_GROUPS": "false",
        "FIRST_ACCOUNT_STAFF": "false",
    }
    if settings.redis_url:
        env["REDIS_URL"] = settings.redis_url
    return env


STUCK_TEARDOWN_SECONDS = 30.0


def _tasks_left(loop: asyncio.AbstractEventLoop) -> None:
    """Print where each task of `loop` waits (to stderr: in the test's report). For a shutdown
    that does not end: once (in a gate on 64412d7) the app's loop stayed in asyncio's
    cancel-all-tasks until pytest-timeout stopped it, and its stack did not say which task."""
    for _ in range(5):  # (read from another thread: the set may change meanwhile)
        try:
            tasks = list(asyncio.all_tasks(loop))
            break
        except RuntimeError:
            continue
    else:
        return
    print(f"teardown still running after {STUCK_TEARDOWN_SECONDS:.0f} s; tasks:", file=sys.stderr)
    for task in tasks:
        print(f"--- {task!r}", file=sys.stderr)
        for link in await_chain(task):
            print(f"    {link}", file=sys.stderr)


@pytest.fixture
def client(settings: Settings) -> Iterator[TestClient]:
    with TestClient(create_app(settings), base_url="http://testserver") as client:
        loop = client.portal.call(asyncio.get_running_loop)
        yield client
        watchdog = threading.Timer(STUCK_TEARDOWN_SECONDS, _tasks_left, (loop,))
        watchdog.daemon = True
        watchdog.start()
    watchdog.cancel()


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
    from discussit.groups import directory as groups

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


@pytest.fixture(autouse=True)
def _services_present(request: pytest.FixtureRequest) -> None:
    """A test that needs real PostgreSQL and Redis fails without them; it never skips quietly."""
    if request.node.get_closest_marker("services") and not (TEST_DATABASE_URL and TEST_REDIS_URL):
        pytest.fail(
            "needs TEST_DATABASE_URL and TEST_REDIS_URL: run it through "
            "`bash .ci/services.sh run .venv/bin/pytest` (make test does)"
        )


def pytest_sessionfinish(session: pytest.Session) -> None:
    worker = os.environ.get("PYTEST_XDIST_WORKER")
    if worker:
        from tests import figures

        figures.write_worker(worker)


def pytest_terminal_summary(terminalreporter) -> None:  # type: ignore[no-untyped-def]
    """Print the checklist figures this run gathered (tests/figures.py) and where they are."""
    from tests import figures

    path = figures.write()
    if path is not None:
        terminalreporter.section("checklist figures")
        terminalreporter.write_line(f"written to {path.relative_to(path.parents[1])}")
        terminalreporter.write_line(path.read_text())
