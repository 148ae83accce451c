"""The SequentialExecutor runs one try per wait, each in a child process of the caller."""

import os

from flowsched.executors.sequential import SequentialExecutor
from tests.runner.support import create_run, queue_ti, ti, write_dag, xcom_values

DAG_FILE = """
    import os
    import pendulum
    from flowsched import DAG, task

    with DAG("steps", start_date=pendulum.datetime(2024, 1, 1, tz="UTC")) as dag:
        @task
        def first():
            return os.getpid()

        @task
        def second():
            os._exit(9)

        first(); second()
"""


def test_tries_run_one_per_wait_in_the_order_queued(dags_folder, migrated_db):
    path = write_dag(dags_folder, "steps", DAG_FILE)
    create_run("steps")
    executor = SequentialExecutor()
    executor.start()
    first, second = queue_ti("steps", "first"), queue_ti("steps", "second")
    executor.queue_task(first, path)
    executor.queue_task(second, path)
    assert executor.free_slots() == 0

    [event_1] = executor.wait_for_events(timeout=1)
    [event_2] = executor.wait_for_events(timeout=1)

    assert (event_1.key, event_1.state) == (first, "success")
    assert (event_2.key, event_2.state) == (second, "failed")
    assert "exited with code 9" in event_2.info
    assert xcom_values("steps", "first")[(-1, "return_value")] == str(ti(first).pid)
    assert ti(first).pid != os.getpid()  # the caller supervised it, in a child process
    assert executor.wait_for_events(timeout=0) == []
    assert executor.free_slots() == 1
    executor.end()
