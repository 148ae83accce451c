"""Sensors: poke until done, time out, reschedule, and wait for files."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import pendulum
import pytest

from flowsched import DAG
from flowsched.authoring.context import make_context
from flowsched.exceptions import (
    DagDefinitionError,
    RescheduleTask,
    SensorTimeout,
    TaskDeferred,
    TaskSkipped,
)
from flowsched.sensors.base import PokeReturnValue
from flowsched.sensors.filesystem import FileSensor
from flowsched.sensors.python import PythonSensor
from flowsched.triggers.file import FileTrigger


@dataclass
class StandInTaskInstance:
    """The runner keeps start_date across reschedules; that is all a sensor reads."""

    start_date: datetime | None = None
    try_number: int = 1


def run(sensor, ti=None):
    context = make_context(
        dag=sensor.dag,
        task=sensor,
        run_id="manual__1",
        logical_date=pendulum.datetime(2024, 3, 10),
        ti=ti or StandInTaskInstance(),
    )
    sensor.render_template_fields(context)
    return sensor.execute(context)


def python_sensor(python_callable, **kwargs) -> PythonSensor:
    with DAG("sensors"):
        return PythonSensor(task_id="wait", python_callable=python_callable, **kwargs)


def test_poke_mode_pokes_until_the_condition_holds():
    pokes = []

    def ready():
        pokes.append(1)
        return len(pokes) >= 3

    assert run(python_sensor(ready, poke_interval=0.01)) is None
    assert len(pokes) == 3


def test_callable_gets_its_arguments_and_may_return_an_xcom_value():
    def check(table, ds):
        return PokeReturnValue(True, f"{table}@{ds}")

    sensor = python_sensor(check, op_kwargs={"table": "sales"}, poke_interval=0.01)
    assert run(sensor) == "sales@2024-03-10"


def test_timeout_fails_without_retry():
    sensor = python_sensor(lambda: False, poke_interval=0.01, timeout=0.05)
    with pytest.raises(SensorTimeout, match="Sensor 'wait' timed out"):
        run(sensor)


def test_soft_fail_turns_the_timeout_into_a_skip():
    sensor = python_sensor(lambda: False, poke_interval=0.01, timeout=0.05, soft_fail=True)
    with pytest.raises(TaskSkipped, match="soft_fail"):
        run(sensor)


def test_reschedule_mode_pokes_once_and_asks_to_run_again_later():
    pokes = []
    sensor = python_sensor(lambda: pokes.append(1), mode="reschedule", poke_interval=120)
    before = datetime.now(UTC)
    with pytest.raises(RescheduleTask) as request:
        run(sensor, StandInTaskInstance(start_date=before))
    assert len(pokes) == 1
    assert before + timedelta(seconds=119) < request.value.reschedule_date
    assert request.value.reschedule_date < before + timedelta(seconds=125)


def test_reschedule_mode_measures_the_timeout_from_the_first_try_s_start():
    sensor = python_sensor(lambda: False, mode="reschedule", timeout=3600)
    started_long_ago = datetime.now(UTC) - timedelta(hours=2)
    with pytest.raises(SensorTimeout):
        run(sensor, StandInTaskInstance(start_date=started_long_ago))


def test_reschedule_mode_succeeds_when_the_condition_holds():
    sensor = python_sensor(lambda: True, mode="reschedule")
    assert run(sensor, StandInTaskInstance(start_date=datetime.now(UTC))) is None


def test_exponential_backoff_grows_the_wait_up_to_max_wait():
    sensor = python_sensor(lambda: False, poke_interval=10, exponential_backoff=True, max_wait=35)
    assert [sensor._next_interval(n, 0) for n in (1, 2, 3, 4)] == [10, 20, 35, 35]


def test_sensor_arguments_are_checked_at_definition():
    with pytest.raises(DagDefinitionError, match="mode must be 'poke' or 'reschedule'"):
        python_sensor(lambda: True, mode="sometimes")
    sensor = python_sensor(lambda: True, poke_interval=timedelta(minutes=2))
    assert (sensor.poke_interval, sensor.timeout) == (120.0, 7 * 24 * 3600.0)


# --- FileSensor -----------------------------------------------------------------------------


def file_sensor(filepath, **kwargs) -> FileSensor:
    with DAG("files"):
        return FileSensor(
            task_id="file", filepath=filepath, poke_interval=0.01, timeout=0.05, **kwargs
        )


def test_file_sensor_finds_an_existing_file(tmp_path):
    (tmp_path / "model.pkl").write_bytes(b"")
    assert run(file_sensor(str(tmp_path / "model.pkl"))) is None


def test_file_sensor_times_out_while_the_file_is_missing(tmp_path):
    with pytest.raises(SensorTimeout):
        run(file_sensor(str(tmp_path / "missing.csv")))


def test_file_sensor_accepts_globs_and_templated_paths(tmp_path):
    (tmp_path / "batch_20240310.csv").write_text("x")
    assert run(file_sensor(str(tmp_path / "batch_{{ ds_nodash }}*.csv"))) is None


def test_recursive_glob_searches_subdirectories(tmp_path):
    (tmp_path / "a" / "b").mkdir(parents=True)
    (tmp_path / "a" / "b" / "done.flag").write_text("")
    assert run(file_sensor(str(tmp_path / "**" / "done.flag"), recursive=True)) is None


def test_a_directory_counts_once_it_holds_a_file(tmp_path):
    (tmp_path / "inbox").mkdir()
    with pytest.raises(SensorTimeout):
        run(file_sensor(str(tmp_path / "inbox")))
    (tmp_path / "inbox" / "item").write_text("")
    assert run(file_sensor(str(tmp_path / "inbox"))) is None


def test_relative_path_is_joined_to_the_connection_s_base_path(tmp_path, monkeypatch):
    (tmp_path / "ready.txt").write_text("")
    monkeypatch.setenv("FLOWSCHED_CONN_LANDING", f"fs://?path={tmp_path}")
    assert run(file_sensor("ready.txt", fs_conn_id="landing")) is None


def test_deferrable_file_sensor_waits_on_a_file_trigger_without_poking_in_a_loop(tmp_path):
    target = tmp_path / "landing" / "data.csv"
    with DAG("files"):
        sensor = FileSensor(
            task_id="wait", filepath=str(target), deferrable=True, poke_interval=7, timeout=60
        )
    with pytest.raises(TaskDeferred) as deferred:
        run(sensor)
    trigger = deferred.value.trigger
    assert isinstance(trigger, FileTrigger) and deferred.value.timeout == timedelta(seconds=60)
    assert trigger.poll() is None
    target.parent.mkdir()
    target.write_text("x")
    event = trigger.poll()
    assert event is not None and event.payload is True
    assert sensor.execute_complete({}, event.payload) is None
    assert run(sensor) is None  # there already: done at once


def test_operators_default_deferrable_makes_deferrable_the_default(tmp_path, monkeypatch):
    monkeypatch.setenv("FLOWSCHED__OPERATORS__DEFAULT_DEFERRABLE", "true")
    with DAG("files"):
        implicit = FileSensor(task_id="implicit", filepath=str(tmp_path / "nothing"))
        explicit = FileSensor(task_id="explicit", filepath=str(tmp_path / "x"), deferrable=False)
    assert (implicit.deferrable, explicit.deferrable) == (True, False)
    with pytest.raises(TaskDeferred):
        run(implicit)
