"""Schedules in words, for the UI and `flowsched dags next-runs`."""

from __future__ import annotations

from datetime import timedelta

import pytest

from flowsched.timetables import describe_schedule, timetable_from_schedule


@pytest.mark.parametrize(
    ("schedule", "words"),
    [
        ("30 2 * * *", "At 02:30 AM"),
        ("0 7 * * 1-5", "At 07:00 AM, Monday through Friday"),
        ("*/15 * * * *", "Every 15 minutes"),
        ("@hourly", "Every hour"),
        ("@daily", "At 12:00 AM"),
        ("@weekly", "At 12:00 AM, only on Sunday"),
        (None, "Never, only when triggered"),
        ("@once", "Once, at the start date"),
        ("@continuous", "As often as possible, one run at a time"),
        (timedelta(hours=1, minutes=30), "Every 1 hour, 30 minutes"),
        (timedelta(days=2, seconds=1), "Every 2 days, 1 second"),
    ],
)
def test_a_schedule_is_described_in_words(schedule, words):
    tt = timetable_from_schedule(schedule, "UTC")

    assert tt.description == words
    assert describe_schedule(tt.serialize()) == words


def test_a_serialized_cron_is_described_without_building_a_timetable():
    assert describe_schedule({"kind": "cron", "expr": "0 6 1 * *"}) == (
        "At 06:00 AM, on day 1 of the month"
    )
    assert describe_schedule({"kind": "delta", "seconds": 300.0}) == "Every 5 minutes"


def test_an_unknown_schedule_kind_is_refused():
    with pytest.raises(ValueError, match="Unknown schedule kind 'weekly'"):
        describe_schedule({"kind": "weekly"})
