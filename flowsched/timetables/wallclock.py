"""The wall clock of one time zone: which instants a local reading stands for.

Cron fields describe wall-clock readings, but runs happen at instants. Around a DST
change the two do not map one to one: a reading in a spring-forward gap stands for no
instant, a reading in a fall-back overlap stands for two. This module answers, for one
zone, exactly which instants a reading stands for, so that cron.py can apply the DST
rules of docs/concepts.md without guessing. Naive datetimes here are wall-clock
readings; aware ones are instants, always in UTC.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta, tzinfo
from typing import NamedTuple

import pendulum

_FIXED_OFFSET = re.compile(r"^([+-])(\d{2}):?(\d{2})$")


def resolve_zone(zone: str | tzinfo) -> tzinfo:
    """Accept an IANA name, a fixed offset such as "+02:00" (what pendulum names a
    start_date's fixed zone) or a tzinfo, so a DAG's zone round-trips through its name."""
    if isinstance(zone, tzinfo):
        return zone
    match = _FIXED_OFFSET.match(zone)
    if match:
        sign, hours, minutes = match.groups()
        seconds = (int(hours) * 3600 + int(minutes) * 60) * (-1 if sign == "-" else 1)
        return pendulum.fixed_timezone(seconds)
    try:
        return pendulum.timezone(zone)
    except Exception as error:  # pendulum raises its own InvalidTimezone / KeyError types
        raise ValueError(f"Unknown time zone {zone!r}") from error


def zone_name(zone: tzinfo) -> str:
    """The name resolve_zone() reads back."""
    return getattr(zone, "name", None) or str(zone)


def to_utc(instant: datetime) -> datetime:
    """A plain UTC datetime; a naive value is refused because its instant is unknowable."""
    if instant.tzinfo is None or instant.utcoffset() is None:
        raise ValueError(f"Expected a timezone-aware datetime, got naive {instant!r}")
    utc = instant.astimezone(UTC)
    return datetime(
        utc.year, utc.month, utc.day, utc.hour, utc.minute, utc.second, utc.microsecond, UTC
    )


class Reading(NamedTuple):
    """The instants one wall-clock reading stands for.

    For a reading that exists once, earliest == latest. In a fall-back overlap they are its
    first and second occurrence. In a spring-forward gap the reading does not exist
    (exists is False) and both are the instant the gap ends: the first instant after it.
    """

    earliest: datetime
    latest: datetime
    exists: bool


class WallClock:
    """Readings and instants of one zone."""

    def __init__(self, zone: tzinfo) -> None:
        self.zone = zone

    def reading(self, instant: datetime) -> datetime:
        """The naive wall-clock reading at an instant."""
        return instant.astimezone(self.zone).replace(tzinfo=None, fold=0)

    def resolve(self, wall: datetime) -> Reading:
        """Uses PEP 495: fold=0 reads with the offset before a transition, fold=1 after,
        so the two offsets tell gap (before < after) from overlap (before > after)."""
        before = self._offset(wall.replace(fold=0))
        after = self._offset(wall.replace(fold=1))
        first, second = (wall - before).replace(tzinfo=UTC), (wall - after).replace(tzinfo=UTC)
        if before >= after:
            return Reading(first, second, exists=True)
        gap_end = self._transition_between(second, first)
        return Reading(gap_end, gap_end, exists=False)

    def _offset(self, wall: datetime) -> timedelta:
        offset = wall.replace(tzinfo=self.zone).utcoffset()
        assert offset is not None  # every zone resolve_zone() returns has an offset
        return offset

    def _offset_at(self, instant: datetime) -> timedelta:
        offset = instant.astimezone(self.zone).utcoffset()
        assert offset is not None
        return offset

    def _transition_between(self, low: datetime, high: datetime) -> datetime:
        """The first instant in (low, high] with high's offset, found by bisecting whole
        seconds: tz database transitions fall on whole seconds, and zoneinfo does not
        expose them, so this is the exact way to get the end of a gap."""
        target = self._offset_at(high)
        lo, hi = int(low.timestamp()), int(high.timestamp())
        while hi - lo > 1:
            mid = (lo + hi) // 2
            if self._offset_at(datetime.fromtimestamp(mid, UTC)) == target:
                hi = mid
            else:
                lo = mid
        return datetime.fromtimestamp(hi, UTC)
