"""Airflow's timetable classes: given to a DAG as ``schedule=``, stored, and honoured."""

from __future__ import annotations

import json
from datetime import timedelta

import pendulum
import pytest

from flowsched.exceptions import DagDefinitionError
from flowsched.models.dag import DAG
from flowsched.operators.empty import EmptyOperator
from flowsched.parsing.serialize import serialize_dag
from flowsched.serialized import SerializedDAG
from flowsched.timetables import Timetable
from flowsched.timetables.events import EventsTimetable
from flowsched.timetables.interval import CronDataIntervalTimetable, DeltaDataIntervalTimetable
from flowsched.timetables.trigger import CronTriggerTimetable

UTC = "UTC"


def as_stored(timetable: Timetable, start: pendulum.DateTime) -> Timetable:
    """The timetable the scheduler rebuilds from the serialized DAG (through JSON)."""
    with DAG("d", schedule=timetable, start_date=start) as dag:
        EmptyOperator(task_id="t")
    return SerializedDAG(json.loads(json.dumps(serialize_dag(dag)))).timetable


def test_cron_trigger_runs_at_each_fire_with_the_fire_as_logical_date(scheduled_runs):
    paris = CronTriggerTimetable("0 7 * * 1-5", timezone="Europe/Paris")
    start = pendulum.datetime(2025, 3, 7, tz="Europe/Paris")  # a Friday
    runs = scheduled_runs(
        as_stored(paris, start), start_date=start, until=pendulum.datetime(2025, 3, 11, 7)
    )
    fires = [info.run_after.in_timezone("Europe/Paris").isoformat() for info in runs]
    assert fires == [
        "2025-03-07T07:00:00+01:00",
        "2025-03-10T07:00:00+01:00",
        "2025-03-11T07:00:00+01:00",
    ]
    assert all(info.logical_date == info.run_after for info in runs)


def test_cron_trigger_interval_sets_the_data_interval_before_the_fire():
    hourly = CronTriggerTimetable("0 * * * *", timezone=UTC, interval=timedelta(hours=1))
    stored = as_stored(hourly, pendulum.datetime(2025, 1, 1))
    info = stored.next_dagrun_info(
        last_automated_data_interval=None,
        start_date=pendulum.datetime(2025, 1, 1),
        end_date=None,
        catchup=True,
        now=pendulum.datetime(2025, 1, 2),
    )
    assert info.data_interval == (
        pendulum.datetime(2024, 12, 31, 23),
        pendulum.datetime(2025, 1, 1),
    )
    manual = stored.infer_manual_data_interval(pendulum.datetime(2025, 1, 5, 12, 30))
    assert manual == (pendulum.datetime(2025, 1, 5, 11, 30), pendulum.datetime(2025, 1, 5, 12, 30))


def test_cron_trigger_without_catchup_starts_from_the_latest_fire():
    daily = CronTriggerTimetable("0 6 * * *", timezone=UTC)
    info = daily.next_dagrun_info(
        last_automated_data_interval=None,
        start_date=pendulum.datetime(2020, 1, 1),
        end_date=None,
        catchup=False,
        now=pendulum.datetime(2025, 1, 10, 9),
    )
    assert info.run_after == pendulum.datetime(2025, 1, 10, 6)


def test_events_timetable_runs_at_each_listed_instant_once(scheduled_runs):
    events = EventsTimetable(
        [pendulum.datetime(2025, 6, 1, 18, tz="Europe/London"), pendulum.datetime(2025, 2, 1, 9)],
        description="Match days",
    )
    stored = as_stored(events, pendulum.datetime(2025, 1, 1))
    runs = scheduled_runs(
        stored, start_date=pendulum.datetime(2025, 1, 1), until=pendulum.datetime(2026, 1, 1)
    )
    assert [info.run_after for info in runs] == [
        pendulum.datetime(2025, 2, 1, 9),
        pendulum.datetime(2025, 6, 1, 17),
    ]
    assert all(info.data_interval.start == info.data_interval.end for info in runs)
    assert stored.description == "Match days"


def test_events_timetable_restricted_manual_runs_take_the_latest_event():
    events = EventsTimetable(
        [pendulum.datetime(2025, 2, 1), pendulum.datetime(2025, 3, 1)], restrict_to_events=True
    )
    interval = events.infer_manual_data_interval(pendulum.datetime(2025, 2, 20))
    assert interval.start == pendulum.datetime(2025, 2, 1)


def test_interval_timetables_keep_their_own_zone():
    tokyo = as_stored(
        CronDataIntervalTimetable("0 1 * * *", "Asia/Tokyo"), pendulum.datetime(2025, 1, 1)
    )
    assert (tokyo.summary, tokyo.timezone) == ("0 1 * * *", "Asia/Tokyo")
    every_3h = as_stored(
        DeltaDataIntervalTimetable(timedelta(hours=3)), pendulum.datetime(2025, 1, 1)
    )
    assert every_3h.summary == "3:00:00"


def test_a_custom_timetable_class_is_refused_with_the_reason():
    class Workdays(CronDataIntervalTimetable):
        pass

    with pytest.raises(DagDefinitionError, match="custom timetable class Workdays"):
        DAG("custom", schedule=Workdays("0 0 * * *", UTC), start_date=pendulum.datetime(2025, 1, 1))
