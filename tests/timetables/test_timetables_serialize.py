"""A timetable survives the serialized DAG: serialize() and timetable_from_serialized()."""

from __future__ import annotations

import json
from datetime import timedelta

import pendulum
import pytest

from flowsched.timetables import timetable_from_schedule, timetable_from_serialized


@pytest.mark.parametrize(
    ("schedule", "serialized", "summary"),
    [
        (None, {"kind": "none"}, "None"),
        ("@once", {"kind": "once"}, "@once"),
        ("@continuous", {"kind": "continuous"}, "@continuous"),
        ("30 2 * * *", {"kind": "cron", "expr": "30 2 * * *"}, "30 2 * * *"),
        ("@daily", {"kind": "cron", "expr": "@daily"}, "@daily"),
        (timedelta(hours=1), {"kind": "delta", "seconds": 3600.0}, "1:00:00"),
    ],
)
def test_a_schedule_round_trips_through_json(schedule, serialized, summary):
    tt = timetable_from_schedule(schedule, "Europe/Amsterdam")

    stored = json.loads(json.dumps(tt.serialize()))
    restored = timetable_from_serialized(stored, "Europe/Amsterdam")

    assert stored == serialized
    assert restored == tt
    assert restored.summary == summary
    assert restored.timezone == "Europe/Amsterdam"


def test_a_changed_schedule_or_zone_is_a_different_timetable():
    daily = timetable_from_schedule("@daily", "UTC")

    assert daily != timetable_from_schedule("@hourly", "UTC")
    assert daily != timetable_from_schedule("@daily", "Europe/Amsterdam")


def test_the_zone_of_a_start_date_with_a_fixed_offset_round_trips_by_name():
    start = pendulum.parse("2024-01-01T00:00:00+02:00")
    tt = timetable_from_schedule("0 6 * * *", start.tzinfo)

    restored = timetable_from_serialized(tt.serialize(), tt.timezone)

    assert tt.timezone == "+02:00"
    assert restored.infer_manual_data_interval(start.add(days=1)).end == pendulum.datetime(
        2024, 1, 1, 4
    )


def test_an_unknown_zone_is_refused_by_name():
    with pytest.raises(ValueError, match="Unknown time zone 'Mars/Olympus_Mons'"):
        timetable_from_schedule("@daily", "Mars/Olympus_Mons")


def test_an_unknown_serialized_kind_is_refused():
    with pytest.raises(ValueError, match="Unknown schedule kind 'dataset'"):
        timetable_from_serialized({"kind": "dataset"}, "UTC")


def test_a_schedule_of_another_type_is_refused():
    with pytest.raises(TypeError, match="not int"):
        timetable_from_schedule(3600, "UTC")
