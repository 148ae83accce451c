"""The LocalExecutor as the scheduler drives it: queue tries, wait for their events."""

import os
import signal
import time
from pathlib import Path

import pytest

from flowsched.executors.local import LocalExecutor
from tests.runner.support import create_run, queue_ti, read_log, ti, write_dag, xcom_values

PIPELINE = """
    import os, time
    from datetime import datetime, timedelta, timezone
    import pendulum
    from flowsched import DAG, task
    from flowsched.exceptions import RescheduleTask

    with DAG("pipeline", start_date=pendulum.datetime(2024, 1, 1, tz="UTC")) as dag:
        @task
        def numbers():
            return [1, 2, 3]

        @task
        def total(values):
            return sum(values)

        @task
        def crash():
            os._exit(3)

        @task
        def slow():
            time.sleep(300)

        @task
        def not_yet():
            raise RescheduleTask(datetime.now(timezone.utc) + timedelta(minutes=1))

        total(numbers()); crash(); slow(); not_yet()
"""


@pytest.fixture
def pipeline(dags_folder, migrated_db):
    path = write_dag(dags_folder, "pipeline", PIPELINE)
    create_run("pipeline")
    return path


@pytest.fixture
def executor(pipeline):
    executor = LocalExecutor(parallelism=2)
    executor.start()
    yield executor
    executor.terminate()


def run_to_end(executor, path, *keys):
    """Queue ``keys`` and wait for one event each; the events by task id."""
    for key in keys:
        executor.queue_task(key, path)
    events = []
    while len(events) < len(keys):
        events += executor.wait_for_events(timeout=30)
    return {event.key.task_id: event for event in events}


def parent_of(pid):
    return int(Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[1])


def gone(pid):
    """True once ``pid`` has exited (a zombie waiting for init counts as gone)."""
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] == "Z"
    except FileNotFoundError:
        return True


def worker_pids():
    children = Path(f"/proc/{os.getpid()}/task/{os.getpid()}/children").read_text()
    return {int(pid) for pid in children.split()}


def test_tries_run_in_the_workers_and_pass_xcoms_downstream(executor, pipeline):
    [upstream] = run_to_end(executor, pipeline, queue_ti("pipeline", "numbers")).values()
    assert upstream.state == "success"

    key = queue_ti("pipeline", "total")
    event = run_to_end(executor, pipeline, key)["total"]

    assert (event.state, event.info) == ("success", "")
    assert xcom_values("pipeline", "total")[(-1, "return_value")] == "6"
    assert ti(key).executor == "local"
    assert ti(key).pid not in worker_pids()  # each try has a process of its own


def test_a_crashing_task_fails_its_try_and_the_workers_keep_working(executor, pipeline):
    workers = worker_pids()

    events = run_to_end(executor, pipeline, queue_ti("pipeline", "crash"))

    assert events["crash"].state == "failed"
    assert events["crash"].info == "Task process exited with code 3 before reporting its end"
    assert worker_pids() == workers
    assert run_to_end(executor, pipeline, queue_ti("pipeline", "numbers"))["numbers"].state == (
        "success"
    )


def test_a_worker_killed_from_outside_is_replaced(executor, pipeline):
    victim = min(worker_pids())
    os.kill(victim, signal.SIGKILL)

    events = run_to_end(
        executor, pipeline, queue_ti("pipeline", "numbers"), queue_ti("pipeline", "crash")
    )

    assert events["numbers"].state == "success"
    assert victim not in worker_pids()
    assert len(worker_pids()) == 2


def test_a_try_that_dies_with_its_worker_is_reported_lost_at_once(executor, pipeline):
    """The executor knows its worker died: it says so without touching the database (the
    scheduler settles the try inside its retry guard), and no heartbeat is waited for."""
    key = queue_ti("pipeline", "slow")
    executor.queue_task(key, pipeline)
    while not ti(key).pid or ti(key).pid in worker_pids():  # until the try's own pid is in
        executor.wait_for_events(timeout=0.05)
    try_pid = ti(key).pid
    worker = parent_of(try_pid)

    os.kill(worker, signal.SIGKILL)
    events = []
    while not events:
        events = executor.wait_for_events(timeout=30)

    assert (events[0].key, events[0].state, events[0].lost) == (key, None, True)
    assert events[0].info == f"worker lost (pid {worker}: killed by SIGKILL)"
    for _ in range(100):  # the try is killed with its worker: nobody could record it
        if gone(try_pid):
            break
        time.sleep(0.05)
    assert gone(try_pid)
    assert worker not in worker_pids() and len(worker_pids()) == 2


def test_workers_leave_sigterm_and_sigint_to_the_scheduler(executor, pipeline):
    """Ctrl-C or a service manager signal the whole process group; the scheduler then
    stops its workers in order (end() or terminate()), not the signal."""
    workers = worker_pids()
    for pid in workers:
        os.kill(pid, signal.SIGTERM)
        os.kill(pid, signal.SIGINT)

    assert run_to_end(executor, pipeline, queue_ti("pipeline", "numbers"))["numbers"].state == (
        "success"
    )
    assert worker_pids() == workers


def test_free_slots_count_idle_workers(executor, pipeline):
    assert executor.free_slots() == 2
    key = queue_ti("pipeline", "slow")
    executor.queue_task(key, pipeline)
    assert executor.free_slots() == 1


def test_a_rescheduled_sensor_gives_its_worker_back(pipeline):
    executor = LocalExecutor(parallelism=1)
    executor.start()
    try:
        events = run_to_end(
            executor, pipeline, queue_ti("pipeline", "not_yet"), queue_ti("pipeline", "numbers")
        )
    finally:
        executor.end()
    assert events["not_yet"].state == "up_for_reschedule"
    assert events["numbers"].state == "success"


def test_end_lets_queued_tries_finish(pipeline):
    executor = LocalExecutor(parallelism=1)
    executor.start()
    first, second = queue_ti("pipeline", "numbers"), queue_ti("pipeline", "crash")
    executor.queue_task(first, pipeline)
    executor.queue_task(second, pipeline)

    executor.end()

    assert ti(first).state == "success"
    assert ti(second).state == "failed"
    assert worker_pids() == set()


def test_terminate_stops_running_tries_and_fails_them(pipeline):
    executor = LocalExecutor(parallelism=1)
    executor.start()
    key = queue_ti("pipeline", "slow")
    executor.queue_task(key, pipeline)
    while ti(key).state != "running":
        executor.wait_for_events(timeout=0.05)

    executor.terminate()

    assert ti(key).state == "failed"
    assert "its supervisor was stopped" in read_log(key)
    assert worker_pids() == set()


def test_a_try_whose_task_instance_is_taken_away_stops(pipeline, monkeypatch):
    monkeypatch.setenv("FLOWSCHED__SCHEDULER__TASK_HEARTBEAT_INTERVAL", "0.1")
    executor = LocalExecutor(parallelism=1)
    executor.start()
    key = queue_ti("pipeline", "slow")
    executor.queue_task(key, pipeline)
    while ti(key).state != "running":
        executor.wait_for_events(timeout=0.05)

    queue_ti("pipeline", "slow", state="failed")  # a user marks it failed
    events = []
    while not events:
        events = executor.wait_for_events(timeout=30)
    executor.end()

    [event] = events

    assert (event.key, event.state) == (key, "failed")
    assert event.info == "the task instance was changed from outside"
    assert ti(key).state == "failed"
    log = read_log(key)
    assert "Task received SIGTERM; stopping the task" in log
    assert "supervisor: The task instance was changed from outside; its state stands" in log
