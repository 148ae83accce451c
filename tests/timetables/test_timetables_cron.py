"""Cron schedules: data intervals, catchup, start and end dates, manual runs."""

from __future__ import annotations

from datetime import datetime

import pendulum
import pytest

from flowsched.timetables import DataInterval, timetable_from_schedule, upcoming_runs

UTC = "UTC"


def day(d: int, hour: int = 0, month: int = 1, tz: str = UTC) -> pendulum.DateTime:
    return pendulum.datetime(2024, month, d, hour, tz=tz)


def intervals(runs) -> list[tuple[str, str]]:
    return [
        (run.data_interval.start.to_date_string(), run.data_interval.end.to_date_string())
        for run in runs
    ]


def test_the_first_daily_run_covers_the_start_day_and_runs_when_it_is_over():
    tt = timetable_from_schedule("@daily", UTC)

    info = tt.next_dagrun_info(
        last_automated_data_interval=None,
        start_date=day(1),
        end_date=None,
        catchup=True,
        now=day(10),
    )

    assert info.data_interval == DataInterval(day(1), day(2))
    assert info.logical_date == day(1)
    assert info.run_after == day(2)
    assert info.moved_by_dst is False


def test_times_come_back_as_pendulum_datetimes_in_utc():
    tt = timetable_from_schedule("0 9 * * *", "Asia/Tokyo")

    info = tt.next_dagrun_info(
        last_automated_data_interval=None,
        start_date=day(1, tz="Asia/Tokyo"),
        end_date=None,
        catchup=True,
        now=day(10),
    )

    assert isinstance(info.run_after, pendulum.DateTime)
    assert info.run_after.timezone_name == "UTC"
    assert info.run_after == pendulum.datetime(2024, 1, 2, 0)  # 09:00 in Tokyo


def test_a_start_date_between_fire_times_starts_at_the_next_one():
    tt = timetable_from_schedule("@daily", UTC)

    info = tt.next_dagrun_info(
        last_automated_data_interval=None,
        start_date=day(1, hour=10),
        end_date=None,
        catchup=True,
        now=day(10),
    )

    assert info.data_interval == DataInterval(day(2), day(3))


def test_with_catchup_every_missed_interval_is_created_in_order(scheduled_runs):
    tt = timetable_from_schedule("@daily", UTC)

    runs = scheduled_runs(tt, start_date=day(1), until=day(5, hour=12))

    assert intervals(runs) == [
        ("2024-01-01", "2024-01-02"),
        ("2024-01-02", "2024-01-03"),
        ("2024-01-03", "2024-01-04"),
        ("2024-01-04", "2024-01-05"),
    ]


def test_without_catchup_only_the_latest_complete_interval_is_created(scheduled_runs):
    tt = timetable_from_schedule("@daily", UTC)

    runs = scheduled_runs(tt, start_date=day(1), until=day(5, hour=12), catchup=False)

    assert intervals(runs) == [("2024-01-04", "2024-01-05")]


def test_without_catchup_a_scheduler_that_was_down_skips_to_the_latest_interval():
    tt = timetable_from_schedule("@hourly", UTC)
    last = DataInterval(day(1, hour=3), day(1, hour=4))

    info = tt.next_dagrun_info(
        last_automated_data_interval=last,
        start_date=day(1),
        end_date=None,
        catchup=False,
        now=pendulum.datetime(2024, 1, 1, 9, 30),
    )

    assert info.data_interval == DataInterval(day(1, hour=8), day(1, hour=9))


def test_without_catchup_the_next_run_never_goes_back_before_the_last_one():
    tt = timetable_from_schedule("@daily", UTC)
    last = DataInterval(day(4), day(5))

    info = tt.next_dagrun_info(
        last_automated_data_interval=last,
        start_date=day(1),
        end_date=None,
        catchup=False,
        now=day(5, hour=12),
    )

    assert info.data_interval == DataInterval(day(5), day(6))


