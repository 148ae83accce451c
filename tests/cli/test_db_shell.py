"""`flowsched db shell`: the database's own client, on flowsched's database, fed SQL on stdin."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from flowsched import db

FLOWSCHED = str(Path(sys.executable).parent / "flowsched")


def db_shell(sql: str, **env: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [FLOWSCHED, "db", "shell"],
        input=sql,
        capture_output=True,
        text=True,
        timeout=60,
        env={**os.environ, **env},
    )


def test_db_shell_opens_sqlite3_on_the_sqlite_database(migrated_db):
    result = db_shell("select version_num from alembic_version;\n")

    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == db.head_revision()


def test_db_shell_opens_psql_on_the_postgresql_database(postgres_url):
    db.upgrade_db()

    result = db_shell("select 'rev=' || version_num from alembic_version;\n")

    assert result.returncode == 0, result.stderr
    assert f"rev={db.head_revision()}" in result.stdout


def test_db_shell_names_the_missing_client_in_one_line(migrated_db):
    result = db_shell("select 1;\n", PATH=str(Path(FLOWSCHED).parent))

    assert result.returncode == 1
    assert result.stderr.strip().splitlines() == [
        "Error: `sqlite3` is not installed (or not on PATH): it is needed to open the database"
    ]
    assert "Traceback" not in result.stdout + result.stderr
