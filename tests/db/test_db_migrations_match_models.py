"""The Alembic migrations build exactly the schema the ORM models describe.

Whoever adds a column or table to flowsched/db/ without a migration (or a migration without
the model change) makes this fail, with Alembic's list of differences as the message.
"""

from __future__ import annotations

from pprint import pformat

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext

from flowsched import db
from flowsched.db.tables import Base


def schema_differences() -> list[object]:
    """What `alembic revision --autogenerate` would write against the migrated database."""
    with db.get_engine().connect() as connection:
        context = MigrationContext.configure(
            connection, opts={"compare_type": True, "compare_server_default": True}
        )
        return list(compare_metadata(context, Base.metadata))


def assert_no_drift() -> None:
    differences = schema_differences()
    assert not differences, "models and migrations disagree:\n" + pformat(differences)


def test_migrations_match_the_models_on_sqlite(migrated_db):
    assert_no_drift()


@pytest.mark.postgres
def test_migrations_match_the_models_on_postgresql(postgres_url):
    db.upgrade_db()
    assert_no_drift()
