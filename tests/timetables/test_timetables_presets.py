"""The non-periodic schedules: None, "@once" and "@continuous"."""

from __future__ import annotations

import pendulum

from flowsched.timetables import DataInterval, timetable_from_schedule

START = pendulum.datetime(2024, 1, 1, 6)
NOW = pendulum.datetime(2024, 3, 1, 12)


def next_run(tt, *, last=None, start_date=START, end_date=None, now=NOW):
    return tt.next_dagrun_info(
        last_automated_data_interval=last,
        start_date=start_date,
        end_date=end_date,
        catchup=True,
        now=now,
    )


def test_no_schedule_never_runs_by_itself():
    tt = timetable_from_schedule(None, "UTC")

    assert next_run(tt) is None
    assert not tt.can_be_scheduled and not tt.periodic
    assert tt.description == "Never, only when triggered"


def test_a_manual_run_of_an_unscheduled_dag_covers_its_own_moment():
    tt = timetable_from_schedule(None, "UTC")

    assert tt.infer_manual_data_interval(NOW) == DataInterval(NOW, NOW)


def test_once_runs_at_the_start_date_and_then_never_again():
    tt = timetable_from_schedule("@once", "UTC")

    first = next_run(tt)

    assert first.run_after == START
    assert first.data_interval == DataInterval(START, START)
    assert next_run(tt, last=first.data_interval) is None
    assert tt.can_be_scheduled and not tt.periodic


def test_once_does_not_run_when_the_end_date_is_before_the_start_date():
    tt = timetable_from_schedule("@once", "UTC")

    assert next_run(tt, end_date=START.subtract(days=1)) is None


def test_continuous_covers_from_the_start_date_until_now():
    tt = timetable_from_schedule("@continuous", "UTC")

    first = next_run(tt)

    assert first.data_interval == DataInterval(START, NOW)
    assert first.run_after == NOW


def test_continuous_carries_on_from_where_the_last_run_ended():
    tt = timetable_from_schedule("@continuous", "UTC")
    last = DataInterval(START, NOW)
    later = NOW.add(minutes=5)

    info = next_run(tt, last=last, now=later)

    assert info.data_interval == DataInterval(NOW, later)
    assert info.run_after == later


def test_continuous_waits_for_a_start_date_in_the_future():
    tt = timetable_from_schedule("@continuous", "UTC")

    info = next_run(tt, start_date=NOW.add(days=1))

    assert info.run_after == NOW.add(days=1)


def test_continuous_stops_at_the_end_date():
    tt = timetable_from_schedule("@continuous", "UTC")

    assert next_run(tt, end_date=NOW.subtract(days=1)) is None
