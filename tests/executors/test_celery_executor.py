"""The CeleryExecutor as the scheduler drives it, against PostgreSQL, Redis and real
`flowsched worker` processes: queue tries (rows written as the scheduler leaves them),
wait for their events."""

from __future__ import annotations

import shutil
import socket
import subprocess
from datetime import timedelta

import pytest
from sqlalchemy import select, update

from flowsched import db
from flowsched.config import conf
from flowsched.db import session_scope
from flowsched.db.tables import DagModel, Job, TaskInstance, utcnow
from flowsched.executors.celery import CeleryExecutor
from tests.conftest import port_open, service_missing
from tests.e2e.support import Worker, stop_all, wait_for
from tests.executors.celery_support import private_queues
from tests.runner.support import (
    create_run,
    history,
    queue_ti,
    read_log,
    ti,
    write_dag,
    xcom_values,
)

PIPELINE = """
    import pendulum
    from flowsched import DAG, task

    with DAG("pipeline", start_date=pendulum.datetime(2024, 1, 1, tz="UTC")) as dag:
        @task
        def numbers():
            print("three numbers")
            return [1, 2, 3]

        @task
        def total(values):
            return sum(values)

        @task
        def fails():
            raise ValueError("no luck")

        total(numbers()); fails()
"""


@pytest.fixture
def database(postgres_url, monkeypatch):
    monkeypatch.setenv("FLOWSCHED__SCHEDULER__SCHEDULER_HEARTBEAT_INTERVAL", "0.2")
    db.upgrade_db()


@pytest.fixture
def queues(monkeypatch, redis_url, database):
    with private_queues(monkeypatch, redis_url) as names:
        yield names


@pytest.fixture
def pipeline(dags_folder, database):
    path = write_dag(dags_folder, "pipeline", PIPELINE)
    with session_scope() as session:
        session.add(DagModel(dag_id="pipeline", fileloc=path))  # as the parser leaves it
    create_run("pipeline")
    return path


@pytest.fixture
def worker(home, queues):
    worker = Worker(home, "w1", "--concurrency", "2").start()
    yield worker
    stop_all([worker])


@pytest.fixture
def executor(queues):
    executor = CeleryExecutor(parallelism=8, queued_timeout=1.0)
    executor.start()
    yield executor
    executor.terminate()


def queue_celery_ti(dag_id, task_id, **values):
    """A task instance queued to the CeleryExecutor, as the scheduler leaves it."""
    key = queue_ti(dag_id, task_id)
    with session_scope() as session:
        session.execute(
            update(TaskInstance)
            .where(TaskInstance.dag_id == dag_id, TaskInstance.task_id == task_id)
            .values(
                **{
                    "executor": "celery",
                    "queued_dttm": utcnow(),
                    "queue": conf.get("celery", "default_queue"),
                    **values,
                }
            )
        )
    return key


def run_to_end(executor, path, *keys):
    """Queue ``keys`` and wait for one event each; the events by task id."""
    for key in keys:
        send(executor, key, path)
    return collect(executor, len(keys))


def send(executor, key, path):
    """As the scheduler does, to the queue of the task (here: the default queue)."""
    executor.queue_task(key, path, queue=conf.get("celery", "default_queue"))


def collect(executor, count):
    events = []
    wait_for(lambda: events.extend(executor.wait_for_events(0.5)) or len(events) >= count, "events")
    return {event.key.task_id: event for event in events}


@pytest.mark.celery
def test_settings_come_from_the_config(home):
    executor = CeleryExecutor()
    assert executor.parallelism == 32
    assert executor.queued_timeout == 600.0


@pytest.mark.celery
def test_tries_run_on_a_worker_and_their_ends_are_read_from_the_database(
    executor, worker, pipeline
):
    upstream = run_to_end(executor, pipeline, queue_celery_ti("pipeline", "numbers"))["numbers"]
    assert upstream.state == "success"
    assert executor.free_slots() == 8

    key = queue_celery_ti("pipeline", "total")
    failing = queue_celery_ti("pipeline", "fails")
    events = run_to_end(executor, pipeline, key, failing)
    assert events["total"].state == "success"
    assert xcom_values("pipeline", "total") == {(-1, "return_value"): "6"}
    assert events["fails"].state == "failed"
    assert "ValueError: no luck" in read_log(failing)

    row = ti(upstream.key)
    assert row.executor == "celery"
    assert "three numbers" in read_log(upstream.key)


