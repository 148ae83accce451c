"""Importing DAG files in child processes: every failure becomes one readable message."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from flowsched.parsing.dagbag import FileResult, import_dag_file
from flowsched.parsing.isolation import load_files
from tests.parsing.conftest import WriteDag
from tests.parsing.dag_files import dag_source


def load(path: Path, timeout: float = 10.0) -> FileResult:
    [result] = load_files([path], timeout=timeout, processes=1)
    return result


def failure_of(path: Path, timeout: float = 10.0) -> str:
    result = load(path, timeout)
    assert result.failure is not None, "expected an import error"
    assert result.dags == []
    return result.failure.message


def test_a_good_file_gives_its_serialized_dags(write_dag: WriteDag) -> None:
    path = write_dag("etl.py", dag_id="etl", tasks=3)

    result = load(path)

    assert result.failure is None
    [dag] = result.dags
    assert dag.dag_id == "etl"
    assert [task["task_id"] for task in dag.data["tasks"]] == ["t0", "t1", "t2"]
    assert len(dag.dag_hash) == 64


def test_a_file_without_a_dag_gives_nothing_and_no_error(write_dag: WriteDag) -> None:
    path = write_dag("helpers.py", "DAG_DEFAULTS = {'retries': 2}\n")

    result = load(path)

    assert (result.dags, result.failure) == ([], None)


def test_syntax_error_names_the_line(write_dag: WriteDag) -> None:
    path = write_dag("broken.py", "from flowsched import DAG\n\ndef f(:\n    pass\n")

    assert failure_of(path) == "SyntaxError: invalid syntax (broken.py, line 3)"


def test_exception_names_the_exception_and_the_line(write_dag: WriteDag) -> None:
    path = write_dag("boom.py", "from flowsched import DAG\nrows = {}\ncount = rows['missing']\n")

    result = load(path)

    assert result.failure is not None
    assert result.failure.message == "KeyError: 'missing' (line 3)"
    assert result.failure.traceback.startswith("Traceback (most recent call last):\n")
    assert f'File "{path}", line 3, in <module>' in result.failure.traceback
    assert "importlib" not in result.failure.traceback


def test_a_file_that_sleeps_forever_is_stopped_at_the_timeout(write_dag: WriteDag) -> None:
    path = write_dag("slow.py", "import time\nfrom flowsched import DAG\ntime.sleep(3600)\n")
    started = time.monotonic()

    result = load(path, timeout=1)

    assert time.monotonic() - started < 3
    assert result.failure is not None
    assert result.failure.message == (
        "timed out after 1 s (line 3); the limit is core.dagbag_import_timeout"
    )
    assert "time.sleep(3600)" in result.failure.traceback


def test_a_file_that_swallows_the_timeout_is_killed(write_dag: WriteDag) -> None:
    source = "import time\nDAG = 1\nwhile True:\n    try:\n        time.sleep(60)\n    except BaseException:\n        pass\n"  # noqa: E501
    path = write_dag("stubborn.py", source)

    message = failure_of(path, timeout=0.5)

    assert message == (
        "timed out after 0.5 s and the import process was killed; "
        "the limit is core.dagbag_import_timeout"
    )


@pytest.mark.parametrize(
    ("source", "message"),
    [
        ("import os\nDAG = 1\nos._exit(3)\n", "the import process exited with code 3"),
        (
            "import os, signal\nDAG = 1\nos.kill(os.getpid(), signal.SIGKILL)\n",
            "the import process was killed by signal SIGKILL",
        ),
        ("import sys\nDAG = 1\nsys.exit('bye')\n", "SystemExit: bye (line 3)"),
    ],
)
def test_a_file_that_ends_its_process_is_an_error(
    write_dag: WriteDag, source: str, message: str
) -> None:
    assert failure_of(write_dag("exits.py", source)) == message


def test_cycle_is_an_error_naming_the_cycle(write_dag: WriteDag) -> None:
    path = write_dag("cycle.py", dag_source("cyc", tasks=2) + "    t1 >> t0\n")

    assert (
        failure_of(path) == "DagCycleError: Cycle detected in DAG 'cyc': t0 -> t1 -> t0 (line 11)"
    )


def test_duplicate_task_id_is_an_error(write_dag: WriteDag) -> None:
    path = write_dag("dup.py", dag_source("dup", tasks=1) + "    EmptyOperator(task_id='t0')\n")

    message = failure_of(path)

    assert message.startswith("DuplicateTaskIdFound:") and "'t0'" in message
    assert message.endswith("(line 9)")


@pytest.mark.parametrize(
    ("dag_id", "task_id", "kind"),
    [("bad id!", "t0", "dag_id"), ("good", "no spaces please", "task_id")],
)
def test_invalid_ids_are_errors(write_dag: WriteDag, dag_id: str, task_id: str, kind: str) -> None:
    source = (
        "from flowsched import DAG\nfrom flowsched.operators.empty import EmptyOperator\n"
        f"with DAG({dag_id!r}):\n    EmptyOperator(task_id={task_id!r})\n"
    )

    message = failure_of(write_dag("ids.py", source))

    assert message.startswith(f"InvalidIdentifierError: Invalid {kind} ")


def test_unknown_argument_is_an_error(write_dag: WriteDag) -> None:
    source = dag_source("etl", tasks=1).replace("task_id='t0'", "task_id='t0', retires=3")

    message = failure_of(write_dag("typo.py", source))

    assert "retires" in message and message.endswith("(line 8)")


def test_print_in_a_dag_file_does_not_reach_stdout(
    write_dag: WriteDag, capfd: pytest.CaptureFixture[str]
) -> None:
    path = write_dag("chatty.py", dag_source("chatty", extra="print('hello from the DAG file')"))

    assert load(path).failure is None
    captured = capfd.readouterr()
    assert "hello from the DAG file" not in captured.out
    assert "hello from the DAG file" in captured.err


def test_many_files_at_once_each_get_their_own_result(write_dag: WriteDag) -> None:
    paths = [write_dag(f"dag_{n}.py", dag_id=f"dag_{n}") for n in range(6)]
    paths.append(write_dag("broken.py", "DAG = (\n"))

    results = {Path(r.fileloc).name: r for r in load_files(paths, timeout=10, processes=3)}

    assert sorted(results) == sorted(path.name for path in paths)
    assert [r.dags[0].dag_id for name, r in sorted(results.items()) if name != "broken.py"] == [
        f"dag_{n}" for n in range(6)
    ]
    assert results["broken.py"].failure is not None


def test_import_dag_file_in_process_finds_helpers_beside_the_file(
    write_dag: WriteDag, dags_folder: Path
) -> None:
    (dags_folder / "common.py").write_text("OWNER = 'data-team'\n")
    source = dag_source("etl", extra="from common import OWNER", default_args="{'owner': OWNER}")

    [dag] = import_dag_file(write_dag("etl.py", source))

    assert dag.dag_id == "etl"
    assert dag.get_task("t0").owner == "data-team"
