"""Cron schedules across daylight saving time changes (docs/concepts.md).

2025 transitions used here:
- Europe/Amsterdam: spring 03-30 02:00 CET -> 03:00 CEST; fall 10-26 03:00 CEST -> 02:00 CET.
- America/New_York: spring 03-09 02:00 EST -> 03:00 EDT; fall 11-02 02:00 EDT -> 01:00 EST.
"""

from __future__ import annotations

from collections import Counter
from datetime import date, timedelta
from itertools import pairwise

import pendulum
import pytest

from flowsched.timetables import DagRunInfo, timetable_from_schedule

AMS = "Europe/Amsterdam"
NY = "America/New_York"


def runs_between(scheduled_runs, schedule, zone, first: date, last: date) -> list[DagRunInfo]:
    """The runs whose run_after falls on the local days first..last (inclusive)."""
    tt = timetable_from_schedule(schedule, zone)
    start = pendulum.datetime(first.year, first.month, first.day, tz=zone)
    day_after_last = last + timedelta(days=1)
    until = pendulum.datetime(
        day_after_last.year, day_after_last.month, day_after_last.day, tz=zone
    )
    runs = scheduled_runs(tt, start_date=start.subtract(days=2), until=until)
    return [run for run in runs if start <= run.run_after < until]


def local(run: DagRunInfo, zone: str) -> str:
    return run.run_after.in_timezone(zone).format("MM-DD HH:mm Z")


@pytest.mark.parametrize(
    ("zone", "day", "expected"),
    [
        (
            AMS,
            date(2025, 3, 30),
            ["03-29 02:30 +01:00", "03-30 03:00 +02:00", "03-31 02:30 +02:00"],
        ),
        (NY, date(2025, 3, 9), ["03-08 02:30 -05:00", "03-09 03:00 -04:00", "03-10 02:30 -04:00"]),
    ],
)
def test_a_daily_time_inside_the_spring_gap_runs_at_the_end_of_the_gap(
    scheduled_runs, zone, day, expected
):
    runs = runs_between(
        scheduled_runs, "30 2 * * *", zone, day - timedelta(days=1), day + timedelta(days=1)
    )

    assert [local(run, zone) for run in runs] == expected
    assert [run.moved_by_dst for run in runs] == [False, True, False]


@pytest.mark.parametrize(
    ("zone", "day", "expected"),
    [
        # 02:30 happens twice in Amsterdam: the run is at the first (summer time) one.
        (
            AMS,
            date(2025, 10, 26),
            ["10-25 02:30 +02:00", "10-26 02:30 +02:00", "10-27 02:30 +01:00"],
        ),
        # New York repeats 01:00-02:00, so 02:30 happens once, in winter time.
        (NY, date(2025, 11, 2), ["11-01 02:30 -04:00", "11-02 02:30 -05:00", "11-03 02:30 -05:00"]),
    ],
)
def test_a_daily_time_runs_once_on_a_fall_back_day(scheduled_runs, zone, day, expected):
    runs = runs_between(
        scheduled_runs, "30 2 * * *", zone, day - timedelta(days=1), day + timedelta(days=1)
    )

    assert [local(run, zone) for run in runs] == expected
    assert not any(run.moved_by_dst for run in runs)


def test_an_ambiguous_daily_time_runs_at_its_first_occurrence(scheduled_runs):
    runs = runs_between(scheduled_runs, "30 1 * * *", NY, date(2025, 11, 2), date(2025, 11, 2))

    assert [local(run, NY) for run in runs] == ["11-02 01:30 -04:00"]


@pytest.mark.parametrize("zone", [AMS, NY])
@pytest.mark.parametrize("schedule", ["30 2 * * *", "30 1 * * *", "0 0 * * *", "0 7 * * *"])
def test_a_daily_cron_runs_exactly_once_on_every_local_day_of_the_year(
    scheduled_runs, zone, schedule
):
    runs = runs_between(scheduled_runs, schedule, zone, date(2025, 1, 1), date(2025, 12, 31))

    per_day = Counter(run.run_after.in_timezone(zone).date() for run in runs)
    assert len(per_day) == 365
    assert set(per_day.values()) == {1}


@pytest.mark.parametrize(
    ("zone", "day", "hours"),
    [
        (AMS, date(2025, 10, 26), 25),
        (NY, date(2025, 11, 2), 25),
        (AMS, date(2025, 3, 30), 23),
        (NY, date(2025, 3, 9), 23),
    ],
)
def test_an_hourly_cron_runs_in_every_real_hour_of_a_dst_day(scheduled_runs, zone, day, hours):
    runs = runs_between(scheduled_runs, "0 * * * *", zone, day, day)

    utc_hours = [run.run_after for run in runs]
    assert len(utc_hours) == hours
    assert all(b - a == timedelta(hours=1) for a, b in pairwise(utc_hours))
    assert not any(run.moved_by_dst for run in runs)


