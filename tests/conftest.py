"""Fixtures every test can use: a fresh FLOWSCHED_HOME, a migrated DB, real services.

Services (PostgreSQL, Redis, RabbitMQ, chromium) are real. On a laptop without them the
tests that need them skip with the reason; with FLOWSCHED_REQUIRE_SERVICES=1 (CI) a
missing service fails the test instead, so nothing is silently skipped there.
"""

from __future__ import annotations

import os
import socket
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from flowsched import db

REQUIRE_SERVICES = os.environ.get("FLOWSCHED_REQUIRE_SERVICES") == "1"
POSTGRES_ADMIN_URL = os.environ.get(
    "FLOWSCHED_TEST_POSTGRES", "postgresql+psycopg://postgres@localhost:5432/postgres"
)


def service_missing(reason: str) -> None:
    """Skip on a developer's laptop; fail in CI, where every service must be there."""
    if REQUIRE_SERVICES:
        pytest.fail(f"required service missing: {reason}")
    pytest.skip(reason)


def port_open(host: str, port: int) -> bool:
    try:
        with socket.create_connection((host, port), timeout=1):
            return True
    except OSError:
        return False


@pytest.fixture
def home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """An empty FLOWSCHED_HOME with a dags folder, used by this process and its children."""
    home = tmp_path / "home"
    dags = home / "dags"
    dags.mkdir(parents=True)
    monkeypatch.setenv("FLOWSCHED_HOME", str(home))
    for name in list(os.environ):
        if name.startswith(("FLOWSCHED__", "FLOWSCHED_VAR_", "FLOWSCHED_CONN_")):
            monkeypatch.delenv(name)
    monkeypatch.setenv("FLOWSCHED__CORE__DAGS_FOLDER", str(dags))
    db.dispose_engines()
    yield home
    db.dispose_engines()


@pytest.fixture
def dags_folder(home: Path) -> Path:
    return home / "dags"


@pytest.fixture
def migrated_db(home: Path) -> Path:
    """A home whose SQLite database is at the current schema."""
    db.upgrade_db()
    return home


@pytest.fixture
def postgres_url(home: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    """A brand-new PostgreSQL database for this test, configured as flowsched's DB."""
    if not port_open("localhost", 5432):
        service_missing("PostgreSQL is not running on localhost:5432")
    from sqlalchemy import create_engine, text

    name = f"flowsched_test_{uuid.uuid4().hex[:12]}"
    admin = create_engine(POSTGRES_ADMIN_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'CREATE DATABASE "{name}"'))
    url = POSTGRES_ADMIN_URL.rsplit("/", 1)[0] + f"/{name}"
    monkeypatch.setenv("FLOWSCHED__DATABASE__SQL_ALCHEMY_CONN", url)
    db.dispose_engines()
    try:
        yield url
    finally:
        db.dispose_engines()
        with admin.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


@pytest.fixture
def redis_url() -> str:
    if not port_open("localhost", 6379):
        service_missing("Redis is not running on localhost:6379")
    return "redis://localhost:6379/0"


@pytest.fixture
def rabbitmq_url() -> str:
    if not port_open("localhost", 5672):
        service_missing("RabbitMQ is not running on localhost:5672")
    return "amqp://guest:guest@localhost:5672//"
