"""Fixtures for the web UI: an app on a migrated DB, users of each role, a seeded DAG."""

from __future__ import annotations

import shutil
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import delete
from sqlalchemy.orm import Session

from flowsched import db
from flowsched.db.tables import AuditLog
from flowsched.operations.users import create_user
from tests.webui.seed import (
    PASSWORD,
    csrf_token,
    log_in,
    seed_etl,
)
from webui.app import create_app


@pytest.fixture(scope="session")
def template_db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A migrated database with users "admin" and "viewer", built once and copied per test
    (migrating and hashing passwords for every test would double the suite's time)."""
    path = tmp_path_factory.mktemp("webui-template") / "flowsched.db"
    url = f"sqlite:///{path}"
    db.upgrade_db(url)
    with Session(db.get_engine(url)) as session:
        create_user(session, "admin", PASSWORD, "admin", actor="test")
        create_user(session, "viewer", PASSWORD, "viewer", actor="test")
        session.execute(delete(AuditLog))  # each test reads the audit log from a clean start
        session.commit()
    db.dispose_engines()
    return path


@pytest.fixture
def app(home: Path, template_db: Path) -> Flask:
    shutil.copy(template_db, home / "flowsched.db")
    return create_app({"TESTING": True})


@pytest.fixture
def etl(app: Flask) -> str:
    """DAG "etl": one failed run, one running run (extract ok, transform running)."""
    return seed_etl()


@pytest.fixture
def admin(app: Flask) -> Iterator[FlaskClient]:
    with app.test_client() as client:
        yield log_in(client, "admin")


@pytest.fixture
def viewer(app: Flask) -> Iterator[FlaskClient]:
    with app.test_client() as client:
        yield log_in(client, "viewer")


@pytest.fixture
def anonymous(app: Flask) -> Iterator[FlaskClient]:
    with app.test_client() as client:
        yield client


@pytest.fixture
def post_form(admin: FlaskClient) -> Callable[..., Any]:
    """POST a form as the admin, with the CSRF token a browser would send."""

    def post(path: str, data: dict[str, Any] | None = None, **kwargs: Any):
        return admin.post(
            path, data={**(data or {}), "csrf_token": csrf_token(admin, "/")}, **kwargs
        )

    return post
