"""Time sensors: TimeDelta, Time, DateTime (each also deferrable), DayOfWeek."""

from __future__ import annotations

import datetime

import pendulum
import pytest

from flowsched import DAG
from flowsched.authoring.context import make_context
from flowsched.exceptions import TaskDeferred
from flowsched.sensors.date_time import DateTimeSensor, DateTimeSensorAsync
from flowsched.sensors.time_delta import TimeDeltaSensor, TimeDeltaSensorAsync
from flowsched.sensors.time_sensor import TimeSensor, TimeSensorAsync
from flowsched.sensors.weekday import DayOfWeekSensor
from flowsched.triggers.temporal import DateTimeTrigger
from flowsched.utils.weekday import WeekDay

NOW = pendulum.now("UTC")


def context_of(sensor, logical_date=NOW, interval_end=None):
    context = make_context(
        dag=sensor.dag,
        task=sensor,
        run_id="r",
        logical_date=logical_date,
        data_interval_start=logical_date,
        data_interval_end=interval_end or logical_date,
    )
    sensor.render_template_fields(context)
    return context


def in_dag(factory, zone="UTC"):
    with DAG("sensors", start_date=pendulum.datetime(2024, 1, 1, tz=zone)):
        return factory()


def deferred_moment(sensor, context):
    with pytest.raises(TaskDeferred) as deferred:
        sensor.execute(context)
    assert deferred.value.method_name == "execute_complete"
    assert isinstance(deferred.value.trigger, DateTimeTrigger)
    return deferred.value.trigger.moment


def test_time_delta_sensor_waits_for_the_delta_after_the_interval_end():
    sensor = in_dag(lambda: TimeDeltaSensor(task_id="t", delta=datetime.timedelta(hours=1)))
    assert sensor.poke(context_of(sensor, interval_end=NOW.subtract(hours=2)))
    assert not sensor.poke(context_of(sensor, interval_end=NOW))


def test_time_delta_sensor_async_defers_until_the_moment_or_returns_if_it_passed():
    sensor = in_dag(lambda: TimeDeltaSensorAsync(task_id="t", delta=datetime.timedelta(hours=1)))
    assert sensor.execute(context_of(sensor, interval_end=NOW.subtract(hours=2))) is True
    moment = deferred_moment(sensor, context_of(sensor, interval_end=NOW))
    assert moment == NOW.add(hours=1)


def test_time_sensor_compares_the_wall_clock_of_the_dag_zone():
    zone = "Asia/Tokyo"
    local_now = pendulum.now(zone)
    earlier = (local_now - datetime.timedelta(minutes=5)).time().replace(tzinfo=None)
    later = (local_now + datetime.timedelta(minutes=5)).time().replace(tzinfo=None)
    if later < earlier:
        pytest.skip("the ten minutes around now cross midnight in Tokyo")
    assert in_dag(lambda: TimeSensor(task_id="t", target_time=earlier), zone).poke({})
    assert not in_dag(lambda: TimeSensor(task_id="t", target_time=later), zone).poke({})


def test_time_sensor_async_defers_until_that_time_today_in_the_dag_zone():
    sensor = in_dag(
        lambda: TimeSensorAsync(task_id="t", target_time=datetime.time(23, 30)), "Asia/Tokyo"
    )
    moment = deferred_moment(sensor, context_of(sensor))
    local = moment.in_timezone("Asia/Tokyo")
    assert (local.date(), local.hour, local.minute) == (pendulum.now("Asia/Tokyo").date(), 23, 30)


def test_date_time_sensor_renders_its_target_and_reads_it_as_utc_without_offset():
    past = in_dag(lambda: DateTimeSensor(task_id="t", target_time="{{ ds }}T00:00:00"))
    assert past.poke(context_of(past, logical_date=pendulum.datetime(2024, 3, 10)))
    assert past.target_time == "2024-03-10T00:00:00"
    future = in_dag(
        lambda: DateTimeSensor(task_id="t", target_time=NOW.add(hours=1).naive())  # naive: UTC
    )
    assert not future.poke(context_of(future))
    with pytest.raises(TypeError, match=r"Expected str or datetime\.datetime"):
        in_dag(lambda: DateTimeSensor(task_id="t", target_time=3))


def test_date_time_sensor_async_defers_until_the_rendered_moment():
    sensor = in_dag(
        lambda: DateTimeSensorAsync(task_id="t", target_time="{{ data_interval_end.add(hours=2) }}")
    )
    day = pendulum.datetime(2030, 1, 1)
    assert deferred_moment(sensor, context_of(sensor, day, day)) == day.add(hours=2)


def test_day_of_week_sensor_on_the_logical_date():
    sensor = in_dag(
        lambda: DayOfWeekSensor(
            task_id="t", week_day={WeekDay.SATURDAY, "sunday"}, use_task_logical_date=True
        )
    )
    assert sensor.poke(context_of(sensor, pendulum.datetime(2024, 3, 10)))  # a Sunday
    assert not sensor.poke(context_of(sensor, pendulum.datetime(2024, 3, 11)))
    today = WeekDay(pendulum.now("UTC").isoweekday())
    assert in_dag(lambda: DayOfWeekSensor(task_id="t", week_day=today)).poke({})
    with pytest.raises(TypeError, match="Unsupported Type for week_day"):
        in_dag(lambda: DayOfWeekSensor(task_id="t", week_day=3))