def test_without_catchup_a_new_dag_does_not_run_before_its_start_date():
    tt = timetable_from_schedule("@daily", UTC)

    info = tt.next_dagrun_info(
        last_automated_data_interval=None,
        start_date=day(20),
        end_date=None,
        catchup=False,
        now=day(5),
    )

    assert info.data_interval == DataInterval(day(20), day(21))


def test_the_end_date_stops_creation_after_the_interval_starting_on_it(scheduled_runs):
    tt = timetable_from_schedule("@daily", UTC)

    runs = scheduled_runs(tt, start_date=day(1), end_date=day(3), until=day(20))

    assert intervals(runs) == [
        ("2024-01-01", "2024-01-02"),
        ("2024-01-02", "2024-01-03"),
        ("2024-01-03", "2024-01-04"),
    ]


def test_a_dag_without_start_date_is_not_scheduled():
    tt = timetable_from_schedule("@daily", UTC)

    info = tt.next_dagrun_info(
        last_automated_data_interval=None,
        start_date=None,
        end_date=None,
        catchup=True,
        now=day(5),
    )

    assert info is None


@pytest.mark.parametrize(
    ("run_after", "expected"),
    [
        (day(5, hour=10), DataInterval(day(4), day(5))),
        (day(5), DataInterval(day(4), day(5))),
    ],
)
def test_a_manual_run_covers_the_latest_complete_interval(run_after, expected):
    tt = timetable_from_schedule("@daily", UTC)

    assert tt.infer_manual_data_interval(run_after) == expected


def test_a_weekly_cron_in_a_zone_covers_a_local_week(scheduled_runs):
    zone = "Europe/Amsterdam"
    tt = timetable_from_schedule("0 7 * * 0", zone)

    (run,) = scheduled_runs(tt, start_date=day(1, tz=zone), until=day(14, hour=8, tz=zone))

    assert run.data_interval.start.in_timezone(zone) == day(7, hour=7, tz=zone)
    assert run.data_interval.end.in_timezone(zone) == day(14, hour=7, tz=zone)


def test_the_last_interval_from_the_database_may_be_a_plain_utc_datetime():
    tt = timetable_from_schedule("@daily", UTC)
    from_db = DataInterval(
        datetime.fromisoformat("2024-01-01T00:00:00+00:00"),
        datetime.fromisoformat("2024-01-02T00:00:00+00:00"),
    )

    info = tt.next_dagrun_info(
        last_automated_data_interval=from_db,
        start_date=day(1),
        end_date=None,
        catchup=True,
        now=day(10),
    )

    assert info.data_interval == DataInterval(day(2), day(3))


def test_a_naive_datetime_is_refused():
    tt = timetable_from_schedule("@daily", UTC)

    with pytest.raises(ValueError, match="timezone-aware"):
        tt.infer_manual_data_interval(datetime(2024, 1, 1))


@pytest.mark.parametrize(
    ("schedule", "message"),
    [
        ("61 * * * *", r"Invalid cron expression '61 \* \* \* \*'"),
        ("every day", "Invalid cron expression 'every day': expected 5 fields"),
        ("0 0 * * * *", r"Invalid cron expression '0 0 \* \* \* \*'"),
        ("@fortnightly", "Unknown schedule preset '@fortnightly'"),
        ("0 0 30 2 *", r"Cron expression '0 0 30 2 \*' never fires"),
    ],
)
def test_a_bad_cron_string_raises_a_value_error_naming_it(schedule, message):
    with pytest.raises(ValueError, match=message):
        timetable_from_schedule(schedule, UTC)


@pytest.mark.parametrize(
    ("preset", "cron"),
    [
        ("@hourly", "0 * * * *"),
        ("@daily", "0 0 * * *"),
        ("@weekly", "0 0 * * 0"),
        ("@monthly", "0 0 1 * *"),
        ("@yearly", "0 0 1 1 *"),
    ],
)
def test_presets_schedule_like_their_cron(preset, cron):
    def next_runs(schedule):
        tt = timetable_from_schedule(schedule, UTC)
        return upcoming_runs(tt, start_date=day(1), end_date=None, after=day(1), n=3)

    assert next_runs(preset) == next_runs(cron)
    assert timetable_from_schedule(preset, UTC).summary == preset
