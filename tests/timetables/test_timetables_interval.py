"""timedelta schedules: fixed spacing in absolute time from start_date."""

from __future__ import annotations

from datetime import timedelta

import pendulum
import pytest

from flowsched.timetables import DataInterval, timetable_from_schedule

AMS = "Europe/Amsterdam"


def test_runs_are_spaced_by_the_delta_from_the_start_date(scheduled_runs):
    tt = timetable_from_schedule(timedelta(hours=6), "UTC")
    start = pendulum.datetime(2024, 1, 1, 1, 30)

    runs = scheduled_runs(tt, start_date=start, until=pendulum.datetime(2024, 1, 2))

    assert [run.data_interval for run in runs] == [
        DataInterval(start, start.add(hours=6)),
        DataInterval(start.add(hours=6), start.add(hours=12)),
        DataInterval(start.add(hours=12), start.add(hours=18)),
    ]


def test_a_day_long_delta_is_24_hours_even_across_spring_forward(scheduled_runs):
    tt = timetable_from_schedule(timedelta(days=1), AMS)
    start = pendulum.datetime(2025, 3, 29, 0, tz=AMS)

    runs = scheduled_runs(tt, start_date=start, until=pendulum.datetime(2025, 4, 1, tz=AMS))

    assert [run.run_after.in_timezone(AMS).format("MM-DD HH:mm") for run in runs] == [
        "03-30 00:00",
        "03-31 01:00",
    ]
    assert [run.data_interval.end - run.data_interval.start for run in runs] == [
        timedelta(hours=24),
        timedelta(hours=24),
    ]


def test_without_catchup_the_latest_complete_interval_stays_on_the_start_date_grid(
    scheduled_runs,
):
    tt = timetable_from_schedule(timedelta(hours=6), "UTC")
    start = pendulum.datetime(2024, 1, 1, 1, 30)

    runs = scheduled_runs(
        tt, start_date=start, until=pendulum.datetime(2024, 1, 3, 2), catchup=False
    )

    assert [run.data_interval for run in runs] == [
        DataInterval(pendulum.datetime(2024, 1, 2, 19, 30), pendulum.datetime(2024, 1, 3, 1, 30))
    ]


def test_the_end_date_stops_creation(scheduled_runs):
    tt = timetable_from_schedule(timedelta(hours=1), "UTC")
    start = pendulum.datetime(2024, 1, 1)

    runs = scheduled_runs(
        tt, start_date=start, end_date=start.add(hours=2), until=pendulum.datetime(2024, 2, 1)
    )

    assert [run.logical_date.hour for run in runs] == [0, 1, 2]


def test_a_manual_run_covers_the_delta_before_it():
    tt = timetable_from_schedule(timedelta(minutes=30), "UTC")
    at = pendulum.datetime(2024, 1, 1, 12, 10)

    assert tt.infer_manual_data_interval(at) == DataInterval(at.subtract(minutes=30), at)


@pytest.mark.parametrize("delta", [timedelta(0), timedelta(hours=-1)])
def test_a_delta_must_be_positive(delta):
    with pytest.raises(ValueError, match="must be positive"):
        timetable_from_schedule(delta, "UTC")


def test_a_delta_is_shown_as_its_duration_and_in_words():
    tt = timetable_from_schedule(timedelta(hours=1), "UTC")

    assert tt.summary == "1:00:00"
    assert tt.description == "Every 1 hour"
    assert tt.periodic and tt.can_be_scheduled