@pytest.mark.celery
def test_a_duplicate_message_runs_the_try_once(executor, worker, pipeline):
    key = queue_celery_ti("pipeline", "numbers")
    send(executor, key, pipeline)
    send(executor, key, pipeline)
    assert collect(executor, 1)["numbers"].state == "success"
    wait_for(lambda: worker.output().count("flowsched.run_try[") >= 4, "both messages handled")
    assert [row.try_number for row in history(key)] == [1]
    assert read_log(key).count("flowsched.task - Starting pipeline.numbers") == 1


@pytest.mark.celery
def test_a_lost_message_is_sent_again_after_the_queued_timeout(executor, worker, pipeline):
    long_ago = utcnow() - timedelta(hours=1)
    lost = queue_celery_ti("pipeline", "numbers", queued_dttm=long_ago)
    elsewhere = queue_celery_ti("pipeline", "fails", queued_dttm=long_ago, executor="local")

    assert collect(executor, 1)["numbers"].key == lost  # never queued here, found anyway
    assert ti(lost).state == "success"
    assert ti(lost).queued_dttm > long_ago
    assert ti(elsewhere).state == "queued"  # another executor's try is not ours to re-send


@pytest.fixture
def own_redis(tmp_path, database, monkeypatch):
    """A Redis server of this test's own, to take away and bring back (and throw away:
    its queues need no cleaning)."""
    binary = shutil.which("redis-server")
    if binary is None:
        service_missing("redis-server is not installed")
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    monkeypatch.setenv("FLOWSCHED__CELERY__BROKER_URL", f"redis://127.0.0.1:{port}/0")
    monkeypatch.setenv("FLOWSCHED__CELERY__DEFAULT_QUEUE", "default")
    server = RedisServer(binary, port, tmp_path)
    yield server
    server.stop()


class RedisServer:
    def __init__(self, binary, port, folder):
        self.command = [binary, "--port", str(port), "--bind", "127.0.0.1", "--save", ""]
        self.command += ["--appendonly", "no", "--dir", str(folder)]
        self.port = port
        self.process = None

    def start(self):
        self.process = subprocess.Popen(self.command, stdout=subprocess.DEVNULL)
        wait_for(lambda: port_open("127.0.0.1", self.port), "redis-server to listen")

    def stop(self):
        if self.process is not None:
            self.process.terminate()
            self.process.wait(10)
            self.process = None


@pytest.mark.celery
def test_a_broker_out_of_reach_delays_tries_without_losing_them(own_redis, home, pipeline, caplog):
    executor = CeleryExecutor(parallelism=8, queued_timeout=3600)
    executor.start()
    try:
        key = queue_celery_ti("pipeline", "numbers")
        send(executor, key, pipeline)  # no broker: kept, not raised
        assert executor.wait_for_events(0.2) == []
        assert "cannot reach the Celery broker" in caplog.text

        own_redis.start()
        worker = Worker(home, "w2").start()
        try:
            assert collect(executor, 1)["numbers"].state == "success"
        finally:
            worker.stop()
    finally:
        executor.terminate()


@pytest.mark.celery
def test_a_worker_keeps_a_job_row_while_it_runs(worker, home):
    def job():
        with session_scope(readonly=True) as session:
            row = session.scalar(select(Job).where(Job.job_type == "worker"))
            if row is not None:
                session.expunge(row)
            return row

    started = wait_for(job, "the worker's job row")
    assert started.state == "running"
    assert started.pid == worker.pid
    assert started.hostname == f"w1@{socket.gethostname()}"
    wait_for(lambda: job().latest_heartbeat > started.latest_heartbeat, "a heartbeat")

    assert worker.stop() == 0
    stopped = job()
    assert stopped.state == "success"
    assert stopped.end_date is not None
