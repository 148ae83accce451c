"""A supervised try: whatever its process does, only that try fails, and it says how."""

import time
from pathlib import Path

import pytest

from flowsched.runner import supervisor
from tests.runner.support import (
    create_run,
    history,
    queue_ti,
    read_log,
    run_supervised,
    ti,
    write_dag,
)

CRASHING_DAG = """
    import ctypes, os, resource, signal, time
    from datetime import timedelta
    import pendulum
    from flowsched import DAG, task
    from flowsched.operators.bash import BashOperator

    with DAG("crashes", start_date=pendulum.datetime(2024, 1, 1, tz="UTC")) as dag:
        def note(context):
            with open(context["params"]["notes"], "w") as notes:
                notes.write(f"{context['ti'].state}: {context['exception']}")

        @task(retries=1, on_retry_callback=note)
        def exits():
            os._exit(1)

        @task
        def segfaults():
            ctypes.string_at(0)

        @task
        def hogs_memory():
            resource.setrlimit(resource.RLIMIT_AS, (2 * 1024**3, 2 * 1024**3))
            return len(bytearray(4 * 1024**3))

        BashOperator(
            task_id="sleeps",
            bash_command="sleep 300 & echo $! > {{ params.pidfile }}; wait",
            execution_timeout=timedelta(seconds=1),
        )

        @task(execution_timeout=timedelta(seconds=0.5))
        def deaf():
            signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGALRM})
            time.sleep(300)

        exits(); segfaults(); hogs_memory(); deaf()
"""


@pytest.fixture
def crashes(dags_folder):
    path = write_dag(dags_folder, "crashes", CRASHING_DAG)
    return path


def gone(pid: int) -> bool:
    """True once ``pid`` has exited (a zombie waiting for init counts as gone)."""
    try:
        return Path(f"/proc/{pid}/stat").read_text().split()[2] == "Z"
    except FileNotFoundError:
        return True


def test_a_task_calling_os_exit_fails_its_try_only(crashes, tmp_path):
    notes = tmp_path / "notes.txt"
    create_run("crashes", conf={"notes": str(notes)})
    key = queue_ti("crashes", "exits", max_tries=1)

    event = run_supervised(crashes, key)

    assert event.state == "up_for_retry"
    assert event.info == "Task process exited with code 1 before reporting its end"
    assert ti(key).state == "up_for_retry"
    assert history(key)[0].error == event.info
    assert event.info in read_log(key)
    assert notes.read_text() == f"up_for_retry: {event.info}"  # callbacks ran, with context


def test_a_segfault_is_reported_by_its_signal(crashes):
    create_run("crashes")
    key = queue_ti("crashes", "segfaults")

    event = run_supervised(crashes, key)

    assert event.state == "failed"
    assert "killed by signal SIGSEGV" in event.info


def test_a_memory_blow_up_fails_the_try(crashes):
    create_run("crashes")
    key = queue_ti("crashes", "hogs_memory")

    assert run_supervised(crashes, key).state == "failed"
    assert "MemoryError" in read_log(key)


def test_execution_timeout_stops_a_bash_task_and_what_it_started(crashes, tmp_path):
    pidfile = tmp_path / "sleep.pid"
    create_run("crashes", conf={"pidfile": str(pidfile)})
    key = queue_ti("crashes", "sleeps")

    event = run_supervised(crashes, key)

    assert event.state == "failed"
    assert "Task timed out after 1 s (execution_timeout)" in read_log(key)
    grandchild = int(pidfile.read_text())
    for _ in range(100):
        if gone(grandchild):
            break
        time.sleep(0.05)
    assert gone(grandchild)


def test_a_task_deaf_to_its_timeout_is_killed_by_the_supervisor(crashes, monkeypatch):
    monkeypatch.setattr(supervisor, "KILL_GRACE", 0.5)  # the grace a stuck try is given
    create_run("crashes")
    key = queue_ti("crashes", "deaf")

    event = run_supervised(crashes, key)

    assert event.state == "failed"
    assert event.info.startswith("Task timed out after 0.5 s (execution_timeout); killed after")
    assert ti(key).state == "failed"


def test_a_dag_file_that_no_longer_loads_fails_the_try_with_the_reason(dags_folder):
    path = write_dag(dags_folder, "broken", "raise ImportError('no module named pandas')\n")
    create_run("broken")
    key = queue_ti("broken", "anything")

    event = run_supervised(path, key)

    assert event.state == "failed"
    assert event.info == (
        f"Could not load DAG 'broken' from {path}: ImportError: no module named pandas"
    )
    assert event.info in read_log(key)
