"""The same scans on PostgreSQL: bulk writes, the scan lock and JSON columns there."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from flowsched import db
from flowsched.db import session_scope
from flowsched.db.tables import DagModel, ParseImportError, SerializedDagModel
from flowsched.parsing.scan import parse_dags_folder
from tests.parsing.conftest import WriteDag

pytestmark = pytest.mark.postgres


def test_scan_rescan_and_removal_on_postgres(postgres_url: str, write_dag: WriteDag) -> None:
    db.upgrade_db()
    write_dag("etl.py", dag_id="etl", tags="['pg']")
    copy = write_dag("etl_copy.py", dag_id="etl")
    report = write_dag("report.py", dag_id="report")

    first = parse_dags_folder()
    second = parse_dags_folder()
    report.unlink()
    write_dag("etl.py", dag_id="etl", tasks=3)
    third = parse_dags_folder()

    assert (first.parsed, first.errors, second.parsed, second.unchanged) == (3, 1, 0, 3)
    assert (third.parsed, third.removed) == (1, 1)
    with session_scope(readonly=True) as session:
        rows = session.execute(select(DagModel.dag_id, DagModel.is_active))
        dags = {dag_id: active for dag_id, active in rows}
        errors = session.scalars(select(ParseImportError.fileloc)).all()
        tasks = session.get(SerializedDagModel, "etl").data["tasks"]
    assert dags == {"etl": True, "report": False}
    assert errors == [str(copy)]
    assert len(tasks) == 3
