"""parse_dags_folder: the dags folder as the scheduler and the UI see it, through the DB."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from sqlalchemy import delete, select

from flowsched.db import session_scope
from flowsched.db.tables import (
    DagFile,
    DagModel,
    DagRun,
    ParseImportError,
    SerializedDagModel,
    utcnow,
)
from flowsched.parsing.scan import parse_dags_folder
from tests.parsing.conftest import WriteDag
from tests.parsing.dag_files import counting_dag, dag_source, import_count

pytestmark = pytest.mark.usefixtures("migrated_db")


def dag_row(dag_id: str) -> DagModel:
    with session_scope(readonly=True) as session:
        row = session.get(DagModel, dag_id)
        assert row is not None, f"no DAG row for {dag_id}"
        session.expunge(row)
        return row


def import_errors() -> dict[str, str]:
    """file name -> message."""
    with session_scope(readonly=True) as session:
        rows = session.scalars(select(ParseImportError))
        return {Path(row.fileloc).name: row.message for row in rows}


def active_dag_ids() -> list[str]:
    with session_scope(readonly=True) as session:
        return list(
            session.scalars(select(DagModel.dag_id).where(DagModel.is_active).order_by("dag_id"))
        )


def test_good_files_load_and_each_bad_file_is_an_import_error(
    write_dag: WriteDag, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("FLOWSCHED__CORE__DAGBAG_IMPORT_TIMEOUT", "1")
    write_dag("etl.py", dag_id="etl")
    write_dag("team/report.py", dag_id="report")
    write_dag("syntax.py", "from flowsched import DAG\nwith DAG('x') as dag\n    pass\n")
    write_dag("raises.py", "from flowsched import DAG\nraise RuntimeError('no database')\n")
    write_dag("sleeps.py", "import time\nfrom flowsched import DAG\ntime.sleep(3600)\n")
    write_dag("cycle.py", dag_source("cyc") + "    t1 >> t0\n")
    write_dag("helpers.py", "DAG_OWNER = 'data-team'\n")

    result = parse_dags_folder()

    assert (result.parsed, result.unchanged, result.errors, result.removed) == (7, 0, 4, 0)
    assert active_dag_ids() == ["etl", "report"]
    assert import_errors() == {
        "syntax.py": "SyntaxError: expected ':' (syntax.py, line 2)",
        "raises.py": "RuntimeError: no database (line 2)",
        "sleeps.py": "timed out after 1 s (line 3); the limit is core.dagbag_import_timeout",
        "cycle.py": "DagCycleError: Cycle detected in DAG 'cyc': t0 -> t1 -> t0 (line 11)",
    }


def test_the_dag_row_holds_what_lists_show(write_dag: WriteDag) -> None:
    write_dag(
        "etl.py",
        dag_id="etl",
        schedule="'30 2 * * *'",
        description="'Nightly load'",
        tags="['sales', 'nightly']",
        max_active_runs="3",
        default_args="{'owner': 'ana'}",
        start_date="pendulum.datetime(2024, 1, 1, tz='Europe/Amsterdam')",
    )

    parse_dags_folder()

    row = dag_row("etl")
    assert (row.description, row.owners, row.tags) == ("Nightly load", "ana", ["sales", "nightly"])
    assert (row.timezone, row.schedule_summary) == ("Europe/Amsterdam", "30 2 * * *")
    assert row.schedule_description == "At 02:30 AM"
    assert (row.max_active_runs, row.is_active, row.is_paused) == (3, True, True)
    with session_scope(readonly=True) as session:
        serialized = session.get(SerializedDagModel, "etl")
        dag_file = session.get(DagFile, row.fileloc)
        assert serialized is not None and dag_file is not None
        assert [task["task_id"] for task in serialized.data["tasks"]] == ["t0", "t1"]
        assert dag_file.dag_ids == ["etl"]
        assert "with DAG('etl'" in dag_file.source_code


def test_new_dags_follow_dags_are_paused_at_creation(
    write_dag: WriteDag, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("FLOWSCHED__CORE__DAGS_ARE_PAUSED_AT_CREATION", "false")
    write_dag("etl.py", dag_id="etl")

    parse_dags_folder()

    assert dag_row("etl").is_paused is False


def test_a_dag_can_choose_its_paused_flag_at_creation(write_dag: WriteDag) -> None:
    write_dag("etl.py", dag_id="etl", is_paused_upon_creation="False")

    parse_dags_folder()

    assert dag_row("etl").is_paused is False


def test_unchanged_files_are_not_imported_again(write_dag: WriteDag, tmp_path: Path) -> None:
    counter = tmp_path / "imports.log"
    path = write_dag("etl.py", counting_dag("etl", counter))

    first = parse_dags_folder()
    second = parse_dags_folder()
    os.utime(path)  # same bytes, new mtime: hashed, still not imported
    third = parse_dags_folder()

    assert import_count(counter) == 1
    assert (first.parsed, second.parsed, third.parsed) == (1, 0, 0)
    assert (second.unchanged, third.unchanged) == (1, 1)


def test_a_file_that_never_says_dag_is_not_imported(write_dag: WriteDag, tmp_path: Path) -> None:
    counter = tmp_path / "imports.log"
    write_dag("helpers.py", f"open({str(counter)!r}, 'a').write('x')\n")

    result = parse_dags_folder()

    assert import_count(counter) == 0
    assert (result.parsed, result.errors) == (1, 0)


def test_an_edited_file_is_imported_again_and_its_error_cleared_when_fixed(
    write_dag: WriteDag, tmp_path: Path
) -> None:
    counter = tmp_path / "imports.log"
    write_dag("etl.py", counting_dag("etl", counter))
    parse_dags_folder()

    write_dag("etl.py", counting_dag("etl", counter) + "    oops(\n")
    broken = parse_dags_folder()
    broken_errors = import_errors()
    write_dag("etl.py", counting_dag("etl", counter).replace("t1", "load"))
    fixed = parse_dags_folder()

    assert broken.errors == 1 and "etl.py" in broken_errors
    assert (fixed.parsed, fixed.errors, import_errors()) == (1, 0, {})
    with session_scope(readonly=True) as session:
        data = session.get(SerializedDagModel, "etl").data
        assert [task["task_id"] for task in data["tasks"]] == ["t0", "load"]
    assert import_count(counter) == 2  # the broken version failed before its counter line


def test_a_broken_file_keeps_its_dag_with_the_last_good_structure(write_dag: WriteDag) -> None:
    write_dag("etl.py", dag_id="etl", tasks=3)
    parse_dags_folder()

    write_dag("etl.py", "from flowsched import DAG\nraise ValueError('half-saved')\n")
    result = parse_dags_folder()

    assert (result.errors, result.removed) == (1, 0)
    assert active_dag_ids() == ["etl"]
    with session_scope(readonly=True) as session:
        assert len(session.get(SerializedDagModel, "etl").data["tasks"]) == 3


def test_a_deleted_file_makes_its_dag_inactive_and_keeps_its_runs(write_dag: WriteDag) -> None:
    path = write_dag("etl.py", dag_id="etl")
    parse_dags_folder()
    with session_scope() as session:
        now = utcnow()
        session.add(
            DagRun(
                dag_id="etl",
                run_id="manual__1",
                run_type="manual",
                logical_date=now,
                state="success",
            )
        )

    path.unlink()
    result = parse_dags_folder()

    assert (result.removed, dag_row("etl").is_active) == (1, False)
    with session_scope(readonly=True) as session:
        assert session.scalar(select(DagRun.run_id).where(DagRun.dag_id == "etl")) == "manual__1"
        assert session.get(SerializedDagModel, "etl") is not None
        assert session.scalars(select(DagFile)).all() == []


def test_a_dag_removed_from_its_file_becomes_inactive(write_dag: WriteDag) -> None:
    two_dags = (
        dag_source("etl") + "\nwith DAG('report') as report:\n    EmptyOperator(task_id='r')\n"
    )
    write_dag("etl.py", two_dags)
    parse_dags_folder()

    write_dag("etl.py", dag_id="etl")
    result = parse_dags_folder()

    assert result.removed == 1
    assert active_dag_ids() == ["etl"]


def test_a_returning_dag_is_active_again_and_keeps_its_paused_flag(write_dag: WriteDag) -> None:
    path = write_dag("etl.py", dag_id="etl")
    parse_dags_folder()
    with session_scope() as session:
        session.get(DagModel, "etl").is_paused = False
    source = path.read_text()
    path.unlink()
    parse_dags_folder()

    write_dag("etl.py", source + "    t1 >> EmptyOperator(task_id='t2')\n")
    parse_dags_folder()

    row = dag_row("etl")
    assert (row.is_active, row.is_paused) == (True, False)


def test_duplicate_dag_id_in_a_second_file_is_an_error_naming_both(
    write_dag: WriteDag, dags_folder: Path
) -> None:
    first = write_dag("a_etl.py", dag_id="etl")
    second = write_dag("b_etl_copy.py", dag_id="etl")
    write_dag("c_other.py", dag_id="other")

    result = parse_dags_folder()

    assert result.errors == 1
    assert dag_row("etl").fileloc == str(first)
    assert import_errors() == {
        "b_etl_copy.py": f"Duplicate dag_id: 'etl' is already defined in {first}; "
        f"the one in {second} is ignored"
    }
    assert active_dag_ids() == ["etl", "other"]


def test_the_owner_of_a_dag_id_keeps_it_when_a_copy_appears(write_dag: WriteDag) -> None:
    original = write_dag("z_etl.py", dag_id="etl")
    parse_dags_folder()

    write_dag("a_copy.py", dag_id="etl")
    parse_dags_folder()

    assert dag_row("etl").fileloc == str(original)
    assert list(import_errors()) == ["a_copy.py"]


def test_the_duplicate_takes_over_when_the_first_file_goes(
    write_dag: WriteDag, tmp_path: Path
) -> None:
    counter = tmp_path / "imports.log"
    first = write_dag("a_etl.py", dag_id="etl")
    second = write_dag("b_etl.py", counting_dag("etl", counter))
    parse_dags_folder()

    first.unlink()
    result = parse_dags_folder()

    assert (result.errors, result.removed, import_errors()) == (0, 0, {})
    assert dag_row("etl").fileloc == str(second)
    assert import_count(counter) == 2  # imported again, unchanged, to load its DAG


def test_a_dag_row_deleted_by_hand_comes_back(write_dag: WriteDag) -> None:
    write_dag("etl.py", dag_id="etl")
    parse_dags_folder()
    with session_scope() as session:
        session.execute(delete(SerializedDagModel))
        session.execute(delete(DagModel))

    parse_dags_folder()

    assert dag_row("etl").is_active


def test_flowschedignore_files_are_never_imported(
    write_dag: WriteDag, dags_folder: Path, tmp_path: Path
) -> None:
    counter = tmp_path / "imports.log"
    write_dag("etl.py", dag_id="etl")
    write_dag("scratch/try.py", counting_dag("scratch", counter))
    (dags_folder / ".flowschedignore").write_text("scratch/\n")

    parse_dags_folder()

    assert import_count(counter) == 0
    assert active_dag_ids() == ["etl"]


def test_an_explicit_folder_wins_over_the_configured_one(tmp_path: Path) -> None:
    other = tmp_path / "other_dags"
    other.mkdir()
    (other / "etl.py").write_text(dag_source("etl"))

    parse_dags_folder(other)

    assert dag_row("etl").fileloc == str(other / "etl.py")