def test_both_passes_of_a_repeated_hour_run_for_an_every_hour_cron(scheduled_runs):
    runs = runs_between(scheduled_runs, "*/20 * * * *", AMS, date(2025, 10, 26), date(2025, 10, 26))

    times = [local(run, AMS) for run in runs]
    assert len(times) == 25 * 3
    assert times[6:12] == [
        "10-26 02:00 +02:00",
        "10-26 02:20 +02:00",
        "10-26 02:40 +02:00",
        "10-26 02:00 +01:00",
        "10-26 02:20 +01:00",
        "10-26 02:40 +01:00",
    ]


def test_an_every_hour_cron_skips_only_the_hour_that_does_not_exist(scheduled_runs):
    runs = runs_between(scheduled_runs, "*/20 * * * *", AMS, date(2025, 3, 30), date(2025, 3, 30))

    times = [local(run, AMS) for run in runs]
    assert len(times) == 23 * 3
    assert times[5:7] == ["03-30 01:40 +01:00", "03-30 03:00 +02:00"]


def test_a_cron_limited_to_some_hours_runs_a_repeated_hour_once(scheduled_runs):
    runs = runs_between(scheduled_runs, "*/20 2 * * *", AMS, date(2025, 10, 26), date(2025, 10, 26))

    assert [local(run, AMS) for run in runs] == [
        "10-26 02:00 +02:00",
        "10-26 02:20 +02:00",
        "10-26 02:40 +02:00",
    ]


def test_several_times_inside_the_gap_make_one_moved_run(scheduled_runs):
    runs = runs_between(scheduled_runs, "*/20 2 * * *", AMS, date(2025, 3, 30), date(2025, 3, 30))

    assert [(local(run, AMS), run.moved_by_dst) for run in runs] == [("03-30 03:00 +02:00", True)]


def test_a_gap_time_landing_on_a_scheduled_time_is_that_run_not_a_second_one(scheduled_runs):
    runs = runs_between(scheduled_runs, "0,30 2,3 * * *", AMS, date(2025, 3, 30), date(2025, 3, 30))

    assert [(local(run, AMS), run.moved_by_dst) for run in runs] == [
        ("03-30 03:00 +02:00", False),
        ("03-30 03:30 +02:00", False),
    ]


@pytest.mark.parametrize("zone", [AMS, NY])
def test_a_seven_oclock_job_stays_at_seven_local_all_year(scheduled_runs, zone):
    runs = runs_between(scheduled_runs, "0 7 * * *", zone, date(2025, 1, 1), date(2025, 12, 31))

    assert {run.run_after.in_timezone(zone).format("HH:mm") for run in runs} == {"07:00"}
    assert len({run.run_after.in_timezone(zone).utcoffset() for run in runs}) == 2


@pytest.mark.parametrize(
    ("zone", "day", "hours"),
    [
        (AMS, date(2025, 3, 30), 23),
        (AMS, date(2025, 10, 26), 25),
        (NY, date(2025, 3, 9), 23),
        (NY, date(2025, 11, 2), 25),
    ],
)
def test_a_daily_interval_follows_the_length_of_the_local_day(scheduled_runs, zone, day, hours):
    runs = runs_between(
        scheduled_runs, "@daily", zone, day + timedelta(days=1), day + timedelta(days=1)
    )

    (run,) = runs
    assert run.logical_date.in_timezone(zone).date() == day
    assert run.data_interval.end - run.data_interval.start == timedelta(hours=hours)


def test_the_interval_after_a_moved_run_starts_where_the_moved_run_ran(scheduled_runs):
    """The boundary really was at 03:00, so the next interval starts there: contiguous
    intervals, no data lost or doubled, and no logical date that never existed."""
    runs = runs_between(scheduled_runs, "30 2 * * *", AMS, date(2025, 3, 30), date(2025, 3, 31))

    moved, after = runs
    assert after.data_interval.start == moved.data_interval.end == moved.run_after
    assert (
        moved.data_interval.start.in_timezone(AMS).format("MM-DD HH:mm Z") == "03-29 02:30 +01:00"
    )
    assert after.logical_date.in_timezone(AMS).format("MM-DD HH:mm Z") == "03-30 03:00 +02:00"
    assert moved.data_interval.end - moved.data_interval.start == timedelta(hours=23, minutes=30)


def test_a_midnight_job_where_dst_starts_at_midnight_runs_at_one(scheduled_runs):
    """Brazil (2018) moved its clocks from 00:00 to 01:00, so midnight did not exist."""
    zone = "America/Sao_Paulo"
    runs = runs_between(scheduled_runs, "@daily", zone, date(2018, 11, 3), date(2018, 11, 5))

    assert [(local(run, zone), run.moved_by_dst) for run in runs] == [
        ("11-03 00:00 -03:00", False),
        ("11-04 01:00 -02:00", True),
        ("11-05 00:00 -02:00", False),
    ]
