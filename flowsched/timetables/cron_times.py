"""When a cron expression fires in a time zone: the DST rules of docs/concepts.md, made exact.

croniter is used only on naive wall-clock readings, where it is exact (plain calendar
arithmetic). Turning a matching reading into an instant is done here, with WallClock:

- A reading in a spring-forward gap fires at the first instant after the gap and is
  marked moved_by_dst (unless the cron also matches that instant's own reading, e.g.
  `0,30 2,3 * * *` at 03:00: then the moved run and the 03:00 run are the same run).
- A reading in a fall-back overlap fires once, at its first occurrence.
- Exception, a cron whose hour field is `*` ("every hour"): it fires at every real instant
  whose reading matches, so both passes of a repeated hour fire, and a gap hour, which
  has no real instants, simply does not fire.

Every fire instant is distinct (two readings resolving to one instant make one fire), so
consecutive fires give contiguous, non-overlapping data intervals.

How the search stays exact: the map from readings to instants is non-decreasing when each
reading is taken at its first occurrence (gaps resolving to their end), and also when
taken at its last occurrence. Searching along such a map can start from a reading that
maps before the target instant and walk matches forward until one maps past it.
"""

from __future__ import annotations

import copy
from collections.abc import Callable
from datetime import datetime, timedelta, tzinfo
from typing import NamedTuple

from croniter import CroniterBadDateError, croniter

from flowsched.timetables.wallclock import Reading, WallClock

CRON_PRESETS: dict[str, str] = {
    "@hourly": "0 * * * *",
    "@daily": "0 0 * * *",
    "@weekly": "0 0 * * 0",
    "@monthly": "0 0 1 * *",
    "@quarterly": "0 0 1 */3 *",
    "@yearly": "0 0 1 1 *",
}

_TINY = timedelta(microseconds=1)

# Which instant of a reading a search walks along: first or last occurrence.
_Pick = Callable[[Reading], datetime]


def _earliest(reading: Reading) -> datetime:
    return reading.earliest


def _latest(reading: Reading) -> datetime:
    return reading.latest


class Fire(NamedTuple):
    """One instant (UTC) at which the cron fires."""

    at: datetime
    moved_by_dst: bool


def cron_fields(expr: str) -> str:
    """The five cron fields for an expression or preset; ValueError names a bad one.

    Only the classic five fields are accepted: croniter's optional seconds and year
    fields are no part of a classic cron line, and a second-level cron is no scheduler's job.
    """
    fields = CRON_PRESETS.get(expr.strip(), expr.strip())
    if fields.startswith("@"):
        known = ", ".join(["@once", "@continuous", *CRON_PRESETS])
        raise ValueError(f"Unknown schedule preset {expr!r}; known presets: {known}")
    if len(fields.split()) != 5:
        raise ValueError(
            f"Invalid cron expression {expr!r}: expected 5 fields "
            "(minute hour day-of-month month day-of-week)"
        )
    try:
        croniter(fields)
    except ValueError as error:  # croniter's errors subclass ValueError
        raise ValueError(f"Invalid cron expression {expr!r}: {error}") from error
    return fields


class CronTimes:
    """The fire instants of one cron expression in one zone."""

    def __init__(self, expr: str, zone: tzinfo) -> None:
        self.fields = cron_fields(expr)
        self._parsed = croniter(self.fields, datetime(2000, 1, 1))
        self.every_hour = self._parsed.expanded[1] == ["*"]
        self.clock = WallClock(zone)
        self._check_it_ever_fires(expr)

    def next_after(self, instant: datetime) -> Fire:
        """The first fire strictly after an instant."""
        if self.every_hour:
            return min(self._next_real(instant, _earliest), self._next_real(instant, _latest))
        return self._next_first_occurrence(instant)

    def prev_before(self, instant: datetime) -> Fire:
        """The last fire strictly before an instant."""
        if self.every_hour:
            return max(self._prev_real(instant, _earliest), self._prev_real(instant, _latest))
        return self._prev_first_occurrence(instant)

    def at_or_after(self, instant: datetime) -> Fire:
        return self.next_after(instant - _TINY)

    def at_or_before(self, instant: datetime) -> Fire:
        return self.prev_before(instant + _TINY)

    def _next_first_occurrence(self, instant: datetime) -> Fire:
        matches = self._matches_from(self._reading_before(instant, _earliest))
        while True:
            reading = self.clock.resolve(matches.get_next(datetime))
            if reading.earliest > instant:
                return self._fire(reading)

    def _prev_first_occurrence(self, instant: datetime) -> Fire:
        matches = self._matches_from(self._reading_after(instant, _earliest))
        while True:
            reading = self.clock.resolve(matches.get_prev(datetime))
            if reading.earliest < instant:
                return self._fire(reading)

    def _next_real(self, instant: datetime, pick: _Pick) -> Fire:
        matches = self._matches_from(self._reading_before(instant, pick))
        while True:
            reading = self.clock.resolve(matches.get_next(datetime))
            if reading.exists and pick(reading) > instant:
                return Fire(pick(reading), moved_by_dst=False)

    def _prev_real(self, instant: datetime, pick: _Pick) -> Fire:
        matches = self._matches_from(self._reading_after(instant, pick))
        while True:
            reading = self.clock.resolve(matches.get_prev(datetime))
            if reading.exists and pick(reading) < instant:
                return Fire(pick(reading), moved_by_dst=False)

    def _matches_from(self, wall: datetime) -> croniter:
        """A croniter positioned at a reading; copying the parsed one skips re-parsing the
        expression (most of croniter's cost) and keeps searches independent of each other."""
        matches = copy.copy(self._parsed)
        matches.set_current(wall, force=True)
        return matches

    def _fire(self, reading: Reading) -> Fire:
        if reading.exists:
            return Fire(reading.earliest, moved_by_dst=False)
        lands_on_a_match = croniter.match(self.fields, self.clock.reading(reading.earliest))
        return Fire(reading.earliest, moved_by_dst=not lands_on_a_match)

    def _reading_before(self, instant: datetime, pick: _Pick) -> datetime:
        """A reading that maps at or before the instant, so no match before it maps after
        the instant. The instant's own reading does, except when walking last occurrences
        from the first pass of an overlap: then step back by the excess until it does."""
        wall = self.clock.reading(instant)
        while (mapped := pick(self.clock.resolve(wall))) > instant:
            wall -= mapped - instant
        return wall

    def _reading_after(self, instant: datetime, pick: _Pick) -> datetime:
        """Mirror of _reading_before, for searching backwards (the exception here is
        walking first occurrences from the second pass of an overlap)."""
        wall = self.clock.reading(instant)
        while (mapped := pick(self.clock.resolve(wall))) < instant:
            wall += instant - mapped
        return wall

    def _check_it_ever_fires(self, expr: str) -> None:
        """`0 0 30 2 *` is valid syntax but never fires; say so at parse time, not in the
        scheduler loop."""
        try:
            self._matches_from(datetime(2000, 1, 1)).get_next(datetime)
        except CroniterBadDateError as error:
            raise ValueError(f"Cron expression {expr!r} never fires") from error
