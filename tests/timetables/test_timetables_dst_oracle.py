"""Proof by brute force: the cron fire times equal a literal reading of the DST rules in
docs/concepts.md.

The oracle walks real time minute by minute, reads the zone's wall clock and applies the
rules as written: a matching reading fires at its first occurrence (or at every occurrence
for an every-hour cron); readings skipped by a forward jump fire, once, at the first
instant after the jump. The timetable must fire at exactly the same instants, in zones
chosen for their awkward transitions.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from itertools import pairwise

import pendulum
import pytest
from croniter import croniter

from flowsched.timetables import DataInterval, timetable_from_schedule

MINUTE = timedelta(minutes=1)
WINDOW = timedelta(hours=30)

TRANSITIONS = [
    ("Europe/Amsterdam", datetime(2025, 3, 30, 1, tzinfo=UTC)),
    ("Europe/Amsterdam", datetime(2025, 10, 26, 1, tzinfo=UTC)),
    ("America/New_York", datetime(2025, 3, 9, 7, tzinfo=UTC)),
    ("America/New_York", datetime(2025, 11, 2, 6, tzinfo=UTC)),
    # Half-hour DST.
    ("Australia/Lord_Howe", datetime(2025, 4, 5, 15, tzinfo=UTC)),
    ("Australia/Lord_Howe", datetime(2025, 10, 4, 15, 30, tzinfo=UTC)),
    # DST changes at midnight, so midnight is missing or doubled.
    ("America/Sao_Paulo", datetime(2018, 11, 4, 3, tzinfo=UTC)),
    ("America/Santiago", datetime(2025, 4, 6, 3, tzinfo=UTC)),
    # Samoa skipped 30 December 2011 entirely.
    ("Pacific/Apia", datetime(2011, 12, 30, 10, tzinfo=UTC)),
    # A 15-minute shift with no DST.
    ("Asia/Kathmandu", datetime(1985, 12, 31, 18, 30, tzinfo=UTC)),
]

CRONS = [
    "30 2 * * *",
    "0 0 * * *",
    "0 * * * *",
    "*/15 * * * *",
    "*/20 1-3 * * *",
    "0,30 0,2,3 * * *",
    "45 23 * * *",
]


def oracle(expr: str, zone: str, start: datetime, end: datetime) -> list[tuple[datetime, bool]]:
    tz = pendulum.timezone(zone)
    every_hour = croniter(expr).expanded[1] == ["*"]

    def wall(instant: datetime) -> datetime:
        return instant.astimezone(tz).replace(tzinfo=None, fold=0)

    matches = set(
        croniter_range(expr, wall(start) - timedelta(days=2), wall(end) + timedelta(days=2))
    )
    fires: list[tuple[datetime, bool]] = []
    seen: set[datetime] = set()
    previous = wall(start - MINUTE)
    instant = start
    while instant < end:
        reading = wall(instant)
        skipped = _minutes_between(previous, reading)
        if reading in matches and (every_hour or reading not in seen):
            fires.append((instant, False))
        elif not every_hour and any(minute in matches for minute in skipped):
            fires.append((instant, True))
        seen.add(reading)
        previous = reading
        instant += MINUTE
    return fires


def croniter_range(expr: str, first: datetime, last: datetime) -> list[datetime]:
    """The matching wall-clock readings (naive: plain calendar arithmetic)."""
    it = croniter(expr, first - MINUTE)
    readings = []
    while (reading := it.get_next(datetime)) <= last:
        readings.append(reading)
    return readings


def _minutes_between(earlier: datetime, later: datetime) -> list[datetime]:
    minutes = []
    minute = earlier + MINUTE
    while minute < later:
        minutes.append(minute)
        minute += MINUTE
    return minutes


def timetable_fires(expr: str, zone: str, start: datetime, end: datetime):
    tt = timetable_from_schedule(expr, zone)
    fires = []
    info = tt.next_dagrun_info(
        last_automated_data_interval=None, start_date=start, end_date=None, catchup=True, now=end
    )
    fires.append((info.data_interval.start, False))  # the first fire, aligned at/after start
    while info.run_after < end:
        fires.append((info.run_after, info.moved_by_dst))
        info = tt.next_dagrun_info(
            last_automated_data_interval=info.data_interval,
            start_date=start,
            end_date=None,
            catchup=True,
            now=end,
        )
    return fires


@pytest.mark.parametrize("expr", CRONS)
@pytest.mark.parametrize(("zone", "transition"), TRANSITIONS, ids=lambda v: str(v)[:16])
def test_fire_times_match_a_minute_by_minute_reading_of_the_rules(expr, zone, transition):
    start, end = transition - WINDOW, transition + WINDOW

    expected = oracle(expr, zone, start, end)
    actual = timetable_fires(expr, zone, start, end)

    # The first fire's moved flag belongs to a run before the window: compare instants.
    assert actual[0][0] == expected[0][0]
    assert actual[1:] == expected[1:]


@pytest.mark.parametrize("expr", CRONS)
@pytest.mark.parametrize(("zone", "transition"), TRANSITIONS, ids=lambda v: str(v)[:16])
def test_a_manual_run_covers_the_interval_between_the_two_latest_fires(expr, zone, transition):
    """Searching backwards (manual runs, catchup=False) must agree with the oracle too."""
    fires = [at for at, _ in oracle(expr, zone, transition - WINDOW, transition + WINDOW)]
    tt = timetable_from_schedule(expr, zone)

    manual = [tt.infer_manual_data_interval(at + timedelta(seconds=30)) for at in fires[1:]]

    assert manual == [DataInterval(a, b) for a, b in pairwise(fires)]
