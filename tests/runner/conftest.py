"""Every runner test works in a fresh FLOWSCHED_HOME with a migrated SQLite database."""

import pytest


@pytest.fixture(autouse=True)
def _database(migrated_db):
    return migrated_db
